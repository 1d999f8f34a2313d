/**
 * Translation of an Elasticsearch query (what document:search takes) into a Koncorde filter (what
 * realtime:subscribe takes), for live searches. Only the common subset has an exact counterpart:
 *
 * | Elasticsearch                               | Koncorde                                     |
 * | ------------------------------------------- | -------------------------------------------- |
 * | `match_all: {}`                             | `{}` (everything)                            |
 * | `term: { f: v }`, `match: { f: v }`         | `equals: { f: v }` (`match` on a keyword)    |
 * | `terms: { f: [strings] }`                   | `in: { f: [...] }` (numbers: `or` of equals) |
 * | `term` / `terms` / `ids` on `_id`           | `ids: { values }`                            |
 * | `range: { f: { gt, gte, lt, lte } }`        | `range` (numeric bounds only)                |
 * | `exists: { field: f }`                      | `exists: f`                                  |
 * | `bool: { must, filter, should, must_not }`  | `and` / `or` / `not`                         |
 *
 * Anything else (full-text options, wildcard, prefix, nested, string ranges such as dates...) throws
 * `ObservedError('unsupported_query')`: pass the realtime filter yourself as `filters`. Differences remain, on
 * documents only: Elasticsearch matches `term` / `terms` / `range` on an array field when one element matches
 * (Koncorde's `equals` never matches an array), and its `exists` is false for `null`, `[]` and an object with no
 * value (Koncorde's is true for any present field). The client-side matcher (`matcher.ts`) therefore evaluates the
 * translation reading fields as Elasticsearch does.
 */
import { ObservedError } from '../../core/types'

/** A Koncorde filter. `{}` matches every document. */
export type KoncordeFilter = Record<string, unknown>

type Json = Record<string, unknown>
type Scalar = string | number | boolean

// Internal algebra, simplified before it becomes a Koncorde filter (Koncorde rejects empty and/or/not).
type Node =
  | { readonly t: 'all' }
  | { readonly t: 'none' }
  | { readonly t: 'leaf'; readonly f: KoncordeFilter }
  | { readonly t: 'and' | 'or'; readonly parts: readonly Node[] }
  | { readonly t: 'not'; readonly part: Node }

const ALL: Node = { t: 'all' }
const NONE: Node = { t: 'none' }

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v)
const isScalar = (v: unknown): v is Scalar =>
  typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v)) || typeof v === 'boolean'

function unsupported(what: string, clause: unknown): ObservedError {
  let shown: string
  try {
    shown = JSON.stringify(clause)
  } catch {
    shown = String(clause)
  }
  if (shown && shown.length > 200) shown = `${shown.slice(0, 200)}…`
  return new ObservedError(
    'unsupported_query',
    `Cannot follow this search live: ${what} (in ${shown}) has no Koncorde equivalent. ` +
      'Pass the realtime filter explicitly with the `filters` option (Koncorde DSL), or use live: \'hits\'.',
    { fatal: true },
  )
}

const leaf = (f: KoncordeFilter): Node => ({ t: 'leaf', f })

function and(parts: Node[]): Node {
  const kept: Node[] = []
  for (const p of parts) {
    if (p.t === 'none') return NONE
    if (p.t === 'all') continue
    if (p.t === 'and') kept.push(...p.parts)
    else kept.push(p)
  }
  return kept.length === 0 ? ALL : kept.length === 1 ? kept[0] : { t: 'and', parts: kept }
}

function or(parts: Node[]): Node {
  const kept: Node[] = []
  for (const p of parts) {
    if (p.t === 'all') return ALL
    if (p.t === 'none') continue
    if (p.t === 'or') kept.push(...p.parts)
    else kept.push(p)
  }
  return kept.length === 0 ? NONE : kept.length === 1 ? kept[0] : { t: 'or', parts: kept }
}

function not(part: Node): Node {
  if (part.t === 'all') return NONE
  if (part.t === 'none') return ALL
  if (part.t === 'not') return part.part
  return { t: 'not', part }
}

/** The one `field: value` pair of a term-like clause (`boost` and `_name` are scoring and naming only). */
function singleField(name: string, arg: unknown, clause: unknown): [string, unknown] {
  if (!isObject(arg)) throw unsupported(`"${name}" without a { field: value } object`, clause)
  const keys = Object.keys(arg).filter((k) => k !== 'boost' && k !== '_name')
  if (keys.length !== 1 || !keys[0]) throw unsupported(`"${name}" on ${keys.length} fields`, clause)
  return [keys[0], arg[keys[0]]]
}

function equalsNode(field: string, value: Scalar): Node {
  return field === '_id' ? leaf({ ids: { values: [String(value)] } }) : leaf({ equals: { [field]: value } })
}

function termLike(name: 'term' | 'match', arg: unknown, clause: unknown): Node {
  const [field, spec] = singleField(name, arg, clause)
  let value: unknown = spec
  if (isObject(spec)) {
    const valueKey = name === 'term' ? 'value' : 'query'
    const extra = Object.keys(spec).filter((k) => k !== valueKey && k !== 'boost' && k !== '_name')
    // match options such as operator, fuzziness or analyzer change matching: no exact equivalent.
    if (extra.length > 0) throw unsupported(`"${name}" option "${extra[0]}"`, clause)
    value = spec[valueKey]
  }
  if (!isScalar(value)) throw unsupported(`"${name}" on "${field}" with a non-scalar value`, clause)
  return equalsNode(field, value)
}

function terms(arg: unknown, clause: unknown): Node {
  const [field, values] = singleField('terms', arg, clause)
  if (!Array.isArray(values) || !values.every(isScalar)) {
    throw unsupported(`"terms" on "${field}" without an array of values (terms lookup)`, clause)
  }
  if (values.length === 0) return NONE
  if (field === '_id') return leaf({ ids: { values: values.map(String) } })
  // Koncorde's `in` takes strings only.
  if (values.every((v) => typeof v === 'string')) return leaf({ in: { [field]: values } })
  return or(values.map((v) => equalsNode(field, v)))
}

function range(arg: unknown, clause: unknown): Node {
  const [field, bounds] = singleField('range', arg, clause)
  if (!isObject(bounds)) throw unsupported(`"range" on "${field}" without bounds`, clause)
  const out: Json = {}
  for (const [op, bound] of Object.entries(bounds)) {
    if (op === 'boost') continue
    if (op !== 'gt' && op !== 'gte' && op !== 'lt' && op !== 'lte') throw unsupported(`"range" option "${op}"`, clause)
    if (typeof bound !== 'number' || !Number.isFinite(bound)) {
      throw unsupported(`"range" on "${field}" with a non-numeric bound (Koncorde ranges are numeric)`, clause)
    }
    out[op] = bound
  }
  if (Object.keys(out).length === 0) throw unsupported(`"range" on "${field}" without bounds`, clause)
  return leaf({ range: { [field]: out } })
}

function clauses(value: unknown, name: string, clause: unknown): unknown[] {
  if (value === undefined) return []
  if (Array.isArray(value)) return value
  if (isObject(value)) return [value]
  throw unsupported(`"bool.${name}" that is neither an object nor an array`, clause)
}

function bool(arg: unknown, clause: unknown): Node {
  if (!isObject(arg)) throw unsupported('"bool" without an object', clause)
  for (const key of Object.keys(arg)) {
    if (!['must', 'filter', 'should', 'must_not', 'minimum_should_match', 'boost', '_name'].includes(key)) {
      throw unsupported(`"bool.${key}"`, clause)
    }
  }
  const required = [...clauses(arg.must, 'must', clause), ...clauses(arg.filter, 'filter', clause)].map(toNode)
  const should = clauses(arg.should, 'should', clause).map(toNode)
  const excluded = clauses(arg.must_not, 'must_not', clause).map(toNode)
  // Elasticsearch: with must/filter present, should only scores unless minimum_should_match says otherwise.
  let minimum = required.length === 0 && should.length > 0 ? 1 : 0
  if (arg.minimum_should_match !== undefined) {
    const m = arg.minimum_should_match
    if (m === 0 || m === '0') minimum = 0
    else if (m === 1 || m === '1') minimum = 1
    else throw unsupported(`"minimum_should_match" of ${JSON.stringify(m)} (only 0 and 1 translate)`, clause)
  }
  const parts = [...required, ...excluded.map(not)]
  if (minimum === 1) parts.push(or(should))
  return and(parts)
}

function toNode(clause: unknown): Node {
  if (!isObject(clause)) throw unsupported('a clause that is not an object', clause)
  const keys = Object.keys(clause)
  if (keys.length === 0) return ALL
  if (keys.length !== 1) throw unsupported(`a clause with ${keys.length} keys (${keys.join(', ')})`, clause)
  const name = keys[0]
  const arg = clause[name]
  switch (name) {
    case 'match_all':
      return ALL
    case 'match_none':
      return NONE
    case 'term':
    case 'match':
      return termLike(name, arg, clause)
    case 'terms':
      return terms(arg, clause)
    case 'range':
      return range(arg, clause)
    case 'exists': {
      const field = isObject(arg) ? arg.field : undefined
      if (typeof field !== 'string' || !field) throw unsupported('"exists" without a field', clause)
      return leaf({ exists: field })
    }
    case 'ids': {
      const values = isObject(arg) ? arg.values : undefined
      if (!Array.isArray(values) || !values.every((v) => typeof v === 'string')) throw unsupported('"ids" without string values', clause)
      return values.length === 0 ? NONE : leaf({ ids: { values } })
    }
    case 'bool':
      return bool(arg, clause)
    default:
      throw unsupported(`the "${name}" clause`, clause)
  }
}

function toFilter(node: Node): KoncordeFilter {
  switch (node.t) {
    case 'all':
      return {}
    // Every notified document has an _id, so this never matches; Koncorde has no literal "false".
    case 'none':
      return { not: { exists: '_id' } }
    case 'leaf':
      return node.f
    case 'and':
      return { and: node.parts.map(toFilter) }
    case 'or':
      return { or: node.parts.map(toFilter) }
    case 'not':
      return { not: toFilter(node.part) }
  }
}

/**
 * Translates an Elasticsearch query (`undefined` = match all) into an equivalent Koncorde filter.
 * @throws ObservedError `unsupported_query` (fatal) naming the first clause with no Koncorde equivalent.
 */
export function esToKoncorde(query: unknown): KoncordeFilter {
  if (query === undefined || query === null) return {}
  return toFilter(toNode(query))
}
