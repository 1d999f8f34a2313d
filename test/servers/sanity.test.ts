/**
 * Conformance of the Sanity-protocol test server, checked through the real @sanity/client over real sockets.
 */
import { request } from 'node:http'
import type { SanityClient } from '@sanity/client'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { waitFor } from '../helpers/wait-for'
import { startSanityServer, type SanityTestServer } from './sanity'
import { clientFor, record, type Recording } from './sanity/test-client'

let server: SanityTestServer
let client: SanityClient
const recordings: Recording[] = []

function listen(query: string, params: Record<string, unknown> = {}, options: Record<string, unknown> = {}) {
  const rec = record(
    client.listen(query, params, {
      events: ['welcome', 'mutation', 'reconnect', 'welcomeback', 'reset'],
      includeResult: true,
      ...options,
    } as never),
  )
  recordings.push(rec)
  return rec
}

async function welcomed(rec: Recording) {
  await waitFor(() => rec.types().includes('welcome'), 3000, { what: 'welcome' })
}

beforeAll(async () => {
  server = await startSanityServer({ keepAliveMs: 50, retryMs: 20 })
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

describe('reads', () => {
  it('serves documents by id, missing ones omitted', async () => {
    server.documents.load([
      { _id: 'a', _type: 'post', title: 'A' },
      { _id: 'b', _type: 'post', title: 'B' },
    ])
    expect(await client.getDocument('a')).toMatchObject({ _id: 'a', _type: 'post', title: 'A' })
    expect(await client.getDocument('nope')).toBeUndefined()
    const docs = await client.getDocuments(['b', 'nope', 'a'])
    expect(docs.map((d) => d?._id ?? null)).toEqual(['b', null, 'a'])
  })

  it('runs GROQ with parameters, by GET and by POST for long queries', async () => {
    server.documents.load([
      { _id: 'p1', _type: 'post', n: 1, author: 'x' },
      { _id: 'p2', _type: 'post', n: 2, author: 'y' },
      { _id: 'p3', _type: 'post', n: 3, author: 'x' },
      { _id: 'c1', _type: 'comment', n: 9 },
    ])
    const r = await client.fetch('*[_type == $t && author == $a] | order(n desc) { _id, n }', { t: 'post', a: 'x' })
    expect(r).toEqual([
      { _id: 'p3', n: 3 },
      { _id: 'p1', n: 1 },
    ])
    expect(await client.fetch('count(*[_type == "post"])')).toBe(3)
    const long = Array.from({ length: 2000 }, (_, i) => `id-${i}`)
    const before = server.requests.length
    expect(await client.fetch('*[_id in $ids || _id == "p2"]._id', { ids: long })).toEqual(['p2'])
    expect(server.requests.slice(before).some((r) => r.method === 'POST' && r.endpoint === 'query')).toBe(true)
  })

  it('answers a GROQ syntax error with a 400 the client reports', async () => {
    await expect(client.fetch('*[_type == ')).rejects.toThrow(/GROQ query parse error|Syntax error/)
  })

  it('reads the published perspective by default at API version 2025-02-19, and raw on request', async () => {
    server.documents.load([
      { _id: 'x', _type: 'post' },
      { _id: 'drafts.x', _type: 'post' },
    ])
    expect(await client.fetch('*[_type == "post"]._id')).toEqual(['x'])
    const raw = client.withConfig({ perspective: 'raw' })
    expect(await raw.fetch('*[_type == "post"] | order(_id)._id')).toEqual(['drafts.x', 'x'])
  })
})

describe('mutations', () => {
  it('stamps every touched document with the transaction id as _rev, and sets timestamps', async () => {
    const created = await client.create({ _id: 'm1', _type: 'post', n: 1 })
    expect(created._rev).toBeTruthy()
    expect(created._createdAt).toBe(created._updatedAt)
    const tx = await client
      .transaction()
      .createOrReplace({ _id: 'm2', _type: 'post', n: 2 })
      .patch('m1', (p) => p.inc({ n: 10 }))
      .commit()
    const m1 = await client.getDocument('m1')
    const m2 = await client.getDocument('m2')
    expect(m1?._rev).toBe(tx.transactionId)
    expect(m2?._rev).toBe(tx.transactionId)
    expect(m1?.n).toBe(11)
    expect(m1?._createdAt).toBe(created._createdAt)
    expect(tx.results.map((r) => r.operation)).toEqual(['create', 'update'])
  })

  it('applies set, unset, inc, dec, setIfMissing and insert', async () => {
    await client.create({ _id: 'p', _type: 'post', a: 1, b: 2, c: { d: 1 }, list: [{ _key: 'k1', v: 1 }] })
    const doc = await client
      .patch('p')
      .set({ 'c.e': 'x', 'list[_key=="k1"].v': 5 })
      .unset(['b'])
      .inc({ a: 2 })
      .dec({ 'c.d': 1 })
      .setIfMissing({ a: 100, z: 'new' })
      .insert('after', 'list[-1]', [{ _key: 'k2', v: 2 }])
      .commit()
    expect(doc).toMatchObject({ a: 3, c: { d: 0, e: 'x' }, z: 'new', list: [{ _key: 'k1', v: 5 }, { _key: 'k2', v: 2 }] })
    expect(doc).not.toHaveProperty('b')
  })

  it('refuses a stale ifRevisionID and an existing id on create, changing nothing', async () => {
    const doc = await client.create({ _id: 'r', _type: 'post', n: 1 })
    await expect(client.patch('r').ifRevisionId('wrong').set({ n: 2 }).commit()).rejects.toThrow(/unexpected revision/)
    await expect(client.create({ _id: 'r', _type: 'post' })).rejects.toThrow(/already exists/)
    expect((await client.getDocument('r'))?._rev).toBe(doc._rev)
    const ok = await client.patch('r').ifRevisionId(doc._rev).set({ n: 2 }).commit()
    expect(ok.n).toBe(2)
  })

  it('createIfNotExists on an existing document is a no-op that keeps its revision', async () => {
    const doc = await client.create({ _id: 'i', _type: 'post', n: 1 })
    await client.createIfNotExists({ _id: 'i', _type: 'post', n: 2 })
    expect(await client.getDocument('i')).toMatchObject({ n: 1, _rev: doc._rev })
  })

  it('deletes', async () => {
    await client.create({ _id: 'd', _type: 'post' })
    await client.delete('d')
    expect(await client.getDocument('d')).toBeUndefined()
  })
})

describe('listen', () => {
  it('says welcome, then reports appear / update / disappear from the filter before and after', async () => {
    const rec = listen('*[_type == "post" && n > 0]')
    await welcomed(rec)
    expect(rec.types()[0]).toBe('welcome')
    const created = await client.create({ _id: 'e', _type: 'post', n: 1 })
    const updated = await client.patch('e').inc({ n: 1 }).commit()
    const hidden = await client.patch('e').set({ n: 0 }).commit()
    await client.create({ _id: 'other', _type: 'post', n: 0 }) // never matches: no event
    const shown = await client.patch('e').set({ n: 5 }).commit()
    await client.delete('e')
    await waitFor(() => rec.mutations().length === 5, 3000)
    const [appear, update, disappear, reappear, gone] = rec.mutations()
    expect(appear).toMatchObject({ documentId: 'e', transition: 'appear', resultRev: created._rev, result: { n: 1 } })
    expect(appear).not.toHaveProperty('previousRev')
    expect(appear.eventId).toBe(`${created._rev}#e`)
    expect(appear.transactionId).toBe(created._rev)
    expect(update).toMatchObject({ transition: 'update', previousRev: created._rev, resultRev: updated._rev, result: { n: 2 } })
    expect(disappear).toMatchObject({ transition: 'disappear', previousRev: updated._rev, resultRev: hidden._rev, result: { n: 0 } })
    expect(reappear).toMatchObject({ transition: 'appear', previousRev: hidden._rev, resultRev: shown._rev })
    expect(gone).toMatchObject({ transition: 'disappear', previousRev: shown._rev })
    expect(gone).not.toHaveProperty('result')
    for (const e of rec.mutations()) {
      // One matching event per transaction, numbered from 0 (@sanity/client MutationEvent.transactionCurrentEvent).
      expect(e).toMatchObject({ transactionTotalEvents: 1, transactionCurrentEvent: 0 })
      expect(typeof e.timestamp).toBe('string')
    }
  })

  it('uses only the top-level filter (projections, order and slices are ignored) and parameters', async () => {
    const rec = listen('*[_type == "comment" && authorId != $ownerId]{_id} | order(_id desc)[0...1]', { ownerId: 'me' })
    await welcomed(rec)
    await client.create({ _id: 'c1', _type: 'comment', authorId: 'me' })
    await client.create({ _id: 'c2', _type: 'comment', authorId: 'you' })
    await client.create({ _id: 'c3', _type: 'comment', authorId: 'them' })
    await waitFor(() => rec.mutations().length === 2, 3000)
    expect(rec.mutations().map((e) => e.documentId)).toEqual(['c2', 'c3'])
    expect(rec.mutations()[0].result).toMatchObject({ _id: 'c2', authorId: 'you' })
  })

  it('numbers the events of a multi-document transaction', async () => {
    const rec = listen('*[_type == "post"]')
    await welcomed(rec)
    const tx = await client.transaction().create({ _id: 't1', _type: 'post' }).create({ _id: 't2', _type: 'post' }).commit()
    await waitFor(() => rec.mutations().length === 2, 3000)
    expect(rec.mutations().map((e) => [e.eventId, e.transactionTotalEvents, e.transactionCurrentEvent])).toEqual([
      [`${tx.transactionId}#t1`, 2, 0],
      [`${tx.transactionId}#t2`, 2, 1],
    ])
  })

  it('reaches listeners when tests write through the documents API', async () => {
    const rec = listen('*[_type == "post"]')
    await welcomed(rec)
    const doc = server.documents.create({ _id: 's1', _type: 'post', n: 1 })
    server.documents.patch('s1', { set: { n: 2 } })
    server.documents.delete('s1')
    await waitFor(() => rec.mutations().length === 3, 3000)
    expect(rec.mutations().map((e) => e.transition)).toEqual(['appear', 'update', 'disappear'])
    expect(rec.mutations()[1].previousRev).toBe(doc._rev)
  })

  it('sends channelError for a query it cannot use, which the client reports as fatal', async () => {
    const rec = listen('*[_type == ')
    await waitFor(() => rec.error !== undefined, 3000)
    expect((rec.error as Error).name).toBe('ChannelError')
  })

  it('keeps the stream alive with ":" comments', async () => {
    const chunks = await new Promise<string>((resolve, reject) => {
      const req = request(`${server.url}/v2025-02-19/data/listen/production?query=*`, (res) => {
        let text = ''
        res.on('data', (c: Buffer) => {
          text += c.toString()
          if (text.includes('\n:\n')) {
            req.destroy()
            resolve(text)
          }
        })
      })
      req.on('error', reject)
      req.end()
    })
    expect(chunks).toMatch(/^(retry: \d+\n\n)?event: welcome\ndata: \{"listenerName":"[^"]+"\}\n\n/)
    expect(chunks).toContain('\n:\n')
  })

  it('counts open listeners and listen requests', async () => {
    const before = server.listenRequests
    const a = listen('*[_type == "a"]')
    const b = listen('*[_type == "b"]')
    await welcomed(a)
    await welcomed(b)
    expect(server.openListeners).toBe(2)
    expect(server.listenRequests - before).toBe(2)
    a.stop()
    await waitFor(() => server.openListeners === 1, 3000)
  })
})

describe('faults', () => {
  async function threeUpdates(rec: Recording) {
    await welcomed(rec)
    await client.create({ _id: 'f', _type: 'post', n: 0 })
    await waitFor(() => rec.mutations().length === 1, 3000)
  }

  it('reorders, duplicates and drops mutation events', async () => {
    const rec = listen('*[_type == "post"]')
    await threeUpdates(rec)
    server.faults.reorder(2)
    server.faults.duplicate(1)
    await client.patch('f').set({ n: 1 }).commit()
    await client.patch('f').set({ n: 2 }).commit()
    await waitFor(() => rec.mutations().length === 4, 3000)
    // Event n=1 was duplicated (2 copies), the hold of 2 took both copies and released them reversed, then n=2.
    expect(rec.mutations().map((e) => (e.result as { n: number }).n)).toEqual([0, 1, 1, 2])
    server.faults.reorder(2)
    await client.patch('f').set({ n: 3 }).commit()
    await client.patch('f').set({ n: 4 }).commit()
    await waitFor(() => rec.mutations().length === 6, 3000)
    expect(rec.mutations().slice(4).map((e) => (e.result as { n: number }).n)).toEqual([4, 3])
    server.faults.drop(1)
    await client.patch('f').set({ n: 5 }).commit()
    await client.patch('f').set({ n: 6 }).commit()
    await waitFor(() => rec.mutations().length === 7, 3000)
    expect((rec.mutations()[6].result as { n: number }).n).toBe(6)
  })

  it('delays events, keeping their order', async () => {
    const rec = listen('*[_type == "post"]')
    await threeUpdates(rec)
    server.faults.delay(100)
    const started = Date.now()
    await client.patch('f').set({ n: 1 }).commit()
    await client.patch('f').set({ n: 2 }).commit()
    await waitFor(() => rec.mutations().length === 3, 3000)
    expect(Date.now() - started).toBeGreaterThanOrEqual(90)
    expect(rec.mutations().map((e) => (e.result as { n: number }).n)).toEqual([0, 1, 2])
  })

  it('sends disconnect, which the client reports as DisconnectError', async () => {
    const rec = listen('*[_type == "post"]')
    await welcomed(rec)
    server.faults.disconnect('dataset deleted')
    await waitFor(() => rec.error !== undefined, 3000)
    expect((rec.error as Error).name).toBe('DisconnectError')
    expect((rec.error as Error).message).toContain('dataset deleted')
  })

  it('sends reset to open listeners', async () => {
    const rec = listen('*[_type == "post"]', {}, { enableResume: true })
    await welcomed(rec)
    server.faults.reset()
    await waitFor(() => rec.types().includes('reset'), 3000)
  })

  it('answers 401 to the next requests', async () => {
    server.faults.unauthorized(1)
    await expect(client.fetch('1')).rejects.toMatchObject({ statusCode: 401 })
    expect(await client.fetch('1')).toBe(1)
  })

  it('holds answers in transit: computed when the request arrives, sent when released', async () => {
    server.documents.create({ _id: 'h', _type: 'post', n: 1 })
    server.faults.holdResponses(1, { endpoint: 'query' })
    let answered: unknown
    const held = client.fetch('*[_id == "h"][0].n').then((n) => (answered = n))
    await waitFor(() => server.faults.heldResponses === 1, 3000, { what: 'the query held' })
    server.documents.patch('h', { set: { n: 2 } })
    // Other requests (and other endpoints) are answered meanwhile: only the next one of its endpoint was held.
    expect(await client.fetch('*[_id == "h"][0].n')).toBe(2)
    expect(answered).toBeUndefined()
    server.faults.releaseResponses()
    // The store as it was when the request arrived.
    expect(await held).toBe(1)
    expect(server.faults.heldResponses).toBe(0)
  })

  it('resumes from Last-Event-ID with welcomeback and the missed events, or answers reset', async () => {
    const rec = listen('*[_type == "post"]', {}, { enableResume: true })
    await threeUpdates(rec)
    server.faults.closeStreams()
    server.documents.patch('f', { set: { n: 1 } }) // missed: no stream is open
    // The client's EventSource reconnects by itself (after the server's `retry`) with Last-Event-ID.
    await waitFor(() => rec.types().includes('welcomeback'), 3000)
    await waitFor(() => rec.mutations().length === 2, 3000)
    const lastResume = server.requests.filter((r) => r.endpoint === 'listen').at(-1)
    expect(lastResume?.lastEventId).toBe(rec.mutations()[0].eventId)
    expect(rec.types().filter((t) => t !== 'mutation')).toEqual(['welcome', 'reconnect', 'welcomeback'])
    expect((rec.mutations()[1].result as { n: number }).n).toBe(1)

    server.faults.forgetHistory()
    server.faults.closeStreams()
    await waitFor(() => rec.types().includes('reset'), 3000)

    server.faults.resumeMode = 'welcome'
    server.faults.closeStreams()
    await waitFor(() => rec.types().filter((t) => t === 'welcome').length === 2, 3000)
  })

  it('a resume misses nothing when events went out of order: it starts from the oldest event still on its way', async () => {
    server.documents.load([
      { _id: 'a', _type: 'post', n: 0 },
      { _id: 'b', _type: 'post', n: 0 },
    ])
    const rec = listen('*[_type == "post"]', {}, { enableResume: true })
    await welcomed(rec)
    server.faults.delay(300)
    server.documents.patch('a', { set: { n: 1 } }) // on its way for 300 ms
    server.faults.delay(0)
    server.documents.patch('b', { set: { n: 1 } }) // overtakes it
    await waitFor(() => rec.mutations().length === 1, 3000, { what: "b's event" })
    expect(rec.mutations()[0].documentId).toBe('b')
    server.faults.closeStreams() // a's event will meet a closed stream
    await waitFor(() => rec.types().includes('welcomeback'), 3000, { what: 'welcomeback' })
    expect(server.requests.filter((r) => r.endpoint === 'listen').at(-1)?.lastEventId).toBe(rec.mutations()[0].eventId)
    await waitFor(() => rec.mutations().some((m) => m.documentId === 'a'), 3000, { what: "a's event after the resume" })
    // b's event may come again (welcomeback: duplicates possible), a's at least once.
    expect(rec.mutations().filter((m) => m.documentId === 'a').map((m) => (m.result as { n: number }).n)).toContain(1)
  })

  it('stops and restarts on the same port, keeping documents', async () => {
    server.documents.load([{ _id: 'keep', _type: 'post' }])
    const port = server.port
    await server.stop()
    await expect(fetch(`${server.url}/v1/data/query/production?query=1`)).rejects.toThrow() // refused
    await server.restart()
    expect(server.port).toBe(port)
    expect(await client.getDocument('keep')).toMatchObject({ _id: 'keep' })
  })
})

describe('auth', () => {
  it('refuses requests without the bearer token, and the token never travels in a URL', async () => {
    const secured = await startSanityServer({ token: 'sekret-token' })
    try {
      const good = clientFor(secured, { token: 'sekret-token' })
      const anonymous = clientFor(secured)
      await expect(anonymous.fetch('1')).rejects.toMatchObject({ statusCode: 401 })
      expect(await good.fetch('1')).toBe(1)
      const rec = record(good.listen('*', {}, { events: ['welcome'] }))
      await waitFor(() => rec.types().includes('welcome'), 3000)
      rec.stop()
      expect(secured.requests.every((r) => !r.url.includes('sekret'))).toBe(true)
      expect(secured.requests.filter((r) => r.status === 200).every((r) => r.hasAuthorization)).toBe(true)
    } finally {
      await secured.stop()
    }
  })
})
