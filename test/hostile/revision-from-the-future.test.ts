/**
 * Attack (issue 13, finding 5): a hostile server or proxy sends a notification whose numeric revision (Kuzzle's
 * `_kuzzle_info.updatedAt`) lies far in the future. Ordering by a clock nobody can check would then drop every real
 * change and even the answer of `refresh()`. A read is the server's truth as of when it was sent: it replaces every
 * event received before it, and only events received after it are compared with its revision.
 * Events are fed by hand (revision only, no previous revision: Kuzzle's shape), so every step is deterministic.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { ObserverClient, type DocEvent } from '../../src/core'
import { memoryDriver } from '../../src/drivers/memory'
import { instrument } from '../helpers/instrumented-driver'
import { waitFor } from '../helpers/wait-for'

type Src = { n: number }
const FUTURE = Date.now() + 1e12

const clients: ObserverClient[] = []
afterEach(() => {
  for (const c of clients.splice(0)) c.close()
})

function setup() {
  const inner = memoryDriver()
  const driver = instrument(inner)
  driver.manualEvents = true
  const client = new ObserverClient({ driver, gapTimeout: 1000 })
  clients.push(client)
  inner.seed<Src>('i', 'c', [{ _id: 'a', _source: { n: 1 } }])
  /** A change of `a` as Kuzzle notifies it: full content and a numeric revision, nothing to chain it to. */
  const ev = (n: number, rev: number, inQuery?: boolean): DocEvent => ({ id: 'a', kind: 'upsert', doc: { n }, rev, ...(inQuery === undefined ? {} : { inQuery }) })
  return { inner, driver, client, ev }
}

describe('a revision from the future', () => {
  it('does not pin a document: refresh() shows the stored document, and later changes apply', async () => {
    const { inner, driver, client, ev } = setup()
    const o = client.get<Src>('i', 'c', 'a')
    await o.ready()
    driver.push(ev(666, FUTURE))
    expect(o._source).toEqual({ n: 666 }) // nothing can tell it from a real change yet
    const r2 = await inner.replace<Src>('i', 'c', 'a', { n: 2 })
    driver.push(ev(2, r2._rev))
    await o.refresh()
    expect(o._source).toEqual({ n: 2 })
    expect(o.status).toBe('live')
    // Its revision is forgotten: the next real change applies.
    const r3 = await inner.replace<Src>('i', 'c', 'a', { n: 3 })
    driver.push(ev(3, r3._rev))
    expect(o._source).toEqual({ n: 3 })
  })

  it('a read replaces every event received before it was sent, whatever their revisions', async () => {
    const { inner, driver, client, ev } = setup()
    const o = client.get<Src>('i', 'c', 'a')
    await o.ready()
    const r2 = await inner.replace<Src>('i', 'c', 'a', { n: 2 })
    driver.holdReads = true
    driver.push(ev(666, FUTURE))
    const refreshed = o.refresh() // sent after the hostile event was received
    await waitFor(() => driver.pendingReads > 0, 1000, { what: 'the read at the gate' })
    driver.releaseReads()
    await refreshed
    expect(o._source).toEqual({ n: 2 })
    expect(o.status).toBe('live')
    void r2
  })

  it('events received after a read was sent with a lower revision than its answer are still dropped', async () => {
    const { inner, driver, client, ev } = setup()
    const o = client.get<Src>('i', 'c', 'a')
    await o.ready()
    const r2 = await inner.replace<Src>('i', 'c', 'a', { n: 2 })
    const r3 = await inner.replace<Src>('i', 'c', 'a', { n: 3 })
    driver.holdReads = true
    const refreshed = o.refresh()
    await waitFor(() => driver.pendingReads > 0, 1000, { what: 'the read at the gate' })
    driver.push(ev(2, r2._rev)) // late, received while the read (which saw r3) is in flight
    driver.releaseReads()
    await refreshed
    expect(o._source).toEqual({ n: 3 })
    driver.push(ev(2, r2._rev)) // late again, after the read landed
    expect(o._source).toEqual({ n: 3 })
    void r3
  })

  it("a live query's hit pinned by a future revision shows the stored document after the search's refresh()", async () => {
    const { inner, driver, client, ev } = setup()
    const search = client.search<Src>('i', 'c', { sort: 'n' }, { size: 10, live: 'query' })
    await waitFor(() => search.status === 'live' && search.hits.length === 1, 2000, { what: 'the search live' })
    driver.push(ev(666, FUTURE, true))
    expect(search.hits[0]._source).toEqual({ n: 666 })
    const r2 = await inner.replace<Src>('i', 'c', 'a', { n: 2 })
    driver.push(ev(2, r2._rev, true))
    await search.refresh()
    await waitFor(() => search.hits[0]?._source?.n === 2, 2000, { what: 'the stored document shown' })
    expect(search.hits.map((h) => h._source)).toEqual([{ n: 2 }])
    const r3 = await inner.replace<Src>('i', 'c', 'a', { n: 3 })
    driver.push(ev(3, r3._rev, true))
    expect(search.hits[0]._source).toEqual({ n: 3 })
  })

  it("a document a future revision took out of a live query is back after the search's refresh()", async () => {
    const { inner, driver, client } = setup()
    const search = client.search<Src>('i', 'c', { sort: 'n' }, { size: 10, live: 'query' })
    await waitFor(() => search.status === 'live' && search.hits.length === 1, 2000, { what: 'the search live' })
    driver.push({ id: 'a', kind: 'upsert', rev: FUTURE, inQuery: false }) // "a left the query", from the future
    await waitFor(() => search.hits.length === 0, 2000, { what: 'a gone' })
    const r2 = await inner.replace<Src>('i', 'c', 'a', { n: 2 })
    driver.push({ id: 'a', kind: 'upsert', doc: { n: 2 }, rev: r2._rev, inQuery: true })
    await search.refresh()
    await waitFor(() => search.hits.map((h) => h._source?.n).join() === '2', 2000, { what: 'the stored document back' })
    expect(search.total).toBe(1)
  })

  it('a real change it would have hidden is settled by a read, without refresh()', async () => {
    const { inner, driver, client, ev } = setup()
    const o = client.get<Src>('i', 'c', 'a')
    await o.ready()
    driver.push(ev(666, FUTURE))
    const r2 = await inner.replace<Src>('i', 'c', 'a', { n: 2 })
    const reads = driver.reads.length
    driver.push(ev(2, r2._rev)) // older than 666 only by a clock: a read decides
    await waitFor(() => o._source?.n === 2, 2000, { what: 'the stored document' })
    expect(driver.reads.length).toBe(reads + 1)
  })

  it('a document a future revision took out of a live query comes back with its next real change', async () => {
    const { inner, driver, client } = setup()
    const search = client.search<Src>('i', 'c', { sort: 'n' }, { size: 10, live: 'query' })
    await waitFor(() => search.status === 'live' && search.hits.length === 1, 2000, { what: 'the search live' })
    driver.push({ id: 'a', kind: 'upsert', rev: FUTURE, inQuery: false })
    await waitFor(() => search.hits.length === 0, 2000, { what: 'a gone' })
    const r2 = await inner.replace<Src>('i', 'c', 'a', { n: 2 })
    driver.push({ id: 'a', kind: 'upsert', doc: { n: 2 }, rev: r2._rev, inQuery: true })
    await waitFor(() => search.hits.map((h) => h._source?.n).join() === '2', 2000, { what: 'the stored document back' })
    expect(search.total).toBe(1)
  })
})
