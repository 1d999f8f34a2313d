// Promise 4: observers of one collection share pooled, reference-counted id watches, sharded under the per-watch
// limit, widened per tick and narrowed after releaseDelay; none is left once every observer stopped.
import { afterEach, describe, expect, it } from 'vitest'
import { ObserverClient, type Observer } from '../../src/core'
import { memoryDriver } from '../../src/drivers/memory'
import { instrument } from '../helpers/instrumented-driver'
import { waitFor } from '../helpers/wait-for'

const clients: ObserverClient[] = []
afterEach(() => {
  for (const c of clients.splice(0)) c.close()
})
const ids1000 = Array.from({ length: 1000 }, (_, k) => `id${k}`)
function seeded(options: { maxIdsPerWatch?: number } = {}) {
  const inner = memoryDriver(options)
  inner.seed(
    'i',
    'c',
    ids1000.map((id, k) => ({ _id: id, _source: { k } })),
  )
  return inner
}
const statsOf = (d: ReturnType<typeof memoryDriver>) => (d.watchStats()['i/c'] ?? []).map((w) => w.ids)

describe('pooled id watches', () => {
  it('1,000 observers of 1,000 ids of one collection open one watch', async () => {
    const inner = seeded()
    const driver = instrument(inner)
    const client = new ObserverClient({ driver, releaseDelay: 5 })
    clients.push(client)
    const observers = ids1000.map((id) => client.get<{ k: number }>('i', 'c', id))
    await Promise.all(observers.map((o) => o.ready()))
    expect(observers.every((o, k) => o.status === 'live' && o._source?.k === k)).toBe(true)
    expect(driver.watches).toHaveLength(1)
    expect(statsOf(inner)).toEqual([1000])
    expect(client.stats()).toEqual({ documents: 1000, idWatches: 1, queryWatches: 0 })
    // Reads are batched too: no read per observer.
    expect(driver.reads.length).toBeLessThanOrEqual(2)
    expect(driver.reads.flatMap((r) => r.ids ?? []).sort()).toEqual([...ids1000].sort())
    for (const o of observers) o.stop()
    await waitFor(() => inner.activeWatches === 0, 1000, { what: '0 watches' })
    expect(client.stats()).toEqual({ documents: 0, idWatches: 0, queryWatches: 0 })
  })

  it("shards under the driver's maxIdsPerWatch: ceil(1000 / 100) = 10 watches of 100 ids", async () => {
    const inner = seeded({ maxIdsPerWatch: 100 })
    const client = new ObserverClient({ driver: inner, releaseDelay: 5 })
    clients.push(client)
    const observers = ids1000.map((id) => client.get('i', 'c', id))
    await Promise.all(observers.map((o) => o.ready()))
    expect(observers.filter((o) => o.status !== 'live')).toEqual([])
    expect(statsOf(inner)).toEqual(Array(10).fill(100))
    expect(client.stats().idWatches).toBe(10)
    for (const o of observers) o.stop()
    await waitFor(() => inner.activeWatches === 0, 1000)
  })

  it('the client option maxIdsPerWatch overrides: ceil(1000 / 300) = 4 watches', async () => {
    const inner = seeded()
    const client = new ObserverClient({ driver: inner, maxIdsPerWatch: 300, releaseDelay: 5 })
    clients.push(client)
    const observers = ids1000.map((id) => client.get('i', 'c', id))
    await Promise.all(observers.map((o) => o.ready()))
    expect(statsOf(inner).sort((a, b) => b - a)).toEqual([300, 300, 300, 100])
    for (const o of observers) o.stop()
    await waitFor(() => inner.activeWatches === 0, 1000)
  })

  it('1,000 observers of one id open one watch and make one read', async () => {
    const inner = seeded()
    const driver = instrument(inner)
    const client = new ObserverClient({ driver, releaseDelay: 5 })
    clients.push(client)
    const observers = Array.from({ length: 1000 }, () => client.get<{ k: number }>('i', 'c', 'id7'))
    await Promise.all(observers.map((o) => o.ready()))
    expect(driver.watches).toHaveLength(1)
    expect(statsOf(inner)).toEqual([1])
    expect(driver.reads).toEqual([{ op: 'mGet', ids: ['id7'] }])
    expect(client.stats().documents).toBe(1)
    await inner.update('i', 'c', 'id7', { k: -1 })
    await waitFor(() => observers.every((o) => o._source?.k === -1), 1000)
    for (const o of observers.slice(1)) o.stop()
    expect(observers[0].status).toBe('live')
    observers[0].stop()
    await waitFor(() => inner.activeWatches === 0, 1000)
  })

  it('widens the same watch for a new id, and narrows it after releaseDelay', async () => {
    const inner = seeded()
    const driver = instrument(inner)
    const client = new ObserverClient({ driver, releaseDelay: 20 })
    clients.push(client)
    const first = ids1000.slice(0, 10).map((id) => client.get('i', 'c', id))
    await Promise.all(first.map((o) => o.ready()))
    expect(statsOf(inner)).toEqual([10])
    const late = client.get<{ k: number }>('i', 'c', 'id500')
    await late.ready()
    await waitFor(() => statsOf(inner)[0] === 11, 1000, { what: 'widened to 11' })
    expect(driver.watches).toHaveLength(1)
    await inner.update('i', 'c', 'id500', { k: 5000 })
    await waitFor(() => late._source?.k === 5000, 1000, { what: 'event on the widened id' })
    for (const o of first.slice(0, 6)) o.stop()
    // Not narrowed at once (releaseDelay), narrowed after.
    expect(statsOf(inner)).toEqual([11])
    await waitFor(() => statsOf(inner)[0] === 5, 1000, { what: 'narrowed to 5' })
    expect(driver.watches).toHaveLength(1)
    for (const o of [...first.slice(6), late]) o.stop()
    await waitFor(() => inner.activeWatches === 0, 1000)
    expect(driver.watches.every((w) => w.closed)).toBe(true)
  })

  it('release and take back within releaseDelay: no new watch, the document stays live', async () => {
    const inner = seeded()
    const driver = instrument(inner)
    const client = new ObserverClient({ driver, releaseDelay: 50 })
    clients.push(client)
    const a = client.get('i', 'c', 'id1')
    const keep = client.get('i', 'c', 'id2')
    await Promise.all([a.ready(), keep.ready()])
    a.stop()
    const again = client.get<{ k: number }>('i', 'c', 'id1')
    await again.ready()
    expect(again.status).toBe('live')
    expect(again._source).toEqual({ k: 1 })
    const deadline = Date.now() + 80
    await waitFor(() => Date.now() >= deadline, 1000)
    expect(driver.watches).toHaveLength(1)
    expect(statsOf(inner)).toEqual([2])
    await inner.update('i', 'c', 'id1', { k: 11 })
    await waitFor(() => again._source?.k === 11, 1000)
    again.stop()
    keep.stop()
    await waitFor(() => inner.activeWatches === 0, 1000)
  })

  it('a replaced watch that went offline is closed when its replacement goes live: its resumed history never applies', async () => {
    // Sanity seed 105805: the listener being replaced came back after its replacement's resync read and replayed the
    // history it had missed, whose creation of a document brought it back after its deletion.
    const inner = memoryDriver()
    const [first] = inner.seed<{ k: number }>('i', 'c', [{ _id: 'a', _source: { k: 1 } }, { _id: 'b', _source: { k: 2 } }])
    const driver = instrument(inner)
    driver.manualEvents = true
    let replacementReady: (() => void) | undefined
    const watch = driver.watch.bind(driver)
    driver.watch = (c, spec, sink) => {
      const replacing = driver.watches.length > 0
      const w = watch(c, spec, replacing ? { ...sink, ready: (info) => void (replacementReady = () => sink.ready(info)) } : sink)
      return { close: () => w.close() } // no update(): a new set of ids means a new watch, made before the old breaks
    }
    const client = new ObserverClient({ driver, releaseDelay: 5 })
    clients.push(client)
    const a = client.get<{ k: number }>('i', 'c', 'a')
    await a.ready()
    const old = driver.watches[0]
    client.get('i', 'c', 'b')
    await waitFor(() => replacementReady !== undefined, 1000, { what: 'the replacement subscribed' })
    old.sink.offline()
    await inner.delete('i', 'c', 'a')
    replacementReady!()
    await waitFor(() => a.status === 'deleted', 1000, { what: 'the resync read' })
    expect(old.closed).toBe(true)
    old.sink.ready({ resumed: true })
    old.sink.event({ id: 'a', kind: 'upsert', doc: { k: 1 }, rev: first._rev, previousRev: null })
    expect([a.status, a._source]).toEqual(['deleted', null])
  })

  it('each collection has its own watch', async () => {
    const inner = seeded()
    inner.seed('i', 'other', [{ _id: 'x', _source: {} }])
    const client = new ObserverClient({ driver: inner, releaseDelay: 5 })
    clients.push(client)
    const os: Observer[] = [client.get('i', 'c', 'id1'), client.get('i', 'other', 'x'), client.get('i', 'c', 'id2')]
    await Promise.all(os.map((o) => o.ready()))
    expect(inner.watchStats()['i/c'].map((w) => w.ids)).toEqual([2])
    expect(inner.watchStats()['i/other'].map((w) => w.ids)).toEqual([1])
    for (const o of os) o.stop()
    await waitFor(() => inner.activeWatches === 0, 1000)
  })
})
