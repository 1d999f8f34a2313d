/**
 * The Kuzzle driver's client-side matcher: whether a document's content belongs to a search, decided as the
 * search's Elasticsearch query would decide it (the page is what a search holds, whatever the realtime filter says).
 *
 * The query goes through the same translation as live searches (`es-to-koncorde.ts`), and the translated filter is
 * evaluated by the shared Koncorde-subset evaluator reading fields the way Elasticsearch does (arrays flattened, a
 * clause matching when one value does, `null` absent): Koncorde's own reading would miss `term` on an array field.
 * Exact under the translation's assumption that a field is mapped by its values' type, strings as `keyword` (no
 * analyzer, normalizer or `ignore_above`); anything the translation refuses gives undefined, and so does a query on
 * `_kuzzle_info`, which the server sets on every write, and a `range` on `_id` (Elasticsearch queries `_id` by term
 * only).
 */
import type { DocSource, DriverSearchSpec } from '../../core/types'
import { compileKoncordeFilter, filterFields } from '../koncorde-filter'
import { esToKoncorde } from './es-to-koncorde'

/** The matcher of a search's Elasticsearch query, or undefined when the client cannot decide it exactly. */
export function kuzzleMatcher(spec: DriverSearchSpec): ((source: DocSource, id: string) => boolean) | undefined {
  let match: (source: DocSource, id: string) => boolean
  try {
    // `spec.filters` only steers the realtime subscription: the page, hence membership, is the query's.
    const filter = esToKoncorde(spec.query)
    if (filterFields(filter).some((f) => f === '_kuzzle_info' || f.startsWith('_kuzzle_info.'))) return undefined
    if (rangesOnId(filter)) return undefined
    match = compileKoncordeFilter(filter, 'elasticsearch')
  } catch {
    return undefined
  }
  return (source, id) => match(source, id)
}

/** Whether a (translated) filter holds a `range` on `_id`. */
function rangesOnId(filter: unknown): boolean {
  if (typeof filter !== 'object' || filter === null) return false
  if (Array.isArray(filter)) return filter.some(rangesOnId)
  const f = filter as Record<string, unknown>
  if (typeof f.range === 'object' && f.range !== null && Object.hasOwn(f.range, '_id')) return true
  return rangesOnId(f.and) || rangesOnId(f.or) || rangesOnId(f.not)
}
