/**
 * JSON handling for the memory store. Stored sources are normalized JSON, deep-frozen so nothing (a predicate,
 * an event in flight) can change them; callers only ever receive mutable deep copies.
 * Keys such as `__proto__` stay own data properties: they are never assigned through the prototype setter.
 */
import { ObservedError } from '../../core/types'
import type { DocSource } from '../../core/types'

/** A normalized, deep-frozen JSON object as the store holds it. */
export type StoredSource = Readonly<DocSource>

/** Whether a value is a JSON object (not null, not an array). */
export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  // Plain assignment of "__proto__" would change the prototype instead of storing the key.
  if (key === '__proto__') Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true })
  else target[key] = value
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key])
  }
  return value
}

/**
 * Normalizes a caller's object to JSON (as a backend would store it: `undefined` dropped, dates as strings...)
 * and freezes it. Rejects what JSON cannot hold (cycles, BigInt) with `bad_argument`.
 */
export function toStored(value: unknown, what: string): StoredSource {
  if (!isJsonObject(value)) {
    throw new ObservedError('bad_argument', `${what} must be a plain object, got ${describe(value)}`)
  }
  let json: unknown
  try {
    // JSON.parse defines "__proto__" as an own property, so the round trip is prototype-safe.
    json = JSON.parse(JSON.stringify(value))
  } catch (cause) {
    throw new ObservedError('bad_argument', `${what} is not JSON-serializable: ${(cause as Error).message}`, { cause })
  }
  if (!isJsonObject(json)) throw new ObservedError('bad_argument', `${what} must serialize to a JSON object`)
  return deepFreeze(json)
}

/** A mutable deep copy of a stored JSON value. */
export function copyJson<T>(value: T): T {
  if (Array.isArray(value)) return value.map(copyJson) as T
  if (isJsonObject(value)) {
    const out: Record<string, unknown> = {}
    for (const key of Object.keys(value)) setOwn(out, key, copyJson(value[key]))
    return out as T
  }
  return value
}

/**
 * Deep merge of a partial update into a stored source, like Kuzzle / Elasticsearch partial updates: nested plain
 * objects are merged, anything else (arrays included) replaces. Returns a new frozen source; untouched branches are
 * shared with the old one, which is safe because both are frozen.
 */
export function mergeStored(target: StoredSource, partial: StoredSource): StoredSource {
  const merge = (base: Readonly<Record<string, unknown>>, patch: Readonly<Record<string, unknown>>) => {
    const out: Record<string, unknown> = {}
    for (const key of Object.keys(base)) setOwn(out, key, base[key])
    for (const key of Object.keys(patch)) {
      const next = patch[key]
      const prev = Object.hasOwn(base, key) ? base[key] : undefined
      setOwn(out, key, isJsonObject(next) && isJsonObject(prev) ? merge(prev, next) : next)
    }
    return Object.freeze(out)
  }
  return merge(target, partial)
}

/** A short description of a value for error messages. */
export function describe(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value)
  if (typeof value === 'object') return 'an object'
  return `${typeof value} ${String(value)}`
}
