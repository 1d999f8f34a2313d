/**
 * The Sanity driver and core on what a real Sanity backend sends on issue 21's points (a dataset that does not exist,
 * a GROQ parse error, transactions whose events count only the listener's documents, bulk changes by query), through
 * the real @sanity/client and the Sanity-protocol test server.
 */
import type { SanityClient } from '@sanity/client'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { ObserverClient } from '../../src/core'
import type { DocEvent, ObservedError, Watch, WatchSink } from '../../src/core/types'
import { sanityDriver, type SanityDriver } from '../../src/drivers/sanity'
import { waitFor } from '../helpers/wait-for'
import { startSanityServer, type SanityTestServer } from '../servers/sanity'
import { clientFor } from '../servers/sanity/test-client'

let server: SanityTestServer
let client: SanityClient
let driver: SanityDriver
const watches: Watch[] = []
const stops: Array<() => void> = []

function watch(type: string, spec: Parameters<SanityDriver['watch']>[1], index = '', d: SanityDriver = driver) {
  const events: DocEvent[] = []
  const errors: ObservedError[] = []
  let ready = 0
  const sink: WatchSink = {
    ready: () => void ready++,
    event: (e) => void events.push(e),
    reset: () => undefined,
    offline: () => undefined,
    error: (e) => void errors.push(e),
  }
  watches.push(d.watch({ index, collection: type }, spec, sink))
  return { events, errors, ready: () => ready }
}

beforeAll(async () => {
  server = await startSanityServer({ retryMs: 20 })
  client = clientFor(server)
  driver = sanityDriver(client)
})

afterEach(async () => {
  for (const w of watches.splice(0)) w.close()
  for (const stop of stops.splice(0)) stop()
  await waitFor(() => server.openListeners === 0, 3000, { what: 'every listener closed' })
  server.documents.wipe()
})

afterAll(async () => {
  await server.stop()
})

describe('a dataset that does not exist', () => {
  const ref = { index: 'nope', collection: 'post' }
  const notFound = { code: 'not_found', fatal: true, message: 'Sanity dataset "nope" not found' }

  it('reads fail with a fatal not_found naming the dataset, not a retried read_failed', async () => {
    await expect(driver.get(ref, 'a')).rejects.toMatchObject(notFound)
    await expect(driver.mGet(ref, ['a', 'b'])).rejects.toMatchObject(notFound)
    await expect(driver.search(ref, { sort: [] }, { from: 0, size: 10 })).rejects.toMatchObject(notFound)
  })

  it("a watch's channelError becomes the same fatal not_found, and never goes live", async () => {
    const byIds = watch('post', { ids: ['a'] }, 'nope')
    const byQuery = watch('post', { query: { query: 'n > 1', sort: [] } }, 'nope')
    await waitFor(() => byIds.errors.length === 1 && byQuery.errors.length === 1, 3000, { what: 'both watches refused' })
    expect(byIds.errors[0]).toMatchObject(notFound)
    expect(byQuery.errors[0]).toMatchObject(notFound)
    expect(byIds.ready() + byQuery.ready()).toBe(0)
  })

  it('a listener refused with a bare HTTP 404 is the same not_found, should the API answer so instead of channelError', async () => {
    server.faults.rejectNext(1, { status: 404, endpoint: 'listen' })
    const w = watch('post', { ids: ['a'] }, 'nope')
    await waitFor(() => w.errors.length === 1, 3000, { what: 'the watch refused' })
    expect(w.errors[0]).toMatchObject({ code: 'not_found', fatal: true, message: 'Sanity dataset "nope" not found (listener refused: HTTP 404)' })
  })

  it('an observer of it stops in error naming the dataset, and stops asking', async () => {
    // Retries, were there any, would come at once: a 1 ms backoff.
    const core = new ObserverClient({ driver, backoff: { base: 1, cap: 1 } })
    const observer = core.get('nope', 'post', 'a')
    stops.push(() => observer.stop())
    await waitFor(() => observer.status === 'error', 3000, { what: 'the observer in error' })
    expect(observer.error).toMatchObject(notFound)
    const settled = server.requests.length
    // Not retried: a listener opened after it (several round trips, far beyond 1 ms) goes live with no request to it.
    const probe = watch('post', { ids: ['x'] })
    await waitFor(() => probe.ready() === 1, 3000, { what: 'a probe listener live' })
    expect(server.requests.slice(settled).filter((r) => r.url.includes('/nope'))).toEqual([])
  })
})

describe('a GROQ syntax error in a filter', () => {
  it('is refused before any request (groq-js), positioned in the caller\'s filter with a caret, naming dataset and type', async () => {
    const listens = server.listenRequests
    const w = watch('post', { query: { query: 'n > 1 &&\n  title ==', sort: [] } })
    await waitFor(() => w.errors.length === 1, 3000, { what: 'the watch refused' })
    expect(w.errors[0]).toMatchObject({ code: 'unsupported_query', fatal: true })
    // Line 2 of the caller's filter, not a position in the driver's generated query.
    expect(w.errors[0].message).toMatch(/^Invalid GROQ filter \(dataset "production", type "post"\) at line 2, column \d+: /)
    expect(w.errors[0].message).toContain('\n> 2 |   title ==\n')
    expect(w.errors[0].message).toMatch(/\n +\| +\^$/)
    expect(server.listenRequests).toBe(listens)
  })
})

describe('transactions: transactionTotalEvents counts the listener\'s documents only', () => {
  it('every event of a transaction mixing watched and unwatched documents is delivered (the driver never waits for a total)', async () => {
    const w = watch('post', { ids: ['p1', 'p2'] })
    await waitFor(() => w.ready() === 1, 3000, { what: 'live' })
    await client.transaction().create({ _id: 'a1', _type: 'author' }).create({ _id: 'p1', _type: 'post', n: 1 }).create({ _id: 'p3', _type: 'post' }).create({ _id: 'p2', _type: 'post', n: 2 }).commit()
    await waitFor(() => w.events.length === 2, 3000, { what: 'two events' })
    expect(w.events.map((e) => [e.id, e.kind])).toEqual([
      ['p1', 'upsert'],
      ['p2', 'upsert'],
    ])
  })

  it('one transaction across 400 long ids reaches the sink whole, from the one listener of the dataset', async () => {
    // Ids far too long together for one listen URL: the listener follows the type, the driver routes by id.
    const ids = Array.from({ length: 400 }, (_, i) => `doc-${String(i).padStart(40, '0')}`)
    const w = watch('post', { ids })
    await waitFor(() => w.ready() === 1, 5000, { what: 'the listener live' })
    expect(server.openListeners).toBe(1)
    const touched = [ids[0], ids[200], ids[399]]
    const tx = touched.reduce((t, _id) => t.create({ _id, _type: 'post' }), client.transaction())
    await tx.create({ _id: 'other', _type: 'post' }).commit()
    await waitFor(() => w.events.length === 3, 3000, { what: 'three events' })
    expect(w.events.map((e) => e.id).sort()).toEqual([...touched].sort())
  })
})

describe('bulk changes by query', () => {
  it('delete by query and patch([ids]) reach id and query watches per document', async () => {
    server.documents.load([
      { _id: 'a', _type: 'post', n: 1 },
      { _id: 'b', _type: 'post', n: 2 },
      { _id: 'c', _type: 'post', n: 3 },
    ])
    const byIds = watch('post', { ids: ['a', 'b', 'c'] })
    const byQuery = watch('post', { query: { query: 'n >= 2', sort: [] } })
    await waitFor(() => byIds.ready() === 1 && byQuery.ready() === 1, 3000, { what: 'live' })
    await client.patch(['a', 'b']).inc({ n: 10 }).commit()
    await client.delete({ query: '*[_type == "post" && n > 11]' })
    await waitFor(() => byIds.events.length === 3 && byQuery.events.length === 3, 3000, { what: 'every event' })
    expect(byIds.events.map((e) => [e.id, e.kind])).toEqual([
      ['a', 'upsert'],
      ['b', 'upsert'],
      ['b', 'delete'],
    ])
    expect(byQuery.events.map((e) => [e.id, e.kind, e.inQuery ?? null])).toEqual([
      ['a', 'upsert', true],
      ['b', 'upsert', true],
      ['b', 'delete', null],
    ])
  })
})
