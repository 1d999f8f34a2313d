/**
 * The memory driver's query language: a predicate function, or a JSON filter in Koncorde's style
 * (the realtime filter DSL Kuzzle uses), compiled once into a matcher.
 */
import { readPath } from '../../core/sort'
import { ObservedError } from '../../core/types'
import type { DocSource } from '../../core/types'
import { isJsonObject } from './json'

/** A scalar a filter compares with. */
export type FilterScalar = string | number | boolean | null

/** Bounds of a `range` clause; all given bounds must hold. Bounds are numbers or strings (compared as such). */
export interface RangeBounds {
  gt?: number | string
  gte?: number | string
  lt?: number | string
  lte?: number | string
}

/**
 * A JSON filter, Koncorde style. Field names are dotted paths (`address.city`); `_id` is the document id.
 *
 * - `{}` matches everything.
 * - `{ equals: { field: value } }`: strict equality with a scalar.
 * - `{ in: { field: [values] } }`: equal to one of the values.
 * - `{ range: { field: { gt?, gte?, lt?, lte? } } }`: numbers with numeric bounds, strings with string bounds.
 * - `{ exists: 'field' }` or `{ exists: { field: 'field' } }`: the field is present (even if `null`);
 *   `missing` is its negation.
 * - `{ ids: { values: ['a', 'b'] } }`: the document id is one of these.
 * - `{ and: [...] }`, `{ or: [...] }`, `{ not: filter }`.
 *
 * Each clause has exactly one operator, and `equals` / `in` / `range` exactly one field, as in Koncorde.
 */
export type MemoryFilter =
  | Record<string, never>
  | { equals: Record<string, FilterScalar> }
  | { in: Record<string, FilterScalar[]> }
  | { range: Record<string, RangeBounds> }
  | { exists: string | { field: string } }
  | { missing: string | { field: string } }
  | { ids: { values: string[] } }
  | { and: MemoryFilter[] }
  | { or: MemoryFilter[] }
  | { not: MemoryFilter }

/**
 * A query as a function: receives the stored source (read-only: it is frozen), the document id, and the search
 * spec's `params`. Predicates cannot be compared, so each function is its own query for pooling.
 */
export type MemoryPredicate = (source: Readonly<DocSource>, id: string, params?: Record<string, unknown>) => boolean

/** What `spec.query` may be with the memory driver. `undefined` / `null` match everything. */
export type MemoryQuery = MemoryFilter | MemoryPredicate

/** A compiled query. */
export type Matcher = (source: Readonly<DocSource>, id: string) => boolean

const matchAll: Matcher = () => true

function unsupported(message: string, clause: unknown): ObservedError {
  let text: string
  try {
    text = JSON.stringify(clause) ?? String(clause)
  } catch {
    text = String(clause)
  }
  if (text.length > 200) text = `${text.slice(0, 200)}…`
  return new ObservedError('unsupported_query', `${message} in filter clause ${text}`)
}

function isScalar(v: unknown): v is FilterScalar {
  return v === null || typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v))
}

function fieldReader(field: string): (source: Readonly<DocSource>, id: string) => unknown {
  return field === '_id' ? (_s, id) => id : (s) => readPath(s, field)
}

/** The single `field: argument` entry of an `equals` / `in` / `range` clause. */
function singleField(op: string, arg: unknown, clause: unknown): [string, unknown] {
  if (!isJsonObject(arg)) throw unsupported(`"${op}" expects an object { field: ... }`, clause)
  const keys = Object.keys(arg)
  if (keys.length !== 1) throw unsupported(`"${op}" expects exactly one field, got ${keys.length}`, clause)
  if (!keys[0]) throw unsupported(`"${op}" field name must not be empty`, clause)
  return [keys[0], arg[keys[0]]]
}

function existsField(op: string, arg: unknown, clause: unknown): string {
  const field = isJsonObject(arg) && Object.keys(arg).length === 1 ? arg.field : arg
  if (typeof field !== 'string' || !field) throw unsupported(`"${op}" expects a field name or { field: name }`, clause)
  return field
}

function rangeTest(bounds: unknown, clause: unknown): (v: unknown) => boolean {
  if (!isJsonObject(bounds)) throw unsupported('"range" expects { gt?, gte?, lt?, lte? }', clause)
  const entries = Object.entries(bounds)
  if (!entries.length) throw unsupported('"range" needs at least one bound', clause)
  const tests: Array<(v: number | string) => boolean> = []
  let type: 'number' | 'string' | undefined
  for (const [op, bound] of entries) {
    const t = typeof bound
    if (!((t === 'number' && Number.isFinite(bound)) || t === 'string')) {
      throw unsupported(`"range" bound "${op}" must be a finite number or a string`, clause)
    }
    if (type && t !== type) throw unsupported('"range" bounds must all be numbers or all strings', clause)
    type = t as 'number' | 'string'
    const b = bound as number | string
    if (op === 'gt') tests.push((v) => v > b)
    else if (op === 'gte') tests.push((v) => v >= b)
    else if (op === 'lt') tests.push((v) => v < b)
    else if (op === 'lte') tests.push((v) => v <= b)
    else throw unsupported(`Unknown "range" bound "${op}" (use gt, gte, lt, lte)`, clause)
  }
  return (v) => typeof v === type && tests.every((test) => test(v as number | string))
}

function compileFilter(filter: unknown): Matcher {
  if (!isJsonObject(filter)) throw unsupported('A filter must be an object', filter)
  const ops = Object.keys(filter)
  if (ops.length === 0) return matchAll
  if (ops.length > 1) throw unsupported(`A filter clause takes exactly one operator, got ${ops.map((o) => `"${o}"`).join(', ')}`, filter)
  const op = ops[0]
  const arg = filter[op]
  switch (op) {
    case 'equals': {
      const [field, value] = singleField(op, arg, filter)
      if (!isScalar(value)) throw unsupported('"equals" compares with a string, number, boolean or null', filter)
      const read = fieldReader(field)
      return (s, id) => read(s, id) === value
    }
    case 'in': {
      const [field, values] = singleField(op, arg, filter)
      if (!Array.isArray(values) || !values.every(isScalar)) throw unsupported('"in" expects an array of scalars', filter)
      const set = new Set<unknown>(values)
      const read = fieldReader(field)
      return (s, id) => set.has(read(s, id))
    }
    case 'range': {
      const [field, bounds] = singleField(op, arg, filter)
      const test = rangeTest(bounds, filter)
      const read = fieldReader(field)
      return (s, id) => test(read(s, id))
    }
    case 'exists':
    case 'missing': {
      const field = existsField(op, arg, filter)
      const read = fieldReader(field)
      return op === 'exists' ? (s, id) => read(s, id) !== undefined : (s, id) => read(s, id) === undefined
    }
    case 'ids': {
      const values = isJsonObject(arg) ? arg.values : undefined
      if (!Array.isArray(values) || !values.every((v) => typeof v === 'string')) {
        throw unsupported('"ids" expects { values: [string...] }', filter)
      }
      const set = new Set(values)
      return (_s, id) => set.has(id)
    }
    case 'and':
    case 'or': {
      if (!Array.isArray(arg)) throw unsupported(`"${op}" expects an array of filters`, filter)
      const parts = arg.map(compileFilter)
      return op === 'and' ? (s, id) => parts.every((m) => m(s, id)) : (s, id) => parts.some((m) => m(s, id))
    }
    case 'not': {
      const inner = compileFilter(arg)
      return (s, id) => !inner(s, id)
    }
    default:
      throw unsupported(`Unsupported filter operator "${op}"`, filter)
  }
}

/**
 * Compiles a memory query into a matcher, validating it first: an unknown operator or a malformed clause throws
 * `ObservedError('unsupported_query')` naming the clause.
 */
export function compileQuery(query: unknown, params?: Record<string, unknown>): Matcher {
  if (query === undefined || query === null) return matchAll
  if (typeof query === 'function') {
    const predicate = query as MemoryPredicate
    return (s, id) => {
      try {
        return predicate(s, id, params) === true
      } catch (cause) {
        // Sources are frozen, so a predicate that tries to modify one lands here too.
        throw new ObservedError('bad_argument', `Query predicate threw on document "${id}": ${(cause as Error)?.message ?? String(cause)}`, { cause })
      }
    }
  }
  return compileFilter(query)
}

function stable(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : stable(v))).join(',')}]`
  if (isJsonObject(value)) {
    const keys = Object.keys(value).filter((k) => value[k] !== undefined).sort()
    return `{${keys.map((k) => `${JSON.stringify(k)}:${stable(value[k])}`).join(',')}}`
  }
  return JSON.stringify(value) ?? 'null'
}

/**
 * A stable key for a JSON query and its params (object keys sorted), or `undefined` for a predicate function,
 * which the core then keys by identity. Sort is left out: it does not change which documents match.
 */
export function memoryQueryKey(spec: { query?: unknown; params?: Record<string, unknown>; filters?: unknown }): string | undefined {
  if (typeof spec.query === 'function' || typeof spec.filters === 'function') return undefined
  return stable({ query: spec.query ?? null, params: spec.params ?? null, filters: spec.filters ?? null })
}
