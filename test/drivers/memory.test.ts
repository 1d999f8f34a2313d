import { afterEach, describe, expect, it } from 'vitest'
import { memoryDriver } from 'vue-observed/memory'
import type { MemoryDriver } from 'vue-observed/memory'
import { normalizeSort } from '../../src/core/sort'
import { ObservedError } from '../../src/core/types'
import type { CollectionRef, DocEvent, DriverSearchSpec, SortInput, Watch, WatchSink, WatchSpec } from '../../src/core/types'
import { waitFor } from '../helpers/wait-for'

const I = 'shop'
const C = 'products'
const ref: CollectionRef = { index: I, collection: C }

type Call =
  | { type: 'ready'; info?: { resumed?: boolean } }
  | { type: 'event'; event: DocEvent }
  | { type: 'reset' }
  | { type: 'offline' }
  | { type: 'error'; error: ObservedError }

/** A sink that records every call, in order. */
function recorder() {
  const calls: Call[] = []
  const sink: WatchSink = {
    ready: (info) => calls.push(info === undefined ? { type: 'ready' } : { type: 'ready', info }),
    event: (event) => calls.push({ type: 'event', event }),
    reset: () => calls.push({ type: 'reset' }),
    offline: () => calls.push({ type: 'offline' }),
    error: (error) => calls.push({ type: 'error', error }),
  }
  const events = () => calls.flatMap((c) => (c.type === 'event' ? [c.event] : []))
  return {
    calls,
    sink,
    events,
    revs: () => events().map((e) => e.rev),
    types: () => calls.map((c) => c.type),
    readyCount: () => calls.filter((c) => c.type === 'ready').length,
    errors: () => calls.flatMap((c) => (c.type === 'error' ? [c.error] : [])),
  }
}

const q = (query: unknown, sort?: SortInput, params?: Record<string, unknown>): DriverSearchSpec => ({
  query,
  sort: normalizeSort(sort),
  ...(params ? { params } : {}),
})

const drivers: MemoryDriver[] = []
const watches: Watch[] = []
function driver(options?: Parameters<typeof memoryDriver>[0]): MemoryDriver {
  const d = memoryDriver(options)
  drivers.push(d)
  return d
}
/** Opens a watch and waits until it is live. */
async function open(d: MemoryDriver, spec: WatchSpec, c: CollectionRef = ref) {
  const rec = recorder()
  const w = d.watch(c, spec, rec.sink)
  watches.push(w)
  await waitFor(() => rec.readyCount() > 0, 2000, { what: 'ready' })
  return { w, rec }
}
/**
 * Proof that everything queued before now has been delivered: a watch on another collection, opened now, gets
 * ready and then an event. Delivery is timer based and first in, first out, so earlier frames went out first.
 */
async function barrier(d: MemoryDriver) {
  const other = { index: I, collection: 'barrier' }
  const rec = recorder()
  const w = d.watch(other, { ids: ['b'] }, rec.sink)
  await waitFor(() => rec.readyCount() > 0)
  await d.createOrReplace(other.index, other.collection, 'b', { t: Date.now() })
  await waitFor(() => rec.events().length > 0, 2000, { what: 'barrier event' })
  w.close()
}
async function rejection(p: Promise<unknown>): Promise<ObservedError> {
  const err = await p.then(
    () => {
      throw new Error('expected a rejection')
    },
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(ObservedError)
  return err as ObservedError
}

afterEach(() => {
  for (const w of watches.splice(0)) w.close()
  for (const d of drivers.splice(0)) {
    expect(d.activeWatches).toBe(0)
  }
})

describe('writes and reads', () => {
  it('creates, replaces, updates and deletes with one revision counter and a previousRev chain', async () => {
    const d = driver()
    const { rec } = await open(d, { ids: ['a', 'b'] })

    const a1 = await d.create(I, C, { n: 1 }, 'a')
    expect(a1).toEqual({ _id: 'a', _source: { n: 1 }, _rev: 1 })
    const b1 = await d.createOrReplace(I, C, 'b', { n: 10 })
    expect(b1._rev).toBe(2)
    const a2 = await d.replace(I, C, 'a', { m: 2 })
    expect(a2).toEqual({ _id: 'a', _source: { m: 2 }, _rev: 3 })
    const a3 = await d.update(I, C, 'a', { n: 3 })
    expect(a3).toEqual({ _id: 'a', _source: { m: 2, n: 3 }, _rev: 4 })
    expect(await d.delete(I, C, 'a')).toEqual({ _id: 'a', _rev: 5 })
    expect(await d.get(ref, 'a')).toBeNull()
    const a4 = await d.createOrReplace(I, C, 'a', { again: true })
    expect(a4._rev).toBe(6)
    expect(await d.get(ref, 'a')).toEqual({ _id: 'a', _source: { again: true }, _rev: 6 })

    await waitFor(() => rec.events().length === 6)
    expect(rec.events()).toEqual([
      { id: 'a', kind: 'upsert', doc: { n: 1 }, rev: 1, previousRev: null },
      { id: 'b', kind: 'upsert', doc: { n: 10 }, rev: 2, previousRev: null },
      { id: 'a', kind: 'upsert', doc: { m: 2 }, rev: 3, previousRev: 1 },
      { id: 'a', kind: 'upsert', doc: { m: 2, n: 3 }, rev: 4, previousRev: 3 },
      { id: 'a', kind: 'delete', rev: 5, previousRev: 4 },
      { id: 'a', kind: 'upsert', doc: { again: true }, rev: 6, previousRev: null },
    ])
    expect(rec.events()[4]).not.toHaveProperty('doc')
  })

  it('generates distinct ids, and rejects a create on an existing id', async () => {
    const d = driver()
    const x = await d.create(I, C, { v: 1 })
    const y = await d.create(I, C, { v: 2 })
    expect(x._id).toMatch(/^[A-Za-z0-9]{20}$/)
    expect(y._id).not.toBe(x._id)
    const err = await rejection(d.create(I, C, { v: 3 }, x._id))
    expect(err.code).toBe('bad_argument')
    expect(err.message).toContain(x._id)
    expect((await d.get(ref, x._id))?._source).toEqual({ v: 1 })
  })

  it('generates the same ids for the same seed', async () => {
    const ids = async (seed: number) => {
      const d = driver({ seed })
      return [(await d.create(I, C, {}))._id, (await d.create(I, C, {}))._id]
    }
    expect(await ids(5)).toEqual(await ids(5))
    expect(await ids(5)).not.toEqual(await ids(6))
  })

  it('rejects replace, update and delete of a missing document with not_found', async () => {
    const d = driver()
    for (const p of [d.replace(I, C, 'nope', {}), d.update(I, C, 'nope', {}), d.delete(I, C, 'nope')]) {
      const err = await rejection(p)
      expect(err.code).toBe('not_found')
      expect(err.message).toContain('nope')
    }
    expect(d.snapshot(I, C)).toEqual([])
  })

  it('update deep-merges plain objects, replaces arrays and keeps explicit nulls', async () => {
    const d = driver()
    await d.create(I, C, { a: { b: 1, c: { d: 2, e: 3 } }, list: [1, 2, 3], keep: 'x', gone: 1 }, 'p')
    const doc = await d.update(I, C, 'p', { a: { c: { e: 30, f: 40 } }, list: [9], gone: null })
    expect(doc._source).toEqual({ a: { b: 1, c: { d: 2, e: 30, f: 40 } }, list: [9], keep: 'x', gone: null })
    // An object replaces a scalar and vice versa.
    const doc2 = await d.update(I, C, 'p', { keep: { now: 'object' }, a: 5 })
    expect(doc2._source).toEqual({ a: 5, list: [9], keep: { now: 'object' }, gone: null })
  })

  it('get returns null for a missing document; mGet keeps input order and skips missing ids', async () => {
    const d = driver()
    d.seed(I, C, [
      { _id: 'a', _source: { n: 1 } },
      { _id: 'b', _source: { n: 2 } },
      { _id: 'c', _source: { n: 3 } },
    ])
    expect(await d.get(ref, 'zz')).toBeNull()
    const docs = await d.mGet(ref, ['c', 'zz', 'a', 'c'])
    expect(docs.map((x) => x._id)).toEqual(['c', 'a'])
    expect(docs[0]).toEqual({ _id: 'c', _source: { n: 3 }, _rev: 3 })
    expect(await d.mGet(ref, [])).toEqual([])
  })

  it('keeps collections independent; an unknown collection is empty', async () => {
    const d = driver()
    await d.create(I, C, { n: 1 }, 'same')
    await d.create(I, 'other', { n: 2 }, 'same')
    await d.create('other-index', C, { n: 3 }, 'same')
    expect((await d.get(ref, 'same'))?._source).toEqual({ n: 1 })
    expect((await d.get({ index: I, collection: 'other' }, 'same'))?._source).toEqual({ n: 2 })
    expect((await d.get({ index: 'other-index', collection: C }, 'same'))?._source).toEqual({ n: 3 })
    expect(await d.search({ index: 'nope', collection: 'nope' }, q(undefined), { from: 0, size: 10 })).toEqual({ hits: [], total: 0 })
    expect(await d.count('nope', 'nope')).toBe(0)
    expect(d.snapshot('nope', 'nope')).toEqual([])
  })

  it('seed bulk-loads without events, accepting { _id, _source } and bare sources', async () => {
    const d = driver()
    const { rec } = await open(d, { query: q({}) })
    const seeded = d.seed(I, C, [{ _id: 'a', _source: { n: 1 } }, { n: 2 }])
    expect(seeded[0]).toEqual({ _id: 'a', _source: { n: 1 }, _rev: 1 })
    expect(seeded[1]._source).toEqual({ n: 2 })
    expect(seeded[1]._rev).toBe(2)
    expect(seeded[1]._id).toMatch(/^[A-Za-z0-9]{20}$/)
    await d.createOrReplace(I, C, 'marker', { n: 3 })
    await waitFor(() => rec.events().length > 0)
    expect(rec.events().map((e) => e.id)).toEqual(['marker'])
    // A bad item loads nothing.
    expect(() => d.seed(I, C, [{ _id: 'ok', _source: {} }, { _id: '', _source: {} }])).toThrow(ObservedError)
    expect(d.snapshot(I, C).map((x) => x._id)).not.toContain('ok')
  })

  it('count and snapshot', async () => {
    const d = driver()
    d.seed(I, C, [
      { _id: 'b', _source: { n: 2 } },
      { _id: 'a', _source: { n: 1 } },
      { _id: 'c', _source: { n: 3 } },
    ])
    expect(await d.count(I, C)).toBe(3)
    expect(await d.count(I, C, { range: { n: { gte: 2 } } })).toBe(2)
    expect(await d.count(I, C, (s: { n?: unknown }) => s.n === 1)).toBe(1)
    expect(d.snapshot(I, C)).toEqual([
      { _id: 'a', _source: { n: 1 }, _rev: 2 },
      { _id: 'b', _source: { n: 2 }, _rev: 1 },
      { _id: 'c', _source: { n: 3 }, _rev: 3 },
    ])
  })

  it('rejects bad arguments with bad_argument and a clear message', async () => {
    const d = driver()
    const cases: Array<[Promise<unknown>, RegExp]> = [
      [d.create(I, C, { a: 1 }, ''), /id/i],
      [d.create(I, C, { a: 1 }, 42 as never), /id/i],
      [d.create(I, C, [] as never), /plain object/],
      [d.create(I, C, null as never), /plain object/],
      [d.create(I, C, 'text' as never), /plain object/],
      [d.createOrReplace(I, C, 'x', { big: 1n } as never), /JSON/],
      [d.update(I, C, 'x', 5 as never), /plain object/],
      [d.create('', C, {}), /index/],
      [d.create(I, undefined as never, {}), /collection/],
      [d.get({ index: I } as never, 'x'), /collection/],
      [d.get(ref, '' as never), /id/i],
      [d.mGet(ref, 'a' as never), /array/],
      [d.mGet(ref, ['a', 3] as never), /id/i],
      [d.search(ref, q(undefined), { from: -1, size: 10 }), /from/],
      [d.search(ref, q(undefined), { from: 0, size: 1.5 }), /size/],
      [d.search(ref, q(undefined), { from: 0 } as never), /size/],
    ]
    const cyclic: Record<string, unknown> = {}
    cyclic.self = cyclic
    cases.push([d.create(I, C, cyclic), /JSON/])
    for (const [p, message] of cases) {
      const err = await rejection(p)
      expect(err.code).toBe('bad_argument')
      expect(err.message).toMatch(message)
    }
    expect(d.snapshot(I, C)).toEqual([])
    expect(() => memoryDriver({ maxIdsPerWatch: 0 })).toThrow(/maxIdsPerWatch/)
    expect(() => memoryDriver({ latency: -1 })).toThrow(/latency/)
  })
})

describe('deep-copy isolation', () => {
  it('never lets a caller mutate the store', async () => {
    const d = driver()
    const { rec: r1 } = await open(d, { ids: ['p'] })
    const { rec: r2 } = await open(d, { ids: ['p'] })
    const input = { a: { b: 1 }, list: [{ c: 1 }] }
    const created = await d.create(I, C, input, 'p')
    input.a.b = 100
    input.list[0].c = 100
    created._source.a.b = 200
    const got = (await d.get(ref, 'p'))!
    ;(got._source.a as { b: number }).b = 300
    const [m] = await d.mGet(ref, ['p'])
    ;(m._source.list as Array<{ c: number }>)[0].c = 400
    const { hits } = await d.search(ref, q({}), { from: 0, size: 1 })
    ;(hits[0]._source as { a: { b: number } }).a.b = 500
    d.snapshot<{ a: { b: number } }>(I, C)[0]._source.a.b = 600
    await waitFor(() => r1.events().length === 1 && r2.events().length === 1)
    ;(r1.events()[0].doc as { a: { b: number } }).a.b = 700
    // The other watch got its own copy.
    expect(r2.events()[0].doc).toEqual({ a: { b: 1 }, list: [{ c: 1 }] })
    expect((await d.get(ref, 'p'))?._source).toEqual({ a: { b: 1 }, list: [{ c: 1 }] })
  })

  it('hands predicates a read-only source', async () => {
    const d = driver()
    await d.create(I, C, { a: 1 }, 'p')
    const err = await rejection(
      d.search(
        ref,
        q((s: Record<string, unknown>) => {
          s.a = 2
          return true
        }),
        { from: 0, size: 10 },
      ),
    )
    expect(err.code).toBe('bad_argument')
    expect(err.message).toContain('predicate')
    expect((await d.get(ref, 'p'))?._source).toEqual({ a: 1 })
  })

  it('keeps __proto__ / constructor / prototype keys as own data and Object.prototype clean', async () => {
    const protoBefore = Object.getOwnPropertyNames(Object.prototype).sort()
    const d = driver()
    const { rec } = await open(d, { ids: ['evil'] })
    const evil = JSON.parse('{"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted2":"yes"}},"prototype":{"x":1},"name":"evil"}')
    const created = await d.create(I, C, evil, 'evil')
    const updated = await d.update(I, C, 'evil', JSON.parse('{"__proto__":{"more":1},"constructor":{"prototype":{"p3":1}}}'))
    const got = (await d.get(ref, 'evil'))!
    await waitFor(() => rec.events().length === 2)
    for (const source of [created._source, updated._source, got._source, rec.events()[1].doc!, d.snapshot(I, C)[0]._source]) {
      expect(Object.getPrototypeOf(source)).toBe(Object.prototype)
      expect(Object.hasOwn(source, '__proto__')).toBe(true)
      expect((source as { polluted?: unknown }).polluted).toBeUndefined()
    }
    expect(Object.getOwnPropertyDescriptor(got._source, '__proto__')?.value).toEqual({ polluted: 'yes', more: 1 })
    expect(got._source.constructor).toEqual({ prototype: { polluted2: 'yes', p3: 1 } })
    // Filters read own keys only.
    expect(await d.count(I, C, { equals: { '__proto__.polluted': 'yes' } })).toBe(1)
    await d.create(I, C, { plain: true }, 'plain')
    expect(await d.count(I, C, { exists: 'constructor' })).toBe(1)
    expect(await d.count(I, C, { exists: 'toString' })).toBe(0)

    expect(({} as { polluted?: unknown }).polluted).toBeUndefined()
    expect(({} as { polluted2?: unknown }).polluted2).toBeUndefined()
    expect(({} as { more?: unknown }).more).toBeUndefined()
    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(protoBefore)
    // watchStats with a hostile index name stays a plain object.
    const w = d.watch({ index: '__proto__', collection: 'x' }, { ids: ['a'] }, recorder().sink)
    watches.push(w)
    expect(Object.getPrototypeOf(d.watchStats())).toBe(Object.prototype)
    expect(d.watchStats()['__proto__/x']).toHaveLength(1)
  })
})

describe('filters', () => {
  const products = [
    { _id: 'p1', _source: { name: 'Pen', price: 2, tags: ['a'], stock: { qty: 0 }, color: null } },
    { _id: 'p2', _source: { name: 'Book', price: 12, stock: { qty: 5 } } },
    { _id: 'p3', _source: { name: 'Mug', price: 7, stock: { qty: 1 }, color: 'red' } },
    { _id: 'p4', _source: { name: 'Cap', price: '9' } },
  ]
  async function ids(d: MemoryDriver, query: unknown, params?: Record<string, unknown>) {
    const page = await d.search(ref, q(query, undefined, params), { from: 0, size: 100 })
    return page.hits.map((h) => h._id)
  }

  it('matches each operator, dotted paths and _id', async () => {
    const d = driver()
    d.seed(I, C, products)
    expect(await ids(d, undefined)).toEqual(['p1', 'p2', 'p3', 'p4'])
    expect(await ids(d, {})).toEqual(['p1', 'p2', 'p3', 'p4'])
    expect(await ids(d, { equals: { name: 'Pen' } })).toEqual(['p1'])
    expect(await ids(d, { equals: { 'stock.qty': 5 } })).toEqual(['p2'])
    expect(await ids(d, { equals: { color: null } })).toEqual(['p1'])
    expect(await ids(d, { equals: { price: 9 } })).toEqual([]) // strict: '9' is not 9
    expect(await ids(d, { equals: { _id: 'p3' } })).toEqual(['p3'])
    expect(await ids(d, { in: { name: ['Pen', 'Mug', 'Nope'] } })).toEqual(['p1', 'p3'])
    expect(await ids(d, { in: { name: [] } })).toEqual([])
    expect(await ids(d, { range: { price: { gte: 2, lt: 12 } } })).toEqual(['p1', 'p3'])
    expect(await ids(d, { range: { price: { gt: 2, lte: 12 } } })).toEqual(['p2', 'p3'])
    expect(await ids(d, { range: { name: { gte: 'C', lt: 'N' } } })).toEqual(['p3', 'p4'])
    expect(await ids(d, { range: { 'stock.qty': { gt: 0 } } })).toEqual(['p2', 'p3'])
    expect(await ids(d, { exists: 'color' })).toEqual(['p1', 'p3'])
    expect(await ids(d, { exists: { field: 'stock.qty' } })).toEqual(['p1', 'p2', 'p3'])
    expect(await ids(d, { missing: 'color' })).toEqual(['p2', 'p4'])
    expect(await ids(d, { ids: { values: ['p4', 'p2', 'zz'] } })).toEqual(['p2', 'p4'])
    expect(await ids(d, { and: [{ exists: 'stock' }, { range: { price: { gt: 5 } } }] })).toEqual(['p2', 'p3'])
    expect(await ids(d, { or: [{ equals: { name: 'Cap' } }, { equals: { color: 'red' } }] })).toEqual(['p3', 'p4'])
    expect(await ids(d, { not: { exists: 'stock' } })).toEqual(['p4'])
    expect(await ids(d, { and: [] })).toEqual(['p1', 'p2', 'p3', 'p4'])
    expect(await ids(d, { or: [] })).toEqual([])
    expect(await ids(d, { not: { or: [{ ids: { values: ['p1'] } }, { and: [{ equals: { name: 'Mug' } }] }] } })).toEqual(['p2', 'p4'])
  })

  it('uses spec.filters when spec.query is absent', async () => {
    const d = driver()
    d.seed(I, C, products)
    const page = await d.search(ref, { sort: [], filters: { equals: { name: 'Mug' } } }, { from: 0, size: 10 })
    expect(page.hits.map((h) => h._id)).toEqual(['p3'])
    expect(d.queryKey({ sort: [], filters: { equals: { name: 'Mug' } } })).not.toBe(d.queryKey({ sort: [] }))
  })

  it('accepts a predicate, called with the source, the id and params', async () => {
    const d = driver()
    d.seed(I, C, products)
    const seen: unknown[] = []
    const predicate = (s: Record<string, unknown>, id: string, params?: Record<string, unknown>) => {
      seen.push(params)
      return typeof s.price === 'number' && s.price < (params!.max as number) && id !== 'p1'
    }
    expect(await ids(d, predicate, { max: 10 })).toEqual(['p3'])
    expect(seen[0]).toEqual({ max: 10 })
  })

  it('rejects unknown operators and malformed clauses with unsupported_query naming the clause', async () => {
    const d = driver()
    d.seed(I, C, products)
    const cases: Array<[unknown, string]> = [
      [{ regexp: { name: 'P.*' } }, 'regexp'],
      [{ and: [{ equals: { name: 'Pen' } }, { bogus: 1 }] }, 'bogus'],
      [{ equals: { name: 'Pen' }, in: { name: ['Pen'] } }, '"equals", "in"'],
      [{ equals: { name: { nested: 1 } } }, 'equals'],
      [{ equals: { name: 'Pen', price: 2 } }, 'exactly one field'],
      [{ equals: 'name' }, 'equals'],
      [{ in: { name: 'Pen' } }, '"in"'],
      [{ range: { price: { between: 1 } } }, 'between'],
      [{ range: { price: {} } }, 'range'],
      [{ range: { price: { gt: 1, lt: 'z' } } }, 'range'],
      [{ range: { price: { gt: Number.NaN } } }, 'range'],
      [{ exists: 5 }, 'exists'],
      [{ exists: '' }, 'exists'],
      [{ ids: ['p1'] }, 'ids'],
      [{ and: { equals: { name: 'Pen' } } }, '"and"'],
      [{ not: 'x' }, '"x"'],
      ['name == "Pen"', 'name =='],
      [[{ equals: { name: 'Pen' } }], 'must be an object'],
    ]
    for (const [query, fragment] of cases) {
      const err = await rejection(d.search(ref, q(query), { from: 0, size: 10 }))
      expect(err.code, JSON.stringify(query)).toBe('unsupported_query')
      expect(err.message, JSON.stringify(query)).toContain(fragment)
    }
    expect((await rejection(d.count(I, C, { nope: 1 } as never))).code).toBe('unsupported_query')
  })

  it('queryKey is stable across key order, includes params, ignores sort, and is undefined for predicates', () => {
    const d = driver()
    const a = d.queryKey(q({ and: [{ equals: { a: 1 } }, { range: { b: { gt: 1, lt: 5 } } }] }, 'x', { p: 1, q: 2 }))
    const b = d.queryKey(q({ and: [{ equals: { a: 1 } }, { range: { b: { lt: 5, gt: 1 } } }] }, { y: 'desc' }, { q: 2, p: 1 }))
    expect(typeof a).toBe('string')
    expect(a).toBe(b)
    expect(d.queryKey(q({ and: [{ equals: { a: 1 } }, { range: { b: { gt: 1, lt: 5 } } }] }, 'x', { p: 2, q: 2 }))).not.toBe(a)
    expect(d.queryKey(q({ equals: { a: 1 } }))).not.toBe(d.queryKey(q({ equals: { a: 2 } })))
    expect(d.queryKey(q(() => true))).toBeUndefined()
  })
})

describe('search', () => {
  const docs = [
    { _id: 'a', _source: { group: 'x', n: 3 } },
    { _id: 'b', _source: { group: 'y', n: 1 } },
    { _id: 'c', _source: { group: 'x', n: 5 } },
    { _id: 'd', _source: { group: 'y' } },
    { _id: 'e', _source: { group: 'x', n: 3 } },
    { _id: 'f', _source: { n: 2 } },
  ]
  const page = async (d: MemoryDriver, sort: SortInput | undefined, from = 0, size = 100, query: unknown = {}) => {
    const p = await d.search(ref, q(query, sort), { from, size })
    return { ids: p.hits.map((h) => h._id), total: p.total, p }
  }

  it('sorts with the comparator (missing last, ties by _id), then slices; total counts every match', async () => {
    const d = driver()
    d.seed(I, C, docs)
    expect((await page(d, undefined)).ids).toEqual(['a', 'b', 'c', 'd', 'e', 'f'])
    expect((await page(d, 'n')).ids).toEqual(['b', 'f', 'a', 'e', 'c', 'd'])
    expect((await page(d, { n: 'desc' })).ids).toEqual(['c', 'a', 'e', 'f', 'b', 'd'])
    expect((await page(d, [{ group: 'asc' }, { n: { order: 'desc' } }])).ids).toEqual(['c', 'a', 'e', 'b', 'd', 'f'])
    expect((await page(d, { _id: 'desc' })).ids).toEqual(['f', 'e', 'd', 'c', 'b', 'a'])

    expect(await page(d, 'n', 1, 2).then((r) => [r.ids, r.total])).toEqual([['f', 'a'], 6])
    expect(await page(d, 'n', 5, 10).then((r) => [r.ids, r.total])).toEqual([['d'], 6])
    expect(await page(d, 'n', 50, 10).then((r) => [r.ids, r.total])).toEqual([[], 6])
    expect(await page(d, 'n', 0, 0).then((r) => [r.ids, r.total])).toEqual([[], 6])
    const filtered = await page(d, 'n', 0, 1, { equals: { group: 'x' } })
    expect([filtered.ids, filtered.total]).toEqual([['a'], 3])
    expect(filtered.p.hits[0]).toEqual({ _id: 'a', _source: { group: 'x', n: 3 }, _rev: 1 })
    expect(filtered.p).not.toHaveProperty('after')
  })
})

describe('watches', () => {
  it('calls ready asynchronously and delivers events asynchronously, never inside the write', async () => {
    const d = driver()
    const rec = recorder()
    const w = d.watch(ref, { ids: ['a'] }, rec.sink)
    watches.push(w)
    expect(rec.calls).toEqual([])
    await Promise.resolve()
    expect(rec.calls).toEqual([])
    await waitFor(() => rec.readyCount() === 1)
    expect(rec.calls).toEqual([{ type: 'ready' }])
    const pending = d.create(I, C, { n: 1 }, 'a')
    expect(rec.events()).toEqual([])
    await pending
    expect(rec.events()).toEqual([])
    await waitFor(() => rec.events().length === 1)
    expect(d.watchStats()).toEqual({ 'shop/products': [{ kind: 'ids', ids: 1, live: true, failed: false }] })
  })

  it('an ids watch gets writes on its ids only, and only those made after it opened', async () => {
    const d = driver()
    await d.create(I, C, { n: 0 }, 'before')
    const { rec } = await open(d, { ids: ['a', 'before'] })
    await d.create(I, C, { n: 1 }, 'other')
    await d.create(I, 'elsewhere', { n: 1 }, 'a')
    await d.create(I, C, { n: 2 }, 'a')
    await d.update(I, C, 'before', { n: 3 })
    await waitFor(() => rec.events().length === 2)
    await barrier(d)
    expect(rec.events()).toEqual([
      { id: 'a', kind: 'upsert', doc: { n: 2 }, rev: 4, previousRev: null },
      { id: 'before', kind: 'upsert', doc: { n: 3 }, rev: 5, previousRev: 1 },
    ])
  })

  it('a query watch gets writes on documents matching before or after, with inQuery and matchedBefore', async () => {
    const d = driver()
    d.seed(I, C, [
      { _id: 'in', _source: { price: 5 } },
      { _id: 'out', _source: { price: 50 } },
    ])
    const { rec } = await open(d, { query: q({ range: { price: { lt: 10 } } }, 'price') })
    await d.update(I, C, 'in', { price: 6 }) // stays in
    await d.update(I, C, 'out', { price: 40 }) // stays out: no event
    await d.update(I, C, 'out', { price: 4 }) // enters
    await d.update(I, C, 'in', { price: 60 }) // leaves
    await d.delete(I, C, 'in') // deleted while out: no event
    await d.delete(I, C, 'out') // deleted while in
    await d.create(I, C, { price: 100 }, 'new-out') // created out: no event
    await d.create(I, C, { price: 1 }, 'new-in') // created in
    await waitFor(() => rec.events().length === 5)
    await barrier(d)
    expect(rec.events()).toEqual([
      { id: 'in', kind: 'upsert', doc: { price: 6 }, rev: 3, previousRev: 1, inQuery: true, matchedBefore: true },
      { id: 'out', kind: 'upsert', doc: { price: 4 }, rev: 5, previousRev: 4, inQuery: true, matchedBefore: false },
      { id: 'in', kind: 'upsert', doc: { price: 60 }, rev: 6, previousRev: 3, inQuery: false, matchedBefore: true },
      { id: 'out', kind: 'delete', rev: 8, previousRev: 5, inQuery: false, matchedBefore: true },
      { id: 'new-in', kind: 'upsert', doc: { price: 1 }, rev: 10, previousRev: null, inQuery: true, matchedBefore: false },
    ])
    expect(d.watchStats()['shop/products']).toEqual([{ kind: 'query', ids: 0, live: true, failed: false }])
  })

  it('a query watch with a predicate works the same way', async () => {
    const d = driver()
    const { rec } = await open(d, { query: q((s: { ok?: boolean }) => s.ok === true) })
    await d.create(I, C, { ok: false }, 'a')
    await d.update(I, C, 'a', { ok: true })
    await waitFor(() => rec.events().length === 1)
    expect(rec.events()[0]).toMatchObject({ id: 'a', inQuery: true, rev: 2, previousRev: 1 })
  })

  it('update() swaps the id set once live: new ids get events, removed ids do not', async () => {
    const d = driver()
    const { w, rec } = await open(d, { ids: ['a', 'b'] })
    await w.update({ ids: ['b', 'c'] })
    expect(d.watchStats()['shop/products'][0].ids).toBe(2)
    await d.create(I, C, { v: 1 }, 'a')
    await d.create(I, C, { v: 1 }, 'b')
    await d.create(I, C, { v: 1 }, 'c')
    await waitFor(() => rec.events().length === 2)
    await barrier(d)
    expect(rec.events().map((e) => e.id)).toEqual(['b', 'c'])
    expect(rec.readyCount()).toBe(1)
  })

  it('update(): until the new set is live, writes are seen through the old set', async () => {
    const d = driver()
    const { w, rec } = await open(d, { ids: ['a'] })
    const pending = w.update({ ids: ['c'] })
    await d.create(I, C, {}, 'c') // new id, not live yet: no event
    await d.create(I, C, {}, 'a') // old id, still live: event
    await pending
    await d.update(I, C, 'a', { later: true }) // removed now: no event
    await d.update(I, C, 'c', { later: true }) // live now: event
    await waitFor(() => rec.events().length === 2)
    await barrier(d)
    expect(rec.events().map((e) => [e.id, e.rev])).toEqual([
      ['a', 2],
      ['c', 4],
    ])
  })

  it('update() can switch a query watch to another query', async () => {
    const d = driver()
    const { w, rec } = await open(d, { query: q({ equals: { k: 1 } }) })
    await w.update({ query: q({ equals: { k: 2 } }) })
    await d.create(I, C, { k: 1 }, 'one')
    await d.create(I, C, { k: 2 }, 'two')
    await waitFor(() => rec.events().length === 1)
    await barrier(d)
    expect(rec.events().map((e) => e.id)).toEqual(['two'])
  })

  it('update() rejects a bad spec and keeps the old one', async () => {
    const d = driver({ maxIdsPerWatch: 2 })
    expect(d.maxIdsPerWatch).toBe(2)
    const { w, rec } = await open(d, { ids: ['a'] })
    expect((await rejection(w.update({ ids: ['a', 'b', 'c'] }))).code).toBe('bad_argument')
    expect((await rejection(w.update({ query: q({ nope: 1 }) }))).code).toBe('unsupported_query')
    expect((await rejection(w.update({ ids: [''] }))).code).toBe('bad_argument')
    await d.create(I, C, {}, 'a')
    await waitFor(() => rec.events().length === 1)
  })

  it('reports an invalid watch spec as a fatal sink error, never ready', async () => {
    const d = driver({ maxIdsPerWatch: 2 })
    const bad: Array<[WatchSpec, string]> = [
      [{ ids: ['a', 'b', 'c'] }, 'bad_argument'],
      [{ ids: [''] }, 'bad_argument'],
      [{ query: q({ nope: 1 }) }, 'unsupported_query'],
      [{} as never, 'bad_argument'],
    ]
    const recs = bad.map(([spec]) => {
      const rec = recorder()
      watches.push(d.watch(ref, spec, rec.sink))
      return rec
    })
    await waitFor(() => recs.every((r) => r.errors().length === 1))
    await barrier(d)
    recs.forEach((rec, i) => {
      expect(rec.types()).toEqual(['error'])
      expect(rec.errors()[0].code).toBe(bad[i][1])
      expect(rec.errors()[0].fatal).toBe(true)
    })
    expect(d.activeWatches).toBe(4)
  })

  it('reports a bad collection reference as a fatal sink error; such a watch is not counted', async () => {
    const d = driver()
    const rec = recorder()
    const w = d.watch({ index: '' } as never, { ids: ['a'] }, rec.sink)
    expect(d.activeWatches).toBe(0)
    await waitFor(() => rec.errors().length === 1)
    expect(rec.errors()[0]).toMatchObject({ code: 'bad_argument', fatal: true })
    w.close()
  })

  it('a predicate that throws during a write fails the watch (fatal) and does not fail the write', async () => {
    const d = driver()
    const { rec } = await open(d, {
      query: q((s: { boom?: boolean }) => {
        if (s.boom) throw new Error('kaboom')
        return true
      }),
    })
    await d.create(I, C, { boom: true }, 'x')
    await waitFor(() => rec.errors().length === 1)
    expect(rec.errors()[0]).toMatchObject({ code: 'watch_failed', fatal: true })
    expect(rec.errors()[0].message).toContain('kaboom')
    expect(d.snapshot(I, C)).toHaveLength(1)
  })

  it('close() stops delivery at once, even of events in flight; closing twice is harmless', async () => {
    const d = driver()
    const { w, rec } = await open(d, { ids: ['a'] })
    const { w: w2, rec: control } = await open(d, { ids: ['a'] })
    expect(d.activeWatches).toBe(2)
    await d.create(I, C, {}, 'a') // queued for both
    w.close()
    w.close()
    expect(d.activeWatches).toBe(1)
    await waitFor(() => control.events().length === 1)
    await barrier(d)
    expect(rec.calls).toEqual([{ type: 'ready' }])
    w2.close()
    expect(d.activeWatches).toBe(0)
    expect(d.watchStats()).toEqual({})
  })

  it('a sink that closes its watch from inside a callback gets nothing more, not even a duplicate', async () => {
    const d = driver()
    const { rec: control } = await open(d, { ids: ['a'] })
    const rec = recorder()
    let w: Watch | undefined
    const sink: WatchSink = {
      ...rec.sink,
      event: (e) => {
        rec.sink.event(e)
        w!.close()
      },
    }
    w = d.watch(ref, { ids: ['a'] }, sink)
    await waitFor(() => rec.readyCount() === 1)
    d.faults.duplicate = 1
    await d.create(I, C, {}, 'a')
    await d.update(I, C, 'a', { n: 2 })
    await waitFor(() => control.events().length === 4)
    await barrier(d)
    expect(rec.revs()).toEqual([1])
  })

  it('close() during a pending update() resolves it and delivers nothing more', async () => {
    const d = driver({ latency: 20 })
    const { w, rec } = await open(d, { ids: ['a'] })
    const pending = w.update({ ids: ['a', 'b'] })
    w.close()
    await pending
    await d.create(I, C, {}, 'b')
    await barrier(d)
    expect(rec.calls).toEqual([{ type: 'ready' }])
  })

  it('close() before ready means ready never comes', async () => {
    const d = driver()
    const rec = recorder()
    d.watch(ref, { ids: ['a'] }, rec.sink).close()
    await barrier(d)
    expect(rec.calls).toEqual([])
    expect(d.activeWatches).toBe(0)
  })

  it('latency delays ready, reads and writes', async () => {
    const d = driver({ latency: 30 })
    const t0 = performance.now()
    const rec = recorder()
    watches.push(d.watch(ref, { ids: ['a'] }, rec.sink))
    await waitFor(() => rec.readyCount() === 1)
    expect(performance.now() - t0).toBeGreaterThanOrEqual(28)
    const t1 = performance.now()
    await d.create(I, C, {}, 'a')
    expect(performance.now() - t1).toBeGreaterThanOrEqual(28)
    await waitFor(() => rec.events().length === 1)
    expect(performance.now() - t1).toBeGreaterThanOrEqual(56)
    const t2 = performance.now()
    await d.get(ref, 'a')
    expect(performance.now() - t2).toBeGreaterThanOrEqual(28)
  })
})

describe('faults', () => {
  it('delay postpones events and keeps them in write order', async () => {
    const d = driver({ seed: 3 })
    const { rec } = await open(d, { ids: ['a'] })
    d.faults.delay = 40
    const t0 = performance.now()
    await d.create(I, C, { n: 0 }, 'a')
    await waitFor(() => rec.events().length === 1)
    expect(performance.now() - t0).toBeGreaterThanOrEqual(38)

    d.faults.delay = [0, 30]
    for (let n = 1; n <= 15; n++) await d.update(I, C, 'a', { n })
    await waitFor(() => rec.events().length === 16)
    expect(rec.revs()).toEqual(Array.from({ length: 16 }, (_, i) => i + 1))
  })

  it('reorder: a held event comes right after the next one, or after reorderWindow if none follows', async () => {
    const d = driver()
    const { rec } = await open(d, { ids: ['a'] })
    d.faults.reorder = 1
    d.faults.reorderWindow = 20
    await d.create(I, C, { n: 1 }, 'a')
    await d.update(I, C, 'a', { n: 2 })
    await d.update(I, C, 'a', { n: 3 })
    await waitFor(() => rec.events().length === 3)
    expect(rec.revs()).toEqual([2, 1, 3])
  })

  it('reorder with a probability is reproducible for a seed and loses nothing', async () => {
    const run = async (seed: number) => {
      const d = driver({ seed })
      const { rec } = await open(d, { ids: ['a'] })
      d.faults.reorder = 0.4
      await d.create(I, C, { n: 0 }, 'a')
      for (let n = 1; n < 40; n++) await d.update(I, C, 'a', { n })
      await waitFor(() => rec.events().length === 40)
      return rec.revs()
    }
    const first = await run(11)
    expect([...first].sort((x, y) => Number(x) - Number(y))).toEqual(Array.from({ length: 40 }, (_, i) => i + 1))
    expect(first).not.toEqual([...first].sort((x, y) => Number(x) - Number(y)))
    expect(await run(11)).toEqual(first)
  })

  it('duplicate delivers events twice', async () => {
    const d = driver()
    const { rec } = await open(d, { ids: ['a'] })
    d.faults.duplicate = 1
    await d.create(I, C, { n: 1 }, 'a')
    await d.update(I, C, 'a', { n: 2 })
    await waitFor(() => rec.events().length === 4)
    expect(rec.revs()).toEqual([1, 1, 2, 2])
    expect(rec.events()[0]).toEqual(rec.events()[1])
    expect(rec.events()[0].doc).not.toBe(rec.events()[1].doc)
  })

  it('drop loses events; with a probability it is reproducible for a seed', async () => {
    const d = driver()
    const { rec } = await open(d, { ids: ['a'] })
    d.faults.drop = 1
    await d.create(I, C, { n: 1 }, 'a')
    await d.update(I, C, 'a', { n: 2 })
    d.faults.drop = 0
    await d.update(I, C, 'a', { n: 3 })
    await waitFor(() => rec.events().length >= 1)
    await barrier(d)
    expect(rec.revs()).toEqual([3])

    const run = async () => {
      const d2 = driver({ seed: 99 })
      const { rec: r } = await open(d2, { ids: ['a'] })
      d2.faults.drop = 0.5
      await d2.create(I, C, {}, 'a')
      for (let n = 1; n < 30; n++) await d2.update(I, C, 'a', { n })
      d2.faults.drop = 0
      await d2.update(I, C, 'a', { last: true })
      await waitFor(() => r.events().some((e) => e.rev === 31))
      return r.revs()
    }
    const kept = await run()
    expect(kept.length).toBeGreaterThan(1)
    expect(kept.length).toBeLessThan(31)
    expect(await run()).toEqual(kept)
  })

  it('failReads makes the next N reads reject with read_failed', async () => {
    const d = driver()
    await d.create(I, C, { n: 1 }, 'a')
    d.faults.failReads = 3
    expect((await rejection(d.get(ref, 'a'))).code).toBe('read_failed')
    expect((await rejection(d.mGet(ref, ['a']))).code).toBe('read_failed')
    expect(await d.count(I, C)).toBe(1) // test helper, not a read
    expect((await rejection(d.search(ref, q({}), { from: 0, size: 1 }))).code).toBe('read_failed')
    expect(d.faults.failReads).toBe(0)
    expect((await d.get(ref, 'a'))?._source).toEqual({ n: 1 })
    // A call rejected for a bad argument does not use up a failure.
    d.faults.failReads = 1
    expect((await rejection(d.get(ref, ''))).code).toBe('bad_argument')
    expect(d.faults.failReads).toBe(1)
  })

  it('missEvents resets every watch and discards events in flight', async () => {
    const d = driver()
    const { rec: a } = await open(d, { ids: ['x'] })
    const { rec: b } = await open(d, { query: q({}) })
    d.faults.delay = 30
    await d.create(I, C, { n: 1 }, 'x') // in flight
    d.faults.missEvents()
    await d.update(I, C, 'x', { n: 2 }) // same delay: it would come after the first one
    await waitFor(() => a.events().length === 1 && b.events().length === 1)
    for (const rec of [a, b]) {
      expect(rec.types()).toEqual(['ready', 'reset', 'event'])
      expect(rec.revs()).toEqual([2])
    }
  })

  it('disconnect: offline, every event lost, watches opened meanwhile wait; reconnect: ready not resumed', async () => {
    const d = driver()
    const { rec: a } = await open(d, { ids: ['x'] })
    d.faults.delay = 20
    await d.create(I, C, { n: 1 }, 'x') // in flight, lost
    d.faults.disconnect()
    d.faults.disconnect() // idempotent
    expect(d.faults.disconnected).toBe(true)
    await waitFor(() => a.types().includes('offline'))
    await d.update(I, C, 'x', { n: 2 }) // lost
    const b = recorder()
    watches.push(d.watch(ref, { ids: ['x'] }, b.sink))
    // Nothing can be delivered while disconnected, so the proof is in the final sequences below: the lost events
    // (same delay, hence first in first out) would precede rev 3, and a ready before reconnect would show twice.
    expect((await d.get(ref, 'x'))?._source).toEqual({ n: 2 }) // reads still work

    d.faults.reconnect()
    expect(d.faults.disconnected).toBe(false)
    await d.update(I, C, 'x', { n: 3 })
    await waitFor(() => a.events().length === 1 && b.events().length === 1)
    expect(a.calls.map((c) => (c.type === 'event' ? c.event.rev : c.type))).toEqual(['ready', 'offline', 'ready', 3])
    expect(a.calls[2]).toEqual({ type: 'ready', info: { resumed: false } })
    expect(b.types()).toEqual(['ready', 'event'])
  })

  it('failWatches reports a non-fatal watch_failed and stops delivery; the watch stays open until closed', async () => {
    const d = driver()
    const { w, rec } = await open(d, { ids: ['x'] })
    d.faults.failWatches('boom')
    await waitFor(() => rec.errors().length === 1)
    const err = rec.errors()[0]
    expect(err).toBeInstanceOf(ObservedError)
    expect(err).toMatchObject({ code: 'watch_failed', message: 'boom', fatal: false })
    const { rec: fresh } = await open(d, { ids: ['x'] })
    await d.create(I, C, {}, 'x')
    await waitFor(() => fresh.events().length === 1)
    await barrier(d)
    expect(rec.types()).toEqual(['ready', 'error'])
    expect(d.activeWatches).toBe(2)
    expect(d.watchStats()['shop/products'].map((s) => s.failed)).toEqual([true, false])
    w.close()
    expect(d.activeWatches).toBe(1)

    d.faults.failWatches('fatal one', { fatal: true })
    await waitFor(() => fresh.errors().length === 1)
    expect(fresh.errors()[0]).toMatchObject({ code: 'watch_failed', fatal: true })
  })

  it('failWatchOpens makes the next N watches fail instead of becoming ready', async () => {
    const d = driver()
    d.faults.failWatchOpens = 1
    const rec = recorder()
    watches.push(d.watch(ref, { ids: ['x'] }, rec.sink))
    const { rec: ok } = await open(d, { ids: ['x'] })
    await waitFor(() => rec.errors().length === 1)
    expect(rec.types()).toEqual(['error'])
    expect(rec.errors()[0]).toMatchObject({ code: 'watch_failed', fatal: false })
    expect(ok.types()).toEqual(['ready'])
    expect(d.faults.failWatchOpens).toBe(0)
  })

  it('reset turns every knob off and reconnects', async () => {
    const d = driver()
    const { rec } = await open(d, { ids: ['x'] })
    Object.assign(d.faults, { delay: 100, reorder: 1, duplicate: 1, drop: 1, failReads: 5, failWatchOpens: 5, reorderWindow: 1 })
    d.faults.disconnect()
    d.faults.reset()
    expect(d.faults).toMatchObject({ delay: 0, reorder: 0, duplicate: 0, drop: 0, failReads: 0, failWatchOpens: 0, reorderWindow: 50, disconnected: false })
    await waitFor(() => rec.readyCount() === 2)
    // Not dropped, not duplicated, not held (two writes keep their order).
    await d.create(I, C, {}, 'x')
    await d.update(I, C, 'x', { n: 2 })
    await waitFor(() => rec.events().length === 2)
    await barrier(d)
    expect(rec.revs()).toEqual([1, 2])
    expect(await d.get(ref, 'x')).not.toBeNull()
  })
})
