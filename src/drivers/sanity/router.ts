/**
 * Routing of one listener's mutation events to the watches of its dataset: to id watches by `documentId`, to live
 * queries by evaluating each query's filter (client-side, with groq-js) on the document before and after the change.
 * A watch hears exactly what a listener of its own would have sent: an event whose document matched its filter
 * before or after the change, with the transition that follows (appear, update, disappear).
 */
import type { DocEvent, DocSource } from '../../core/types'
import { ObservedError } from '../../core/types'
import { mismatch, type Expected } from './expected'
import type { Need } from './union'

/** What one watch follows, as the router sees it. */
export interface Route {
  /**
   * `ids`: a document leaving the filter left the collection (its `_type` changed) and is reported as deleted.
   * `query`: it is reported with `inQuery: false`.
   */
  readonly kind: 'ids' | 'query'
  readonly need: Need
  readonly expected: Expected
  /** The watch's own listener filter, on one document. */
  matches(doc: Record<string, unknown>): boolean
}

/** A document as Sanity returns it, split into the driver contract's shape (`_id` out, everything else kept). */
export function toSource(raw: Record<string, unknown>): DocSource {
  const { _id, ...source } = raw
  void _id
  return source
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** A document of an event (`result`, `previous`): the object when it is one of `id`, null when none, undefined when unknown. */
function documentOf(raw: unknown, id: string): Record<string, unknown> | null | undefined {
  if (raw === null) return null
  if (raw === undefined || !isObject(raw) || raw._id !== id) return undefined
  return raw
}

/**
 * Why an event was not asked for by a listener of `types` (neither its document before nor after the change is of
 * one of them, though the transition says it matched), or undefined.
 */
export function foreign(e: Record<string, unknown>, types: readonly string[]): string | undefined {
  const result = e.result
  if (!isObject(result) || e.transition === 'disappear') return undefined
  if (typeof result._type === 'string' && types.includes(result._type)) return undefined
  const shown = (v: unknown) => {
    const text = JSON.stringify(v) ?? String(v)
    return text.length > 100 ? `${text.slice(0, 100)}…` : text
  }
  return `${shown(result._id)} has _type ${shown(result._type)}, not one of ${shown(types)}`
}

/**
 * The event as one watch hears it: a DocEvent, null when it is not for this watch (or malformed), a `bad_event` error
 * when the document is not one the watch asked for.
 */
export function routeEvent(e: Record<string, unknown>, route: Route, ids?: ReadonlySet<string>): DocEvent | ObservedError | null {
  const id = e.documentId
  if (typeof id !== 'string' || !id) return null
  if (ids && !ids.has(id)) return null
  const result = documentOf(e.result, id)
  // A result that is not the document named is malformed: dropped.
  if (e.result !== undefined && result === undefined) return null
  const after = result ? route.matches(result) : false
  const previous = documentOf(e.previous, id)
  // The document before the change, when the listener sent it; unknown, an id watch assumes it matched (its ids
  // are explicit), a query assumes so only when there was a previous revision and the document does not match now.
  const before =
    previous === undefined ? (route.kind === 'ids' ? true : !after && typeof e.previousRev === 'string') : previous !== null && route.matches(previous)
  if (!before && !after) return null
  // Only a `previous` the listener sent says whether the document matched before (`transition` is per listener, and
  // one listener serves every route of a dataset).
  const beforeKnown = previous === undefined ? {} : { matchedBefore: before }
  const revs =
    typeof e.resultRev === 'string' && e.resultRev
      ? { rev: e.resultRev, previousRev: typeof e.previousRev === 'string' && e.previousRev ? e.previousRev : null }
      : {}
  if (!result || (!after && (route.kind === 'ids' || result._type !== route.expected.type))) {
    const refused = mismatch({ _id: id, _type: route.expected.type }, route.expected)
    return refused ? new ObservedError('bad_event', `Sanity listener sent an event it was not asked for: ${refused}`) : { id, kind: 'delete', ...revs }
  }
  const refused = mismatch(result, route.expected)
  if (refused) return new ObservedError('bad_event', `Sanity listener sent an event it was not asked for: ${refused}`)
  return { id, kind: 'upsert', doc: toSource(result), ...revs, ...(route.kind === 'query' ? { inQuery: after, ...beforeKnown } : {}) }
}
