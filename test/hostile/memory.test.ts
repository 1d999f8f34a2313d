/**
 * Hostile documents and event volumes through the memory driver and the core ObserverClient: prototype keys stay
 * plain data (or are dropped for `__proto__`), a 10 MB document is observed whole, and a burst of 100,000 reordered
 * events converges with bounded memory.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { ObserverClient } from '../../src/core'
import { memoryDriver, type MemoryDriver } from '../../src/drivers/memory'
import { instrument } from '../helpers/instrumented-driver'
import { waitFor } from '../helpers/wait-for'

const clients: ObserverClient[] = []
afterEach(() => {
  for (const c of clients.splice(0)) c.close()
})

function setup(driver: MemoryDriver = memoryDriver()) {
  const client = new ObserverClient({ driver, gapTimeout: 100, backoff: { base: 10, cap: 50 } })
  clients.push(client)
  return { driver, client }
}

const probe = () => ({}) as Record<string, unknown>
function expectCleanPrototype(): void {
  expect(probe().polluted).toBeUndefined()
  expect(probe().deep).toBeUndefined()
  expect(Object.prototype).not.toHaveProperty('polluted')
  expect(Object.getOwnPropertyNames(Object.prototype)).not.toContain('polluted')
}

describe('prototype keys in documents', () => {
  const hostile = () =>
    JSON.parse(
      '{"n":1,"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}},"prototype":{"polluted":"yes"},"nested":{"__proto__":{"deep":"yes"},"constructor":"c"}}',
    ) as Record<string, unknown>

  it('created, updated and replaced: __proto__ dropped, constructor / prototype kept as data', async () => {
    const { driver, client } = setup()
    await driver.create('i', 'c', { n: 0 }, 'a')
    const o = client.get<Record<string, unknown>>('i', 'c', 'a')
    const other = client.get<Record<string, unknown>>('i', 'c', 'b')
    await driver.create('i', 'c', { n: 0 }, 'b')
    await o.ready()
    await other.ready()

    await driver.replace('i', 'c', 'a', hostile())
    await waitFor(() => o._source?.n === 1, 2000, { what: 'hostile replace observed' })
    const s = o._source!
    expect(Object.getPrototypeOf(s)).toBe(Object.prototype)
    expect(Object.hasOwn(s, '__proto__')).toBe(false)
    expect(Object.hasOwn(s, 'constructor')).toBe(true)
    expect(Object.hasOwn(s, 'prototype')).toBe(true)
    expect(JSON.parse(JSON.stringify(s))).toEqual(
      JSON.parse('{"n":1,"constructor":{"prototype":{"polluted":"yes"}},"prototype":{"polluted":"yes"},"nested":{"constructor":"c"}}'),
    )
    expect(Object.getPrototypeOf(s.nested)).toBe(Object.prototype)
    expect(Object.hasOwn(s.nested as object, '__proto__')).toBe(false)
    expect(o.status).toBe('live')
    expectCleanPrototype()

    // A partial update carrying the keys again, then a plain field: still clean, still live.
    await driver.update('i', 'c', 'a', JSON.parse('{"__proto__":{"polluted":"again"},"constructor":{"x":1},"n":2}'))
    await waitFor(() => o._source?.n === 2, 2000, { what: 'hostile update observed' })
    expect((o._source!.constructor as unknown as Record<string, unknown>).x).toBe(1)
    expect(Object.hasOwn(o._source!, '__proto__')).toBe(false)
    expect(o.status).toBe('live')
    expectCleanPrototype()

    // The other observer never saw any of it.
    expect(other._source).toEqual({ n: 0 })
    expect(other.status).toBe('live')
  })

  it('a search over hostile documents keeps prototype keys as data and stays clean', async () => {
    const { driver, client } = setup()
    driver.seed('i', 'c', [
      { _id: 'h', _source: hostile() },
      { _id: 'p', _source: { n: 5 } },
    ])
    const r = client.search<Record<string, unknown>>('i', 'c', { sort: { n: 'asc' } })
    await waitFor(() => r.status === 'live' && r.hits.length === 2, 2000, { what: 'search live' })
    const h = r.hits.find((d) => d._id === 'h')!
    if (!h._source) throw new Error('hit without source')
    expect(Object.hasOwn(h._source, '__proto__')).toBe(false)
    expect(h._source.prototype).toEqual({ polluted: 'yes' })
    expectCleanPrototype()
    await driver.update('i', 'c', 'h', { n: 9 })
    await waitFor(() => r.hits.map((d) => d._id).join() === 'p,h', 2000, { what: 'search reordered' })
    expectCleanPrototype()
  })
})

describe('a 10 MB document', () => {
  it('is observed whole; another observer is unaffected', async () => {
    const { driver, client } = setup()
    const big = { blob: 'x'.repeat(10 * 1024 * 1024), items: Array.from({ length: 1000 }, (_, k) => ({ k })) }
    await driver.create('i', 'c', { n: 0 }, 'small')
    const small = client.get<Record<string, unknown>>('i', 'c', 'small')
    const o = client.get<{ blob: string; items: Array<{ k: number }>; n?: number }>('i', 'c', 'big')
    await small.ready()
    await o.ready()
    expect(o.deleted).toBe(true)

    await driver.create('i', 'c', big, 'big')
    await waitFor(() => o._source?.blob.length === 10 * 1024 * 1024, 5000, { what: 'big doc observed' })
    expect(o.status).toBe('live')
    expect(o._source!.items).toHaveLength(1000)
    expect(o._source!.items[999]).toEqual({ k: 999 })

    await driver.update('i', 'c', 'big', { n: 1 })
    await driver.update('i', 'c', 'small', { n: 1 })
    await waitFor(() => o._source?.n === 1 && small._source?.n === 1, 5000, { what: 'both updated' })
    expect(o._source!.blob.length).toBe(10 * 1024 * 1024)
    expect(small._source).toEqual({ n: 1 })
    expect(small.status).toBe('live')
  })
})

describe('a burst of 100,000 events', () => {
  it('converges to the stored documents with reordered delivery, and memory stays bounded', { timeout: 20_000 }, async () => {
    const driver = memoryDriver({ seed: 42 })
    const { client } = setup(driver)
    const N_DOCS = 100
    const N_EVENTS = 100_000
    driver.seed(
      'i',
      'c',
      Array.from({ length: N_DOCS }, (_, k) => ({ _id: `d${k}`, _source: { n: 0, k } })),
    )
    const observers = Array.from({ length: N_DOCS }, (_, k) => client.get<{ n: number; k: number }>('i', 'c', `d${k}`))
    await Promise.all(observers.map((o) => o.ready()))
    const gc = (globalThis as { gc?: () => void }).gc
    gc?.()
    const before = process.memoryUsage().heapUsed

    driver.faults.reorder = 0.3
    driver.faults.reorderWindow = 5
    const writes: Array<Promise<unknown>> = []
    for (let e = 0; e < N_EVENTS; e++) writes.push(driver.update('i', 'c', `d${e % N_DOCS}`, { n: e + 1 }))
    await Promise.all(writes)

    const stored = new Map(driver.snapshot<{ n: number; k: number }>('i', 'c').map((d) => [d._id, d._source]))
    expect(stored.get('d0')!.n).toBe(N_EVENTS - N_DOCS + 1)
    await waitFor(
      () => observers.every((o) => o._source !== null && o._source.n === stored.get(o._id)!.n),
      15_000,
      { intervalMs: 20, what: 'every observer converged' },
    )
    for (const o of observers) {
      expect(o.status).toBe('live')
      expect(o._source).toEqual(stored.get(o._id))
    }
    gc?.()
    const grown = process.memoryUsage().heapUsed - before
    // Generous: caps (held 64, buffered 1024 per document) keep growth far below this; unbounded buffers of
    // 100,000 full events across 100 documents would not be.
    expect(grown).toBeLessThan(256 * 1024 * 1024)
    expect(client.stats()).toEqual({ documents: N_DOCS, idWatches: expect.any(Number), queryWatches: 0 })
  })
})

describe('a burst of 100,000 hostile events straight into the core sink', () => {
  it('malformed, unknown-id and stale events are dropped; observers stay put, then follow a real write', { timeout: 20_000 }, async () => {
    const inner = memoryDriver({ seed: 7 })
    const driver = instrument(inner)
    const client = new ObserverClient({ driver, gapTimeout: 100, backoff: { base: 10, cap: 50 } })
    clients.push(client)
    const N_DOCS = 100
    const seeded = inner.seed('i', 'c', Array.from({ length: N_DOCS }, (_, k) => ({ _id: `d${k}`, _source: { n: 0, k } })))
    const observers = seeded.map((d) => client.get<{ n: number; k: number }>('i', 'c', d._id))
    await Promise.all(observers.map((o) => o.ready()))
    const sinks = driver.openWatches().map((w) => w.sink)
    expect(sinks.length).toBeGreaterThan(0)
    const readsBefore = driver.reads.length
    const gc = (globalThis as { gc?: () => void }).gc
    gc?.()
    const before = process.memoryUsage().heapUsed

    const hostile: unknown[] = [null, 42, 'x', [], {}, { id: '' }, { id: 'd0' }, { id: 'd0', kind: 'explode' }, { kind: 'upsert' }]
    for (let e = 0; e < 100_000; e++) {
      const sink = sinks[e % sinks.length]
      const doc = seeded[e % N_DOCS]
      switch (e % 4) {
        case 0:
          sink.event(hostile[e % hostile.length] as never)
          break
        case 1:
          sink.event({ id: `ghost-${e}`, kind: 'upsert', doc: { n: e }, rev: doc._rev + 1_000_000, previousRev: null })
          break
        case 2:
          // A stale copy: older than what the observer holds.
          sink.event({ id: doc._id, kind: 'upsert', doc: { n: -e }, rev: 0, previousRev: null })
          break
        default:
          // A duplicate of the current revision with different content: the revision says it is already applied.
          sink.event({ id: doc._id, kind: 'upsert', doc: { n: -e }, rev: doc._rev, previousRev: null })
      }
    }
    // A real write after the burst: once it shows, everything before it on the same sinks has been processed.
    await inner.update('i', 'c', 'd7', { n: 1 })
    await waitFor(() => observers[7]._source?.n === 1, 2000, { what: 'real write observed after the burst' })
    for (const o of observers) {
      expect(o.status).toBe('live')
      expect(o._source).toEqual({ n: o._id === 'd7' ? 1 : 0, k: Number(o._id.slice(1)) })
    }
    expect(client.stats().documents).toBe(N_DOCS)
    gc?.()
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(256 * 1024 * 1024)
    // Nothing in the burst was worth a reread.
    expect(driver.reads.length).toBe(readsBefore)
  })
})

describe('a gap that never fills, 100,000 times over', () => {
  it('held events are capped: the core rereads a bounded number of times and converges to the stored document', { timeout: 20_000 }, async () => {
    const inner = memoryDriver({ seed: 9 })
    const driver = instrument(inner)
    const client = new ObserverClient({ driver, gapTimeout: 100, backoff: { base: 10, cap: 50 } })
    clients.push(client)
    inner.seed('i', 'c', [
      { _id: 'a', _source: { n: 0 } },
      { _id: 'b', _source: { n: 0 } },
    ])
    const a = client.get<{ n: number | string }>('i', 'c', 'a')
    const b = client.get<{ n: number }>('i', 'c', 'b')
    await Promise.all([a.ready(), b.ready()])
    const startRev = inner.snapshot('i', 'c').find((d) => d._id === 'a')!._rev
    // The truth moves on without telling the core; the burst below never continues the chain.
    driver.manualEvents = true
    const final = await inner.update('i', 'c', 'a', { n: 'final' })
    driver.manualEvents = false
    expect(final._rev).toBeGreaterThan(startRev + 1)
    const sink = driver.openWatches()[0].sink
    const readsBefore = driver.reads.length
    const N = 100_000
    const step = (final._rev - startRev) / (N + 2)
    for (let e = 1; e <= N; e++) {
      const rev = startRev + e * step
      sink.event({ id: 'a', kind: 'upsert', doc: { n: e }, rev, previousRev: rev - step / 2 })
    }
    await waitFor(() => a._source?.n === 'final', 5000, { what: 'a converged to the stored document' })
    expect(a._source).toEqual({ n: 'final' })
    expect(a.status).toBe('live')
    expect(b._source).toEqual({ n: 0 })
    expect(b.status).toBe('live')
    const rereads = driver.reads.length - readsBefore
    expect(rereads).toBeGreaterThan(0)
    expect(rereads).toBeLessThan(100)
    // And it keeps following real writes.
    await inner.update('i', 'c', 'a', { n: 'after' })
    await waitFor(() => a._source?.n === 'after', 2000, { what: 'a follows a real write' })
  })
})
