/**
 * The test server's document storage: collections in memory, `_version` incremented per write, `_kuzzle_info`
 * maintained as Kuzzle does (author, createdAt, updater, updatedAt in ms). Writes return what changed so the
 * realtime side can compute notifications.
 */
import { randomBytes } from 'node:crypto'
import { errors } from './errors'

/** A document body. */
export type Source = Record<string, unknown>

/** A stored document, in the shape document:get returns. */
export interface StoredDocument {
  readonly _id: string
  readonly _source: Source
  readonly _version: number
}

/** The outcome of one write. `before` absent: the document did not exist; `after` absent: it was deleted. */
export interface WriteResult {
  readonly index: string
  readonly collection: string
  readonly id: string
  /** Notification action: create, replace, update or delete. */
  readonly action: 'create' | 'replace' | 'update' | 'delete'
  readonly before?: StoredDocument
  readonly after?: StoredDocument
  /** Dotted paths of the fields an update changed. */
  readonly updatedFields?: string[]
  /** When the write happened (ms); every write gets a strictly greater timestamp than the previous one. */
  readonly timestamp: number
}

const isObject = (v: unknown): v is Source => typeof v === 'object' && v !== null && !Array.isArray(v)
const copy = <T>(v: T): T => structuredClone(v)

function withoutInfo(body: Source): Source {
  const { _kuzzle_info: _ignored, ...rest } = body
  return rest
}

/** Deep merge as Elasticsearch's partial update does: objects merge recursively, anything else replaces. */
function merge(target: Source, changes: Source): Source {
  const out: Source = { ...target }
  for (const [key, value] of Object.entries(changes)) {
    if (key === '__proto__' || key === 'constructor' || key === 'prototype') continue
    out[key] = isObject(value) && isObject(out[key]) ? merge(out[key] as Source, value) : copy(value)
  }
  return out
}

/** Leaf paths of a changes object, dotted. */
function dottedPaths(changes: Source, prefix = ''): string[] {
  const paths: string[] = []
  for (const [key, value] of Object.entries(changes)) {
    const path = prefix ? `${prefix}.${key}` : key
    if (isObject(value) && Object.keys(value).length > 0) paths.push(...dottedPaths(value, path))
    else paths.push(path)
  }
  return paths
}

/** In-memory collections of documents. */
export class DocumentStore {
  readonly #collections = new Map<string, Map<string, StoredDocument>>()
  /** Indexes and their collections, as Kuzzle's index cache (lib/core/storage/indexCache.ts) knows them. */
  readonly #indexes = new Map<string, Set<string>>()
  #lastTimestamp = 0

  /** A write timestamp: now, but strictly increasing so that revisions built from it never tie. */
  now(): number {
    this.#lastTimestamp = Math.max(Date.now(), this.#lastTimestamp + 1)
    return this.#lastTimestamp
  }

  #collection(index: string, collection: string): Map<string, StoredDocument> {
    this.ensure(index, collection)
    const key = `${index}\n${collection}`
    let docs = this.#collections.get(key)
    if (!docs) {
      docs = new Map()
      this.#collections.set(key, docs)
    }
    return docs
  }

  get(index: string, collection: string, id: string): StoredDocument | undefined {
    const doc = this.#collections.get(`${index}\n${collection}`)?.get(id)
    return doc && copy(doc)
  }

  list(index: string, collection: string): StoredDocument[] {
    return [...(this.#collections.get(`${index}\n${collection}`)?.values() ?? [])].map(copy)
  }

  /** Makes an index exist (index:create). */
  createIndex(index: string): void {
    if (!this.#indexes.has(index)) this.#indexes.set(index, new Set())
  }

  /** Makes a collection (and its index) exist: collection:create, or a write made by the test itself. */
  ensure(index: string, collection: string): void {
    this.createIndex(index)
    this.#indexes.get(index)!.add(collection)
  }

  hasIndex(index: string): boolean {
    return this.#indexes.has(index)
  }

  hasCollection(index: string, collection: string): boolean {
    return this.#indexes.get(index)?.has(collection) ?? false
  }

  /**
   * Throws what Kuzzle answers to a document action on a collection it does not know: 412
   * `services.storage.unknown_index`, else 412 `services.storage.unknown_collection` (indexCache.assertCollectionExists).
   */
  assertCollection(index: string, collection: string): void {
    if (!this.#indexes.has(index)) throw errors.unknownIndex(index)
    if (!this.hasCollection(index, collection)) throw errors.unknownCollection(index, collection)
  }

  /** Removes every document; indexes and collections stay, as after a truncate. */
  clear(): void {
    this.#collections.clear()
  }

  /** `stamped`: the creation is stamped as written too (`updatedAt`, `updater`), as `document:upsert` does. */
  create(index: string, collection: string, id: string | undefined, body: Source, author: string, stamped = false): WriteResult {
    const docs = this.#collection(index, collection)
    const _id = id ?? randomBytes(10).toString('base64url')
    if (docs.has(_id)) throw errors.alreadyExists()
    return this.#put(docs, index, collection, _id, withoutInfo(body), author, undefined, stamped)
  }

  createOrReplace(index: string, collection: string, id: string, body: Source, author: string): WriteResult {
    const docs = this.#collection(index, collection)
    return this.#put(docs, index, collection, id, withoutInfo(body), author, docs.get(id), true)
  }

  replace(index: string, collection: string, id: string, body: Source, author: string): WriteResult {
    const docs = this.#collection(index, collection)
    const before = docs.get(id)
    if (!before) throw errors.notFound(id, index, collection)
    return this.#put(docs, index, collection, id, withoutInfo(body), author, before, true)
  }

  update(index: string, collection: string, id: string, changes: Source, author: string): WriteResult {
    const docs = this.#collection(index, collection)
    const before = docs.get(id)
    if (!before) throw errors.notFound(id, index, collection)
    const timestamp = this.now()
    const clean = withoutInfo(changes)
    const info = before._source._kuzzle_info as Source
    const after: StoredDocument = {
      _id: id,
      _source: { ...merge(withoutInfo(before._source), clean), _kuzzle_info: { ...info, updatedAt: timestamp, updater: author } },
      _version: before._version + 1,
    }
    docs.set(id, after)
    return { index, collection, id, action: 'update', before: copy(before), after: copy(after), updatedFields: dottedPaths(clean), timestamp }
  }

  delete(index: string, collection: string, id: string): WriteResult {
    const docs = this.#collection(index, collection)
    const before = docs.get(id)
    if (!before) throw errors.notFound(id, index, collection)
    docs.delete(id)
    return { index, collection, id, action: 'delete', before: copy(before), timestamp: this.now() }
  }

  #put(
    docs: Map<string, StoredDocument>,
    index: string,
    collection: string,
    id: string,
    body: Source,
    author: string,
    before: StoredDocument | undefined,
    stamped: boolean,
  ): WriteResult {
    const timestamp = this.now()
    // As Kuzzle's document controller: `create` leaves updatedAt and updater null; `replace` and `createOrReplace`
    // stamp every field anew, whether the document existed or not (the author and creation time of what they replace
    // are not kept); `upsert` stamps a creation both ways.
    const info = stamped
      ? { author, createdAt: timestamp, updatedAt: timestamp, updater: author }
      : { author, createdAt: timestamp, updatedAt: null, updater: null }
    const after: StoredDocument = { _id: id, _source: { ...copy(body), _kuzzle_info: info }, _version: (before?._version ?? 0) + 1 }
    docs.set(id, after)
    return { index, collection, id, action: before ? 'replace' : 'create', before: before && copy(before), after: copy(after), timestamp }
  }
}
