/**
 * Sanity document ids (https://www.sanity.io/docs/ids): at most 128 characters of `a-zA-Z0-9._-`; an id is a path of
 * `.`-separated segments, none of which may be empty or start with `-`. So `.` and `..` are not ids: reaching a URL
 * path, they would be read as dot segments and move the request out of the dataset.
 */
import { ObservedError } from '../../core/types'

const SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9_-]*$/

/** Whether Sanity would accept `id` as a document id. */
export function isSanityId(id: unknown): id is string {
  return typeof id === 'string' && id.length <= 128 && id.split('.').every((segment) => SEGMENT.test(segment))
}

/** `id` itself, or a fatal `bad_argument`: an id Sanity refuses names no document, whatever is retried. */
export function checkSanityId(id: unknown): string {
  if (!isSanityId(id)) {
    const shown = typeof id === 'string' ? JSON.stringify(id.length > 140 ? `${id.slice(0, 140)}…` : id) : typeof id
    throw new ObservedError('bad_argument', `Invalid Sanity document id ${shown}: at most 128 characters of a-z, A-Z, 0-9, ".", "_", "-", in "."-separated segments that are not empty and do not start with "-"`, {
      fatal: true,
    })
  }
  return id
}

/**
 * An id as one URL path segment. Valid ids are made of unreserved characters only, so this changes nothing today;
 * it keeps the id one segment should the rules ever admit `/`, `?`, `#` or `%`.
 */
export function idSegment(id: string): string {
  return encodeURIComponent(checkSanityId(id))
}
