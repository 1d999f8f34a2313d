/**
 * One Sanity listener per (client, dataset) (issue 17), against the Sanity-protocol test server through the real
 * @sanity/client over real sockets: the count, routing to id watches and to live queries, a union that changes while
 * changes stream without an event lost or doubled, and a listener that never answers (watch_timeout).
 */
import type { SanityClient } from '@sanity/client'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { ObserverClient } from '../../src/core'
import type { DocEvent, ObservedError, Watch, WatchSink, WatchSpec } from '../../src/core/types'
import { sanityDriver, type SanityDriver } from '../../src/drivers/sanity'
import { waitFor } from '../helpers/wait-for'
import { startSanityServer, type SanityTestServer } from '../servers/sanity'
import { clientFor } from '../servers/sanity/test-client'

let server: SanityTestServer
let sanity: SanityClient
const watches: Watch[] = []
const clients: ObserverClient[] = []

function watch(driver: SanityDriver, type: string, spec: WatchSpec) {
  const events: DocEvent[] = []
  const errors: ObservedError[] = []
  let readies = 0
  const sink: WatchSink = {
    ready: () => void readies++,
    event: (e) => void events.push(e),
    reset: () => undefined,
    offline: () => undefined,
    error: (e) => void errors.push(e),
  }
  const w = driver.watch({ index: '', collection: type }, spec, sink)
  watches.push(w)
  return { watch: w, events, errors, ready: () => readies > 0 }
}

const listenUrls = () => server.requests.filter((r) => r.endpoint === 'listen').map((r) => new URL(r.url, server.url))

beforeAll(async () => {
  server = await startSanityServer({ retryMs: 20 })
  sanity = clientFor(server)
})
afterEach(async () => {
  for (const w of watches.splice(0)) w.close()
  for (const c of clients.splice(0)) c.close()
  server.faults.clear()
  await waitFor(() => server.openListeners === 0, 3000, { what: 'every listener closed' })
  server.documents.wipe()
  server.clearRequests()
})
afterAll(async () => {
  await server.stop()
})

describe('one listener per dataset', () => {
  it('1,000 documents observed by id and 20 distinct live searches over 3 types: one listener', async () => {
    const types = ['note', 'post', 'comment']
    server.documents.load(Array.from({ length: 1000 }, (_, i) => ({ _id: `d${i}`, _type: types[i % 3], n: i })))
    const driver = sanityDriver(sanity)
    const client = new ObserverClient({ driver })
    clients.push(client)
    const observers = Array.from({ length: 1000 }, (_, i) => client.get('', types[i % 3], `d${i}`))
    const searches = Array.from({ length: 20 }, (_, i) => client.search('', types[i % 3], { query: 'n >= $min', params: { min: i * 10 }, sort: 'n' }, { size: 5, live: 'query' }))
    await waitFor(() => observers.every((o) => o.status === 'live') && searches.every((s) => s.status === 'live'), 10_000, { what: 'everything live' })
    await waitFor(() => server.openListeners === 1 && driver.openListeners === 1, 5000, { what: 'one listener' })
    const [url] = listenUrls().slice(-1)
    expect(url.searchParams.get('query')).toBe('*[_type in $__types]')
    expect(JSON.parse(url.searchParams.get('$__types')!)).toEqual(['comment', 'note', 'post'])
    expect(url.searchParams.get('includePreviousRevision')).toBe('true')

    // Changes reach the observers and the searches from it.
    server.documents.patch('d4', { set: { n: -4 } })
    server.documents.create({ _id: 'new', _type: 'note', n: 1000 })
    server.documents.patch('d0', { set: { n: 181 } })
    await waitFor(() => (observers[4]._source as { n: number }).n === -4, 3000, { what: 'the id route' })
    // Search 18 (notes with n >= 180, the first 5 by n) sees d0 move in, second.
    await waitFor(() => searches[18].hits[1]?._id === 'd0', 3000, { what: 'the query route' })
    expect(searches[18].hits.map((h) => h._id)).toEqual(['d180', 'd0', 'd183', 'd186', 'd189'])
    expect(server.openListeners).toBe(1)
  })

  it('another dataset has a listener of its own', async () => {
    const driver = sanityDriver(sanity)
    server.documents.load([{ _id: 'a', _type: 'note' }], 'staging')
    const a = watch(driver, 'note', { ids: ['a'] })
    const b = watch(driver, 'note', { ids: ['b'] })
    const c = driver.watch({ index: 'staging', collection: 'note' }, { ids: ['a'] }, { ready: () => undefined, event: () => undefined, reset: () => undefined, offline: () => undefined, error: () => undefined })
    watches.push(c)
    await waitFor(() => a.ready() && b.ready() && server.openListeners === 2, 3000, { what: 'two datasets, two listeners' })
    expect(driver.openListeners).toBe(2)
  })
})

describe('routing', () => {
  it('id watches hear their ids only; live queries hear what matches before or after, with the transition', async () => {
    const driver = sanityDriver(sanity, { narrowDelay: 0 })
    server.documents.load([
      { _id: 'n1', _type: 'note', n: 1 },
      { _id: 'n2', _type: 'note', n: 50 },
      { _id: 'p1', _type: 'post', n: 1 },
    ])
    const byId = watch(driver, 'note', { ids: ['n1'] })
    const small = watch(driver, 'note', { query: { query: 'n < 10', sort: [] } })
    const big = watch(driver, 'note', { query: { query: 'n >= 10', sort: [] } })
    const posts = watch(driver, 'post', { query: { sort: [] } })
    await waitFor(() => byId.ready() && small.ready() && big.ready() && posts.ready(), 3000, { what: 'live' })
    await waitFor(() => server.openListeners === 1, 3000, { what: 'one listener' })
    const stats = driver.listenerStats()

    server.documents.patch('n1', { set: { n: 2 } }) // n1: byId, small (update)
    server.documents.patch('n2', { set: { n: 5 } }) // n2: big (disappear), small (appear)
    server.documents.patch('p1', { set: { n: 2 } }) // posts only
    server.documents.create({ _id: 'n3', _type: 'note', n: 100 }) // big (appear)
    server.documents.delete('n1') // byId (delete), small (delete)
    server.documents.create({ _id: 'x', _type: 'other' }) // not a watched type: not even received
    server.documents.patch('n3', { set: { n: 200 } }) // big (update)

    await waitFor(() => big.events.length === 3 && small.events.length === 3 && byId.events.length === 2 && posts.events.length === 1, 3000, { what: 'every event routed' })
    const seen = (w: { events: DocEvent[] }) => w.events.map((e) => [e.id, e.kind, e.inQuery ?? null])
    expect(seen(byId)).toEqual([
      ['n1', 'upsert', null],
      ['n1', 'delete', null],
    ])
    expect(seen(small)).toEqual([
      ['n1', 'upsert', true],
      ['n2', 'upsert', true],
      ['n1', 'delete', null],
    ])
    expect(seen(big)).toEqual([
      ['n2', 'upsert', false],
      ['n3', 'upsert', true],
      ['n3', 'upsert', true],
    ])
    expect(seen(posts)).toEqual([['p1', 'upsert', true]])
    for (const w of [byId, small, big, posts]) expect(w.errors).toEqual([])
    // Each event came once, whatever number of watches heard it; none was for the unwatched type.
    const after = driver.listenerStats()
    expect(after.events - stats.events).toBe(6)
    expect(after.unwatched - stats.unwatched).toBe(0)
    expect(after.listeners).toBe(stats.listeners)
  })
})

describe('a union that changes', () => {
  it('widening and narrowing while changes stream: the new listener is up before the old closes, no event lost or doubled', async () => {
    const driver = sanityDriver(sanity, { narrowDelay: 50 })
    server.documents.load([{ _id: 'n', _type: 'note', i: 0 }])
    const notes = watch(driver, 'note', { ids: ['n'] })
    await waitFor(() => notes.ready(), 3000, { what: 'live' })
    const opened = driver.listenerStats().listeners

    // A change every 2 ms for the whole test.
    let writes = 0
    let writing = true
    const writer = (async () => {
      while (writing) {
        server.documents.patch('n', { set: { i: ++writes } })
        await new Promise((r) => setTimeout(r, 2))
      }
    })()
    let posts: ReturnType<typeof watch> | undefined
    let comments: ReturnType<typeof watch> | undefined
    let peak = 0
    const sampler = setInterval(() => {
      peak = Math.max(peak, server.openListeners)
      // Never zero: the old listener closes only after its replacement is live.
      if (server.openListeners === 0) throw new Error('no listener open during a switch')
    }, 1)
    try {
      await waitFor(() => writes >= 20, 3000)
      posts = watch(driver, 'post', { ids: ['p'] }) // widens: note + post
      await waitFor(() => posts!.ready(), 3000, { what: 'the post watch live' })
      comments = watch(driver, 'comment', { query: { sort: [] } }) // widens: + comment, and the documents before
      await waitFor(() => comments!.ready(), 3000, { what: 'the comment watch live' })
      server.documents.create({ _id: 'p', _type: 'post' })
      await waitFor(() => posts!.events.length === 1, 3000, { what: 'the post created' })
      posts.watch.close()
      comments.watch.close() // narrows back to note alone after narrowDelay
      await waitFor(() => driver.listenerStats().listeners === opened + 3 && server.openListeners === 1, 5000, { what: 'back to one listener for notes' })
      const at = writes
      await waitFor(() => writes >= at + 20, 3000)
    } finally {
      writing = false
      clearInterval(sampler)
      await writer
    }
    await waitFor(() => notes.events.length === writes, 3000, { what: 'every change' })
    // Every change, once, in a chain that continues from one to the next.
    expect(notes.events.map((e) => (e.doc as { i: number }).i)).toEqual(Array.from({ length: writes }, (_, k) => k + 1))
    for (let k = 1; k < notes.events.length; k++) expect(notes.events[k].previousRev).toBe(notes.events[k - 1].rev)
    expect(notes.errors).toEqual([])
    expect(posts?.events.map((e) => e.id)).toEqual(['p'])
    expect(peak).toBeGreaterThanOrEqual(2)
    // Each replacement resumed from where the listener it replaced had got to.
    const urls = server.requests.filter((r) => r.endpoint === 'listen')
    expect(urls.slice(-3).every((r) => typeof r.lastEventId === 'string' && r.lastEventId.includes('#n'))).toBe(true)
  })

  it('a watch of a type the listener follows already opens nothing new; a narrower union waits narrowDelay', async () => {
    const driver = sanityDriver(sanity, { narrowDelay: 300 })
    const a = watch(driver, 'note', { ids: ['a'] })
    const b = watch(driver, 'post', { ids: ['b'] })
    await waitFor(() => a.ready() && b.ready() && server.openListeners === 1, 3000, { what: 'one listener for both' })
    const listens = server.listenRequests
    const c = watch(driver, 'note', { ids: ['c'] })
    await waitFor(() => c.ready(), 3000)
    expect(server.listenRequests).toBe(listens)
    b.watch.close()
    const closedAt = Date.now()
    await waitFor(() => server.listenRequests === listens + 1 && server.openListeners === 1, 3000, { what: 'narrowed' })
    expect(Date.now() - closedAt).toBeGreaterThanOrEqual(300)
    expect(JSON.parse(listenUrls().at(-1)!.searchParams.get('$__types')!)).toEqual(['note'])
  })
})

describe('a listener that never answers', () => {
  it('watch_timeout with what to check, status reconnecting, retried with backoff, live once the server answers', async () => {
    server.documents.load([{ _id: 'n1', _type: 'note', n: 1 }])
    server.faults.stallListens()
    const client = new ObserverClient({ driver: sanityDriver(sanity), watchTimeout: 200, backoff: { base: 100, cap: 400 } })
    clients.push(client)
    const o = client.get<{ n: number }>('', 'note', 'n1')
    const s = client.search<{ n: number }>('', 'note', { query: 'n > 0' }, { live: 'query' })
    await waitFor(() => o.status === 'reconnecting' && s.status === 'reconnecting', 3000, { what: 'reconnecting' })
    for (const err of [o.error, s.error]) {
      expect(err).toMatchObject({ code: 'watch_timeout', fatal: false })
      expect(err?.message).toMatch(/not live after 200 ms.*URL, CORS.*connection limit/s)
    }
    const first = server.listenRequests
    await waitFor(() => server.listenRequests >= first + 2, 5000, { what: 'tried again' })
    // Given up on: never more than the one listener being tried at a time held open.
    expect(server.faults.stalledListens).toBeLessThanOrEqual(1)
    server.faults.releaseListens()
    await waitFor(() => o.status === 'live' && s.status === 'live', 5000, { what: 'live once the server answers' })
    expect([o.error, s.error]).toEqual([null, null])
    expect(s.hits.map((h) => h._id)).toEqual(['n1'])
    server.documents.patch('n1', { set: { n: 2 } })
    await waitFor(() => o._source?.n === 2 && s.hits.length > 0 && (s.hits[0]._source as { n: number }).n === 2, 3000)
    expect(server.openListeners).toBe(1)
  })

  it('watches that give up at different times: each timeout asks for the listener again', async () => {
    server.documents.load([{ _id: 'n1', _type: 'note', n: 1 }])
    server.faults.stallListens()
    const client = new ObserverClient({ driver: sanityDriver(sanity), watchTimeout: 200, backoff: { base: 100, cap: 200 } })
    clients.push(client)
    const first = server.listenRequests
    const o = client.search<{ n: number }>('', 'note', { query: 'n > 0' }, { live: 'query' })
    // The second search starts waiting once the first one's listen request is out: their clocks run apart, on the
    // same listener.
    await waitFor(() => server.listenRequests > first, 3000)
    const s = client.search<{ n: number }>('', 'note', { query: 'n > -1' }, { live: 'query' })
    await waitFor(() => o.status === 'reconnecting' && s.status === 'reconnecting', 3000)
    // While the watches keep timing out, listen requests keep coming: none is waited on for ever by the other.
    const at = server.listenRequests
    await waitFor(() => server.listenRequests >= at + 4, 5000, { what: 'listen requests after each timeout' })
    expect(server.faults.stalledListens).toBeLessThanOrEqual(2)
    server.faults.releaseListens()
    await waitFor(() => o.status === 'live' && s.status === 'live', 5000)
  })

  it('a wider listener that never answers: the new watch times out, the ones already live stay live', async () => {
    server.documents.load([
      { _id: 'n1', _type: 'note', n: 1 },
      { _id: 'p1', _type: 'post', n: 1 },
    ])
    const client = new ObserverClient({ driver: sanityDriver(sanity), watchTimeout: 200, backoff: { base: 100, cap: 400 } })
    clients.push(client)
    const note = client.get<{ n: number }>('', 'note', 'n1')
    await waitFor(() => note.status === 'live', 3000)
    server.faults.stallListens()
    const post = client.get<{ n: number }>('', 'post', 'p1')
    await waitFor(() => post.status === 'reconnecting', 3000, { what: 'the post observer reconnecting' })
    expect(post.error).toMatchObject({ code: 'watch_timeout', fatal: false })
    expect(note.status).toBe('live')
    server.documents.patch('n1', { set: { n: 2 } })
    await waitFor(() => note._source?.n === 2, 3000, { what: 'the note listener still delivering' })
    server.faults.releaseListens()
    await waitFor(() => post.status === 'live', 5000, { what: 'the post observer live' })
    server.documents.patch('p1', { set: { n: 2 } })
    server.documents.patch('n1', { set: { n: 3 } })
    await waitFor(() => post._source?.n === 2 && note._source?.n === 3, 3000)
    await waitFor(() => server.openListeners === 1, 3000, { what: 'one listener' })
  })
})
