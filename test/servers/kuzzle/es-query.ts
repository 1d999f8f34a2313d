/**
 * The Elasticsearch query subset the test server evaluates for document:search: match_all, term, terms, match (on a
 * keyword, exact), range, exists, ids, bool (must / filter / should / must_not / minimum_should_match), plus sort
 * and search_after. It follows Elasticsearch's semantics (a clause on an array field matches when one element does;
 * missing values sort last), independently of the driver's own translation, so it can serve as an oracle.
 */
import { errors } from './errors'

/** A stored document as the query sees it. */
export interface Hit {
  readonly _id: string
  readonly _source: Record<string, unknown>
}

/** A compiled query. */
export type Predicate = (hit: Hit) => boolean

/** One compiled sort key. */
export interface SortSpec {
  readonly field: string
  readonly order: 'asc' | 'desc'
}

type Json = Record<string, unknown>

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v)
const isScalar = (v: unknown): v is string | number | boolean =>
  typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean'

/** Reads a dotted path; `_id` reads the id. Arrays along the path are flattened, as Elasticsearch indexes them. */
export function fieldValues(hit: Hit, path: string): unknown[] {
  if (path === '_id') return [hit._id]
  let values: unknown[] = [hit._source]
  for (const part of path.split('.')) {
    const next: unknown[] = []
    for (const v of values) {
      if (!isObject(v) || !Object.hasOwn(v, part)) continue
      const child = v[part]
      if (Array.isArray(child)) next.push(...child)
      else next.push(child)
    }
    values = next
  }
  return values.filter((v) => v !== null && v !== undefined)
}

function singleField(clause: string, arg: unknown): [string, unknown] {
  if (!isObject(arg)) throw errors.invalidQuery(`[${clause}] expects an object`)
  const keys = Object.keys(arg).filter((k) => k !== 'boost' && k !== '_name')
  if (keys.length !== 1) throw errors.invalidQuery(`[${clause}] query doesn't support multiple fields`)
  return [keys[0], arg[keys[0]]]
}

function equal(a: unknown, b: unknown): boolean {
  // Keyword fields compare strings; a number term matches the same number.
  return a === b || (typeof a === 'number' && typeof b === 'string' && String(a) === b)
}

function compileRange(field: string, bounds: unknown): Predicate {
  if (!isObject(bounds)) throw errors.invalidQuery('[range] expects { field: { gt, gte, lt, lte } }')
  const tests: Array<(v: number | string) => boolean> = []
  for (const [op, bound] of Object.entries(bounds)) {
    if (op === 'boost' || op === 'format' || op === 'time_zone') continue
    if (typeof bound !== 'number' && typeof bound !== 'string') throw errors.invalidQuery(`[range] bound ${op} must be a number or a string`)
    if (op === 'gt') tests.push((v) => v > bound)
    else if (op === 'gte') tests.push((v) => v >= bound)
    else if (op === 'lt') tests.push((v) => v < bound)
    else if (op === 'lte') tests.push((v) => v <= bound)
    else throw errors.invalidQuery(`[range] unknown bound [${op}]`)
  }
  return (hit) =>
    fieldValues(hit, field).some((v) => (typeof v === 'number' || typeof v === 'string') && tests.every((t) => t(v)))
}

function asClauses(value: unknown, name: string): unknown[] {
  if (value === undefined) return []
  if (Array.isArray(value)) return value
  if (isObject(value)) return [value]
  throw errors.invalidQuery(`[bool] ${name} must be an object or an array`)
}

function compileBool(arg: unknown): Predicate {
  if (!isObject(arg)) throw errors.invalidQuery('[bool] expects an object')
  for (const key of Object.keys(arg)) {
    if (!['must', 'filter', 'should', 'must_not', 'minimum_should_match', 'boost', '_name'].includes(key)) {
      throw errors.invalidQuery(`[bool] query does not support [${key}]`)
    }
  }
  const must = [...asClauses(arg.must, 'must'), ...asClauses(arg.filter, 'filter')].map(compileQuery)
  const should = asClauses(arg.should, 'should').map(compileQuery)
  const mustNot = asClauses(arg.must_not, 'must_not').map(compileQuery)
  let minimumShould: number
  if (arg.minimum_should_match === undefined) minimumShould = should.length > 0 && must.length === 0 ? 1 : 0
  else if (typeof arg.minimum_should_match === 'number' || /^\d+$/.test(String(arg.minimum_should_match))) {
    minimumShould = Number(arg.minimum_should_match)
  } else throw errors.invalidQuery('[bool] minimum_should_match: only integers are supported by the test server')
  return (hit) =>
    must.every((p) => p(hit)) &&
    !mustNot.some((p) => p(hit)) &&
    (minimumShould === 0 || should.filter((p) => p(hit)).length >= minimumShould)
}

/** Compiles an Elasticsearch query; an unsupported clause is a 400 `services.storage.invalid_query`. */
export function compileQuery(query: unknown): Predicate {
  if (query === undefined || query === null) return () => true
  if (!isObject(query)) throw errors.invalidQuery('A query must be an object')
  const keys = Object.keys(query)
  if (keys.length === 0) return () => true
  if (keys.length !== 1) throw errors.invalidQuery(`A query clause holds exactly one key, got [${keys.join(', ')}]`)
  const clause = keys[0]
  const arg = query[clause]
  switch (clause) {
    case 'match_all':
      return () => true
    case 'term':
    case 'match': {
      const [field, spec] = singleField(clause, arg)
      const value = isObject(spec) ? spec[clause === 'term' ? 'value' : 'query'] : spec
      if (!isScalar(value)) throw errors.invalidQuery(`[${clause}] on [${field}] expects a string, number or boolean`)
      return (hit) => fieldValues(hit, field).some((v) => equal(v, value))
    }
    case 'terms': {
      const [field, values] = singleField(clause, arg)
      if (!Array.isArray(values) || !values.every(isScalar)) throw errors.invalidQuery(`[terms] on [${field}] expects an array of values`)
      return (hit) => fieldValues(hit, field).some((v) => values.some((x) => equal(v, x)))
    }
    case 'range': {
      const [field, bounds] = singleField(clause, arg)
      return compileRange(field, bounds)
    }
    case 'exists': {
      const field = isObject(arg) ? arg.field : undefined
      if (typeof field !== 'string') throw errors.invalidQuery('[exists] expects { field }')
      return (hit) => fieldValues(hit, field).length > 0
    }
    case 'ids': {
      const values = isObject(arg) ? arg.values : undefined
      if (!Array.isArray(values)) throw errors.invalidQuery('[ids] expects { values: [...] }')
      const set = new Set(values.map(String))
      return (hit) => set.has(hit._id)
    }
    case 'bool':
      return compileBool(arg)
    default:
      throw errors.invalidQuery(`The Kuzzle test server does not support the [${clause}] query`)
  }
}

/** Parses an Elasticsearch sort: `'field'`, `{ field: 'desc' }`, `{ field: { order } }`, or an array of those. */
export function compileSort(sort: unknown): SortSpec[] {
  if (sort === undefined || sort === null) return []
  const items = Array.isArray(sort) ? sort : [sort]
  const keys: SortSpec[] = []
  for (const item of items) {
    if (typeof item === 'string') {
      if (item !== '_score') keys.push({ field: item, order: 'asc' })
      continue
    }
    if (!isObject(item)) throw errors.invalidQuery('Invalid sort entry')
    for (const [field, spec] of Object.entries(item)) {
      const order = isObject(spec) ? spec.order : spec
      if (order !== 'asc' && order !== 'desc') throw errors.invalidQuery(`Invalid sort order for [${field}]`)
      if (field !== '_score') keys.push({ field, order })
    }
  }
  return keys
}

function rank(v: unknown): number {
  return typeof v === 'boolean' ? 1 : typeof v === 'number' ? 2 : typeof v === 'string' ? 3 : 4
}

/** Compares sort values; missing values sort last in either direction, as Elasticsearch does. */
export function compareSortValues(a: unknown, b: unknown, order: 'asc' | 'desc'): number {
  const am = a === undefined || a === null
  const bm = b === undefined || b === null
  if (am || bm) return am === bm ? 0 : am ? 1 : -1
  let c = rank(a) - rank(b)
  if (c === 0 && rank(a) < 4) c = (a as number) < (b as number) ? -1 : (a as number) > (b as number) ? 1 : 0
  return order === 'desc' ? -c : c
}

/** The value a hit sorts by on one key (the smallest element of an array ascending, the largest descending). */
export function sortValue(hit: Hit, key: SortSpec): unknown {
  const values = fieldValues(hit, key.field)
  if (values.length <= 1) return values[0]
  return [...values].sort((a, b) => compareSortValues(a, b, key.order))[0]
}

/** Orders hits by the keys, ties broken by `_id` ascending. */
export function sortHits(hits: Hit[], keys: readonly SortSpec[]): Hit[] {
  return [...hits].sort((a, b) => {
    for (const key of keys) {
      const c = compareSortValues(sortValue(a, key), sortValue(b, key), key.order)
      if (c !== 0) return c
    }
    return a._id < b._id ? -1 : a._id > b._id ? 1 : 0
  })
}

/** Keeps the hits strictly after a `search_after` position (values aligned with the sort keys). */
export function searchAfter(hits: Hit[], keys: readonly SortSpec[], after: unknown): Hit[] {
  if (!Array.isArray(after)) throw errors.invalidQuery('search_after must be an array')
  if (after.length !== keys.length) throw errors.invalidQuery('search_after must have as many values as the sort')
  return hits.filter((hit) => {
    for (let i = 0; i < keys.length; i++) {
      const c = compareSortValues(sortValue(hit, keys[i]), after[i], keys[i].order)
      if (c !== 0) return c > 0
    }
    return false
  })
}
