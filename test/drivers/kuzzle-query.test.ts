/**
 * Live searches on Kuzzle: the Elasticsearch → Koncorde translation (each operator, checked against the test
 * server's Elasticsearch evaluation with Koncorde itself), and query watches (appear, leave, delete) over the real
 * SDK.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { Koncorde } from 'koncorde'
import { esToKoncorde, kuzzleDriver } from '../../src/drivers/kuzzle'
import type { Driver, DriverSearchSpec, Watch } from '../../src/core/types'
import { ObservedError } from '../../src/core/types'
import { kuzzleFixture, recordingSink } from '../servers/kuzzle/fixtures'
import type { KuzzleFixture, RecordingSink } from '../servers/kuzzle/fixtures'
import { waitFor } from '../helpers/wait-for'

const ref = { index: 'nyc-open-data', collection: 'yellow-taxi' }
const { index: I, collection: C } = ref

describe('esToKoncorde', () => {
  it.each([
    ['no query', undefined, {}],
    ['match_all', { match_all: {} }, {}],
    ['term', { term: { city: 'NYC' } }, { equals: { city: 'NYC' } }],
    ['term with value', { term: { fare: { value: 3 } } }, { equals: { fare: 3 } }],
    ['term on _id', { term: { _id: 'a' } }, { ids: { values: ['a'] } }],
    ['terms of strings', { terms: { city: ['NYC', 'SF'] } }, { in: { city: ['NYC', 'SF'] } }],
    ['terms of numbers', { terms: { fare: [1, 2] } }, { or: [{ equals: { fare: 1 } }, { equals: { fare: 2 } }] }],
    ['terms on _id', { terms: { _id: ['a', 'b'] } }, { ids: { values: ['a', 'b'] } }],
    ['match on a keyword', { match: { city: 'NYC' } }, { equals: { city: 'NYC' } }],
    ['match with query', { match: { city: { query: 'NYC' } } }, { equals: { city: 'NYC' } }],
    ['range', { range: { fare: { gte: 1, lt: 5 } } }, { range: { fare: { gte: 1, lt: 5 } } }],
    ['exists', { exists: { field: 'driver.name' } }, { exists: 'driver.name' }],
    ['ids', { ids: { values: ['a', 'b'] } }, { ids: { values: ['a', 'b'] } }],
    [
      'bool must/filter/must_not',
      { bool: { must: { term: { city: 'NYC' } }, filter: [{ range: { fare: { gt: 1 } } }], must_not: [{ exists: { field: 'x' } }] } },
      { and: [{ equals: { city: 'NYC' } }, { range: { fare: { gt: 1 } } }, { not: { exists: 'x' } }] },
    ],
    ['bool should alone', { bool: { should: [{ term: { a: 1 } }, { term: { b: 2 } }] } }, { or: [{ equals: { a: 1 } }, { equals: { b: 2 } }] }],
    ['bool should beside must scores only', { bool: { must: { term: { a: 1 } }, should: { term: { b: 2 } } } }, { equals: { a: 1 } }],
    [
      'bool should with minimum_should_match 1',
      { bool: { must: { term: { a: 1 } }, should: [{ term: { b: 2 } }], minimum_should_match: 1 } },
      { and: [{ equals: { a: 1 } }, { equals: { b: 2 } }] },
    ],
    ['empty bool', { bool: {} }, {}],
    ['must_not match_all', { bool: { must_not: { match_all: {} } } }, { not: { exists: '_id' } }],
  ])('%s', (_name, query, expected) => {
    expect(esToKoncorde(query)).toEqual(expected)
  })

  it.each([
    ['wildcard', { wildcard: { city: 'N*' } }],
    ['query_string', { query_string: { query: 'NYC' } }],
    ['prefix inside bool', { bool: { must: [{ term: { a: 1 } }, { prefix: { city: 'N' } }] } }],
    ['match with fuzziness', { match: { city: { query: 'NYC', fuzziness: 2 } } }],
    ['range on dates', { range: { at: { gte: '2024-01-01' } } }],
    ['minimum_should_match 2', { bool: { should: [{ term: { a: 1 } }], minimum_should_match: 2 } }],
  ])('refuses %s, naming it and pointing at `filters`', (name, query) => {
    let error: unknown
    try {
      esToKoncorde(query)
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(ObservedError)
    expect(error).toMatchObject({ code: 'unsupported_query', fatal: true })
    const message = (error as Error).message
    expect(message).toContain('filters')
    const clause = name.split(' ')[0]
    expect(message).toContain(clause === 'range' ? 'non-numeric' : clause === 'minimum_should_match' ? 'minimum_should_match' : clause)
  })

  it('matches the same documents as the Elasticsearch query does (checked with Koncorde)', async () => {
    const fx = await kuzzleFixture()
    try {
      const kuzzle = await fx.client()
      const docs: Array<[string, Record<string, unknown>]> = [
        ['a', { city: 'NYC', fare: 10, driver: { name: 'al' } }],
        ['b', { city: 'NYC', fare: 30 }],
        ['c', { city: 'SF', fare: 20, vip: true }],
        ['d', { city: 'SF', fare: 20, driver: { name: 'bo' } }],
        ['e', { city: 'LA' }],
      ]
      for (const [id, source] of docs) fx.server.documents.create(I, C, id, source)
      const queries: unknown[] = [
        undefined,
        { term: { city: 'NYC' } },
        { terms: { fare: [10, 20] } },
        { terms: { city: ['LA', 'SF'] } },
        { match: { city: 'LA' } },
        { range: { fare: { gt: 10, lte: 20 } } },
        { exists: { field: 'driver.name' } },
        { ids: { values: ['a', 'e'] } },
        { term: { vip: true } },
        { bool: { must: [{ range: { fare: { gte: 10 } } }], must_not: { term: { city: 'SF' } } } },
        { bool: { should: [{ term: { city: 'LA' } }, { term: { fare: 30 } }] } },
        { bool: { filter: { term: { city: 'SF' } }, should: { term: { fare: 99 } } } },
        { bool: { must_not: [{ exists: { field: 'fare' } }] } },
        { bool: { must: { match_all: {} }, must_not: { ids: { values: ['a'] } } } },
      ]
      const koncorde = new Koncorde()
      for (const query of queries) {
        const filter = esToKoncorde(query)
        const id = koncorde.register(filter, 'check')
        const live = docs.filter(([docId, source]) => koncorde.test({ ...source, _id: docId }, 'check').includes(id)).map(([docId]) => docId)
        const searched = (await kuzzle.document.search(I, C, query === undefined ? {} : { query }, { size: 100 })).hits.map((h) => h._id)
        expect({ query, ids: live }).toEqual({ query, ids: searched.sort() })
      }
    } finally {
      await fx.close()
    }
  })
})

describe('query watches', () => {
  let fx: KuzzleFixture
  let driver: Driver
  let watches: Watch[] = []

  beforeAll(async () => {
    fx = await kuzzleFixture()
  })

  afterEach(async () => {
    for (const w of watches) w.close()
    watches = []
    await waitFor(() => fx.server.subscriptionCount() === 0, 2000, { what: 'every subscription released' })
    fx.disconnectClients()
    fx.server.documents.clear()
  })

  afterAll(async () => {
    await fx?.close()
  })

  async function watchQuery(spec: Partial<DriverSearchSpec>): Promise<RecordingSink> {
    driver ??= kuzzleDriver(await fx.client())
    const sink = recordingSink()
    watches.push(driver.watch(ref, { query: { sort: [], ...spec } }, sink))
    await waitFor(() => sink.count('ready') === 1)
    return sink
  }

  afterEach(() => {
    driver = undefined as unknown as Driver
  })

  it('reports documents entering (inQuery true), leaving (inQuery false, with the document) and deleted', async () => {
    const sink = await watchQuery({ query: { bool: { filter: [{ term: { city: 'NYC' } }, { range: { fare: { gte: 10 } } }] } } })
    fx.server.documents.create(I, C, 'cheap', { city: 'NYC', fare: 5 })
    fx.server.documents.create(I, C, 't1', { city: 'NYC', fare: 12 })
    await waitFor(() => sink.events().length === 1)
    expect(sink.events()[0]).toMatchObject({ id: 't1', kind: 'upsert', inQuery: true })
    expect(sink.events()[0].doc).toMatchObject({ city: 'NYC', fare: 12 })

    fx.server.documents.update(I, C, 't1', { city: 'SF' })
    await waitFor(() => sink.events().length === 2)
    expect(sink.events()[1]).toMatchObject({ id: 't1', kind: 'upsert', inQuery: false })
    expect(sink.events()[1].doc).toMatchObject({ city: 'SF' })

    fx.server.documents.update(I, C, 'cheap', { fare: 50 })
    await waitFor(() => sink.events().length === 3)
    expect(sink.events()[2]).toMatchObject({ id: 'cheap', kind: 'upsert', inQuery: true })

    fx.server.documents.delete(I, C, 'cheap')
    fx.server.documents.delete(I, C, 't1') // not in the query any more: no event
    await waitFor(() => sink.events().length === 4)
    expect(sink.events()[3]).toMatchObject({ id: 'cheap', kind: 'delete' })
    expect(typeof sink.events()[3].rev).toBe('number')
  })

  it('uses explicit filters when given, even for an untranslatable query', async () => {
    const sink = await watchQuery({ query: { wildcard: { city: 'N*' } }, filters: { regexp: { city: '^N' } } })
    fx.server.documents.create(I, C, 'n', { city: 'NYC' })
    fx.server.documents.create(I, C, 's', { city: 'SF' })
    await waitFor(() => sink.events().length === 1)
    expect(sink.events()[0]).toMatchObject({ id: 'n', inQuery: true })
  })

  it('throws unsupported_query from watch() (queryKey gives no key) for an untranslatable query without filters', async () => {
    driver = kuzzleDriver(await fx.client())
    const spec: DriverSearchSpec = { query: { wildcard: { city: 'N*' } }, sort: [] }
    expect(driver.queryKey!(spec)).toBeUndefined()
    expect(() => driver.watch(ref, { query: spec }, recordingSink())).toThrow(/wildcard/)
    expect(fx.server.subscriptionCount()).toBe(0)
  })

  it('keys queries by their translated filter', async () => {
    driver = kuzzleDriver(await fx.client())
    const key = (query: unknown) => driver.queryKey!({ query, sort: [] })
    expect(key({ match: { city: 'NYC' } })).toBe(key({ term: { city: 'NYC' } }))
    expect(key({ term: { city: 'NYC' } })).not.toBe(key({ term: { city: 'SF' } }))
    expect(driver.queryKey!({ query: { wildcard: {} }, filters: { equals: { a: 1 } }, sort: [] })).toBe(JSON.stringify({ equals: { a: 1 } }))
  })

  it('update() re-targets a query watch to another query', async () => {
    driver = kuzzleDriver(await fx.client())
    const sink = recordingSink()
    const watch = driver.watch(ref, { query: { query: { term: { city: 'NYC' } }, sort: [] } }, sink)
    watches.push(watch)
    await waitFor(() => sink.count('ready') === 1)
    await watch.update!({ query: { query: { term: { city: 'SF' } }, sort: [] } })
    fx.server.documents.create(I, C, 'n', { city: 'NYC' })
    fx.server.documents.create(I, C, 's', { city: 'SF' })
    await waitFor(() => sink.events().length === 1)
    expect(sink.events()[0].id).toBe('s')
    expect(fx.server.subscriptionCount()).toBe(1)
  })
})
