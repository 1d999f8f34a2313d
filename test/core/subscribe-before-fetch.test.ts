// Promise 1: the watch is live before the read, and events that arrive while the read is in flight are applied on
// top of its answer, so no write made in between is lost.
import { afterEach, describe, expect, it } from 'vitest'
import { ObserverClient } from '../../src/core'
import { memoryDriver } from '../../src/drivers/memory'
import { instrument } from '../helpers/instrumented-driver'
import { waitFor } from '../helpers/wait-for'

const clients: ObserverClient[] = []
afterEach(() => {
  for (const c of clients.splice(0)) c.close()
})
function setup(latency = 0) {
  const inner = memoryDriver({ latency })
  const driver = instrument(inner)
  const client = new ObserverClient({ driver })
  clients.push(client)
  return { inner, driver, client }
}

describe('subscribe before fetch', () => {
  it('reads a document only once its watch is live', async () => {
    const { inner, driver, client } = setup()
    inner.seed('i', 'c', [{ _id: 'a', _source: { n: 1 } }])
    const o = client.get('i', 'c', 'a')
    await waitFor(() => driver.reads.length === 1, 1000, { what: 'first read' })
    expect(driver.watches).toHaveLength(1)
    expect(driver.watches[0].ready).toBe(true)
    await o.ready()
    expect(o._source).toEqual({ n: 1 })
    o.stop()
  })

  it('a write made after the watch is live but before the read answers is not lost (id observer)', async () => {
    const { inner, driver, client } = setup()
    inner.seed('i', 'c', [{ _id: 'a', _source: { n: 1, keep: true } }])
    driver.holdReads = true
    const o = client.get<{ n: number; keep?: boolean }>('i', 'c', 'a')
    await waitFor(() => driver.pendingReads === 1, 1000, { what: 'read held at the gate' })
    expect(driver.watches[0].ready).toBe(true)
    await inner.replace('i', 'c', 'a', { n: 2 })
    await waitFor(() => driver.watches[0].events.length === 1, 1000, { what: 'event delivered during the read' })
    expect(o.status).toBe('pending')
    driver.releaseReads() // answers with the snapshot taken before the write: { n: 1, keep: true }
    await o.ready()
    expect(o.status).toBe('live')
    expect(o._source).toEqual({ n: 2 })
    o.stop()
  })

  it('the same with the memory driver latency: a write racing the first read converges', async () => {
    const { inner, driver, client } = setup(80)
    inner.seed('i', 'c', [{ _id: 'a', _source: { n: 1 } }])
    const o = client.get<{ n: number }>('i', 'c', 'a')
    // Write as soon as the watch is live, while the read (80 ms) is still in flight.
    await waitFor(() => driver.watches[0]?.ready, 1000, { what: 'watch live' })
    expect(o.status).toBe('pending')
    await inner.update('i', 'c', 'a', { n: 2 })
    await waitFor(() => o._source?.n === 2, 1000, { what: 'n = 2' })
    expect(o._source).toEqual({ n: 2 })
    o.stop()
  })

  it('a document created while its first read is in flight appears', async () => {
    const { inner, driver, client } = setup()
    driver.holdReads = true
    const o = client.get<{ n: number }>('i', 'c', 'late')
    await waitFor(() => driver.pendingReads === 1, 1000)
    await inner.create('i', 'c', { n: 7 }, 'late')
    await waitFor(() => driver.watches[0].events.length === 1, 1000)
    driver.holdReads = false
    driver.releaseReads() // answers "missing"
    await waitFor(() => o.status === 'live', 1000, { what: 'status live' })
    expect(o._source).toEqual({ n: 7 })
    expect(o.error).toBeNull()
    // "Missing" is the state both before a creation and after its deletion: the creation that came during the read
    // is placed by a second read, not on a guess.
    expect(driver.reads.filter((r) => r.op !== 'search')).toHaveLength(2)
    o.stop()
  })

  it("live 'query' search: an update to a hit made while the first page is read is not lost", async () => {
    const { inner, driver, client } = setup()
    inner.seed('i', 'c', [
      { _id: 'a', _source: { n: 1, color: 'red' } },
      { _id: 'b', _source: { n: 2, color: 'red' } },
    ])
    driver.holdReads = true
    const s = client.search<{ n: number; color: string }>('i', 'c', { query: { equals: { color: 'red' } }, sort: 'n' }, { live: 'query' })
    await waitFor(() => driver.pendingReads === 1, 1000, { what: 'search read held' })
    expect(driver.watches[0].ready).toBe(true)
    await inner.update('i', 'c', 'a', { n: 10 })
    await waitFor(() => driver.watches[0].events.length === 1, 1000, { what: 'event delivered during the read' })
    driver.releaseReads() // page: a { n: 1 }, b { n: 2 }
    await s.ready()
    // Converged state: a has n = 10 and sorts after b.
    await waitFor(() => s.hits.map((h) => h._id).join() === 'b,a', 500, { what: 'hits b,a' }).catch(() => undefined)
    expect(s.hits.map((h) => [h._id, h._source?.n])).toEqual([
      ['b', 2],
      ['a', 10],
    ])
    s.stop()
  })

  it("live 'query' search: a document that starts matching while the first page is read appears, in sort order", async () => {
    const { inner, driver, client } = setup()
    inner.seed('i', 'c', [
      { _id: 'a', _source: { n: 1, color: 'red' } },
      { _id: 'b', _source: { n: 3, color: 'red' } },
      { _id: 'c', _source: { n: 2, color: 'blue' } },
    ])
    driver.holdReads = true
    const s = client.search<{ n: number; color: string }>('i', 'c', { query: { equals: { color: 'red' } }, sort: 'n' }, { live: 'query' })
    await waitFor(() => driver.pendingReads === 1, 1000)
    await inner.update('i', 'c', 'c', { color: 'red' })
    await waitFor(() => driver.watches[0].events.length === 1, 1000)
    driver.releaseReads()
    await waitFor(() => s.hits.length === 3, 1000, { what: '3 hits' })
    expect(s.hits.map((h) => h._id)).toEqual(['a', 'c', 'b'])
    expect(s.total).toBe(3)
    s.stop()
  })

  it("live 'query' search: a hit removed while the first page is read does not show", async () => {
    const { inner, driver, client } = setup()
    inner.seed('i', 'c', [
      { _id: 'a', _source: { n: 1 } },
      { _id: 'b', _source: { n: 2 } },
    ])
    driver.holdReads = true
    const s = client.search('i', 'c', { sort: 'n' }, { live: 'query' })
    await waitFor(() => driver.pendingReads === 1, 1000)
    await inner.delete('i', 'c', 'a')
    await waitFor(() => driver.watches[0].events.length === 1, 1000)
    driver.releaseReads()
    await s.ready()
    await waitFor(() => s.hits.length === 1, 500).catch(() => undefined)
    expect(s.hits.map((h) => h._id)).toEqual(['b'])
    expect(s.total).toBe(1)
    s.stop()
  })

  it("'hits' search: a write between the search read and the hits' id watch going live is not lost", async () => {
    const { inner, driver, client } = setup()
    inner.seed('i', 'c', [{ _id: 'a', _source: { n: 1 } }])
    driver.holdReads = true
    const s = client.search<{ n: number }>('i', 'c', {}, { live: 'hits' })
    await waitFor(() => driver.pendingReads === 1, 1000)
    driver.holdReads = false
    driver.releaseReads()
    await s.ready()
    // Page applied; the id watch for a opens now. Write before it is live.
    expect(driver.watches.every((w) => !w.ready)).toBe(true)
    await inner.update('i', 'c', 'a', { n: 2 })
    await waitFor(() => s.hits[0]?._source?.n === 2, 1000, { what: 'n = 2' })
    expect(s.hits.map((h) => h._source)).toEqual([{ n: 2 }])
    s.stop()
  })
})
