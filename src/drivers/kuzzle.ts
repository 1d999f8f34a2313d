/**
 * The Kuzzle driver (`vue-observed/kuzzle`): turns the app's own kuzzle-sdk 7 instance into the observer's Driver
 * contract. Reads go through document.get / mGet / search; watches are realtime subscriptions on Koncorde filters
 * (`ids` filters for observed documents, the translated query for live searches).
 *
 * What it deliberately does differently from the SDK's own Observer:
 * - the core replaces documents (never merges) and orders events by `_kuzzle_info.updatedAt`; a notification of a
 *   write that created the document continues nothing (`previousRev: null`), so a deletion missed before it is read;
 * - changing a watched id set subscribes the new room before leaving the old one, and never leaves a room another
 *   watch still holds (the SDK's unsubscribe detaches every listener of a room id);
 * - id sets are sharded by the core under `maxIdsPerWatch` (Kuzzle's condition limit, 100 by default);
 * - watches resubscribe themselves after a reconnection, so `ready()` means acknowledged, and the core refetches
 *   what changed meanwhile.
 */
import type { Kuzzle } from 'kuzzle-sdk'
import type { CollectionRef, Doc, Driver, DriverSearchSpec, Page, PageRequest, Rev, SortKey, Watch, WatchSink, WatchSpec, WriteRequest } from '../core/types'
import { ObservedError } from '../core/types'
import { KuzzleConnection } from './kuzzle/connection'
import { isDocumentNotFound, revisionOf, toDoc, toObservedError, toWriteError } from './kuzzle/documents'
import { esToKoncorde } from './kuzzle/es-to-koncorde'
import type { KoncordeFilter } from './kuzzle/es-to-koncorde'
import { kuzzleMatcher } from './kuzzle/matcher'
import { KuzzleWatch } from './kuzzle/watch'

export { esToKoncorde } from './kuzzle/es-to-koncorde'
export type { KoncordeFilter } from './kuzzle/es-to-koncorde'

/** Options of {@link kuzzleDriver}. */
export interface KuzzleDriverOptions {
  /**
   * Most ids one `ids` subscription may hold: Kuzzle's `limits.subscriptionConditionsCount` (an `ids` filter of N
   * ids counts N conditions). Default 100, Kuzzle's default.
   */
  maxIdsPerWatch?: number
  /**
   * Most ids one `document:mGet` may ask for: Kuzzle's `limits.documentsFetchCount` (a larger read is refused with
   * `services.storage.get_limit_exceeded`). Default 10,000, Kuzzle's default (`.kuzzlerc.sample.jsonc`).
   */
  maxIdsPerRead?: number
  /**
   * Appends `{ _id: 'asc' }` to every search sort so that pages are stable and ties are ordered as the observer
   * orders them. Turn it off on Elasticsearch 8 setups where sorting on `_id` is disabled. Default true.
   */
  sortTieBreaker?: boolean
  /**
   * How long an `ids` subscription replaced by a change of the observed ids keeps delivering, in ms: notifications of
   * writes made before its replacement was subscribed go to it alone and may still be on their way. Default 1000.
   */
  handoverDelay?: number
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

function checkRef(c: CollectionRef): void {
  if (!c || typeof c.index !== 'string' || !c.index || typeof c.collection !== 'string' || !c.collection) {
    throw new ObservedError('bad_argument', 'Kuzzle needs a non-empty index and collection')
  }
}

/** The Koncorde filter a live search follows: the explicit `filters`, or the translated query. */
function queryFilter(spec: DriverSearchSpec): KoncordeFilter {
  if (spec.filters !== undefined && spec.filters !== null) {
    if (!isObject(spec.filters)) throw new ObservedError('bad_argument', '`filters` must be a Koncorde filter object')
    return spec.filters
  }
  return esToKoncorde(spec.query)
}

function watchFilter(spec: WatchSpec): KoncordeFilter | null {
  if ('ids' in spec) {
    if (!Array.isArray(spec.ids) || !spec.ids.every((id) => typeof id === 'string' && id)) {
      throw new ObservedError('bad_argument', 'Watched ids must be non-empty strings')
    }
    // Koncorde rejects an empty `ids` filter; an empty set simply follows nothing.
    return spec.ids.length === 0 ? null : { ids: { values: [...spec.ids] } }
  }
  return queryFilter(spec.query)
}

function esSort(keys: readonly SortKey[], tieBreaker: boolean): Array<Record<string, { order: 'asc' | 'desc' }>> {
  const sort = keys.map((k) => ({ [k.field]: { order: k.order } }))
  if (tieBreaker && !keys.some((k) => k.field === '_id')) sort.push({ _id: { order: 'asc' } })
  return sort
}

/**
 * Creates the Kuzzle driver over the app's own SDK instance (connected or about to be: watches subscribe once it
 * is). `watch` throws `ObservedError('unsupported_query')` for a search query with no Koncorde equivalent unless
 * the spec carries explicit `filters` (and `queryKey` returns undefined for it).
 */
export function kuzzleDriver(kuzzle: Kuzzle, options: KuzzleDriverOptions = {}): Driver {
  const maxIdsPerWatch = options.maxIdsPerWatch ?? 100
  if (!Number.isInteger(maxIdsPerWatch) || maxIdsPerWatch < 1) {
    throw new ObservedError('bad_argument', 'maxIdsPerWatch must be a positive integer')
  }
  const maxIdsPerRead = options.maxIdsPerRead ?? 10_000
  if (!Number.isInteger(maxIdsPerRead) || maxIdsPerRead < 1) {
    throw new ObservedError('bad_argument', 'maxIdsPerRead must be a positive integer')
  }
  const tieBreaker = options.sortTieBreaker ?? true
  const handoverDelay = options.handoverDelay ?? 1000
  if (!(handoverDelay >= 0) || !Number.isFinite(handoverDelay)) {
    throw new ObservedError('bad_argument', 'handoverDelay must be a finite number of ms, 0 or more')
  }
  const connection = new KuzzleConnection(kuzzle)

  return {
    name: 'kuzzle',
    maxIdsPerWatch,
    maxIdsPerRead,

    async get(c: CollectionRef, id: string): Promise<Doc | null> {
      checkRef(c)
      let raw: unknown
      try {
        raw = await kuzzle.document.get(c.index, c.collection, id)
      } catch (err) {
        // Only a missing document is null: any other 404 (an unknown action) is an error.
        if (isDocumentNotFound(err)) return null
        throw toObservedError(err, 'read_failed', `Reading ${c.index}/${c.collection}/${id} failed`, c)
      }
      const doc = toDoc(raw)
      if (!doc) throw new ObservedError('bad_event', `Kuzzle returned a malformed document for ${id}`)
      return doc
    },

    async mGet(c: CollectionRef, ids: readonly string[]): Promise<Doc[]> {
      checkRef(c)
      if (ids.length === 0) return []
      let result: { successes?: unknown }
      try {
        result = await kuzzle.document.mGet(c.index, c.collection, [...ids])
      } catch (err) {
        throw toObservedError(err, 'read_failed', `Reading ${ids.length} documents of ${c.index}/${c.collection} failed`, c)
      }
      const docs: Doc[] = []
      for (const raw of Array.isArray(result?.successes) ? result.successes : []) {
        const doc = toDoc(raw)
        if (doc) docs.push(doc)
      }
      return docs
    },

    async search(c: CollectionRef, spec: DriverSearchSpec, page: PageRequest): Promise<Page> {
      checkRef(c)
      const body: Record<string, unknown> = { sort: esSort(spec.sort, tieBreaker) }
      if (spec.query !== undefined && spec.query !== null) body.query = spec.query
      let result: { hits?: unknown; total?: unknown }
      try {
        result = await kuzzle.document.search(c.index, c.collection, body, { from: page.from, size: page.size })
      } catch (err) {
        throw toObservedError(err, 'read_failed', `Searching ${c.index}/${c.collection} failed`, c)
      }
      const hits: Doc[] = []
      for (const raw of Array.isArray(result.hits) ? result.hits : []) {
        const doc = toDoc(raw)
        if (doc) hits.push(doc)
      }
      const total = typeof result.total === 'number' ? result.total : hits.length
      return { hits, total }
    },

    watch(c: CollectionRef, spec: WatchSpec, sink: WatchSink): Watch {
      checkRef(c)
      const watch = new KuzzleWatch(connection, c, spec, sink, watchFilter, handoverDelay)
      watch.open()
      return watch
    },

    /**
     * document:create / update / replace / delete. Kuzzle has no conditional write on a revision: `ifRevision` is
     * checked by a read just before the write, which narrows the race but cannot close it (README, Local writes).
     */
    async write(c: CollectionRef, w: WriteRequest): Promise<{ rev?: Rev }> {
      checkRef(c)
      const what = `Writing ${c.index}/${c.collection}/${w.id}`
      try {
        if (w.ifRevision !== undefined) {
          let current: Doc | undefined
          try {
            current = toDoc(await kuzzle.document.get(c.index, c.collection, w.id))
          } catch (err) {
            if (!isDocumentNotFound(err)) throw err
          }
          if (current?._rev !== w.ifRevision) {
            throw new ObservedError('conflict', `${what}: the document is at revision ${current?._rev ?? 'none'}, not ${String(w.ifRevision)}`)
          }
        }
        const content = (w.content ?? {}) as Record<string, unknown>
        const result: unknown =
          w.op === 'create'
            ? await kuzzle.document.create(c.index, c.collection, content, w.id)
            : w.op === 'update'
              ? await kuzzle.document.update(c.index, c.collection, w.id, content)
              : w.op === 'replace'
                ? await kuzzle.document.replace(c.index, c.collection, w.id, content)
                : await kuzzle.document.delete(c.index, c.collection, w.id)
        // The answer's `_kuzzle_info` is the revision its notification carries (a deletion's has none).
        const rev = result && typeof result === 'object' ? revisionOf((result as { _source?: unknown })._source) : undefined
        return rev === undefined ? {} : { rev }
      } catch (err) {
        throw toWriteError(err, what, c)
      }
    },

    /** Decided as the search's Elasticsearch query decides (see kuzzle/matcher.ts); undefined where it cannot be. */
    matcher(c: CollectionRef, spec: DriverSearchSpec) {
      checkRef(c)
      return kuzzleMatcher(spec)
    },

    queryKey(spec: DriverSearchSpec): string | undefined {
      // An untranslatable query gets no key: watch() then reports why.
      try {
        return JSON.stringify(queryFilter(spec))
      } catch {
        return undefined
      }
    },
  }
}
