/**
 * The memory driver: an in-process document store with the same realtime semantics as the real backends
 * (asynchronous ready and events, revisions, query watches with appear/disappear), plus fault injection.
 * It is the embedded default: the playground, the tests and prototypes run on it with no server.
 *
 * @example
 * ```ts
 * const driver = memoryDriver()
 * driver.seed('shop', 'products', [{ _id: 'p1', _source: { name: 'Pen', price: 2 } }])
 * app.use(createObserver({ driver }))
 * await driver.update('shop', 'products', 'p1', { price: 3 }) // observers of p1 see the change
 * ```
 *
 * @module
 */
import { comparator } from '../core/sort'
import { CollectionIndexes, queryKeyOf } from './memory/indexes'
import { TopK } from './memory/top-k'
import type {
  CollectionRef,
  Doc,
  DocSource,
  Driver,
  DriverSearchSpec,
  Page,
  PageRequest,
  Watch,
  WatchSink,
  WatchSpec,
  WriteRequest,
} from '../core/types'
import { ObservedError } from '../core/types'
import { FaultController } from './memory/faults'
import type { MemoryFaults } from './memory/faults'
import { compileQuery, memoryQueryKey } from './memory/filter'
import type { Matcher, MemoryQuery } from './memory/filter'
import { copyJson, describe, isJsonObject, mergeStored, toStored } from './memory/json'
import { idGenerator, mulberry32 } from './memory/random'
import { MemoryWatch } from './memory/watch'
import type { CompiledWatchSpec, StoredDoc, WatchHost, WriteRecord } from './memory/watch'

export type { MemoryFaults } from './memory/faults'
export type { FilterScalar, MemoryFilter, MemoryPredicate, MemoryQuery, RangeBounds } from './memory/filter'

/** Options of {@link memoryDriver}. */
export interface MemoryDriverOptions {
  /** Per-watch id limit to advertise (like Kuzzle's per-filter limit), so the core shards. Default: unbounded. */
  maxIdsPerWatch?: number
  /** Seed of the PRNG behind fault injection and generated ids. Same seed, same run. Default 1. */
  seed?: number
  /**
   * Simulated network latency in ms, applied to every read and write, to `ready()` and to every event
   * (on top of `faults.delay`). Default 0: reads and writes complete at call time, callbacks after a macrotask.
   */
  latency?: number
}

/** A stored document: always has a numeric revision. */
export interface MemoryDoc<T = DocSource> extends Doc<T> {
  _rev: number
}

/** A document for {@link MemoryDriver.seed}: `{ _id?, _source }`, or a bare source (the id is generated). */
export type SeedDoc<T = DocSource> = { _id?: string; _source: T } | T

/** One open watch, as {@link MemoryDriver.watchStats} reports it. */
export interface MemoryWatchInfo {
  /** `'ids'` follows documents by id, `'query'` follows a query. */
  kind: 'ids' | 'query'
  /** How many ids an ids watch follows (0 for a query watch). */
  ids: number
  /** Whether `ready()` has been delivered. */
  live: boolean
  /** Whether it reported an error (it then delivers nothing more until closed). */
  failed: boolean
}

/**
 * The memory driver: a {@link Driver} plus writes, test helpers and fault knobs.
 *
 * Revisions come from one counter per driver: each write sets `_rev` to the next number, and events carry
 * `rev` (the new revision, a fresh one for deletes) and `previousRev` (the revision before, `null` if none).
 * Everything it hands out is a deep copy.
 */
export interface MemoryDriver extends Driver {
  readonly name: 'memory'
  /** Fault injection knobs (all off by default). */
  readonly faults: MemoryFaults
  /** Number of open (not yet closed) watches. */
  readonly activeWatches: number

  /** A local write from the core (checked, then applied atomically after `latency`); see the driver contract. */
  write(c: CollectionRef, w: WriteRequest): Promise<{ rev: number }>

  /** The document, or `null` if missing. Rejects when `faults.failReads` is set. */
  get(c: CollectionRef, id: string): Promise<MemoryDoc | null>
  /** The existing documents among `ids`, in the order of `ids` (duplicates once, missing ones absent). */
  mGet(c: CollectionRef, ids: readonly string[]): Promise<MemoryDoc[]>
  /**
   * Filters with `spec.query` (a {@link MemoryQuery}; `spec.filters` is used when `query` is absent), sorts with
   * `spec.sort` (ties by `_id`), then returns `size` hits from `from`. `total` counts every match.
   * Pages by `from`; `page.after` is ignored and no cursor is returned.
   */
  search(c: CollectionRef, spec: DriverSearchSpec, page: PageRequest): Promise<Page & { hits: MemoryDoc[] }>
  /**
   * Opens a watch. `sink.ready()` follows after a macrotask (plus `latency`); events for writes made from now on
   * are delivered asynchronously, in write order unless faults say otherwise. An ids watch gets every write on its
   * ids; a query watch gets every write on a document matching before or after, with `inQuery` telling which.
   * An invalid spec (bad ids, unsupported query, more ids than `maxIdsPerWatch`) is reported as a fatal
   * `sink.error`. `update()` resolves once the new spec is live; after `close()` the sink is never called.
   */
  watch(c: CollectionRef, spec: WatchSpec, sink: WatchSink): Required<Watch>
  /** Sorted-key JSON of a filter query and its params; `undefined` for a predicate function. */
  queryKey(spec: DriverSearchSpec): string | undefined
  /**
   * The search's own matcher (a JSON filter or a predicate), deciding exactly what `search` would on the content as
   * the store would hold it (its JSON form, frozen); `undefined` for a query `search` refuses. Content the store
   * would refuse (not JSON-serializable) matches nothing. A predicate that throws throws `bad_argument`, as in a search.
   */
  matcher(c: CollectionRef, spec: DriverSearchSpec): ((source: DocSource, id: string) => boolean) | undefined

  /** Stores a new document; generates an id when none is given. Rejects with `bad_argument` if the id exists. */
  create<T extends DocSource = DocSource>(index: string, collection: string, source: T, id?: string): Promise<MemoryDoc<T>>
  /** Stores a document, replacing any previous content. */
  createOrReplace<T extends DocSource = DocSource>(index: string, collection: string, id: string, source: T): Promise<MemoryDoc<T>>
  /** Replaces an existing document's content. Rejects with `not_found` if it does not exist. */
  replace<T extends DocSource = DocSource>(index: string, collection: string, id: string, source: T): Promise<MemoryDoc<T>>
  /**
   * Partial update: nested plain objects are merged, anything else (arrays too) replaces, like Kuzzle's
   * `document:update`. Resolves with the full new document. Rejects with `not_found` if it does not exist.
   */
  update<T extends DocSource = DocSource>(index: string, collection: string, id: string, partial: Partial<T> | DocSource): Promise<MemoryDoc<T>>
  /** Deletes a document; resolves with its id and the deletion's revision. Rejects with `not_found` if missing. */
  delete(index: string, collection: string, id: string): Promise<{ _id: string; _rev: number }>
  /**
   * Bulk-loads documents synchronously, creating or replacing them, WITHOUT notifying watches (seed before observers
   * start, or call `faults.missEvents()` afterwards). Items are `{ _id?, _source }` or bare sources.
   */
  seed<T extends DocSource = DocSource>(index: string, collection: string, docs: ReadonlyArray<SeedDoc<NoInfer<T>>>): MemoryDoc<T>[]
  /** Number of documents matching `query` (all when omitted). Not affected by `faults.failReads`. */
  count(index: string, collection: string, query?: MemoryQuery): Promise<number>
  /** Every stored document of a collection, sorted by `_id`, as copies: for test assertions. */
  snapshot<T extends DocSource = DocSource>(index: string, collection: string): MemoryDoc<T>[]
  /** Open watches per collection, keyed `index/collection`: kind and id count, for asserting pooling and cleanup. */
  watchStats(): Record<string, MemoryWatchInfo[]>
}

function badArgument(message: string): ObservedError {
  return new ObservedError('bad_argument', message)
}

function assertName(value: unknown, what: string): asserts value is string {
  if (typeof value !== 'string' || value === '') throw badArgument(`${what} must be a non-empty string, got ${describe(value)}`)
}

function assertRef(c: unknown): asserts c is CollectionRef {
  if (!isJsonObject(c)) throw badArgument(`A collection reference { index, collection } is required, got ${describe(c)}`)
  assertName(c.index, 'index')
  assertName(c.collection, 'collection')
}

function assertId(id: unknown): asserts id is string {
  assertName(id, 'Document id')
}

function assertIds(ids: unknown): asserts ids is readonly string[] {
  if (!Array.isArray(ids)) throw badArgument(`ids must be an array of strings, got ${describe(ids)}`)
  for (const id of ids) assertId(id)
}

function assertCount(value: unknown, what: string): asserts value is number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw badArgument(`${what} must be a non-negative integer, got ${describe(value)}`)
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/**
 * Creates an in-process memory driver. Each call is an independent store with its own revision counter.
 *
 * @example
 * ```ts
 * const driver = memoryDriver({ seed: 7 })
 * driver.faults.reorder = 0.3 // hold back 30% of events
 * ```
 */
export function memoryDriver(options: MemoryDriverOptions = {}): MemoryDriver {
  const { maxIdsPerWatch, seed = 1, latency = 0 } = options
  if (maxIdsPerWatch !== undefined && (!Number.isSafeInteger(maxIdsPerWatch) || maxIdsPerWatch < 1)) {
    throw badArgument(`maxIdsPerWatch must be a positive integer, got ${describe(maxIdsPerWatch)}`)
  }
  if (typeof latency !== 'number' || !Number.isFinite(latency) || latency < 0) {
    throw badArgument(`latency must be a non-negative number of ms, got ${describe(latency)}`)
  }
  if (typeof seed !== 'number' || !Number.isFinite(seed)) throw badArgument(`seed must be a number, got ${describe(seed)}`)

  /** Documents per collection, keyed by JSON.stringify([index, collection]). */
  const collections = new Map<string, Map<string, StoredDoc>>()
  /** Open watches per collection key; also remembers the readable name. */
  const watches = new Map<string, { name: string; set: Set<MemoryWatch> }>()
  const watchKeys = new Map<MemoryWatch, string>()
  /** Sorted lists and counts per collection key (see memory/indexes.ts). */
  const indexes = new Map<string, CollectionIndexes<StoredDoc>>()
  let revision = 0
  const random = mulberry32(seed)
  const newId = idGenerator(mulberry32(seed ^ 0x9e3779b9))

  const keyOf = (index: string, collection: string) => JSON.stringify([index, collection])
  const docsOf = (key: string) => collections.get(key) ?? new Map<string, StoredDoc>()

  const faults = new FaultController(
    {
      *watches() {
        for (const { set } of watches.values()) yield* set
      },
    },
    random,
  )

  const out = <T>(id: string, doc: StoredDoc): MemoryDoc<T> => ({ _id: id, _source: copyJson(doc.source) as T, _rev: doc.rev })

  const compileSpec = (spec: WatchSpec): CompiledWatchSpec => {
    if (!isJsonObject(spec)) throw badArgument(`A watch spec { ids } or { query } is required, got ${describe(spec)}`)
    if ('ids' in spec) {
      assertIds(spec.ids)
      if (maxIdsPerWatch !== undefined && spec.ids.length > maxIdsPerWatch) {
        throw badArgument(`A watch may follow at most ${maxIdsPerWatch} ids (maxIdsPerWatch), got ${spec.ids.length}`)
      }
      return { kind: 'ids', ids: new Set(spec.ids) }
    }
    if ('query' in spec && isJsonObject(spec.query)) return { kind: 'query', match: matcherOf(spec.query) }
    throw badArgument('A watch spec must have `ids` (an array) or `query` (a search spec)')
  }

  const matcherOf = (spec: { query?: unknown; filters?: unknown; params?: Record<string, unknown> }): Matcher =>
    compileQuery(spec.query ?? spec.filters, spec.params)

  /** The search's matcher on content as a write would store it, or undefined for a query the driver refuses. */
  const clientMatcher = (spec: DriverSearchSpec): ((source: DocSource, id: string) => boolean) | undefined => {
    let match: Matcher
    try {
      match = matcherOf(spec)
    } catch {
      return undefined
    }
    return (source, id) => {
      let stored: DocSource
      try {
        stored = toStored(source, 'Document source')
      } catch {
        return false
      }
      return match(stored, id)
    }
  }

  const host: WatchHost = {
    latency,
    get disconnected() {
      return faults.disconnected
    },
    get reorderWindow() {
      return faults.reorderWindow
    },
    planEvent: () => faults.planEvent(),
    compile: compileSpec,
    remove(w) {
      const key = watchKeys.get(w)
      if (key === undefined) return
      watchKeys.delete(w)
      const entry = watches.get(key)
      if (entry?.set.delete(w) && entry.set.size === 0) watches.delete(key)
    },
  }

  /** Applies one write and tells the watches of that collection (unless the link is down). */
  const commit = (key: string, id: string, source: ReturnType<typeof toStored> | undefined): StoredDoc | undefined => {
    let docs = collections.get(key)
    if (!docs) collections.set(key, (docs = new Map()))
    const before = docs.get(id)
    const rev = ++revision
    const after = source ? { source, rev } : undefined
    if (after) docs.set(id, after)
    else docs.delete(id)
    if (docs.size === 0) collections.delete(key)
    indexes.get(key)?.write(id, before, after)
    if (!faults.disconnected) {
      const record: WriteRecord = { id, rev, before, after }
      for (const w of [...(watches.get(key)?.set ?? [])]) w.offer(record)
    }
    return after
  }

  const io = async (): Promise<void> => {
    if (latency > 0) await sleep(latency)
  }

  const read = async (): Promise<void> => {
    const fail = faults.takeReadFailure()
    await io()
    if (fail) throw new ObservedError('read_failed', 'Simulated read failure (faults.failReads)')
  }

  const driver: MemoryDriver = {
    name: 'memory',
    maxIdsPerWatch,
    faults,
    get activeWatches() {
      let n = 0
      for (const { set } of watches.values()) n += set.size
      return n
    },

    matcher(c, spec) {
      assertRef(c)
      if (!isJsonObject(spec)) return undefined
      return clientMatcher(spec)
    },

    async get(c, id) {
      assertRef(c)
      assertId(id)
      await read()
      const doc = docsOf(keyOf(c.index, c.collection)).get(id)
      return doc ? out(id, doc) : null
    },

    async mGet(c, ids) {
      assertRef(c)
      assertIds(ids)
      await read()
      const docs = docsOf(keyOf(c.index, c.collection))
      const hits: MemoryDoc[] = []
      for (const id of new Set(ids)) {
        const doc = docs.get(id)
        if (doc) hits.push(out(id, doc))
      }
      return hits
    },

    async search(c, spec, page) {
      assertRef(c)
      if (!isJsonObject(spec)) throw badArgument(`A search spec is required, got ${describe(spec)}`)
      if (!isJsonObject(page)) throw badArgument(`A page request { from, size } is required, got ${describe(page)}`)
      assertCount(page.from, 'from')
      assertCount(page.size, 'size')
      const match = matcherOf(spec)
      const sort = comparator(Array.isArray(spec.sort) ? spec.sort : [])
      await read()
      const key = keyOf(c.index, c.collection)
      const docs = docsOf(key)
      let index = indexes.get(key)
      if (!index) indexes.set(key, (index = new CollectionIndexes()))
      const queryKey = queryKeyOf(spec.query ?? spec.filters, spec.params)
      const k = page.from + page.size
      // A sort asked for before walks its list in order until the window is full; a count is kept per query.
      const listed = k > 0 ? index.window(JSON.stringify(spec.sort ?? []), sort, docs, match, k) : []
      if (listed) return { hits: listed.slice(page.from).map((m) => out<DocSource>(m._id, m.doc)), total: index.count(queryKey, match, docs) }
      // The first time: only the first `from + size` matches are kept, one comparison per match, not a sort of all.
      const best = new TopK<{ _id: string; _source: StoredDoc['source']; doc: StoredDoc }>(k, sort)
      let total = 0
      for (const [id, doc] of docs) {
        if (!match(doc.source, id)) continue
        total++
        best.offer({ _id: id, _source: doc.source, doc })
      }
      index.count(queryKey, match, docs, total)
      const hits = best.sorted().slice(page.from).map((m) => out<DocSource>(m._id, m.doc))
      return { hits, total }
    },

    watch(c, spec, sink) {
      let compiled: CompiledWatchSpec | undefined
      let error: ObservedError | undefined
      try {
        assertRef(c)
        compiled = compileSpec(spec)
      } catch (err) {
        error = err instanceof ObservedError ? err : new ObservedError('bad_argument', String(err), { cause: err })
      }
      const w = new MemoryWatch(host, sink, compiled)
      if (isJsonObject(c) && typeof c.index === 'string' && typeof c.collection === 'string') {
        const key = keyOf(c.index, c.collection)
        let entry = watches.get(key)
        if (!entry) watches.set(key, (entry = { name: `${c.index}/${c.collection}`, set: new Set() }))
        entry.set.add(w)
        watchKeys.set(w, key)
      }
      if (error) w.fail(new ObservedError(error.code, error.message, { fatal: true, cause: error }))
      else if (faults.takeWatchOpenFailure()) w.fail(new ObservedError('watch_failed', 'Simulated watch failure (faults.failWatchOpens)'))
      else w.open()
      return w
    },

    queryKey(spec) {
      return memoryQueryKey(spec)
    },

    async write(c, w) {
      assertRef(c)
      if (!isJsonObject(w)) throw badArgument(`A write { op, id } is required, got ${describe(w)}`)
      const { op, id, ifRevision } = w as WriteRequest
      assertId(id)
      if (op !== 'create' && op !== 'update' && op !== 'replace' && op !== 'remove') throw badArgument(`Unknown write op ${describe(op)}`)
      const content = op === 'remove' ? undefined : toStored(w.content, 'Document source')
      await io()
      // Checked and applied in one step after the latency, as a server would.
      const key = keyOf(c.index, c.collection)
      const current = docsOf(key).get(id)
      const where = `${c.index}/${c.collection}`
      if (op === 'create' && current) throw new ObservedError('conflict', `Document "${id}" already exists in ${where}`)
      if (op !== 'create' && !current) throw new ObservedError('not_found', `Document "${id}" not found in ${where}`)
      if (ifRevision !== undefined && current?.rev !== ifRevision) {
        throw new ObservedError('conflict', `Document "${id}" in ${where} is at revision ${current?.rev ?? 'none'}, not ${describe(ifRevision)}`)
      }
      const next = op === 'remove' ? undefined : op === 'update' ? mergeStored(current!.source, content!) : content
      commit(key, id, next)
      return { rev: revision }
    },

    async create<T extends DocSource>(index: string, collection: string, source: T, id?: string) {
      assertName(index, 'index')
      assertName(collection, 'collection')
      if (id !== undefined) assertId(id)
      const stored = toStored(source, 'Document source')
      await io()
      const key = keyOf(index, collection)
      if (id !== undefined && docsOf(key).has(id)) {
        throw badArgument(`Document "${id}" already exists in ${index}/${collection}`)
      }
      let newIdValue = id
      while (newIdValue === undefined || docsOf(key).has(newIdValue)) newIdValue = newId()
      return out<T>(newIdValue, commit(key, newIdValue, stored)!)
    },

    async createOrReplace<T extends DocSource>(index: string, collection: string, id: string, source: T) {
      assertName(index, 'index')
      assertName(collection, 'collection')
      assertId(id)
      const stored = toStored(source, 'Document source')
      await io()
      return out<T>(id, commit(keyOf(index, collection), id, stored)!)
    },

    async replace<T extends DocSource>(index: string, collection: string, id: string, source: T) {
      assertName(index, 'index')
      assertName(collection, 'collection')
      assertId(id)
      const stored = toStored(source, 'Document source')
      await io()
      const key = keyOf(index, collection)
      if (!docsOf(key).has(id)) throw new ObservedError('not_found', `Document "${id}" not found in ${index}/${collection}`)
      return out<T>(id, commit(key, id, stored)!)
    },

    async update<T extends DocSource>(index: string, collection: string, id: string, partial: Partial<T> | DocSource) {
      assertName(index, 'index')
      assertName(collection, 'collection')
      assertId(id)
      const patch = toStored(partial, 'Partial update')
      await io()
      const key = keyOf(index, collection)
      const current = docsOf(key).get(id)
      if (!current) throw new ObservedError('not_found', `Document "${id}" not found in ${index}/${collection}`)
      return out<T>(id, commit(key, id, mergeStored(current.source, patch))!)
    },

    async delete(index, collection, id) {
      assertName(index, 'index')
      assertName(collection, 'collection')
      assertId(id)
      await io()
      const key = keyOf(index, collection)
      if (!docsOf(key).has(id)) throw new ObservedError('not_found', `Document "${id}" not found in ${index}/${collection}`)
      commit(key, id, undefined)
      return { _id: id, _rev: revision }
    },

    seed<T extends DocSource>(index: string, collection: string, docs: ReadonlyArray<SeedDoc<T>>) {
      assertName(index, 'index')
      assertName(collection, 'collection')
      if (!Array.isArray(docs)) throw badArgument(`seed() expects an array of documents, got ${describe(docs)}`)
      const key = keyOf(index, collection)
      // Validate everything first: a bad item loads nothing.
      const items = docs.map((item, i) => {
        const isDoc = isJsonObject(item) && Object.hasOwn(item, '_source')
        const id = isDoc ? (item as { _id?: unknown })._id : undefined
        if (id !== undefined) assertName(id, `seed() item ${i}: _id`)
        const source = toStored(isDoc ? (item as { _source: unknown })._source : item, `seed() item ${i}: source`)
        return { id: id as string | undefined, source }
      })
      let stored = collections.get(key)
      if (!stored) collections.set(key, (stored = new Map()))
      const target = stored
      // Seeding writes without events: what was kept in order or counted is dropped, and built again when asked.
      indexes.delete(key)
      const result = items.map(({ id, source }) => {
        let docId = id
        while (docId === undefined || (id === undefined && target.has(docId))) docId = newId()
        const doc = { source, rev: ++revision }
        target.set(docId, doc)
        return out<T>(docId, doc)
      })
      if (target.size === 0) collections.delete(key)
      return result
    },

    async count(index, collection, query) {
      assertName(index, 'index')
      assertName(collection, 'collection')
      const match = compileQuery(query)
      await io()
      // The collection is read after the latency, as a server would.
      let n = 0
      for (const [id, doc] of docsOf(keyOf(index, collection))) if (match(doc.source, id)) n++
      return n
    },

    snapshot<T extends DocSource>(index: string, collection: string) {
      assertName(index, 'index')
      assertName(collection, 'collection')
      return [...docsOf(keyOf(index, collection))]
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([id, doc]) => out<T>(id, doc))
    },

    watchStats() {
      const stats: Record<string, MemoryWatchInfo[]> = {}
      for (const { name, set } of watches.values()) {
        const list = [...set].map((w) => ({
          kind: w.spec?.kind ?? 'ids',
          ids: w.spec?.kind === 'ids' ? w.spec.ids.size : 0,
          live: w.live,
          failed: w.failed,
        }))
        // defineProperty: an index named "__proto__" must stay a plain key.
        Object.defineProperty(stats, name, { value: list, enumerable: true, writable: true, configurable: true })
      }
      return stats
    },
  }
  return driver
}
