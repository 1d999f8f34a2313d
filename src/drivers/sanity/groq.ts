/**
 * GROQ the Sanity driver sends: the search query with its order and slice around a collection's condition (built and
 * checked by `filter-check.ts`), the caller's filter and params as read from a search spec, and stable keys.
 * Parameters the driver adds start with `__`, a prefix callers may not use.
 */
import type { SortKey } from '../../core/types'
import { ObservedError } from '../../core/types'

/** Parameters of a query, as the client sends them (`$name=<JSON>`). */
export type GroqParams = Record<string, unknown>

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/

function unsupported(message: string): ObservedError {
  return new ObservedError('unsupported_query', message, { fatal: true })
}

/** The caller's filter expression (checked later, by `checkedCondition`); undefined when it matches everything. */
export function readFilter(query: unknown): string | undefined {
  if (query === undefined || query === null) return undefined
  if (typeof query !== 'string') {
    throw unsupported(`A Sanity query is a GROQ filter expression string, got ${typeof query}`)
  }
  const filter = query.trim()
  return filter || undefined
}

/** The caller's parameters, validated: GROQ identifiers, none starting with `__`. */
export function readParams(params: GroqParams | undefined): GroqParams {
  if (params === undefined || params === null) return {}
  if (typeof params !== 'object' || Array.isArray(params)) {
    throw new ObservedError('bad_argument', 'Sanity query params must be an object', { fatal: true })
  }
  for (const name of Object.keys(params)) {
    if (!IDENTIFIER.test(name) || name.startsWith('__')) {
      throw new ObservedError('bad_argument', `Invalid GROQ parameter name "${name}" (names starting with "__" are reserved)`, {
        fatal: true,
      })
    }
  }
  return params
}

/** A dotted field path as a GROQ attribute access (`a.b`, or `a["odd-key"]` for keys that are not identifiers). */
export function fieldPath(field: string): string {
  const parts = field.split('.')
  if (parts.some((p) => !p)) throw new ObservedError('bad_argument', `Invalid sort field "${field}"`)
  return parts
    .map((p, i) => (IDENTIFIER.test(p) ? (i === 0 ? p : `.${p}`) : `${i === 0 ? '@' : ''}[${JSON.stringify(p)}]`))
    .join('')
}

/**
 * `order(...)` for normalized sort keys, matching the core's comparator (src/core/sort.ts): a missing or null value
 * sorts last in either direction (GROQ puts null first when descending, hence `defined(f) desc` before each key),
 * and ties are broken by `_id` ascending.
 */
export function orderClause(sort: readonly SortKey[]): string {
  const terms: string[] = []
  for (const { field, order } of sort) {
    if (field === '_id') {
      terms.push(`_id ${order}`)
      break // _id is unique: later keys never apply
    }
    const path = fieldPath(field)
    terms.push(`defined(${path}) desc`, `${path} ${order}`)
  }
  if (!sort.some((k) => k.field === '_id')) terms.push('_id asc')
  return `order(${terms.join(', ')})`
}

/** The search query over a collection's checked condition: one page of hits in order and the total, in one request. */
export function searchQuery(condition: string, sort: readonly SortKey[], from: number, size: number): string {
  if (!Number.isInteger(from) || from < 0 || !Number.isInteger(size) || size < 0) {
    throw new ObservedError('bad_argument', `Invalid page from=${from} size=${size}`)
  }
  const where = `*[${condition}]`
  return `{"hits": ${where} | ${orderClause(sort)} [${from}...${from + size}], "total": count(${where})}`
}

/** JSON with object keys sorted, so that equal parameters give equal keys. */
export function stableJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.keys(v as object).sort().map((k) => [k, (v as Record<string, unknown>)[k]]))
      : v,
  )
}
