import { ObservedError } from './types'

/** Largest page a search may ask for; bigger pages are a mistake, not a need. */
export const MAX_PAGE_SIZE = 10_000

function bad(message: string): never {
  throw new ObservedError('bad_argument', message)
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value)
  if (value === null || value === undefined) return String(value)
  return typeof value
}

/** An index may be empty (Sanity: the client's dataset); a collection and an id may not. */
export function checkIndex(index: unknown): string {
  if (typeof index !== 'string') bad(`index must be a string, got ${describe(index)}`)
  return index
}

export function checkCollection(collection: unknown): string {
  if (typeof collection !== 'string' || collection === '') bad(`collection must be a non-empty string, got ${describe(collection)}`)
  return collection
}

export function checkId(id: unknown): string {
  if (typeof id !== 'string' || id === '') bad(`document id must be a non-empty string, got ${describe(id)}`)
  if (id.length > 512) bad(`document id is ${id.length} characters long; at most 512 are accepted`)
  return id
}

export function checkIds(ids: unknown): string[] {
  if (!Array.isArray(ids)) bad(`ids must be an array of strings, got ${describe(ids)}`)
  return ids.map(checkId)
}

export function checkSize(size: unknown): number {
  if (size === undefined) return 20
  if (typeof size !== 'number' || !Number.isInteger(size) || size < 1 || size > MAX_PAGE_SIZE) {
    bad(`size must be an integer from 1 to ${MAX_PAGE_SIZE}, got ${describe(size)}${typeof size === 'number' ? ` ${size}` : ''}`)
  }
  return size
}

export function checkLive(live: unknown): 'hits' | 'query' {
  if (live === undefined) return 'hits'
  if (live !== 'hits' && live !== 'query') bad(`live must be 'hits' or 'query', got ${describe(live)}`)
  return live
}

export function checkSpec(spec: unknown): void {
  if (spec !== undefined && (spec === null || typeof spec !== 'object' || Array.isArray(spec))) {
    bad(`search must be an object like { query, sort }, got ${describe(spec)}`)
  }
}

/**
 * A page's `total` when it is a count (a finite, non-negative integer), else undefined: unknown. A server can send
 * anything (`1e309` parses to Infinity); such a total must not keep `hasMore` true for ever.
 */
export function countOf(total: unknown): number | undefined {
  return typeof total === 'number' && Number.isSafeInteger(total) && total >= 0 ? total : undefined
}

/**
 * The total a search shows for a page of `returned` hits out of `asked`, `held` hits shown after it (`gone` of the
 * page's matches known deleted since): a page shorter than asked ends the matches whatever its total says (a
 * hostile total must not make `next()` loop); an unusable total is unknown (`uncounted`: more may exist).
 */
export function counted(total: unknown, returned: number, asked: number, held = returned, gone = 0): { total: number; uncounted: boolean } {
  const count = countOf(total)
  const ended = returned < asked
  return { total: count === undefined || ended ? held : Math.max(count - gone, held), uncounted: count === undefined && !ended }
}
