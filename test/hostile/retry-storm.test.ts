// Audit finding 1, the retry storm: a failing server gets one batch of reads per backoff step (one request per
// collection and read-size limit), never a request per document, and failing watches back off together, one probe
// per step, never one retry schedule per query. A server's Retry-After is honoured.
import { afterEach, describe, expect, it } from 'vitest'
import { ObserverClient, ObservedError, type Driver, type Watch } from '../../src/core'
import { memoryDriver } from '../../src/drivers/memory'
import { waitFor } from '../helpers/wait-for'

const clients: ObserverClient[] = []
afterEach(() => {
  for (const c of clients.splice(0)) c.close()
})

/** A memory driver whose reads and query watches can be refused, counting what reaches it. */
function failing(options: { maxIdsPerRead?: number; retryAfter?: number } = {}) {
  const inner = memoryDriver()
  const state = { readsDown: false, watchesDown: false, mGets: [] as Array<{ at: number; ids: number }>, queryWatches: 0 }
  const refused = () => new ObservedError('read_failed', 'HTTP 503', { retryAfter: options.retryAfter })
  const driver: Driver = {
    name: 'failing',
    maxIdsPerRead: options.maxIdsPerRead,
    get: (c, id) => inner.get(c, id),
    async mGet(c, ids) {
      state.mGets.push({ at: Date.now(), ids: ids.length })
      if (state.readsDown) throw refused()
      return inner.mGet(c, ids)
    },
    async search(c, spec, page) {
      if (state.readsDown) throw refused()
      return inner.search(c, spec, page)
    },
    queryKey: (spec) => inner.queryKey(spec),
    watch(c, spec, sink): Watch {
      if ('ids' in spec || !state.watchesDown) return inner.watch(c, spec, sink)
      state.queryWatches++
      let closed = false
      queueMicrotask(() => closed || sink.error(new ObservedError('watch_failed', 'Listener refused: HTTP 500')))
      return { close: () => void (closed = true) }
    },
  }
  return { inner, driver, state }
}

describe('retry storm (audit finding 1)', () => {
  it('500 documents whose reads are refused are retried as one batch per backoff step, ceil(500 / limit) requests each', async () => {
    const { inner, driver, state } = failing({ maxIdsPerRead: 100 })
    inner.seed('i', 'c', Array.from({ length: 500 }, (_, n) => ({ _id: `d${n}`, _source: { n } })))
    const client = new ObserverClient({ driver, backoff: { base: 40, cap: 4000 } })
    clients.push(client)
    state.readsDown = true
    const observers = client.mGet<{ n: number }>('i', 'c', Array.from({ length: 500 }, (_, n) => `d${n}`))
    const outage = 1500
    const started = Date.now()
    await waitFor(() => Date.now() - started >= outage, outage + 500, { what: 'the outage to last' })
    state.readsDown = false
    const during = state.mGets.filter((r) => r.at < started + outage)
    // Every request asks for at most the read-size limit; each step sends all 500 documents in 5 requests.
    expect(during.every((r) => r.ids <= 100)).toBe(true)
    expect(during.reduce((n, r) => n + r.ids, 0) % 500).toBe(0)
    const steps = during.length / 5
    expect(during.length % 5).toBe(0)
    // Exponential: steps at least 20, 40, 80, 160, 320, 640 ms apart (jitter halves at most), so 1,500 ms hold at
    // most 7 steps after the first read (a timer per document made hundreds).
    expect(steps).toBeGreaterThanOrEqual(3)
    expect(steps).toBeLessThanOrEqual(8)
    expect((during.length / outage) * 1000).toBeLessThanOrEqual(30)
    await waitFor(() => observers.every((o, n) => o.status === 'live' && o._source?.n === n), 6000, { what: 'all 500 live' })
    expect(observers.every((o) => o.error === null)).toBe(true)
  })

  it("a server's Retry-After delays the next batch at least that long", async () => {
    const { inner, driver, state } = failing({ retryAfter: 300 })
    inner.seed('i', 'c', [{ _id: 'a', _source: { n: 1 } }])
    const client = new ObserverClient({ driver, backoff: { base: 5, cap: 50 } })
    clients.push(client)
    state.readsDown = true
    const o = client.get<{ n: number }>('i', 'c', 'a')
    await waitFor(() => state.mGets.length >= 2, 2000, { what: 'a second read' })
    state.readsDown = false
    expect(state.mGets[1].at - state.mGets[0].at).toBeGreaterThanOrEqual(295)
    await waitFor(() => o._source?.n === 1, 2000)
  })

  it('100 live searches whose listeners are refused back off together: one probe per step, then all reopen', async () => {
    const { inner, driver, state } = failing()
    inner.seed('i', 'c', Array.from({ length: 20 }, (_, n) => ({ _id: `d${n}`, _source: { n } })))
    const client = new ObserverClient({ driver, backoff: { base: 40, cap: 4000 } })
    clients.push(client)
    state.watchesDown = true
    const searches = Array.from({ length: 100 }, (_, k) =>
      client.search<{ n: number }>('i', 'c', { query: { range: { n: { gte: k / 5 } } }, sort: 'n' }, { live: 'query', size: 5 }),
    )
    const outage = 1500
    const started = Date.now()
    await waitFor(() => Date.now() - started >= outage, outage + 500, { what: 'the outage to last' })
    const during = state.queryWatches
    state.watchesDown = false
    // Each of the 100 distinct queries opened once; after that, one probe per step (a schedule per query made 100s).
    expect(during).toBeGreaterThanOrEqual(100)
    expect(during).toBeLessThanOrEqual(100 + 8)
    await waitFor(() => searches.every((s) => s.status === 'live'), 6000, { what: 'every search live' })
    expect(searches[15].hits.map((h) => h._source?.n)).toEqual([3, 4, 5, 6, 7])
  })

  it('documents observed while reads back off wait for the next step instead of going out on their own', async () => {
    const { inner, driver, state } = failing()
    inner.seed('i', 'c', Array.from({ length: 50 }, (_, n) => ({ _id: `d${n}`, _source: { n } })))
    const client = new ObserverClient({ driver, backoff: { base: 200, cap: 200 } })
    clients.push(client)
    state.readsDown = true
    client.get('i', 'c', 'd0')
    await waitFor(() => state.mGets.length === 1, 1000)
    // One at a time, as components mount during the outage: none of these is read before the gate's step.
    for (let n = 1; n < 50; n++) {
      client.get('i', 'c', `d${n}`)
      await Promise.resolve()
    }
    await waitFor(() => state.mGets.length >= 2, 1000, { what: 'the next step' })
    expect(state.mGets.slice(1, 2)).toMatchObject([{ ids: 50 }])
  })
})
