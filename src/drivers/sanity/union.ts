/**
 * The union of what a dataset's watches observe, as one listener's request: every watched document `_type`
 * (`*[_type in $__types]`), and whether events must carry the document before the change (live queries need it to
 * tell a document that leaves their filter from one that never matched it).
 *
 * Only types go into the URL, never ids or filters: the URL stays short whatever is observed (Sanity takes at most
 * 16 KB per request), and a new observed document or search of a type already followed changes nothing. The price
 * is events for documents of those types that nobody observes, dropped by the router (README: the figure).
 */
import type { ListenRequest } from './listener'

/** What one listener follows. */
export interface Union {
  /** Sorted, distinct. */
  readonly types: readonly string[]
  readonly previous: boolean
}

/** What one watch needs of the listener. */
export interface Need {
  readonly type: string
  readonly previous: boolean
}

/** The union of some needs. */
export function unionOf(needs: Iterable<Need>): Union {
  const types = new Set<string>()
  let previous = false
  for (const n of needs) {
    types.add(n.type)
    previous ||= n.previous
  }
  return { types: [...types].sort(), previous }
}

/** Whether a listener for `u` serves `need`. */
export function covers(u: Union, need: Need): boolean {
  return u.types.includes(need.type) && (u.previous || !need.previous)
}

/** Whether `a` serves everything `b` does. */
export function includes(a: Union, b: Union): boolean {
  return b.types.every((t) => a.types.includes(t)) && (a.previous || !b.previous)
}

export function sameUnion(a: Union, b: Union): boolean {
  return includes(a, b) && includes(b, a)
}

/** The listen request for a union. */
export function requestOf(u: Union): ListenRequest {
  return { query: '*[_type in $__types]', params: { __types: [...u.types] }, includePreviousRevision: u.previous }
}
