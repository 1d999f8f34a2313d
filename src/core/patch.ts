import { ObservedError } from './types'

/** Deeper nesting than this is refused: real documents never need it, and it bounds recursion on hostile input. */
export const MAX_DEPTH = 64

/** Keys that could reach an object's prototype when assigned; they are dropped from incoming documents. */
const UNSAFE_KEY = '__proto__'

/** True for a plain object (`{}` or `Object.create(null)`), the only objects a document holds. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false
  const proto = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

function tooDeep(): never {
  throw new ObservedError('bad_event', `Document nests deeper than ${MAX_DEPTH} levels`)
}

/** Deep-copies JSON data, dropping `__proto__` keys, so nothing outside the document can be written. `freeze`: frozen. */
export function cloneSafe<T>(value: T, depth = 0, freeze = false): T {
  if (depth > MAX_DEPTH) tooDeep()
  if (Array.isArray(value)) {
    const out = value.map((v) => cloneSafe(v, depth + 1, freeze))
    return (freeze ? Object.freeze(out) : out) as T
  }
  if (isPlainObject(value)) {
    if (freeze) {
      // Filled key by key, not spread: V8 keeps a frozen copy of a spread object in a costly form (about 140 B
      // more per object), while freezing one filled key by key costs nothing.
      const out: Record<string, unknown> = {}
      for (const key of Object.keys(value)) if (key !== UNSAFE_KEY) out[key] = cloneSafe(value[key], depth + 1, true)
      return Object.freeze(out) as T
    }
    // A spread makes a compact copy (every field in place; an object filled key by key overflows past four into an
    // extra array), and is faster. It copies what Object.keys lists, plus symbol keys, dropped below as before.
    const out: Record<string | symbol, unknown> = { ...value }
    for (const key of Object.keys(out)) {
      const v = out[key]
      const copy = cloneSafe(v, depth + 1)
      if (copy !== v) out[key] = copy
    }
    // Rare (hostile or odd input): deleting turns the object into a dictionary, which is fine there.
    if (Object.hasOwn(out, UNSAFE_KEY)) delete out[UNSAFE_KEY]
    for (const symbol of Object.getOwnPropertySymbols(out)) delete out[symbol]
    return out as T
  }
  return value
}

/** `cloneSafe`, frozen at every level: a value nobody can change, so it can be handed out and shared. */
export function frozenCopy<T>(value: T, depth = 0): T {
  return cloneSafe(value, depth, true)
}

/**
 * The frozen content that follows `prev` once the document is `next`: fields equal to `prev`'s keep `prev`'s value
 * (unchanged nested objects keep their identity), the others are frozen copies. `changes`: the top-level fields that
 * differ (added, changed or removed); none means `prev` itself is returned.
 */
export function nextSnapshot<T extends Record<string, unknown>>(prev: T | null, next: Record<string, unknown>): { value: T; changes: string[] } {
  if (prev === null) {
    const value = frozenCopy(next) as T
    return { value, changes: Object.keys(value) }
  }
  const changes: string[] = []
  // Filled key by key, as frozen copies are (see cloneSafe).
  const out: Record<string, unknown> = {}
  for (const key of Object.keys(next)) {
    if (key === UNSAFE_KEY) continue
    const v = next[key]
    if (Object.hasOwn(prev, key) && deepEqual(prev[key], v, 1)) out[key] = prev[key]
    else {
      out[key] = frozenCopy(v, 1)
      changes.push(key)
    }
  }
  for (const key of Object.keys(prev)) if (!Object.hasOwn(out, key)) changes.push(key)
  return changes.length === 0 ? { value: prev, changes } : { value: Object.freeze(out) as T, changes }
}

export function deepEqual(a: unknown, b: unknown, depth = 0): boolean {
  if (Object.is(a, b)) return true
  if (depth > MAX_DEPTH) tooDeep()
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false
    for (let i = 0; i < a.length; i++) if (!deepEqual(a[i], b[i], depth + 1)) return false
    return true
  }
  if (isPlainObject(a) && isPlainObject(b)) {
    const ak = Object.keys(a).filter((k) => k !== UNSAFE_KEY)
    const bk = Object.keys(b).filter((k) => k !== UNSAFE_KEY)
    if (ak.length !== bk.length) return false
    for (const k of ak) if (!Object.hasOwn(b, k) || !deepEqual(a[k], b[k], depth + 1)) return false
    return true
  }
  return false
}

function patchObject(target: Record<string, unknown>, next: Record<string, unknown>, depth: number): boolean {
  if (depth > MAX_DEPTH) tooDeep()
  let changed = false
  for (const key of Object.keys(next)) {
    if (key === UNSAFE_KEY) continue
    if (patchKey(target, key, next[key], depth)) changed = true
  }
  for (const key of Object.keys(target)) {
    if (!Object.hasOwn(next, key)) {
      delete target[key]
      changed = true
    }
  }
  return changed
}

function patchKey(target: Record<string, unknown>, key: string, value: unknown, depth: number): boolean {
  if (!Object.hasOwn(target, key)) {
    target[key] = cloneSafe(value, depth + 1)
    return true
  }
  const current = target[key]
  if (isPlainObject(current) && isPlainObject(value)) return patchObject(current, value, depth + 1)
  if (deepEqual(current, value, depth + 1)) return false
  target[key] = cloneSafe(value, depth + 1)
  return true
}

/**
 * Makes `target` equal to `next` in place (replace semantics: keys absent from `next` are removed), writing only
 * what differs, so a reactive `target` triggers only the fields that changed. Nested plain objects are patched in
 * place too; arrays are replaced whole when they differ. Returns the top-level keys that changed.
 */
export function replaceInPlace(target: Record<string, unknown>, next: Record<string, unknown>): string[] {
  const changes: string[] = []
  for (const key of Object.keys(next)) {
    if (key !== UNSAFE_KEY && patchKey(target, key, next[key], 0)) changes.push(key)
  }
  for (const key of Object.keys(target)) {
    if (!Object.hasOwn(next, key)) {
      delete target[key]
      changes.push(key)
    }
  }
  return changes
}
