/**
 * Server rendering that hydrates: what the server read (`client.read`, `client.readSearch`) is recorded and handed
 * over as a versioned payload (`client.dehydrate()`); the browser's client takes it back (`hydrate` or the
 * `initialState` option) and shows it until its own reads, made after the watch is up, confirm or replace it.
 * Keys are derived from what is observed (driver, index, collection, id; or the normalised search), so the same
 * component tree finds the same keys on both sides; nobody chooses them.
 */
import { cloneSafe, frozenCopy, isPlainObject } from './patch'
import { stableKey } from './query-pool'
import type { CollectionRef, Doc, DocSource, DriverSearchSpec, Rev } from './types'

/** A document the server read: its content (null: missing), revision and when it was known as of (ms since epoch). */
export interface DehydratedDoc {
  driver: string
  index: string
  collection: string
  id: string
  source: DocSource | null
  rev?: Rev
  at: number
}

/** A search the server read: its derived key, the ids of its hits in order, its total and window size. */
export interface DehydratedSearch {
  key: string
  ids: string[]
  total: number
  size: number
  at: number
}

/** What `client.dehydrate()` returns: serialise it with `serializeState` (devalue), not JSON, to inline in HTML. */
export interface DehydratedState {
  v: 1
  docs: DehydratedDoc[]
  searches: DehydratedSearch[]
}

/** Bounds on untrusted payloads: far above any page, far below what could exhaust memory. */
const MAX_DOCS = 10_000
const MAX_SEARCHES = 1_000
const MAX_IDS = 10_000

/** The key of one document, from what is observed. */
export function docKey(driver: string, ref: CollectionRef, id: string): string {
  return JSON.stringify([driver, ref.index, ref.collection, id])
}

/**
 * The key of a search, from what is observed: driver, collection, normalised query, params, filters and sort, and
 * the window size. Undefined when the query holds a function (a memory predicate), which cannot be carried over.
 */
export function searchKey(driver: string, ref: CollectionRef, spec: DriverSearchSpec, size: number): string | undefined {
  return stableKey([driver, ref.index, ref.collection, spec.query ?? null, spec.params ?? null, spec.filters ?? null, spec.sort, size])
}

const isStr = (v: unknown): v is string => typeof v === 'string'
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0
const isRev = (v: unknown): v is Rev | undefined => v === undefined || isStr(v) || (typeof v === 'number' && Number.isFinite(v))
const own = (o: object, k: string): unknown => (Object.hasOwn(o, k) ? (o as Record<string, unknown>)[k] : undefined)

/** The payload checked like untrusted input (it comes from the page), or a reason to ignore it whole. */
export function validateState(payload: unknown): DehydratedState | string {
  if (!isPlainObject(payload)) return 'not an object'
  if (own(payload, 'v') !== 1) return `unsupported version ${JSON.stringify(own(payload, 'v') ?? null)} (expected 1)`
  const docs = own(payload, 'docs')
  const searches = own(payload, 'searches')
  if (!Array.isArray(docs) || !Array.isArray(searches)) return 'docs and searches must be arrays'
  if (docs.length > MAX_DOCS || searches.length > MAX_SEARCHES) return 'too many entries'
  const out: DehydratedState = { v: 1, docs: [], searches: [] }
  for (const d of docs) {
    if (!isPlainObject(d)) return 'a document is not an object'
    const [driver, index, collection, id, source, rev, at] = ['driver', 'index', 'collection', 'id', 'source', 'rev', 'at'].map((k) => own(d, k))
    if (!isStr(driver) || !isStr(index) || !isStr(collection) || !isStr(id) || id === '') return 'a document has no valid key'
    if (source !== null && !isPlainObject(source)) return `document "${id}" has no valid content`
    if (!isRev(rev) || typeof at !== 'number') return `document "${id}" has no valid revision or time`
    // A frozen copy drops `__proto__` keys and bounds the depth: what is kept is plain data only, shown as it is.
    const doc: DehydratedDoc = { driver, index, collection, id, source: source === null ? null : frozenCopy(source), at }
    if (rev !== undefined) doc.rev = rev
    out.docs.push(doc)
  }
  for (const s of searches) {
    if (!isPlainObject(s)) return 'a search is not an object'
    const [key, ids, total, size, at] = ['key', 'ids', 'total', 'size', 'at'].map((k) => own(s, k))
    if (!isStr(key) || !Array.isArray(ids) || ids.length > MAX_IDS || !ids.every(isStr)) return 'a search has no valid key or ids'
    if (!isCount(total) || !isCount(size) || typeof at !== 'number') return 'a search has no valid total, size or time'
    out.searches.push({ key, ids: [...ids], total, size, at })
  }
  return out
}

/**
 * Both halves of hydration for one client. On the server it records every read; in the browser it holds what was
 * handed over until the documents' entries take it (once: a later observer of the same document reads afresh).
 */
export class HydrationStore {
  private readonly recordedDocs = new Map<string, DehydratedDoc>()
  private readonly recordedSearches = new Map<string, DehydratedSearch>()
  private readonly docs = new Map<string, DehydratedDoc>()
  private readonly searches = new Map<string, DehydratedSearch>()
  /** Containers handed out before an entry exists (a search's rows), so the entry adopts the very same object. */
  private readonly sources = new Map<string, DocSource>()

  constructor(
    private readonly driver: string,
    private readonly wrap: <T extends object>(value: T) => T,
  ) {}

  /** `at`: when the read was sent (a read is the server's truth as of then). */
  recordDoc(ref: CollectionRef, id: string, doc: Doc | null, at: number): void {
    const source = doc && isPlainObject(doc._source) ? cloneSafe(doc._source) : null
    const d: DehydratedDoc = { driver: this.driver, index: ref.index, collection: ref.collection, id, source, at }
    if (doc && doc._rev !== undefined) d.rev = doc._rev
    this.recordedDocs.set(docKey(this.driver, ref, id), d)
  }

  recordSearch(ref: CollectionRef, spec: DriverSearchSpec, size: number, hits: readonly Doc[], total: number, at: number): void {
    const key = searchKey(this.driver, ref, spec, size)
    if (key === undefined) return
    const ids: string[] = []
    for (const hit of hits) {
      if (!hit || typeof hit._id !== 'string') continue
      ids.push(hit._id)
      this.recordDoc(ref, hit._id, hit, at)
    }
    this.recordedSearches.set(key, { key, ids, total: isCount(total) ? total : ids.length, size, at })
  }

  dehydrate(): DehydratedState {
    return { v: 1, docs: [...this.recordedDocs.values()], searches: [...this.recordedSearches.values()] }
  }

  /** Takes a payload; anything else than a valid version-1 payload is ignored with one warning. */
  hydrate(payload: unknown): boolean {
    let state: DehydratedState | string
    try {
      state = validateState(payload)
    } catch (err) {
      state = (err as Error)?.message ?? 'invalid'
    }
    if (typeof state === 'string') {
      console.warn(`[vue-observed] Hydration payload ignored: ${state}`)
      return false
    }
    for (const d of state.docs) {
      if (d.driver !== this.driver) continue
      const key = docKey(d.driver, d, d.id)
      this.docs.set(key, d)
      this.sources.delete(key)
    }
    for (const s of state.searches) this.searches.set(s.key, s)
    return true
  }

  /** Whether hydrated content is waiting for this document (without taking it). */
  hasDoc(ref: CollectionRef, id: string): boolean {
    return this.docs.has(docKey(this.driver, ref, id))
  }

  /**
   * The hydrated content of a document, as a frozen value (what a search's rows show) or wrapped once (`wrapped`:
   * what a document composable shows): the entry that takes it holds the very same objects, so a confirmation that
   * changes nothing re-renders nothing.
   */
  peekSource(ref: CollectionRef, id: string, wrapped = true): DocSource | null | undefined {
    const key = docKey(this.driver, ref, id)
    const d = this.docs.get(key)
    if (!d) return undefined
    if (d.source === null || !wrapped) return d.source
    let source = this.sources.get(key)
    if (!source) this.sources.set(key, (source = this.wrap(cloneSafe(d.source))))
    return source
  }

  /** Hands a document's hydrated content (and its container, if one was handed out) to its entry, once. */
  takeDoc(ref: CollectionRef, id: string): { content: DocSource | null; container: DocSource | null; rev?: Rev } | undefined {
    const key = docKey(this.driver, ref, id)
    const d = this.docs.get(key)
    if (!d) return undefined
    const container = this.sources.get(key) ?? null
    this.docs.delete(key)
    this.sources.delete(key)
    return { content: d.source, container, rev: d.rev }
  }

  search(ref: CollectionRef, spec: DriverSearchSpec, size: number): DehydratedSearch | undefined {
    const key = searchKey(this.driver, ref, spec, size)
    return key === undefined ? undefined : this.searches.get(key)
  }

  /** A search confirmed by its own read: later searches of the same key start from their read. */
  dropSearch(key: string): void {
    this.searches.delete(key)
  }
}
