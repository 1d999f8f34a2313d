import type { SortInput, SortKey } from './types'
import { ObservedError } from './types'

type Dir = 'asc' | 'desc'

function dirOf(value: unknown, field: string): Dir {
  const order = typeof value === 'object' && value !== null ? (value as { order?: unknown }).order : value
  if (order === 'asc' || order === 'desc') return order
  throw new ObservedError('bad_argument', `Sort on "${field}" must be 'asc' or 'desc', got ${JSON.stringify(order)}`)
}

/** Turns any accepted sort form into a list of keys. */
export function normalizeSort(sort: SortInput | undefined): SortKey[] {
  if (sort === undefined || sort === null) return []
  const items = Array.isArray(sort) ? sort : [sort]
  const keys: SortKey[] = []
  for (const item of items) {
    if (typeof item === 'string') {
      if (!item) throw new ObservedError('bad_argument', 'Sort field names must be non-empty strings')
      keys.push({ field: item, order: 'asc' })
    } else if (item && typeof item === 'object') {
      for (const [field, value] of Object.entries(item)) keys.push({ field, order: dirOf(value, field) })
    } else {
      throw new ObservedError('bad_argument', `Unsupported sort entry ${JSON.stringify(item)}`)
    }
  }
  return keys
}

/** Reads a dotted path (`a.b.c`) from a source (`_id` is not in the source: `comparator` handles it). */
export function readPath(source: unknown, path: string): unknown {
  return readParts(source, path.split('.'))
}

function readParts(source: unknown, parts: readonly string[]): unknown {
  let value: unknown = source
  for (const part of parts) {
    if (value === null || typeof value !== 'object' || !Object.hasOwn(value, part)) return undefined
    value = (value as Record<string, unknown>)[part]
  }
  return value
}

function rank(v: unknown): number {
  switch (typeof v) {
    case 'boolean':
      return 1
    case 'number':
      return 2
    case 'string':
      return 3
    default:
      return 4
  }
}

/** Compares two field values; missing values (undefined, null) sort last in either direction, as in Elasticsearch. */
export function compareValues(a: unknown, b: unknown, order: Dir): number {
  const aMissing = a === undefined || a === null
  const bMissing = b === undefined || b === null
  if (aMissing || bMissing) return aMissing === bMissing ? 0 : aMissing ? 1 : -1
  const ra = rank(a)
  const rb = rank(b)
  let c: number
  if (ra !== rb) c = ra - rb
  else if (ra === 4) c = 0
  else c = (a as number) < (b as number) ? -1 : (a as number) > (b as number) ? 1 : 0
  return order === 'desc' ? -c : c
}

/** A comparator over `{ _id, _source }` for the given keys, ties broken by `_id` ascending. */
export function comparator(keys: readonly SortKey[]): (a: { _id: string; _source: unknown }, b: { _id: string; _source: unknown }) => number {
  // Paths split once, not at each comparison: a sort or a window over many documents compares a lot.
  const compiled = keys.map(({ field, order }) => ({ field, order, parts: field.split('.') }))
  return (a, b) => {
    for (const { field, order, parts } of compiled) {
      const c =
        field === '_id'
          ? compareValues(a._id, b._id, order)
          : compareValues(readParts(a._source, parts), readParts(b._source, parts), order)
      if (c !== 0) return c
    }
    return a._id < b._id ? -1 : a._id > b._id ? 1 : 0
  }
}
