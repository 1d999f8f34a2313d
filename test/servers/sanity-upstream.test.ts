/**
 * The Sanity-protocol test server against what the real API does on the points issue 21 lists, each checked through
 * the real @sanity/client. Every test names its upstream source: @sanity/client's `src/` and `test/` (sanity-io/client),
 * Sanity's HTTP API reference (sanity.io/docs/http-reference), and mendoza-js for effects.
 */
import type { SanityClient } from '@sanity/client'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { waitFor } from '../helpers/wait-for'
import { startSanityServer, type SanityTestServer } from './sanity'
import { clientFor, record, type Recording } from './sanity/test-client'

let server: SanityTestServer
let client: SanityClient
const recordings: Recording[] = []

function listen(c: SanityClient, query: string, options: Record<string, unknown> = {}, params: Record<string, unknown> = {}) {
  const rec = record(c.listen(query, params, { events: ['welcome', 'mutation'], includeResult: true, ...options } as never))
  recordings.push(rec)
  return rec
}

async function welcomed(rec: Recording) {
  await waitFor(() => rec.types().includes('welcome'), 3000, { what: 'welcome' })
}

beforeAll(async () => {
  server = await startSanityServer({ keepAliveMs: 0, retryMs: 20 })
  client = clientFor(server)
})

afterEach(async () => {
  for (const r of recordings.splice(0)) r.stop()
  server.faults.clear()
  await waitFor(() => server.openListeners === 0, 3000, { what: 'listeners closed' })
  server.documents.wipe()
})

afterAll(async () => {
  await server.stop()
})

describe('a dataset that does not exist (datasets are made by the management API, never on first use)', () => {
  it('listen answers channelError naming the dataset ("non-existant datasets", @sanity/client eventsource.ts)', async () => {
    const rec = listen(clientFor(server, { dataset: 'nope' }), '*[_type == "post"]')
    await waitFor(() => rec.error !== undefined, 3000, { what: 'the listener refused' })
    expect(rec.types()).not.toContain('welcome')
    // The listen request carries no project id (an EventSource sends no X-Sanity-Project-ID), so none is named.
    expect(rec.error).toMatchObject({ name: 'ChannelError', message: expect.stringMatching(/^Dataset "nope" not found\b/) })
  })

  it('query, doc and mutate answer 404 naming the dataset, and nothing is created', async () => {
    const missing = clientFor(server, { dataset: 'nope' })
    const notFound = { statusCode: 404, message: 'Not Found - Dataset "nope" not found for project ID "test"' }
    await expect(missing.fetch('*')).rejects.toMatchObject(notFound)
    await expect(missing.getDocument('a')).rejects.toMatchObject(notFound)
    await expect(missing.create({ _id: 'a', _type: 'post' })).rejects.toMatchObject(notFound)
    await expect(missing.fetch('*')).rejects.toMatchObject(notFound)
  })

  it('a dataset named in the options, or written by the test through `documents`, exists', async () => {
    const other = await startSanityServer({ datasets: ['staging'] })
    try {
      expect(await clientFor(other, { dataset: 'staging' }).fetch('count(*)')).toBe(0)
      await expect(clientFor(other).fetch('1')).rejects.toMatchObject({ statusCode: 404 })
      other.documents.load([{ _id: 'a', _type: 'post' }], 'seeded')
      expect(await clientFor(other, { dataset: 'seeded' }).fetch('*[]._id')).toEqual(['a'])
    } finally {
      await other.stop()
    }
  })
})

describe('a dataset deleted while listened to', () => {
  it('its listeners get disconnect ("eg in the case of a deleted dataset", @sanity/client eventsource.ts), then reads 404', async () => {
    server.documents.load([{ _id: 'a', _type: 'post' }], 'doomed')
    const doomed = clientFor(server, { dataset: 'doomed' })
    const rec = listen(doomed, '*[_type == "post"]')
    await welcomed(rec)
    server.documents.deleteDataset('doomed')
    await waitFor(() => rec.error !== undefined, 3000, { what: 'the listener disconnected' })
    expect(rec.error).toMatchObject({ name: 'DisconnectError', message: expect.stringContaining('Dataset "doomed" was deleted') })
    await expect(doomed.getDocument('a')).rejects.toMatchObject({ statusCode: 404 })
  })
})

describe('a GROQ syntax error', () => {
  it('on listen: channelError {error: {type: queryParseError, query, start, end}}, shown as "GROQ query parse error" with a code frame (@sanity/client test/listen.test.ts)', async () => {
    const rec = listen(client, '*[_type == "post" && ]')
    await waitFor(() => rec.error !== undefined, 3000, { what: 'the listener refused' })
    const err = rec.error as Error & { data?: { error?: Record<string, unknown> } }
    expect(err.name).toBe('ChannelError')
    expect(err.data?.error).toMatchObject({ type: 'queryParseError', query: '*[_type == "post" && ]' })
    expect(typeof err.data?.error?.start).toBe('number')
    expect(typeof err.data?.error?.end).toBe('number')
    expect(err.message).toMatch(/^GROQ query parse error:\n> 1 \| \*\[_type == "post" && \]\n +\| +\^/)
  })

  it('on query: a 400 whose details pass isQueryParseError, with the code frame (@sanity/client test/integration/query.integration.test.ts)', async () => {
    const err = (await client.fetch('*[_type == ').catch((e: unknown) => e)) as Error & { statusCode?: number; details?: Record<string, unknown> }
    expect(err.statusCode).toBe(400)
    expect(err.details).toMatchObject({ type: 'queryParseError', query: '*[_type == ' })
    expect(err.message).toMatch(/^GROQ query parse error:\n> 1 \| \*\[_type == /)
  })
})

describe('transactionTotalEvents counts the events of the listener only (@sanity/client types.ts MutationEvent)', () => {
  it('"only includes the documents that matches the given filter", and transactionCurrentEvent is "zero-based"', async () => {
    const rec = listen(client, '*[_type == "post"]')
    await welcomed(rec)
    const tx = await client
      .transaction()
      .create({ _id: 'a1', _type: 'author' })
      .create({ _id: 'p1', _type: 'post' })
      .create({ _id: 'a2', _type: 'author' })
      .create({ _id: 'p2', _type: 'post' })
      .commit()
    await waitFor(() => rec.mutations().length === 2, 3000, { what: 'two post events' })
    expect(rec.mutations().map((e) => [e.documentId, e.transactionId, e.transactionTotalEvents, e.transactionCurrentEvent])).toEqual([
      ['p1', tx.transactionId, 2, 0],
      ['p2', tx.transactionId, 2, 1],
    ])
  })

  it('resuming inside a transaction replays the rest with the same numbering', async () => {
    const rec = record(
      client.listen('*[_type == "post"]', {}, { events: ['welcome', 'mutation', 'welcomeback'], includeResult: true, enableResume: true }),
    )
    recordings.push(rec)
    await welcomed(rec)
    server.faults.drop(1, (e) => e.documentId === 'p2')
    await client.transaction().create({ _id: 'p1', _type: 'post' }).create({ _id: 'x', _type: 'author' }).create({ _id: 'p2', _type: 'post' }).commit()
    await waitFor(() => rec.mutations().length === 1, 3000, { what: 'p1' })
    server.faults.closeStreams()
    await waitFor(() => rec.mutations().length === 2, 3000, { what: 'p2 replayed after the resume' })
    expect(rec.types()).toContain('welcomeback')
    expect(rec.mutations().map((e) => [e.documentId, e.transactionTotalEvents, e.transactionCurrentEvent])).toEqual([
      ['p1', 2, 0],
      ['p2', 2, 1],
    ])
  })
})

describe('includePreviousRevision and effectFormat', () => {
  it('includePreviousRevision: `previous` is null on a creation and the old document after (MutationEvent.previous: doc | null)', async () => {
    const rec = listen(client, '*[_type == "post"]', { includePreviousRevision: true })
    await welcomed(rec)
    await client.create({ _id: 'p', _type: 'post', n: 1 })
    await client.patch('p').set({ n: 2 }).commit()
    await client.delete('p')
    await waitFor(() => rec.mutations().length === 3, 3000, { what: 'three events' })
    const [created, updated, deleted] = rec.mutations()
    expect(created).toHaveProperty('previous', null)
    expect(updated.previous).toMatchObject({ _id: 'p', n: 1 })
    expect(deleted.previous).toMatchObject({ _id: 'p', n: 2 })
  })

  it("effectFormat 'mendoza': `effects` {apply, revert} are mendoza patches (opcode 0 = Value, mendoza-js internal-patcher.ts)", async () => {
    const rec = listen(client, '*[_type == "post"]', { effectFormat: 'mendoza' })
    await welcomed(rec)
    await client.create({ _id: 'p', _type: 'post', n: 1 })
    await client.patch('p').set({ n: 2 }).commit()
    await waitFor(() => rec.mutations().length === 2, 3000, { what: 'two events' })
    // A whole-value patch `[0, v]` evaluates to v.
    const run = (patch: unknown[]) => {
      expect(patch[0]).toBe(0)
      expect(patch).toHaveLength(2)
      return patch[1]
    }
    const [created, updated] = rec.mutations() as Array<{ effects: { apply: unknown[]; revert: unknown[] } }>
    expect(run(created.effects.apply)).toMatchObject({ _id: 'p', n: 1 })
    expect(run(created.effects.revert)).toBeNull()
    expect(run(updated.effects.apply)).toMatchObject({ n: 2 })
    expect(run(updated.effects.revert)).toMatchObject({ n: 1 })
  })

  it('refuses an effectFormat other than mendoza, "the only allowed value" (HTTP reference, Listen)', async () => {
    const res = await fetch(`${server.url}/v2025-02-19/data/listen/production?query=*&effectFormat=json`)
    expect(res.status).toBe(400)
  })
})

describe('perspectives on the query endpoint (sanity.io/docs/perspectives)', () => {
  it('published (the default from v2025-02-19), drafts (drafts in place of their published documents) and raw', async () => {
    server.documents.load([
      { _id: 'a', _type: 'post', v: 'published a' },
      { _id: 'drafts.a', _type: 'post', v: 'draft a' },
      { _id: 'b', _type: 'post', v: 'published b' },
      { _id: 'drafts.c', _type: 'post', v: 'draft c' },
    ])
    const q = '*[_type == "post"] | order(_id) { _id, _originalId, v }'
    expect(await client.fetch(q)).toEqual([
      { _id: 'a', _originalId: null, v: 'published a' },
      { _id: 'b', _originalId: null, v: 'published b' },
    ])
    expect(await client.withConfig({ perspective: 'drafts' }).fetch(q)).toEqual([
      { _id: 'a', _originalId: 'drafts.a', v: 'draft a' },
      { _id: 'b', _originalId: null, v: 'published b' },
      { _id: 'c', _originalId: 'drafts.c', v: 'draft c' },
    ])
    expect((await client.withConfig({ perspective: 'raw' }).fetch<Array<{ _id: string }>>(q)).map((d) => d._id)).toEqual(['a', 'b', 'drafts.a', 'drafts.c'])
  })

  it('refuses a release perspective it cannot serve with a 400, never answering another perspective', async () => {
    await expect(client.withConfig({ perspective: ['rSomeRelease', 'drafts'] }).fetch('*')).rejects.toMatchObject({ statusCode: 400 })
  })

  it('the doc endpoint reads by exact id, whatever the perspective (@sanity/client getDocument sends none)', async () => {
    server.documents.load([
      { _id: 'a', _type: 'post', v: 'published' },
      { _id: 'drafts.a', _type: 'post', v: 'draft' },
    ])
    const drafts = client.withConfig({ perspective: 'drafts' })
    expect(await drafts.getDocument('a')).toMatchObject({ _id: 'a', v: 'published' })
    expect(await drafts.getDocument('drafts.a')).toMatchObject({ _id: 'drafts.a', v: 'draft' })
    // A perspective sent to it anyway is refused, not ignored.
    expect((await fetch(`${server.url}/v2025-02-19/data/doc/production/a?perspective=drafts`)).status).toBe(400)
  })
})

describe('mutations', () => {
  it('diffMatchPatch applies a patch_toText patch to a string field (Mutation API, diffMatchPatch)', async () => {
    await client.create({ _id: 'd', _type: 'post', body: 'The quick brown fox', note: 'caf\u00e9\nbar' })
    // What diff-match-patch's patch_toText gives for these edits (4 characters of context, URI-encoded lines).
    const doc = await client
      .patch('d')
      .diffMatchPatch({ body: '@@ -1,13 +1,12 @@\n The \n-quick\n+slow\n  bro\n', note: '@@ -2,8 +2,9 @@\n af%C3%A9\n+!\n %0Abar\n' })
      .commit()
    expect(doc).toMatchObject({ body: 'The slow brown fox', note: 'caf\u00e9!\nbar' })
  })

  it('a diffMatchPatch that does not match, or on a non-string, is refused with a 400 mutationError, never dropped', async () => {
    const doc = await client.create({ _id: 'd', _type: 'post', body: 'hello world', n: 1 })
    await expect(client.patch('d').diffMatchPatch({ body: '@@ -1,11 +1,11 @@\n-goodbye\n+HELLO\n  world\n' }).commit()).rejects.toMatchObject({
      statusCode: 400,
      message: expect.stringContaining('does not match'),
    })
    await expect(client.patch('d').diffMatchPatch({ n: '@@ -1 +1 @@\n-1\n+2\n' }).commit()).rejects.toMatchObject({ statusCode: 400 })
    await expect(client.mutate([{ patch: { id: 'd', replaceAll: { body: 'x' } } } as never])).rejects.toMatchObject({
      statusCode: 400,
      message: expect.stringContaining('Unknown patch operation "replaceAll"'),
    })
    expect(await client.getDocument('d')).toMatchObject({ body: 'hello world', n: 1, _rev: doc._rev })
  })

  it('create with an _id ending in "." gets that prefix and a generated id (Mutation API, create)', async () => {
    const doc = await client.create({ _id: 'drafts.', _type: 'post' })
    expect(doc._id).toMatch(/^drafts\.[A-Za-z0-9]{10,}$/)
    expect(await client.getDocument(doc._id)).toMatchObject({ _id: doc._id })
  })

  it('delete by query deletes every match in one transaction, each listener told once per document', async () => {
    server.documents.load([
      { _id: 'a', _type: 'post', old: true },
      { _id: 'b', _type: 'post', old: false },
      { _id: 'c', _type: 'post', old: true },
    ])
    const rec = listen(client, '*[_type == "post"]')
    await welcomed(rec)
    const tx = await client.delete({ query: '*[_type == "post" && old]' })
    expect(await client.fetch('*[_type == "post"]._id')).toEqual(['b'])
    await waitFor(() => rec.mutations().length === 2, 3000, { what: 'two deletions' })
    expect(rec.mutations().map((e) => [e.documentId, e.transition, e.transactionId, e.transactionTotalEvents])).toEqual([
      ['a', 'disappear', tx.transactionId, 2],
      ['c', 'disappear', tx.transactionId, 2],
    ])
  })

  it('patch([ids]) is a patch by query (*[_id in $ids], @sanity/client util/getSelection.ts), returning every document', async () => {
    server.documents.load([
      { _id: 'a', _type: 'post', n: 1 },
      { _id: 'b', _type: 'post', n: 2 },
      { _id: 'c', _type: 'post', n: 3 },
    ])
    const docs = (await client.patch(['a', 'c', 'missing']).inc({ n: 10 }).commit()) as unknown as Array<{ _id: string; n: number }>
    expect(docs.map((d) => [d._id, d.n]).sort()).toEqual([
      ['a', 11],
      ['c', 13],
    ])
    const byQuery = await client.patch({ query: '*[_type == "post" && n > 12]' }).set({ big: true }).commit()
    expect(byQuery).toHaveLength(1)
    expect(await client.fetch('*[big]._id')).toEqual(['c'])
  })
})
