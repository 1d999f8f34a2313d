import { applyDiffMatchPatch, DiffMatchPatchError } from './dmp'

/**
 * Patch operations of Sanity's mutate endpoint (set, unset, setIfMissing, inc, dec, insert, diffMatchPatch) over JSON paths such as
 * `a.b`, `list[2]`, `list[-1]` and `list[_key=="k"].title`. Enough of Sanity's path language for tests; anything else
 * is rejected with a `PatchError` (the endpoint answers 400).
 */

/** The patch part of a mutation, as clients send it. */
export interface PatchOperations {
  readonly id?: string
  readonly ifRevisionID?: string
  readonly set?: Record<string, unknown>
  readonly setIfMissing?: Record<string, unknown>
  readonly unset?: readonly string[]
  readonly inc?: Record<string, number>
  readonly dec?: Record<string, number>
  readonly insert?: {
    readonly before?: string
    readonly after?: string
    readonly replace?: string
    readonly items: readonly unknown[]
  }
  /** String fields patched with diff-match-patch patches (text form), see `dmp.ts`. */
  readonly diffMatchPatch?: Record<string, string>
}

/**
 * The keys a patch may hold: its selection (`id`, or `query` and `params`), `ifRevisionID` and the operations this
 * server applies. Anything else is refused by the mutate endpoint rather than dropped.
 */
export const PATCH_KEYS: ReadonlySet<string> = new Set([
  'id', 'query', 'params', 'ifRevisionID', 'set', 'setIfMissing', 'unset', 'inc', 'dec', 'insert', 'diffMatchPatch',
])

/** A patch the server cannot apply (bad path, wrong type). */
export class PatchError extends Error {
  override readonly name = 'PatchError'
}

type Segment = string | number | { readonly key: string }

const FORBIDDEN = new Set(['__proto__', 'constructor', 'prototype'])
const TOKEN = /^(?:\.?([A-Za-z_$][\w$-]*)|\[(-?\d+)\]|\[\s*_key\s*==\s*(?:"((?:[^"\\]|\\.)*)"|'([^']*)')\s*\])/

/** Splits a path into attribute names, array indexes and `_key` selectors. */
export function parsePath(path: string): Segment[] {
  const segments: Segment[] = []
  let rest = path
  while (rest.length > 0) {
    const m = TOKEN.exec(rest)
    if (!m || (segments.length === 0 && rest.startsWith('.'))) throw new PatchError(`Unsupported patch path "${path}"`)
    if (m[1] !== undefined) {
      // Own-property writes only: a path must never reach an object's prototype.
      if (FORBIDDEN.has(m[1])) throw new PatchError(`Forbidden path segment "${m[1]}" in "${path}"`)
      segments.push(m[1])
    } else if (m[2] !== undefined) segments.push(Number(m[2]))
    else segments.push({ key: m[3] !== undefined ? (JSON.parse(`"${m[3]}"`) as string) : m[4] })
    rest = rest.slice(m[0].length)
  }
  if (segments.length === 0) throw new PatchError('Empty patch path')
  return segments
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** Resolves a segment against a container to a concrete own key or index, or undefined when it does not exist. */
function locate(container: unknown, seg: Segment): string | number | undefined {
  if (typeof seg === 'string') return isObject(container) ? seg : undefined
  if (!Array.isArray(container)) return undefined
  if (typeof seg === 'number') {
    const i = seg < 0 ? container.length + seg : seg
    return i >= 0 && i < container.length ? i : undefined
  }
  const i = container.findIndex((item) => isObject(item) && item._key === seg.key)
  return i < 0 ? undefined : i
}

function read(container: unknown, key: string | number): unknown {
  if (typeof key === 'number') return (container as unknown[])[key]
  return Object.hasOwn(container as object, key) ? (container as Record<string, unknown>)[key] : undefined
}

function write(container: unknown, key: string | number, value: unknown): void {
  if (typeof key === 'number') (container as unknown[])[key] = value
  else Object.defineProperty(container, key, { value, enumerable: true, writable: true, configurable: true })
}

/** The value at a full path, or undefined. */
function resolve(doc: Record<string, unknown>, segments: readonly Segment[]): unknown {
  let node: unknown = doc
  for (const seg of segments) {
    const key = locate(node, seg)
    if (key === undefined) return undefined
    node = read(node, key)
  }
  return node
}

/**
 * Walks to the parent of the last segment. With `create`, missing attributes on the way become empty objects
 * (Sanity's `set` does this); otherwise a missing step yields undefined.
 */
function parentOf(doc: Record<string, unknown>, segments: Segment[], create: boolean): unknown {
  let node: unknown = doc
  for (const seg of segments.slice(0, -1)) {
    let key = locate(node, seg)
    if (key === undefined) {
      if (!create || typeof seg !== 'string' || !isObject(node)) return undefined
      key = seg
    }
    let next = read(node, key)
    if (next === undefined && create && typeof key === 'string') {
      next = {}
      write(node, key, next)
    }
    if (typeof next !== 'object' || next === null) return undefined
    node = next
  }
  return node
}

function setAt(doc: Record<string, unknown>, path: string, value: unknown, onlyIfMissing: boolean): void {
  const segments = parsePath(path)
  const parent = parentOf(doc, segments, true)
  if (parent === undefined) return
  const last = segments[segments.length - 1]
  const key = locate(parent, last) ?? (typeof last === 'string' && isObject(parent) ? last : undefined)
  if (key === undefined) return
  if (onlyIfMissing && read(parent, key) !== undefined) return
  write(parent, key, structuredClone(value))
}

function unsetAt(doc: Record<string, unknown>, path: string): void {
  const segments = parsePath(path)
  const parent = parentOf(doc, segments, false)
  const key = parent === undefined ? undefined : locate(parent, segments[segments.length - 1])
  if (key === undefined) return
  if (typeof key === 'number') (parent as unknown[]).splice(key, 1)
  else delete (parent as Record<string, unknown>)[key]
}

function addAt(doc: Record<string, unknown>, path: string, delta: number): void {
  if (typeof delta !== 'number' || !Number.isFinite(delta)) throw new PatchError(`inc/dec on "${path}" needs a number`)
  const segments = parsePath(path)
  const parent = parentOf(doc, segments, false)
  const key = parent === undefined ? undefined : locate(parent, segments[segments.length - 1])
  if (key === undefined) return // Sanity: inc/dec on a missing field does nothing
  const current = read(parent, key)
  if (typeof current !== 'number') throw new PatchError(`Cannot inc/dec non-number at "${path}"`)
  write(parent, key, current + delta)
}

function insertAt(doc: Record<string, unknown>, spec: NonNullable<PatchOperations['insert']>): void {
  const where = spec.before !== undefined ? 'before' : spec.after !== undefined ? 'after' : 'replace'
  const path = spec.before ?? spec.after ?? spec.replace
  if (path === undefined || !Array.isArray(spec.items)) throw new PatchError('insert needs before/after/replace and items')
  const segments = parsePath(path)
  const last = segments[segments.length - 1]
  if (typeof last === 'string') throw new PatchError(`insert path "${path}" must end with an array selector`)
  const arr = resolve(doc, segments.slice(0, -1))
  if (!Array.isArray(arr)) throw new PatchError(`insert path "${path}" does not point into an array`)
  const items = structuredClone(spec.items) as unknown[]
  let index = locate(arr, last) as number | undefined
  if (index === undefined) {
    // Out of range: Sanity clamps `after` of the last and `before` of the first.
    index = typeof last === 'number' && last < 0 ? 0 : arr.length
    arr.splice(where === 'before' && index === 0 ? 0 : arr.length, 0, ...items)
    return
  }
  if (where === 'before') arr.splice(index, 0, ...items)
  else if (where === 'after') arr.splice(index + 1, 0, ...items)
  else arr.splice(index, 1, ...items)
}

function diffMatchPatchAt(doc: Record<string, unknown>, path: string, patch: unknown): void {
  const segments = parsePath(path)
  const parent = parentOf(doc, segments, false)
  const key = parent === undefined ? undefined : locate(parent, segments[segments.length - 1])
  const current = key === undefined ? undefined : read(parent, key)
  if (typeof current !== 'string') throw new PatchError(`diffMatchPatch on "${path}" needs a string value`)
  if (typeof patch !== 'string') throw new PatchError(`diffMatchPatch on "${path}" needs a patch string`)
  try {
    write(parent, key!, applyDiffMatchPatch(current, patch))
  } catch (err) {
    if (err instanceof DiffMatchPatchError) throw new PatchError(`${err.message} (path "${path}")`)
    throw err
  }
}

/**
 * Applies a patch to a copy of `doc` and returns the copy. Order: set, setIfMissing, unset, inc, dec, insert,
 * diffMatchPatch.
 */
export function applyPatch(doc: Record<string, unknown>, patch: PatchOperations): Record<string, unknown> {
  const next = structuredClone(doc)
  for (const [path, value] of Object.entries(patch.set ?? {})) setAt(next, path, value, false)
  for (const [path, value] of Object.entries(patch.setIfMissing ?? {})) setAt(next, path, value, true)
  for (const path of patch.unset ?? []) unsetAt(next, path)
  for (const [path, value] of Object.entries(patch.inc ?? {})) addAt(next, path, value)
  for (const [path, value] of Object.entries(patch.dec ?? {})) addAt(next, path, -value)
  if (patch.insert) insertAt(next, patch.insert)
  for (const [path, value] of Object.entries(patch.diffMatchPatch ?? {})) diffMatchPatchAt(next, path, value)
  return next
}
