/**
 * The memory driver's query language: a predicate function, or a JSON filter in Koncorde's style
 * (the realtime filter DSL Kuzzle uses, evaluated by the evaluator shared with the Kuzzle driver), compiled once
 * into a matcher.
 */
import { ObservedError } from '../../core/types'
import type { DocSource } from '../../core/types'
import { compileKoncordeFilter } from '../koncorde-filter'
import type { KoncordeSubsetFilter, Matcher } from '../koncorde-filter'
import { isJsonObject } from './json'

export type { FilterScalar, KoncordeSubsetFilter, Matcher, RangeBounds } from '../koncorde-filter'

/**
 * A JSON filter, Koncorde style (see {@link KoncordeSubsetFilter}): the shared evaluator of
 * `../koncorde-filter.ts`, reading fields as Koncorde does.
 */
export type MemoryFilter = KoncordeSubsetFilter

/**
 * A query as a function: receives the stored source (read-only: it is frozen), the document id, and the search
 * spec's `params`. Predicates cannot be compared, so each function is its own query for pooling.
 */
export type MemoryPredicate = (source: Readonly<DocSource>, id: string, params?: Record<string, unknown>) => boolean

/** What `spec.query` may be with the memory driver. `undefined` / `null` match everything. */
export type MemoryQuery = MemoryFilter | MemoryPredicate

const matchAll: Matcher = () => true

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
  return compileKoncordeFilter(query)
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
