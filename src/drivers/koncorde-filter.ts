/**
 * One evaluator of the Koncorde filter subset (the realtime filter DSL Kuzzle uses), shared by the memory driver (its
 * query language) and the Kuzzle driver (deciding in the client whether a document matches a live search). The real
 * `koncorde` package cannot run in a browser (native modules), hence this one.
 *
 * It follows Koncorde 4's semantics wherever Koncorde accepts the filter (checked against the package itself in
 * test/drivers/koncorde-filter.test.ts): `equals` is strict and never matches an array, `exists` holds for a present
 * `null`, a path never goes through an array, `exists: 'tags["a"]'` tests an array for a value. Where Koncorde
 * refuses a filter the memory driver accepts a little more (`in` and `range` on any scalars, string ranges).
 *
 * How a field is read is the one thing a caller chooses ({@link FieldReading}): Koncorde reads one value, while
 * Elasticsearch, whose search decides a Kuzzle page, reads every value at a path (arrays flattened, `null` dropped)
 * and matches a clause when one value does.
 */
import { ObservedError } from '../core/types'
import type { DocSource } from '../core/types'

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
 *   `exists: 'field["value"]'` (a JSON scalar in brackets): the field is an array holding that value.
 *   `missing` is the negation of `exists`.
 * - `{ ids: { values: ['a', 'b'] } }`: the document id is one of these.
 * - `{ and: [...] }`, `{ or: [...] }`, `{ not: filter }`.
 *
 * Each clause has exactly one operator, and `equals` / `in` / `range` exactly one field, as in Koncorde.
 */
export type KoncordeSubsetFilter =
  | Record<string, never>
  | { equals: Record<string, FilterScalar> }
  | { in: Record<string, FilterScalar[]> }
  | { range: Record<string, RangeBounds> }
  | { exists: string | { field: string } }
  | { missing: string | { field: string } }
  | { ids: { values: string[] } }
  | { and: KoncordeSubsetFilter[] }
  | { or: KoncordeSubsetFilter[] }
  | { not: KoncordeSubsetFilter }

/** A compiled filter: whether a document (its source and id) matches. */
export type Matcher = (source: Readonly<DocSource>, id: string) => boolean

/**
 * How a field is read:
 * - `'koncorde'`: the one value at the path, objects only along it (Koncorde; the memory driver);
 * - `'elasticsearch'`: every value at the path, arrays flattened at each step and `null` dropped; a clause holds when
 *   one value satisfies it, and `exists` needs a scalar or an object holding one (Elasticsearch, for a Kuzzle page).
 *   A value of another JSON type than the filter's is compared the way Elasticsearch does when the field is mapped by
 *   its values' type (keyword for strings, numeric, boolean): the filter's value is converted to the field's type
 *   ({@link elasticEquals}, {@link elasticRange}).
 */
export type FieldReading = 'koncorde' | 'elasticsearch'

const matchAll: Matcher = () => true

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

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

type Reader = (source: Readonly<DocSource>, id: string) => readonly unknown[]

/** Koncorde: the value at the path, through plain objects only (`a.0` does not index an array). */
function koncordeValue(source: unknown, parts: readonly string[]): unknown {
  let value = source
  for (const part of parts) {
    if (!isObject(value) || !Object.hasOwn(value, part)) return undefined
    value = value[part]
  }
  return value
}

/** Elasticsearch: every non-null value at the path, arrays flattened at each step (as it indexes them). */
function elasticValues(source: unknown, parts: readonly string[]): unknown[] {
  let values: unknown[] = [source]
  for (const part of parts) {
    const next: unknown[] = []
    for (const v of values) {
      if (!isObject(v) || !Object.hasOwn(v, part)) continue
      const child = v[part]
      if (Array.isArray(child)) next.push(...child.flat(Infinity))
      else next.push(child)
    }
    values = next
  }
  return values.filter((v) => v !== null && v !== undefined)
}

function reader(field: string, reading: FieldReading): Reader {
  if (field === '_id') return (_s, id) => [id]
  const parts = field.split('.')
  if (reading === 'elasticsearch') return (s) => elasticValues(s, parts)
  return (s) => {
    const v = koncordeValue(s, parts)
    return v === undefined ? [] : [v]
  }
}

/** Elasticsearch indexes an object field through its leaves: it "exists" when one of them is a value. */
function hasIndexedValue(v: unknown): boolean {
  if (Array.isArray(v)) return v.some(hasIndexedValue)
  if (isObject(v)) return Object.values(v).some(hasIndexedValue)
  return v !== null && v !== undefined
}

/**
 * Elasticsearch's term equality of a stored value `x` and a query value `v`, the field being mapped by `x`'s type:
 * a keyword field compares `v`'s string form, a numeric field parses a numeric string, a boolean field takes
 * `"true"` / `"false"`.
 */
export function elasticEquals(x: unknown, v: FilterScalar): boolean {
  if (x === v) return true
  if (v === null) return false
  if (typeof x === 'string') return typeof v !== 'string' && String(v) === x
  if (typeof x === 'number') return typeof v === 'string' && v.trim() !== '' && Number(v) === x
  if (typeof x === 'boolean') return v === String(x)
  return false
}

/** Code point order, which is the UTF-8 byte order Lucene compares keywords in (UTF-16 units differ above U+D7FF). */
function compareCodePoints(a: string, b: string): number {
  const x = [...a]
  const y = [...b]
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i].codePointAt(0)! - y[i].codePointAt(0)!
    if (d !== 0) return d
  }
  return x.length - y.length
}

/**
 * Elasticsearch's range test of a stored value, the field being mapped by its type: numbers against numeric bounds
 * (a numeric string bound parsed), strings (keyword) against the bounds' string forms in byte order.
 */
export function elasticRange(bounds: Readonly<RangeBounds>): (x: unknown) => boolean {
  const entries = Object.entries(bounds) as Array<[keyof RangeBounds, number | string]>
  const holds = (c: number, op: keyof RangeBounds) => (op === 'gt' ? c > 0 : op === 'gte' ? c >= 0 : op === 'lt' ? c < 0 : c <= 0)
  return (x) => {
    if (typeof x === 'number') {
      return entries.every(([op, b]) => {
        const n = typeof b === 'number' ? b : b.trim() === '' ? NaN : Number(b)
        return !Number.isNaN(n) && holds(x - n, op)
      })
    }
    if (typeof x === 'string') return entries.every(([op, b]) => holds(compareCodePoints(x, String(b)), op))
    return false
  }
}

/** The single `field: argument` entry of an `equals` / `in` / `range` clause. */
function singleField(op: string, arg: unknown, clause: unknown): [string, unknown] {
  if (!isObject(arg)) throw unsupported(`"${op}" expects an object { field: ... }`, clause)
  const keys = Object.keys(arg)
  if (keys.length !== 1) throw unsupported(`"${op}" expects exactly one field, got ${keys.length}`, clause)
  if (!keys[0]) throw unsupported(`"${op}" field name must not be empty`, clause)
  return [keys[0], arg[keys[0]]]
}

function existsField(op: string, arg: unknown, clause: unknown): string {
  const field = isObject(arg) && Object.keys(arg).length === 1 ? arg.field : arg
  if (typeof field !== 'string' || !field) throw unsupported(`"${op}" expects a field name or { field: name }`, clause)
  return field
}

/** `exists` / `missing` on `field` or, Koncorde's array syntax, `field[<JSON scalar>]`. */
function existsTest(field: string, reading: FieldReading, clause: unknown): Matcher {
  const open = field.indexOf('[')
  if (open < 0 || !field.endsWith(']')) {
    const read = reader(field, reading)
    if (reading === 'koncorde') return (s, id) => read(s, id).length > 0
    return (s, id) => read(s, id).some(hasIndexedValue)
  }
  if (reading === 'elasticsearch') throw unsupported('An array value test "field[value]" has no Elasticsearch reading', clause)
  let value: unknown
  try {
    value = JSON.parse(field.slice(open + 1, -1))
  } catch {
    throw unsupported('"exists" array value test expects a JSON scalar in brackets', clause)
  }
  if (!isScalar(value) || open === 0) throw unsupported('"exists" array value test expects field[<scalar>]', clause)
  const read = reader(field.slice(0, open), reading)
  return (s, id) => read(s, id).some((v) => Array.isArray(v) && v.includes(value))
}

function rangeTest(bounds: unknown, clause: unknown): (v: unknown) => boolean {
  if (!isObject(bounds)) throw unsupported('"range" expects { gt?, gte?, lt?, lte? }', clause)
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

function compile(filter: unknown, reading: FieldReading): Matcher {
  if (!isObject(filter)) throw unsupported('A filter must be an object', filter)
  const ops = Object.keys(filter)
  if (ops.length === 0) return matchAll
  if (ops.length > 1) throw unsupported(`A filter clause takes exactly one operator, got ${ops.map((o) => `"${o}"`).join(', ')}`, filter)
  const op = ops[0]
  const arg = filter[op]
  switch (op) {
    case 'equals': {
      const [field, value] = singleField(op, arg, filter)
      if (!isScalar(value)) throw unsupported('"equals" compares with a string, number, boolean or null', filter)
      const read = reader(field, reading)
      if (reading === 'elasticsearch') return (s, id) => read(s, id).some((v) => elasticEquals(v, value))
      return (s, id) => read(s, id).some((v) => v === value)
    }
    case 'in': {
      const [field, values] = singleField(op, arg, filter)
      if (!Array.isArray(values) || !values.every(isScalar)) throw unsupported('"in" expects an array of scalars', filter)
      const set = new Set<unknown>(values)
      const read = reader(field, reading)
      if (reading === 'elasticsearch') return (s, id) => read(s, id).some((v) => values.some((x) => elasticEquals(v, x)))
      return (s, id) => read(s, id).some((v) => set.has(v))
    }
    case 'range': {
      const [field, bounds] = singleField(op, arg, filter)
      const checked = rangeTest(bounds, filter) // validates the bounds for either reading
      const test = reading === 'elasticsearch' ? elasticRange(bounds as RangeBounds) : checked
      const read = reader(field, reading)
      return (s, id) => read(s, id).some(test)
    }
    case 'exists':
    case 'missing': {
      const test = existsTest(existsField(op, arg, filter), reading, filter)
      return op === 'exists' ? test : (s, id) => !test(s, id)
    }
    case 'ids': {
      const values = isObject(arg) ? arg.values : undefined
      if (!Array.isArray(values) || !values.every((v) => typeof v === 'string')) {
        throw unsupported('"ids" expects { values: [string...] }', filter)
      }
      const set = new Set(values)
      return (_s, id) => set.has(id)
    }
    case 'and':
    case 'or': {
      if (!Array.isArray(arg)) throw unsupported(`"${op}" expects an array of filters`, filter)
      const parts = arg.map((part) => compile(part, reading))
      return op === 'and' ? (s, id) => parts.every((m) => m(s, id)) : (s, id) => parts.some((m) => m(s, id))
    }
    case 'not': {
      const inner = compile(arg, reading)
      return (s, id) => !inner(s, id)
    }
    default:
      throw unsupported(`Unsupported filter operator "${op}"`, filter)
  }
}

/**
 * Compiles a filter of the Koncorde subset, validating it first: an unknown operator (geo*, regexp, select, match,
 * bool...) or a malformed clause throws `ObservedError('unsupported_query')` naming the clause.
 */
export function compileKoncordeFilter(filter: unknown, reading: FieldReading = 'koncorde'): Matcher {
  return compile(filter, reading)
}

/** The dotted field paths a filter reads (`_id` included when it reads the id), for callers that must refuse some. */
export function filterFields(filter: unknown): string[] {
  const fields: string[] = []
  const visit = (f: unknown): void => {
    if (!isObject(f)) return
    for (const [op, arg] of Object.entries(f)) {
      if (op === 'and' || op === 'or') (Array.isArray(arg) ? arg : []).forEach(visit)
      else if (op === 'not') visit(arg)
      else if (op === 'ids') fields.push('_id')
      else if (op === 'exists' || op === 'missing') {
        const field = isObject(arg) ? arg.field : arg
        if (typeof field === 'string') fields.push(field.replace(/\[.*$/s, ''))
      } else if (isObject(arg)) fields.push(...Object.keys(arg))
    }
  }
  visit(filter)
  return fields
}
