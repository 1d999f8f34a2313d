/**
 * `Driver.matcher` (issue 16): each driver's client-side decision of whether a document matches a search must agree
 * with the backend's own search on the same documents (seeded random documents and filters), and must be undefined
 * for what the client cannot decide exactly. The shared Koncorde-subset evaluator is checked against the `koncorde`
 * package itself; Kuzzle and Sanity against their protocol test servers, through the real SDKs over sockets.
 */
import type { SanityClient } from '@sanity/client'
import { Koncorde } from 'koncorde'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { CollectionRef, DocSource, Driver, DriverSearchSpec } from '../../src/core/types'
import { shareAcrossTabs } from '../../src/core/tabs/lazy-shared-driver'
import { compileKoncordeFilter, elasticEquals, elasticRange } from '../../src/drivers/koncorde-filter'
import { kuzzleDriver } from '../../src/drivers/kuzzle'
import { memoryDriver } from '../../src/drivers/memory'
import { mulberry32 } from '../../src/drivers/memory/random'
import { sanityDriver } from '../../src/drivers/sanity'
import { FakeBrowser } from '../helpers/fake-tabs'
import { kuzzleFixture, type KuzzleFixture } from '../servers/kuzzle/fixtures'
import { startSanityServer, type SanityTestServer } from '../servers/sanity'
import { clientFor } from '../servers/sanity/test-client'

type Random = () => number
const pick = <T>(random: Random, items: readonly T[]): T => items[Math.floor(random() * items.length)]
const chance = (random: Random, p: number) => random() < p
const spec = (query: unknown, extra: Partial<DriverSearchSpec> = {}): DriverSearchSpec => ({ query, sort: [], ...extra })

/** Sets a field (possibly to a missing, null or array value) with some randomness. */
function maybe(random: Random, doc: Record<string, unknown>, key: string, value: () => unknown): void {
  const r = random()
  if (r < 0.12) return // missing
  if (r < 0.2) doc[key] = null
  else doc[key] = value()
}

// ---- The shared evaluator against Koncorde itself ------------------------------------------------------------------

/** Documents with every shape Koncorde distinguishes: scalars of each type, null, arrays, nested objects, arrays of objects. */
function koncordeDoc(random: Random): Record<string, unknown> {
  const scalar = () => pick(random, [0, 1, 2, 2.5, -1, 'a', 'b', '1', '', true, false, null])
  const doc: Record<string, unknown> = {}
  maybe(random, doc, 'n', () => (chance(random, 0.2) ? [scalar(), scalar()] : chance(random, 0.7) ? pick(random, [0, 1, 2, 2.5, 7]) : scalar()))
  maybe(random, doc, 's', () => (chance(random, 0.2) ? ['a', 'b'] : chance(random, 0.7) ? pick(random, ['a', 'b', 'ab', '']) : scalar()))
  maybe(random, doc, 'b', () => pick(random, [true, false, 'true', 1]))
  maybe(random, doc, 'o', () => (chance(random, 0.2) ? [{ x: 1 }, { x: 2 }] : chance(random, 0.8) ? { x: scalar(), y: { z: scalar() } } : scalar()))
  maybe(random, doc, 'tags', () => (chance(random, 0.8) ? [scalar(), scalar(), scalar()] : scalar()))
  return doc
}

function koncordeFilter(random: Random, depth = 0): Record<string, unknown> {
  const field = () => pick(random, ['n', 's', 'b', 'o', 'o.x', 'o.y.z', 'tags', 'o.0', 'missing'])
  const r = random()
  if (depth < 3 && r < 0.25) {
    const op = pick(random, ['and', 'or', 'not'])
    if (op === 'not') return { not: koncordeFilter(random, depth + 1) }
    return { [op]: [koncordeFilter(random, depth + 1), koncordeFilter(random, depth + 1)] }
  }
  switch (pick(random, ['equals', 'in', 'range', 'exists', 'missing', 'ids', 'array'])) {
    case 'equals':
      return { equals: { [field()]: pick(random, [0, 1, 2, 2.5, 'a', 'b', '1', '', true, false, null]) } }
    case 'in':
      return { in: { [field()]: [pick(random, ['a', 'b', '1']), pick(random, ['ab', '', 'true'])] } }
    case 'range': {
      const bounds: Record<string, number> = {}
      if (chance(random, 0.7)) bounds[pick(random, ['gt', 'gte'])] = pick(random, [-1, 0, 1, 2])
      if (!Object.keys(bounds).length || chance(random, 0.5)) bounds[pick(random, ['lt', 'lte'])] = pick(random, [1, 2, 2.5, 7])
      return { range: { [field()]: bounds } }
    }
    case 'exists':
    case 'missing':
      return { [chance(random, 0.5) ? 'exists' : 'missing']: chance(random, 0.5) ? field() : { field: field() } }
    case 'ids':
      return { ids: { values: [pick(random, ['d0', 'd1', 'd2']), pick(random, ['d3', 'd4'])] } }
    default:
      return { exists: `${pick(random, ['tags', 'n', 's'])}[${JSON.stringify(pick(random, ['a', 1, true, null, '1']))}]` }
  }
}

describe('the shared Koncorde-subset evaluator', () => {
  it('agrees with the koncorde package on random filters over 60 random documents (seed 1: 300 filters)', () => {
    const random = mulberry32(1)
    const docs = Array.from({ length: 60 }, (_, i) => ({ id: `d${i}`, source: koncordeDoc(random) }))
    const koncorde = new Koncorde()
    let decided = 0
    let refused = 0
    for (let i = 0; i < 300; i++) {
      const filter = koncordeFilter(random)
      let room: string
      try {
        room = koncorde.register(filter)
      } catch {
        refused++ // an empty range (Koncorde refuses lower >= upper): the memory driver matches nothing with it
        continue
      }
      const match = compileKoncordeFilter(filter)
      // Koncorde reads the id as the document's `_id` (its second argument is an index name, not an id).
      for (const { id, source } of docs) {
        expect({ filter, source, matches: match(source, id) }).toEqual({ filter, source, matches: koncorde.test({ ...source, _id: id }).includes(room) })
        decided++
      }
    }
    expect(refused).toBeLessThan(30)
    expect(decided).toBe((300 - refused) * 60)
  })

  it('reads fields as Elasticsearch does when asked: any array element, null absent, objects by their leaves', () => {
    const term = compileKoncordeFilter({ equals: { tags: 'a' } }, 'elasticsearch')
    expect(term({ tags: ['b', 'a'] }, 'x')).toBe(true)
    expect(compileKoncordeFilter({ equals: { tags: 'a' } })({ tags: ['b', 'a'] }, 'x')).toBe(false)
    const exists = compileKoncordeFilter({ exists: 'o' }, 'elasticsearch')
    expect([{ o: null }, { o: [] }, { o: [null] }, { o: {} }, { o: { x: null } }, { o: { x: 0 } }, { o: '' }].map((s) => exists(s, 'x'))).toEqual([
      false, false, false, false, false, true, true,
    ])
    const nested = compileKoncordeFilter({ range: { 'o.x': { gt: 1 } } }, 'elasticsearch')
    expect(nested({ o: [{ x: 1 }, { x: 2 }] }, 'x')).toBe(true)
  })

  it('compares other types as Elasticsearch does when the field is mapped by its values', () => {
    expect(elasticEquals(5, '5')).toBe(true) // numeric field: the term is parsed
    expect(elasticEquals(5, '5.0')).toBe(true)
    expect(elasticEquals('5', 5)).toBe(true) // keyword field: the term's string form
    expect(elasticEquals('5.0', 5)).toBe(false)
    expect(elasticEquals(true, 'true')).toBe(true) // boolean field
    expect(elasticEquals('', 0)).toBe(false)
    expect(elasticEquals(0, '')).toBe(false)
    expect(elasticRange({ gte: 5 })('10')).toBe(false) // keyword: "10" < "5" in byte order
    expect(elasticRange({ gte: 5 })(10)).toBe(true)
    expect(elasticRange({ lt: '\u{1F600}' })('\uFFFD')).toBe(true) // code point order, not UTF-16 units
  })
})

// ---- Memory ---------------------------------------------------------------------------------------------------------

describe('memory', () => {
  const ref: CollectionRef = { index: 'i', collection: 'c' }

  it('decides every filter and predicate exactly as its search does (seed 2: 200 queries, 60 documents)', async () => {
    const random = mulberry32(2)
    const driver = memoryDriver()
    const docs = driver.seed(ref.index, ref.collection, Array.from({ length: 60 }, (_, i) => ({ _id: `d${i}`, _source: koncordeDoc(random) })))
    const queries: Array<{ query: unknown; params?: Record<string, unknown> }> = [
      { query: undefined },
      { query: (s: Readonly<DocSource>, _id: string, p?: Record<string, unknown>) => typeof s.n === 'number' && s.n >= (p?.min as number), params: { min: 1 } },
      { query: (s: Readonly<DocSource>) => Array.isArray(s.tags) && s.tags.includes('a') },
      // The memory driver's own extensions beyond Koncorde: any scalars in `in`, string ranges.
      { query: { in: { n: [1, 2, null] } } },
      { query: { range: { s: { gte: 'a', lt: 'b' } } } },
    ]
    for (let i = 0; i < 195; i++) queries.push({ query: koncordeFilter(random) })
    for (const { query, params } of queries) {
      const s = spec(query, params ? { params } : {})
      const match = driver.matcher(ref, s)
      expect(match).toBeTypeOf('function')
      const searched = (await driver.search(ref, s, { from: 0, size: 1000 })).hits.map((h) => h._id).sort()
      const matched = docs.filter((d) => match!(d._source, d._id)).map((d) => d._id).sort()
      expect({ query, matched }).toEqual({ query, matched: searched })
    }
  })

  it('decides on the content as the store would hold it, and gives undefined for a query the search refuses', () => {
    const driver = memoryDriver()
    const match = driver.matcher(ref, spec({ missing: 'gone' }))!
    expect(match({ gone: undefined }, 'x')).toBe(true) // stored as JSON: an undefined field is absent
    expect(match({ n: 1n } as unknown as DocSource, 'x')).toBe(false) // not storable: matches nothing
    const seen: unknown[] = []
    const predicate = driver.matcher(ref, spec((s: Readonly<DocSource>) => (seen.push(s), true)))!
    const source = { a: { b: 1 } }
    predicate(source, 'x')
    expect(Object.isFrozen(seen[0])).toBe(true)
    expect(seen[0]).not.toBe(source)
    for (const query of [{ geoDistance: { at: { lat: 0, lon: 0 }, distance: '1km' } }, { regexp: { s: { value: 'a.*' } } }, { equals: { a: 1 }, in: { b: [] } }, 'n > 1']) {
      expect(driver.matcher(ref, spec(query))).toBeUndefined()
    }
  })
  it('is kept by tab sharing: each tab decides with its own driver', () => {
    const tab = new FakeBrowser().tab()
    const sharing = shareAcrossTabs(memoryDriver(), true, tab.env)
    try {
      const match = sharing.driver.matcher?.(ref, spec({ equals: { a: 1 } }))
      expect([match?.({ a: 1 }, 'x'), match?.({ a: 2 }, 'x')]).toEqual([true, false])
    } finally {
      sharing.close()
      tab.close()
    }
  })
})

// ---- Kuzzle ---------------------------------------------------------------------------------------------------------

/** Documents as an Elasticsearch mapping allows them: each field holds one type (or arrays of it, or null). */
function kuzzleDoc(random: Random): Record<string, unknown> {
  const doc: Record<string, unknown> = {}
  const num = () => pick(random, [0, 1, 2, 2.5, 3, 10, -4])
  const str = () => pick(random, ['NYC', 'SF', 'LA', 'a b', ''])
  maybe(random, doc, 'fare', () => (chance(random, 0.2) ? [num(), num()] : num()))
  maybe(random, doc, 'city', () => (chance(random, 0.2) ? [str(), str()] : chance(random, 0.1) ? [] : str()))
  maybe(random, doc, 'vip', () => pick(random, [true, false]))
  maybe(random, doc, 'driver', () => (chance(random, 0.2) ? [{ name: str(), age: num() }, { name: str() }] : { name: str(), age: num() }))
  return doc
}

function esQuery(random: Random, depth = 0): Record<string, unknown> {
  const r = random()
  if (depth < 2 && r < 0.3) {
    const clauses = () => Array.from({ length: 1 + Math.floor(random() * 2) }, () => esQuery(random, depth + 1))
    const bool: Record<string, unknown> = {}
    for (const key of ['must', 'filter', 'should', 'must_not']) if (chance(random, 0.4)) bool[key] = clauses()
    if (bool.should && chance(random, 0.3)) bool.minimum_should_match = 1
    return { bool }
  }
  switch (pick(random, ['term', 'term', 'terms', 'match', 'range', 'exists', 'ids', 'match_all'])) {
    case 'term': {
      const [field, value] = pick(random, [
        ['city', pick(random, ['NYC', 'SF', ''])],
        ['fare', pick(random, [2, 2.5, 10])],
        ['vip', pick(random, [true, false])],
        ['driver.name', 'LA'],
        ['driver.age', 3],
        ['_id', 'k1'],
      ] as Array<[string, unknown]>)
      return { term: chance(random, 0.3) ? { [field]: { value } } : { [field]: value } }
    }
    case 'terms':
      return chance(random, 0.5) ? { terms: { city: ['NYC', 'LA'] } } : chance(random, 0.5) ? { terms: { fare: [0, 3] } } : { terms: { _id: ['k2', 'k3'] } }
    case 'match':
      return { match: { city: pick(random, ['SF', 'a b']) } }
    case 'range': {
      const bounds: Record<string, number> = {}
      bounds[pick(random, ['gt', 'gte'])] = pick(random, [0, 2, 2.5])
      if (chance(random, 0.5)) bounds[pick(random, ['lt', 'lte'])] = pick(random, [3, 10])
      return { range: { [pick(random, ['fare', 'driver.age'])]: bounds } }
    }
    case 'exists':
      return { exists: { field: pick(random, ['fare', 'city', 'driver', 'driver.name', 'vip']) } }
    case 'ids':
      return { ids: { values: ['k1', 'k4', 'k9'] } }
    default:
      return { match_all: {} }
  }
}

describe('kuzzle', () => {
  const ref: CollectionRef = { index: 'nyc-open-data', collection: 'yellow-taxi' }
  let fx: KuzzleFixture
  let driver: Driver

  beforeAll(async () => {
    fx = await kuzzleFixture()
    driver = kuzzleDriver(await fx.client())
  })

  afterAll(async () => {
    await fx?.close()
  })

  it('decides every translatable query as the Elasticsearch search does (seed 3: 150 queries, 60 documents)', async () => {
    const random = mulberry32(3)
    const docs = Array.from({ length: 60 }, (_, i) => ({ id: `k${i}`, source: kuzzleDoc(random) }))
    for (const { id, source } of docs) fx.server.documents.create(ref.index, ref.collection, id, source)
    // (match_none, which the test server refuses, translates as `must_not: match_all` does.)
    const queries: unknown[] = [undefined, { bool: { must_not: { match_all: {} } } }]
    while (queries.length < 150) queries.push(esQuery(random))
    for (const query of queries) {
      const match = driver.matcher!(ref, spec(query))
      expect(match, JSON.stringify(query)).toBeTypeOf('function')
      const searched = (await driver.search(ref, spec(query), { from: 0, size: 1000 })).hits.map((h) => h._id).sort()
      const matched = docs.filter((d) => match!(d.source, d.id)).map((d) => d.id).sort()
      expect({ query, matched }).toEqual({ query, matched: searched })
    }
    // Explicit `filters` steer the subscription only: membership is still the query's.
    const filtered = driver.matcher!(ref, spec({ term: { city: 'SF' } }, { filters: { equals: { city: 'NYC' } } }))!
    expect(filtered({ city: 'SF' }, 'x')).toBe(true)
    expect(filtered({ city: 'NYC' }, 'x')).toBe(false)
  })

  it('gives undefined for what the client cannot decide exactly', () => {
    for (const query of [
      { wildcard: { city: 'N*' } },
      { prefix: { city: 'N' } },
      { query_string: { query: 'NYC' } },
      { match: { city: { query: 'NYC', fuzziness: 2 } } },
      { range: { at: { gte: '2024-01-01' } } },
      { geo_distance: { distance: '1km', at: { lat: 0, lon: 0 } } },
      { regexp: { city: 'N.*' } },
      { bool: { must: [{ term: { city: 'NYC' } }, { prefix: { city: 'N' } }] } },
      { range: { '_kuzzle_info.updatedAt': { gte: 0 } } },
      { bool: { must_not: { exists: { field: '_kuzzle_info' } } } },
      { range: { _id: { gte: 1 } } },
    ]) {
      expect(driver.matcher!(ref, spec(query)), JSON.stringify(query)).toBeUndefined()
    }
  })
})

// ---- Sanity ---------------------------------------------------------------------------------------------------------

function sanityDoc(random: Random, i: number): Record<string, unknown> & { _id: string; _type: string } {
  const doc: Record<string, unknown> & { _id: string; _type: string } = {
    _id: chance(random, 0.15) ? `drafts.s${i}` : `s${i}`,
    _type: chance(random, 0.8) ? 'post' : 'author',
  }
  maybe(random, doc, 'title', () => pick(random, ['a', 'b', 'Ab', 'abc', '']))
  maybe(random, doc, 'n', () => pick(random, [0, 1, 2.5, 4, 10, '4']))
  maybe(random, doc, 'flag', () => pick(random, [true, false]))
  maybe(random, doc, 'tags', () => Array.from({ length: Math.floor(random() * 3) }, () => pick(random, ['x', 'y', 'z'])))
  maybe(random, doc, 'author', () => ({ name: pick(random, ['al', 'bo', null]), ref: { _type: 'reference', _ref: pick(random, ['a1', 'a2']) } }))
  return doc
}

const GROQ_FILTERS = [
  'n > 3',
  'n >= $min && n < $max',
  'title == $t',
  'title in ["a", "abc"]',
  'title in $titles',
  '"x" in tags',
  'defined(author.name)',
  '!defined(n)',
  'flag == true || n == 1',
  '!(n > 2)',
  'string::startsWith(title, $prefix)',
  'count(tags) >= 2',
  'tags[0] == "y"',
  'author.name != "bo"',
  'length(title) > 1',
  'lower(title) == "ab"',
  'references($ref)',
  '_id in path("s1*")',
  'coalesce(n, 0) < 1',
  'n == $n // a trailing comment',
  'count(tags[@ != "x"]) > 0',
]

describe('sanity', () => {
  const ref: CollectionRef = { index: '', collection: 'post' }
  let server: SanityTestServer
  let client: SanityClient

  beforeAll(async () => {
    server = await startSanityServer({ retryMs: 20 })
    client = clientFor(server)
  })

  afterAll(async () => {
    await server?.stop()
  })

  it('is undefined for a filter until groq-js is loaded, which a search with a filter does first', async () => {
    const driver = sanityDriver(client)
    // No filter needs no groq-js.
    expect(driver.matcher!(ref, spec(undefined))?.({ _type: 'post' }, 'p')).toBe(true)
    expect(driver.matcher!(ref, spec('n > 1'))).toBeUndefined()
    await driver.search(ref, spec('n > 1'), { from: 0, size: 1 })
    expect(driver.matcher!(ref, spec('n > 1'))?.({ _type: 'post', n: 2 }, 'p')).toBe(true)
  })

  it('decides the condition the search sends (type, drafts, filter, params) as the search does (seed 4: 80 documents)', async () => {
    const random = mulberry32(4)
    const docs = server.documents.load(Array.from({ length: 80 }, (_, i) => sanityDoc(random, i)))
    const params = () => ({
      min: pick(random, [0, 1, 2]),
      max: pick(random, [3, 10]),
      t: pick(random, ['a', 'b']),
      titles: ['abc', 'b'],
      prefix: pick(random, ['a', 'A']),
      ref: pick(random, ['a1', 'a2']),
      n: pick(random, [4, '4']),
    })
    for (const [label, sanity] of [
      ['published', client],
      ['raw', client.withConfig({ perspective: 'raw' })],
    ] as const) {
      const driver = sanityDriver(sanity)
      for (const filter of [undefined, ...GROQ_FILTERS]) {
        for (let round = 0; round < 2; round++) {
          const s = spec(filter, { params: filter && filter.includes('$') ? params() : undefined })
          await driver.search(ref, s, { from: 0, size: 1 }) // loads groq-js, as any search with a filter
          const match = driver.matcher!(ref, s)
          expect(match, `${label}: ${filter}`).toBeTypeOf('function')
          const searched = (await driver.search(ref, s, { from: 0, size: 1000 })).hits.map((h) => h._id).sort()
          const matched = docs
            .filter(({ _id, ...source }) => match!(source as DocSource, _id))
            .map((d) => d._id)
            .sort()
          expect({ label, filter, params: s.params, matched }).toEqual({ label, filter, params: s.params, matched: searched })
        }
      }
    }
  })

  it('gives undefined for what only the server knows, and for perspectives that overlay drafts', async () => {
    const driver = sanityDriver(client)
    await driver.search(ref, spec('n > 1'), { from: 0, size: 1 })
    for (const filter of [
      'author->name == "al"',
      'now() > "2020"',
      'identity() == "me"',
      'sanity::dataset() == "production"',
      '_updatedAt > "2020"',
      '@._rev == "x"',
      'title match "a*"',
      '@[$k] == 1',
      '@ == $doc',
      'count(*[_type == "author"]) > 0',
      'n >',
      'geo::distance(a, b) < 1',
    ]) {
      expect(driver.matcher!(ref, spec(filter, { params: { k: 'title', doc: {} } })), filter).toBeUndefined()
    }
    expect(driver.matcher!(ref, spec(42))).toBeUndefined()
    expect(driver.matcher!(ref, spec('n > 1', { params: { __type: 'x' } }))).toBeUndefined()
    const drafts = sanityDriver(client.withConfig({ perspective: 'drafts' }))
    expect(drafts.matcher!(ref, spec('n > 1'))).toBeUndefined()
  })

  it('places content without a _type in the collection, as a write there stores it', async () => {
    const driver = sanityDriver(client)
    await driver.search(ref, spec('n > 1'), { from: 0, size: 1 })
    const match = driver.matcher!(ref, spec('n > 1'))!
    expect(match({ n: 2 }, 'p')).toBe(true)
    expect(match({ _type: 'author', n: 2 }, 'p')).toBe(false)
    expect(match({ _type: 'post', n: 2 }, 'drafts.p')).toBe(false) // published perspective: drafts are not in a search
  })
})
