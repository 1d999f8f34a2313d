/**
 * The Sanity driver against the Sanity-protocol test server, through the real @sanity/client over real sockets.
 */
import { randomUUID } from 'node:crypto'
import { inspect } from 'node:util'
import type { SanityClient } from '@sanity/client'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { comparator, normalizeSort } from '../../src/core/sort'
import type { DocEvent, ObservedError, Watch, WatchSink, WatchSpec } from '../../src/core/types'
import { DEFAULT_MAX_IDS_PER_WATCH, sanityDriver, type SanityDriver } from '../../src/drivers/sanity'
import { waitFor } from '../helpers/wait-for'
import { startSanityServer, type SanityTestServer } from '../servers/sanity'
import { afterSdkRetry, clientFor, listenRequests } from '../servers/sanity/test-client'

let server: SanityTestServer
let client: SanityClient
let driver: SanityDriver
const watches: Watch[] = []

type Call =
  | { type: 'ready'; info?: { resumed?: boolean } }
  | { type: 'event'; event: DocEvent }
  | { type: 'reset' }
  | { type: 'offline' }
  | { type: 'error'; error: ObservedError }

function recorder() {
  const calls: Call[] = []
  const sink: WatchSink = {
    ready: (info) => calls.push({ type: 'ready', info }),
    event: (event) => calls.push({ type: 'event', event }),
    reset: () => calls.push({ type: 'reset' }),
    offline: () => calls.push({ type: 'offline' }),
    error: (error) => calls.push({ type: 'error', error }),
  }
  return {
    calls,
    sink,
    types: () => calls.map((c) => c.type),
    events: () => calls.flatMap((c) => (c.type === 'event' ? [c.event] : [])),
    errors: () => calls.flatMap((c) => (c.type === 'error' ? [c.error] : [])),
    readies: () => calls.flatMap((c) => (c.type === 'ready' ? [c] : [])),
  }
}

function watch(type: string, spec: WatchSpec, d: SanityDriver = driver, index = '') {
  const rec = recorder()
  const w = d.watch({ index, collection: type }, spec, rec.sink)
  watches.push(w)
  return { ...rec, watch: w }
}

const live = (rec: ReturnType<typeof recorder>) => waitFor(() => rec.readies().length > 0, 3000, { what: 'ready' })

beforeAll(async () => {
  server = await startSanityServer({ retryMs: 20 })
  client = clientFor(server)
  driver = sanityDriver(client)
})

afterEach(async () => {
  for (const w of watches.splice(0)) w.close()
  server.faults.clear()
  await waitFor(() => server.openListeners === 0, 3000, { what: 'every listener closed' })
  server.documents.wipe()
})

afterAll(async () => {
  await server.stop()
})

describe('reads', () => {
  it('gets documents of the collection only, as { _id, _source, _rev }', async () => {
    const [post] = server.documents.load([
      { _id: 'p1', _type: 'post', title: 'Hello', nested: { a: 1 } },
      { _id: 'a1', _type: 'author', name: 'Ann' },
    ])
    const doc = await driver.get({ index: '', collection: 'post' }, 'p1')
    expect(doc).toEqual({
      _id: 'p1',
      _rev: post._rev,
      _source: { _type: 'post', _rev: post._rev, _createdAt: post._createdAt, _updatedAt: post._updatedAt, title: 'Hello', nested: { a: 1 } },
    })
    expect(await driver.get({ index: '', collection: 'post' }, 'a1')).toBeNull()
    expect(await driver.get({ index: '', collection: 'post' }, 'missing')).toBeNull()
  })

  it('never puts an impossible id in a URL', async () => {
    const before = server.requests.length
    await expect(driver.get({ index: '', collection: 'post' }, '../query/production?query=*')).rejects.toMatchObject({ code: 'bad_argument' })
    expect(await driver.mGet({ index: '', collection: 'post' }, ['a/b', 'x,y'])).toEqual([])
    expect(server.requests.length).toBe(before)
  })

  it('mGets the present documents of the collection, in chunks that keep URLs short', async () => {
    const ids = Array.from({ length: 300 }, (_, i) => `post-${String(i).padStart(40, '0')}`)
    server.documents.load(ids.map((_id) => ({ _id, _type: 'post' })))
    server.documents.load([{ _id: 'other', _type: 'author' }])
    const before = server.requests.length
    const docs = await driver.mGet({ index: '', collection: 'post' }, [...ids, 'missing', 'other', ids[0]])
    expect(docs.map((d) => d._id)).toEqual(ids)
    const reads = server.requests.slice(before)
    expect(reads.length).toBeGreaterThan(1)
    for (const r of reads) expect(r.url.length).toBeLessThan(8000)
  })

  it("maps the index to a dataset, '' being the client's own", async () => {
    server.documents.load([{ _id: 'x', _type: 'post', where: 'prod' }])
    server.documents.load([{ _id: 'x', _type: 'post', where: 'staging' }], 'staging')
    expect((await driver.get({ index: '', collection: 'post' }, 'x'))?._source.where).toBe('prod')
    expect((await driver.get({ index: 'production', collection: 'post' }, 'x'))?._source.where).toBe('prod')
    expect((await driver.get({ index: 'staging', collection: 'post' }, 'x'))?._source.where).toBe('staging')
    const page = await driver.search({ index: 'staging', collection: 'post' }, { sort: [] }, { from: 0, size: 10 })
    expect(page.hits.map((h) => h._source.where)).toEqual(['staging'])
  })
})

describe('search', () => {
  const docs = [
    { _id: 'b', _type: 'item', price: 3, name: 'beta', tags: { rank: 2 } },
    { _id: 'a', _type: 'item', price: 3, name: 'alpha', tags: { rank: 1 } },
    { _id: 'c', _type: 'item', price: 1, name: 'gamma' },
    { _id: 'd', _type: 'item', name: 'delta' },
    { _id: 'e', _type: 'item', price: null, name: 'epsilon' },
    { _id: 'f', _type: 'item', price: 10, name: 'phi', 'odd-key': 2 },
    { _id: 'z', _type: 'other', price: 0 },
  ]
  const ref = { index: '', collection: 'item' }

  it('filters with GROQ and params, within the collection', async () => {
    server.documents.load(docs)
    const page = await driver.search(ref, { query: 'price >= $min', params: { min: 3 }, sort: normalizeSort('_id') }, { from: 0, size: 10 })
    expect(page.hits.map((h) => h._id)).toEqual(['a', 'b', 'f'])
    expect(page.total).toBe(3)
    const all = await driver.search(ref, { sort: [] }, { from: 0, size: 100 })
    expect(all.total).toBe(6)
  })

  it.each([
    ['price'],
    [{ price: 'desc' as const }],
    [['price', { name: 'desc' as const }]],
    [{ 'tags.rank': 'desc' as const }],
    [{ 'odd-key': 'asc' as const }],
    [{ _id: 'desc' as const }],
  ])('orders like the core comparator (missing last, ties by _id): %j', async (sort) => {
    server.documents.load(docs)
    const keys = normalizeSort(sort)
    const page = await driver.search(ref, { sort: keys }, { from: 0, size: 100 })
    const expected = [...page.hits].sort(comparator(keys)).map((h) => h._id)
    expect(page.hits.map((h) => h._id)).toEqual(expected)
  })

  it('pages by slices, with the total of the whole query', async () => {
    server.documents.load(docs)
    const sort = normalizeSort({ price: 'desc' })
    const pages = []
    for (let from = 0; from < 6; from += 2) pages.push(await driver.search(ref, { sort }, { from, size: 2 }))
    expect(pages.map((p) => p.total)).toEqual([6, 6, 6])
    expect(pages.flatMap((p) => p.hits.map((h) => h._id))).toEqual(['f', 'a', 'b', 'c', 'd', 'e'])
  })

  it('refuses filters that would escape their brackets and reserved parameter names', async () => {
    await expect(driver.search(ref, { query: 'true] | order(x) [', sort: [] }, { from: 0, size: 1 })).rejects.toMatchObject({
      code: 'unsupported_query',
    })
    await expect(driver.search(ref, { query: 'x == $__type', params: { __type: 'author' }, sort: [] }, { from: 0, size: 1 })).rejects.toMatchObject({
      code: 'bad_argument',
    })
    await expect(driver.search(ref, { query: { equals: {} }, sort: [] }, { from: 0, size: 1 })).rejects.toMatchObject({
      code: 'unsupported_query',
    })
    // Brackets inside strings are fine.
    server.documents.load([{ _id: 's', _type: 'item', name: 'a]b' }])
    const page = await driver.search(ref, { query: 'name == "a]b"', sort: [] }, { from: 0, size: 1 })
    expect(page.hits.map((h) => h._id)).toEqual(['s'])
  })

  it('refuses a GROQ syntax error, fatally and before any request', async () => {
    const before = server.requests.length
    await expect(driver.search(ref, { query: 'price >', sort: [] }, { from: 0, size: 1 })).rejects.toMatchObject({
      code: 'unsupported_query',
      fatal: true,
    })
    expect(server.requests.length).toBe(before)
  })

  it('keys queries by filter and params only, params in any order', () => {
    const key = driver.queryKey!({ query: ' a == $x && b == $y ', params: { x: 1, y: 2 }, sort: normalizeSort('a') })
    expect(driver.queryKey!({ query: 'a == $x && b == $y', params: { y: 2, x: 1 }, sort: [] })).toBe(key)
    expect(driver.queryKey!({ query: 'a == $x && b == $y', params: { x: 1, y: 3 }, sort: [] })).not.toBe(key)
  })
})

describe('watch by ids', () => {
  it('is ready on welcome, before any event, and translates events with rev / previousRev', async () => {
    const w = watch('note', { ids: ['n1', 'n2'] })
    await live(w)
    expect(w.types()).toEqual(['ready'])
    expect(w.readies()[0].info?.resumed).toBeFalsy()
    const created = server.documents.create({ _id: 'n1', _type: 'note', text: 'a' })
    const updated = server.documents.patch('n1', { set: { text: 'b' }, unset: ['missing'] })
    server.documents.create({ _id: 'n3', _type: 'note' }) // not followed
    server.documents.delete('n1')
    await waitFor(() => w.events().length === 3, 3000)
    const [c, u, d] = w.events()
    expect(c).toEqual({
      id: 'n1',
      kind: 'upsert',
      rev: created._rev,
      previousRev: null,
      doc: { _type: 'note', _rev: created._rev, _createdAt: created._createdAt, _updatedAt: created._updatedAt, text: 'a' },
    })
    expect(u).toMatchObject({ id: 'n1', kind: 'upsert', rev: updated._rev, previousRev: created._rev, doc: { text: 'b' } })
    expect(d.kind).toBe('delete')
    expect(d.previousRev).toBe(updated._rev)
    expect(d.doc).toBeUndefined()
    expect(w.events().every((e) => e.inQuery === undefined)).toBe(true)
  })

  it('reports a document whose _type changes as deleted from the collection', async () => {
    server.documents.load([{ _id: 'm', _type: 'note' }])
    const w = watch('note', { ids: ['m'] })
    await live(w)
    server.documents.createOrReplace({ _id: 'm', _type: 'memo' })
    await waitFor(() => w.events().length === 1, 3000)
    expect(w.events()[0].kind).toBe('delete')
  })

  it('passes out-of-order events through as they come (the core orders them), a duplicated one once (by event id)', async () => {
    server.documents.load([{ _id: 'o', _type: 'note', n: 0 }])
    const w = watch('note', { ids: ['o'] })
    await live(w)
    server.faults.reorder(2)
    const first = server.documents.patch('o', { set: { n: 1 } })
    const second = server.documents.patch('o', { set: { n: 2 } })
    server.faults.duplicate(1)
    const third = server.documents.patch('o', { set: { n: 3 } })
    const fourth = server.documents.patch('o', { set: { n: 4 } })
    await waitFor(() => w.events().length === 4, 3000)
    expect(w.events().map((e) => [e.rev, e.previousRev])).toEqual([
      [second._rev, first._rev],
      [first._rev, expect.any(String)],
      [third._rev, second._rev],
      [fourth._rev, third._rev],
    ])
  })

  it('follows 250 UUID ids (the default per watch) on one listener whose URL names the type, not the ids', async () => {
    expect(driver.maxIdsPerWatch).toBe(DEFAULT_MAX_IDS_PER_WATCH)
    const ids = Array.from({ length: driver.maxIdsPerWatch }, () => randomUUID())
    const before = server.listenRequests
    const w = watch('note', { ids })
    await live(w)
    expect(server.listenRequests - before).toBe(1)
    const url = new URL(server.requests.filter((r) => r.endpoint === 'listen').at(-1)!.url, server.url)
    expect(url.searchParams.get('query')).toBe('*[_type in $__types]')
    expect(url.searchParams.get('$__types')).toBe('["note"]')
    expect(url.href.length).toBeLessThan(500)
  })

  it('ids too long for one URL: one listener all the same', async () => {
    const ids = Array.from({ length: 300 }, (_, i) => `${'x'.repeat(100)}-${i}`)
    server.documents.load(ids.map((_id) => ({ _id, _type: 'note', n: 0 })))
    const before = server.listenRequests
    const w = watch('note', { ids })
    await live(w)
    expect(server.listenRequests - before).toBe(1)
    expect(server.openListeners).toBe(1)
    expect(w.readies()).toHaveLength(1)
    // One transaction touching every id: the listener gets events (and so a Last-Event-ID to resume from).
    server.documents.mutate(ids.map((id) => ({ patch: { id, set: { n: 1 } } })))
    await waitFor(() => w.events().length === ids.length, 3000)
    expect(new Set(w.events().map((e) => e.id))).toEqual(new Set(ids))

    // The listener drops and resumes: one offline, then one resumed ready.
    server.faults.closeStreams()
    await waitFor(() => w.readies().length === 2, 3000)
    expect(w.types().filter((t) => t !== 'event')).toEqual(['ready', 'offline', 'ready'])
    expect(w.readies()[1].info).toEqual({ resumed: true })

    // One error closes it, reported once.
    server.faults.channelError('boom')
    await waitFor(() => w.errors().length === 1, 3000)
    await waitFor(() => server.openListeners === 0, 3000)
    expect(w.errors()).toHaveLength(1)
  })
})

describe('watch by query', () => {
  it('reports appear / update / disappear as inQuery and matchedBefore, within the collection', async () => {
    const w = watch('comment', { query: { query: 'authorId != $ownerId', params: { ownerId: 'me' }, sort: [] } })
    await live(w)
    const mine = server.documents.create({ _id: 'c1', _type: 'comment', authorId: 'me' })
    const theirs = server.documents.create({ _id: 'c2', _type: 'comment', authorId: 'you' })
    server.documents.create({ _id: 'p', _type: 'post', authorId: 'you' })
    server.documents.patch('c2', { set: { text: 'edited' } })
    const moved = server.documents.patch('c1', { set: { authorId: 'them' } })
    server.documents.patch('c2', { set: { authorId: 'me' } })
    server.documents.delete('c1')
    await waitFor(() => w.events().length === 5, 3000)
    // matchedBefore: the listener sends `previous` (this query needs it to tell a document leaving it).
    expect(w.events().map((e) => [e.id, e.kind, e.inQuery, e.matchedBefore])).toEqual([
      ['c2', 'upsert', true, false],
      ['c2', 'upsert', true, true],
      ['c1', 'upsert', true, false],
      ['c2', 'upsert', false, true],
      ['c1', 'delete', undefined, undefined],
    ])
    expect(w.events()[0]).toMatchObject({ rev: theirs._rev, previousRev: null, doc: { authorId: 'you' } })
    expect(w.events()[2]).toMatchObject({ rev: moved._rev, previousRev: mine._rev })
  })

  it('leaves drafts out when the client reads the published perspective', async () => {
    const w = watch('post', { query: { sort: [] } })
    await live(w)
    server.documents.create({ _id: 'drafts.p', _type: 'post' })
    server.documents.create({ _id: 'p', _type: 'post' })
    await waitFor(() => w.events().length === 1, 3000)
    expect(w.events()[0].id).toBe('p')
    const raw = sanityDriver(client.withConfig({ perspective: 'raw' }))
    const r = watch('post', { query: { sort: [] } }, raw)
    await live(r)
    server.documents.patch('drafts.p', { set: { x: 1 } })
    await waitFor(() => r.events().length === 1, 3000)
    expect(r.events()[0].id).toBe('drafts.p')
  })

  it('refuses a filter that is not a self-contained GROQ expression, before any request', async () => {
    const before = server.listenRequests
    const w = watch('post', { query: { query: 'a]', sort: [] } })
    await waitFor(() => w.errors().length === 1, 3000)
    expect(w.errors()[0]).toMatchObject({ code: 'unsupported_query', fatal: true })
    expect(w.types()).toEqual(['error'])
    expect(server.listenRequests).toBe(before)
  })
})

describe('listener protocol', () => {
  it('channelError is fatal, with the server message', async () => {
    const w = watch('note', { ids: ['x'] })
    await live(w)
    server.faults.channelError('Invalid filter: unknown function')
    await waitFor(() => w.errors().length === 1, 3000)
    expect(w.errors()[0]).toMatchObject({ code: 'channel_error', fatal: true, message: 'Invalid filter: unknown function' })
    await waitFor(() => server.openListeners === 0, 3000)
  })

  it('a GROQ error in a query watch is fatal, before the listener is live', async () => {
    const w = watch('note', { query: { query: 'a == ', sort: [] } })
    await waitFor(() => w.errors().length === 1, 3000)
    expect(w.errors()[0]).toMatchObject({ code: 'unsupported_query', fatal: true })
    expect(w.readies()).toEqual([])
  })

  it('disconnect is fatal and never reconnects', async () => {
    const w = watch('note', { ids: ['x'] })
    await live(w)
    const before = listenRequests(server)
    server.faults.disconnect('project blocked')
    await waitFor(() => w.errors().length === 1, 3000)
    expect(w.errors()[0]).toMatchObject({ code: 'disconnected', fatal: true, message: 'project blocked' })
    server.faults.clear()
    await afterSdkRetry(server, client)
    expect(listenRequests(server)).toBe(before)
    await waitFor(() => server.openListeners === 0, 3000)
    expect(w.types()).toEqual(['ready', 'error'])
  })

  it('a 401 is fatal after one request, with no retry storm', async () => {
    const before = listenRequests(server)
    server.faults.unauthorized(5)
    const w = watch('note', { ids: ['x'] })
    await waitFor(() => w.errors().length === 1, 3000)
    expect(w.errors()[0]).toMatchObject({ code: 'unauthorized', fatal: true })
    server.faults.clear()
    await afterSdkRetry(server, client)
    expect(listenRequests(server) - before).toBe(1)
    expect(w.types()).toEqual(['error'])
  })

  it('a dropped stream goes offline, and a plain welcome after it is a ready that resyncs', async () => {
    const d = sanityDriver(client, { enableResume: false })
    const w = watch('note', { ids: ['x'] }, d)
    await live(w)
    server.faults.closeStreams()
    await waitFor(() => w.readies().length === 2, 3000)
    expect(w.types()).toEqual(['ready', 'offline', 'ready'])
    expect(w.readies()[1].info?.resumed).toBeFalsy()
  })

  it('a resumed listener is ready with resumed: true and delivers what it missed', async () => {
    server.documents.load([{ _id: 'r', _type: 'note', n: 0 }])
    const w = watch('note', { ids: ['r'] })
    await live(w)
    const first = server.documents.patch('r', { set: { n: 1 } })
    await waitFor(() => w.events().length === 1, 3000)
    server.faults.closeStreams()
    const missed = server.documents.patch('r', { set: { n: 2 } })
    await waitFor(() => w.events().length === 2, 3000)
    expect(w.types()).toEqual(['ready', 'event', 'offline', 'ready', 'event'])
    expect(w.readies()[1].info).toEqual({ resumed: true })
    expect(w.events()[1]).toMatchObject({ rev: missed._rev, previousRev: first._rev })
    expect(server.requests.filter((r) => r.endpoint === 'listen').at(-1)?.lastEventId).toBe(`${first._rev}#r`)
  })

  it('a reset instead of welcomeback is a ready that resyncs; a reset while live asks for a resync', async () => {
    server.documents.load([{ _id: 'r', _type: 'note', n: 0 }])
    const w = watch('note', { ids: ['r'] })
    await live(w)
    server.documents.patch('r', { set: { n: 1 } })
    await waitFor(() => w.events().length === 1, 3000)
    server.faults.resumeMode = 'reset'
    server.faults.closeStreams()
    await waitFor(() => w.readies().length === 2, 3000)
    expect(w.readies()[1].info?.resumed).toBeFalsy()
    server.faults.reset()
    await waitFor(() => w.types().includes('reset'), 3000)
    expect(w.types()).toEqual(['ready', 'event', 'offline', 'ready', 'reset'])
  })

  it('a stream that cannot come back ends in a non-fatal watch_failed, not in the SDK retry loop', async () => {
    const w = watch('note', { ids: ['x'] })
    await live(w)
    const before = listenRequests(server)
    server.faults.rejectNext(100, { status: 503, endpoint: 'listen' })
    server.faults.closeStreams()
    await waitFor(() => w.errors().length === 1, 3000)
    expect(w.errors()[0]).toMatchObject({ code: 'watch_failed', fatal: false })
    expect(w.types()).toEqual(['ready', 'offline', 'error'])
    server.faults.clear()
    await afterSdkRetry(server, client)
    // The one reconnection the EventSource makes by itself (to resume), and nothing after the error.
    expect(listenRequests(server) - before).toBe(1)
    await waitFor(() => server.openListeners === 0, 3000)
  })

  it('a listener that cannot connect at all fails at once, non-fatally', async () => {
    const before = listenRequests(server)
    server.faults.rejectNext(1, { status: 503, endpoint: 'listen' })
    const w = watch('note', { ids: ['x'] })
    await waitFor(() => w.errors().length === 1, 3000)
    expect(w.errors()[0]).toMatchObject({ code: 'watch_failed', fatal: false })
    server.faults.clear()
    await afterSdkRetry(server, client)
    expect(listenRequests(server) - before).toBe(1)
  })

  it('delivers nothing after close, and closing every watch leaves no listener open', async () => {
    const a = watch('note', { ids: ['k'] })
    const b = watch('note', { query: { sort: [] } })
    const c = watch('post', { query: { query: 'defined(title)', sort: [] } })
    await Promise.all([live(a), live(b), live(c)])
    // One listener for the dataset, once the one opened for the first type has handed over.
    await waitFor(() => server.openListeners === 1, 5000, { what: 'one listener' })
    a.watch.close()
    b.watch.close()
    c.watch.close()
    a.watch.close() // idempotent
    server.documents.create({ _id: 'k', _type: 'note' })
    await waitFor(() => server.openListeners === 0, 3000)
    expect(a.events()).toEqual([])
    expect(b.events()).toEqual([])
  })
})

describe('tokens', () => {
  it('never appear in a URL, an error message or an error printout', async () => {
    const token = 'sk-super-secret-token-value'
    const secured = await startSanityServer({ token })
    try {
      const good = sanityDriver(clientFor(secured, { token }))
      secured.documents.load([{ _id: 't', _type: 'note' }])
      expect(await good.get({ index: '', collection: 'note' }, 't')).not.toBeNull()
      await good.search({ index: '', collection: 'note' }, { sort: [] }, { from: 0, size: 1 })
      const rec = recorder()
      const w = good.watch({ index: '', collection: 'note' }, { ids: ['t'] }, rec.sink)
      await waitFor(() => rec.readies().length === 1, 3000)
      w.close()

      const wrong = sanityDriver(clientFor(secured, { token: `${token}-revoked` }))
      const readErr = await wrong.get({ index: '', collection: 'note' }, 't').catch((e: unknown) => e as ObservedError)
      expect(readErr).toMatchObject({ code: 'unauthorized', fatal: true })
      const bad = recorder()
      wrong.watch({ index: '', collection: 'note' }, { ids: ['t'] }, bad.sink)
      await waitFor(() => bad.errors().length === 1, 3000)
      expect(bad.errors()[0]).toMatchObject({ code: 'unauthorized', fatal: true })

      for (const r of secured.requests) expect(r.url).not.toContain(token)
      for (const e of [readErr as ObservedError, bad.errors()[0]]) {
        expect(e.message).not.toContain(token)
        expect(inspect(e, { depth: 10 })).not.toContain(token)
      }
      await waitFor(() => secured.openListeners === 0, 3000)
    } finally {
      await secured.stop()
    }
  })
})
