import type { BackoffOptions } from './backoff'

import { EntryTable, collectionKey } from './entry-table'
import type { Origin } from './doc-state'
import { HydrationStore, type DehydratedState } from './hydration'
import { checkCollection, checkId, checkIds, checkIndex, checkLive, checkSize, checkSpec, counted } from './guards'
import { Observer, type ObserverHost } from './observer'
import { CollectionPool } from './pool'
import { QueryPool } from './query-pool'
import { RetryGate } from './retry-gate'
import { DEFAULT_WATCH_TIMEOUT } from './watch-timeout'
import { shareAcrossTabs, type ShareAcrossTabsOptions, type TabRole, type TabSharing } from './tabs/lazy-shared-driver'
import { ObserverSearchResult, type SearchHost, type SearchOptions } from './search-result'
import { normalizeSort } from './sort'
import type { IdWatchInspection } from './pool'
import type { QueryWatchInspection } from './query-pool'
import { collectionName, Tracer, type TraceListener } from './trace'
import type { CollectionRef, Doc, DocSource, Driver, DriverSearchSpec, Page, PageRequest, Rev, SearchSpec, SortKey } from './types'
import { ObservedError, asObservedError } from './types'
import { isPlainObject } from './patch'

/** Options of {@link ObserverClient}. */
export interface ObserverClientOptions {
  /** The backend: `memoryDriver()`, `kuzzleDriver(kuzzle)`, `sanityDriver(client)`. */
  driver: Driver
  /**
   * Wraps each new document container. The Vue plugin passes `reactive`, so that in-place replacement triggers
   * only the fields that changed. Default: identity.
   */
  wrap?: <T extends object>(value: T) => T
  /** How long a gap in a document's revision chain is waited for before it is read again (ms, default 1000). */
  gapTimeout?: number
  /** How long an unused id stays in its watch before the watch is narrowed (ms, default 100). */
  releaseDelay?: number
  /** Reconnection and retry delays. */
  backoff?: BackoffOptions
  /** Ids per watch, overriding the driver's limit (default: the driver's, else unbounded). */
  maxIdsPerWatch?: number
  /**
   * How long a watch may take to go live (ms, default 10 000; 0: no limit). Past it, its observers get a non-fatal
   * `watch_timeout` error with status `reconnecting`, and it is opened again with backoff. A first read (of a document
   * or a search's page) that has not answered after as long does the same while it stays in flight (a browser queues
   * requests beyond its connection limit behind open listeners).
   */
  watchTimeout?: number
  /**
   * What the server's client dehydrated (`client.dehydrate()`, carried in the page): documents and searches show it
   * at once, with status `pending` until their own read after the watch is up confirms it. See {@link ObserverClient.hydrate}.
   */
  initialState?: unknown
  /**
   * Tabs of one origin share one set of connections: one tab (the leader, chosen with the Web Locks API) runs the
   * driver's watches and reads for every tab, the others receive events and answers over a BroadcastChannel; when the
   * leader's tab closes or freezes another takes over and reads again what it observes. `true`, or options (channel
   * name, `onLeader` to open the backend's connection in the leader only, `onRoleChange`). Where the browser lacks
   * BroadcastChannel or Web Locks, each tab keeps its own connections. Its code is loaded only when this is set.
   */
  shareAcrossTabs?: boolean | ShareAcrossTabsOptions
}

/** Counters for tests, benchmarks and devtools. */
export interface ObserverClientStats {
  /** Documents held (shared by their observers). */
  documents: number
  /** Open driver watches by id. */
  idWatches: number
  /** Open driver watches by query. */
  queryWatches: number
}

/** A watch as {@link ObserverClient.inspect} shows it: an id watch (a shard of a pool) or a shared query watch. */
export type WatchInspection = IdWatchInspection | QueryWatchInspection

/** A held document as {@link ObserverClient.inspect} shows it. */
export interface DocumentInspection {
  collection: string
  id: string
  status: 'pending' | 'live' | 'reconnecting' | 'deleted' | 'error'
  rev: Rev | undefined
  /** The live content (not a copy: read it, do not change it); null when missing or not read yet. */
  content: DocSource | null
  /** Holders: observers and search hits sharing this document. */
  refs: number
  /**
   * Where the server's content shown came from (the document model's origins): its own `read`, an `event`, a search
   * `page`, `provisional` (a search's, until its own read lands), `hydration`; `none` before any.
   */
  provenance: Origin | 'none'
  /** Local writes shown on top of it and not confirmed yet. */
  pendingWrites: number
  error: ObservedError | null
  /** Reads the document again (devtools' action); resolves once the answer is applied. */
  refresh(): Promise<void>
}

/** A started search as {@link ObserverClient.inspect} shows it. */
export interface SearchInspection {
  /** The search itself, for actions (`refresh()`, `stop()`, `start()`). */
  search: ObserverSearchResult<object>
  collection: string
  query: unknown
  params: Record<string, unknown> | undefined
  filters: unknown
  sort: readonly SortKey[]
  live: 'hits' | 'query'
  /** Page size. */
  size: number
  /** Hits fetched so far (the window). */
  fetched: number
  hits: string[]
  total: number
  hasMore: boolean
  status: ObserverSearchResult['status']
  error: ObservedError | null
}

/** What {@link ObserverClient.inspect} returns: a read-only snapshot for devtools. */
export interface ObserverClientInspection {
  driver: string
  closed: boolean
  watches: WatchInspection[]
  documents: DocumentInspection[]
  searches: SearchInspection[]
}

/**
 * The framework-free observer client: `get`, `mGet` and `search` return live {@link Observer} and
 * {@link ObserverSearchResult} objects (the API of Kuzzle's Realtime Synchronization page) over any driver.
 * Documents and watches are shared between everything this client observes.
 */
export class ObserverClient {
  readonly driver: Driver
  private readonly table: EntryTable
  private readonly pools = new Map<string, CollectionPool>()
  private readonly queries: QueryPool
  /** One backoff for every failing watch: the client's connection(s) to the backend, not each query, backs off. */
  private readonly watchGate: RetryGate
  private get watchTimeout(): number {
    return this.options.watchTimeout ?? DEFAULT_WATCH_TIMEOUT
  }
  /**
   * `open`, then `closed` for good by `close()`: every started observer and search is stopped, no timer is left,
   * the driver is never called again, and starting anything throws a `closed` error.
   */
  private state: 'open' | 'closed' = 'open'
  /**
   * The searches started, so that `close()` can stop them. Started observers are not listed here (a Set slot each):
   * `close()` finds them as their documents' listeners.
   */
  private readonly started = new Set<{ stop(): void }>()
  /** One ref per collection, shared by its observers and entries (its key is cached per ref object). */
  private readonly refs = new Map<string, CollectionRef>()
  /** Per collection, one backoff for its failing search reads. */
  private readonly searchGates = new Map<string, RetryGate>()
  private readonly options: Required<Pick<ObserverClientOptions, 'releaseDelay'>> & ObserverClientOptions
  private readonly observerHost: ObserverHost
  private readonly hitHost: ObserverHost
  private readonly searchHost: SearchHost
  /** The core's decisions, for devtools: costs nothing until someone calls `onTrace`. */
  private readonly tracer = new Tracer()
  private readonly hydration: HydrationStore
  private readonly sharing: TabSharing | null

  constructor(options: ObserverClientOptions) {
    if (!options || typeof options.driver?.watch !== 'function') {
      throw new TypeError('ObserverClient needs a driver: new ObserverClient({ driver: memoryDriver() })')
    }
    this.options = { releaseDelay: 100, ...options }
    this.sharing = options.shareAcrossTabs ? shareAcrossTabs(options.driver, options.shareAcrossTabs) : null
    this.driver = this.sharing?.driver ?? options.driver
    const backoff = options.backoff ?? {}
    this.table = new EntryTable(this.driver, options.wrap ?? ((v) => v), options.gapTimeout ?? 1000, backoff, this.tracer, this.watchTimeout)
    this.watchGate = new RetryGate('probe', backoff)
    this.hydration = new HydrationStore(this.driver.name, options.wrap ?? ((v) => v))
    // A new document entry starts from the hydrated content, if any (taken once).
    this.table.onCreate = (entry) => {
      const hydrated = this.hydration.takeDoc(entry.ref, entry.id)
      if (hydrated) entry.hydrate(hydrated.content, hydrated.container, hydrated.rev)
    }
    if (options.initialState !== undefined) this.hydration.hydrate(options.initialState)
    this.queries = new QueryPool(this.driver, this.table, this.watchGate, this.watchTimeout, this.tracer)
    // Two hosts, so that an observer holds which kind it is without a field: with an id watch, or without one (a
    // live query's hit, which its query watch follows).
    const host = (watch: boolean): ObserverHost => ({
      acquire: (ref, id) => {
        this.assertOpen(`observe "${id}"`)
        const entry = this.table.acquire(ref, id)
        if (watch && entry.watchers++ === 0) this.pool(ref).add(id)
        return entry
      },
      release: (entry) => {
        if (watch && --entry.watchers === 0) this.pools.get(collectionKey(entry.ref))?.remove(entry.id)
        this.table.release(entry)
      },
      refetch: (entry) => this.table.refetch(entry),
    })
    this.observerHost = host(true)
    this.hitHost = host(false)
    this.searchHost = {
      driver: this.tracedSearches(),
      backoff,
      readTimeout: this.watchTimeout,
      started: (search) => {
        this.assertOpen('start a search')
        this.started.add(search)
      },
      stopped: (search) => this.started.delete(search),
      readGate: (ref) => {
        const key = collectionKey(ref)
        let gate = this.searchGates.get(key)
        if (!gate) this.searchGates.set(key, (gate = new RetryGate('probe', backoff)))
        return gate
      },
      currentSeq: () => this.table.currentSeq,
      observe: <T extends object>(ref: CollectionRef, id: string, watch: boolean) => new Observer<T>(watch ? this.observerHost : this.hitHost, ref, id).start(),
      offer: (observer, doc, seq, event) => this.table.peek(observer.ref, observer._id)?.offer(doc, seq, event),
      provenance: (observer) => {
        const known = this.table.peek(observer.ref, observer._id)?.docState.known
        return known && (known.kind !== 'unknown' ? known.from : known.forgotten ? 'forgotten' : 'none')
      },
      joinQuery: (ref, spec, listener) => this.queries.join(ref, spec, listener),
      readAgain: (ref, reason) => this.tracer.active && this.tracer.emit({ type: 'resync', collection: collectionName(ref), reason }),
      applyEvent: (observer, e, applied) => this.table.peek(observer.ref, observer._id)?.applyEvent(e, applied),
      onLocal: (ref, listener) => this.table.onLocal(ref, listener),
      pendingIn: (ref, at) => this.table.pendingIn(ref, at),
      pendingOf: (ref, id) => this.table.pendingOf(ref, id),
    }
  }

  /** A live document, started. `await observer.ready()` waits for its first data. */
  get<T extends object = DocSource>(index: string, collection: string, id: string): Observer<T> {
    return this.observer<T>(index, collection, id).start()
  }

  /** Live documents, started; they share one watch and one read. */
  mGet<T extends object = DocSource>(index: string, collection: string, ids: string[]): Observer<T>[] {
    const ref = this.ref(index, collection)
    return checkIds(ids).map((id) => new Observer<T>(this.observerHost, ref, this.docId(id)).start())
  }

  /** A live document, not started yet (call `start()`). */
  observer<T extends object = DocSource>(index: string, collection: string, id: string): Observer<T> {
    return new Observer<T>(this.observerHost, this.ref(index, collection), this.docId(id))
  }

  /** A live search, started. `await result.ready()` waits for its first page. */
  search<T extends object = DocSource>(
    index: string,
    collection: string,
    search: SearchSpec = {},
    options: SearchOptions = {},
  ): ObserverSearchResult<T> {
    return this.searchResult<T>(index, collection, search, options).start()
  }

  /** A live search, not started yet (call `start()`). */
  searchResult<T extends object = DocSource>(
    index: string,
    collection: string,
    search: SearchSpec = {},
    options: SearchOptions = {},
  ): ObserverSearchResult<T> {
    const ref = this.ref(index, collection)
    checkSpec(search)
    const size = checkSize(options.size)
    const live = checkLive(options.live)
    return new ObserverSearchResult<T>(this.searchHost, ref, this.driverSpec(search), { size, live })
  }

  /**
   * Creates a document (with `id`, or an id made here): observers of it show it at once, pending until the server
   * confirms it. Resolves with its id; rejects with an `ObservedError` (`conflict` when the id exists,
   * `bad_argument` before any request for bad input) and rolls the shown content back.
   */
  async create<T extends object = DocSource>(index: string, collection: string, content: T, id?: string): Promise<string> {
    this.assertOpen('create a document')
    const ref = this.ref(index, collection)
    const docId = id === undefined ? newDocumentId() : this.docId(id)
    if (!isPlainObject(content)) throw new ObservedError('bad_argument', `create needs a plain object, got ${content === null ? 'null' : typeof content}`)
    // Through the document's entry, so that its observers and the live searches it matches show it at once (the
    // write holds the entry until the server answers).
    const entry = this.table.acquire(ref, docId)
    const written = entry.write('create', content as DocSource)
    this.table.release(entry)
    await written
    return docId
  }

  /** Reads a document once, without observing it (server-side rendering). */
  async read(index: string, collection: string, id: string): Promise<Doc | null> {
    this.assertOpen('read')
    const ref = this.ref(index, collection)
    const docId = this.docId(id)
    const at = Date.now()
    const doc = await this.driver.get(ref, docId)
    this.hydration.recordDoc(ref, docId, doc, at)
    return doc
  }

  /**
   * Runs a search once, without observing it (server-side rendering): the first page, with `total` and `hasMore`
   * as a live search would show them for it.
   */
  async readSearch(
    index: string,
    collection: string,
    search: SearchSpec = {},
    options: { size?: number } = {},
  ): Promise<{ hits: Doc[]; total: number; hasMore: boolean }> {
    this.assertOpen('search')
    checkSpec(search)
    const ref = this.ref(index, collection)
    const spec = this.driverSpec(search)
    const size = checkSize(options.size)
    const at = Date.now()
    const page = await this.driver.search(ref, spec, { from: 0, size })
    if (!page || !Array.isArray(page.hits)) throw new ObservedError('read_failed', 'search did not return { hits, total }')
    this.hydration.recordSearch(ref, spec, size, page.hits, page.total, at)
    const { total, uncounted } = counted(page.total, page.hits.length, size)
    return { hits: page.hits, total, hasMore: page.hits.length < total || uncounted }
  }

  /**
   * Everything `read` and `readSearch` returned (server-side rendering), as a versioned, serialisable payload for the
   * browser's client (`initialState` or `hydrate`). Inline it in HTML with `serializeState` (devalue), not JSON.
   * Everything this client read is in it: on a server, use one client (one `createObserver`) per request.
   */
  dehydrate(): DehydratedState {
    return this.hydration.dehydrate()
  }

  /**
   * Takes a server's payload: documents and searches observed from now on show it at once (status `pending`), and
   * their first read after the watch is up replaces only what differs. A payload of another version or shape is
   * ignored with one console warning. Returns whether it was taken.
   */
  hydrate(payload: unknown): boolean {
    return this.hydration.hydrate(payload)
  }

  /**
   * The hydrated content of a document, if any is waiting, without taking it: the very container its entry will hold,
   * or (`wrapped: false`) the frozen value it will show, which is what a search's rows show before the search's
   * first read. `null`: the server found it missing.
   */
  hydratedSource(index: string, collection: string, id: string, wrapped = true): DocSource | null | undefined {
    const ref = this.ref(index, collection)
    // Taken already by an entry (another composable observes it): that entry's content is the one shown.
    const entry = this.table.peek(ref, id)
    if (entry?.plain) return wrapped ? entry.source : entry.plain
    return this.hydration.peekSource(ref, id, wrapped)
  }

  /** The hydrated first page of a search (its key, hit ids, total, window size), if the server read it. */
  hydratedSearch(index: string, collection: string, search: SearchSpec = {}, options: { size?: number } = {}) {
    checkSpec(search)
    return this.hydration.search(this.ref(index, collection), this.driverSpec(search), checkSize(options.size))
  }

  /** Forgets a hydrated search once confirmed: a later search of the same key reads afresh. */
  confirmHydratedSearch(key: string): void {
    this.hydration.dropSearch(key)
  }

  /**
   * This tab's part in `shareAcrossTabs`: `leader` (it holds the connections), `follower`, `starting`, or `alone`
   * (not sharing: the option is off or the browser lacks the APIs).
   */
  get tabRole(): TabRole {
    return this.sharing?.role ?? 'alone'
  }

  /** True once `close()` was called. */
  get isClosed(): boolean {
    return this.state === 'closed'
  }

  stats(): ObserverClientStats {
    let idWatches = 0
    for (const pool of this.pools.values()) idWatches += pool.watchCount
    return { documents: this.table.size, idWatches, queryWatches: this.queries.watchCount }
  }

  /**
   * Listens to the core's decisions (events received, reads, watches, what the revision chain did with each event),
   * synchronously as they happen; returns a function that stops listening. Nothing is kept for listeners: they
   * bound what they keep. Tracing costs nothing while nobody listens.
   */
  onTrace(listener: TraceListener): () => void {
    return this.tracer.on(listener)
  }

  /** A snapshot of the client's watches, documents and started searches, for devtools. */
  inspect(): ObserverClientInspection {
    const watches: WatchInspection[] = []
    for (const pool of this.pools.values()) watches.push(...pool.inspect())
    watches.push(...this.queries.inspect())
    const documents: DocumentInspection[] = []
    for (const entry of this.table.all()) {
      documents.push({
        collection: collectionName(entry.ref),
        id: entry.id,
        status: entry.status,
        rev: entry.rev,
        content: entry.plain,
        refs: entry.refs,
        provenance: entry.docState.known.kind === 'unknown' ? 'none' : entry.docState.known.from,
        pendingWrites: entry.docState.pending.length,
        error: entry.error,
        refresh: () => {
          if (this.isClosed || entry.refs === 0) return Promise.resolve()
          this.table.refetch(entry)
          return entry.whenSynced()
        },
      })
    }
    const searches: SearchInspection[] = []
    for (const owner of this.started) {
      if (!(owner instanceof ObserverSearchResult)) continue
      const search = owner as ObserverSearchResult<object>
      searches.push({
        search,
        collection: collectionName(search.ref),
        query: search.spec.query,
        params: search.spec.params,
        filters: search.spec.filters,
        sort: search.spec.sort,
        live: search.live,
        size: search.size,
        fetched: search.fetched,
        hits: search.hits.map((h) => h._id),
        total: search.total,
        hasMore: search.hasMore,
        status: search.status,
        error: search.error,
      })
    }
    return { driver: this.driver.name, closed: this.isClosed, watches, documents, searches }
  }

  /** The driver as searches see it: their page reads and counts are traced. */
  private tracedSearches(): Driver {
    const driver = this.driver
    const tracer = this.tracer
    const traced: Driver = Object.create(driver)
    Object.defineProperty(traced, 'search', {
      value: (ref: CollectionRef, spec: DriverSearchSpec, page: PageRequest): Promise<Page> => {
        if (!tracer.active) return driver.search(ref, spec, page)
        const base = { collection: collectionName(ref), from: page.from, size: page.size }
        tracer.emit({ type: 'search', phase: 'sent', ...base })
        return driver.search(ref, spec, page).then(
          (result) => {
            tracer.emit({ type: 'search', phase: 'answered', ...base, hits: result?.hits?.length, total: result?.total })
            return result
          },
          (err: unknown) => {
            tracer.emit({ type: 'search', phase: 'failed', ...base, error: asObservedError(err, 'read_failed') })
            throw err
          },
        )
      },
    })
    return traced
  }

  /**
   * Stops every observer and search of this client (their status becomes `stopped`) and closes every watch. Nothing
   * of the client runs afterwards: no timer, no driver call; `start()` throws. Safe to call twice.
   */
  close(): void {
    if (this.state === 'closed') return
    this.state = 'closed'
    for (const search of [...this.started]) search.stop()
    this.started.clear()
    // Then every observer still started, found through the documents it holds.
    for (const entry of [...this.table.all()]) for (const observer of entry.listeners) observer.stop()
    for (const pool of this.pools.values()) pool.dispose()
    this.pools.clear()
    this.queries.dispose()
    this.table.dispose()
    this.watchGate.dispose()
    for (const gate of this.searchGates.values()) gate.dispose()
    this.sharing?.close()
  }

  private assertOpen(what: string): void {
    if (this.state === 'closed') {
      throw new ObservedError('closed', `Cannot ${what}: this observer client was closed (client.close(), or its app unmounted)`)
    }
  }

  /** An id both the core and the backend accept. */
  private docId(id: unknown): string {
    const checked = checkId(id)
    this.driver.checkId?.(checked)
    return checked
  }

  /** The collection's ref, one object per collection for every observer of it (frozen: it is shared). */
  private ref(index: string, collection: string): CollectionRef {
    const i = checkIndex(index)
    const c = checkCollection(collection)
    const key = `${i}\u0000${c}`
    let ref = this.refs.get(key)
    if (!ref) {
      // Bounded, for apps that make up collection names: forgetting one only costs a new object for its next observer.
      if (this.refs.size >= MAX_REFS) this.refs.delete(this.refs.keys().next().value!)
      this.refs.set(key, (ref = Object.freeze({ index: i, collection: c })))
    }
    return ref
  }

  private driverSpec(search: SearchSpec): DriverSearchSpec {
    return { query: search.query, sort: normalizeSort(search.sort), params: search.params, filters: search.filters }
  }

  private pool(ref: CollectionRef): CollectionPool {
    const key = collectionKey(ref)
    let pool = this.pools.get(key)
    if (!pool) {
      const created: CollectionPool = new CollectionPool(ref, this.driver, this.table, {
        maxIds: this.options.maxIdsPerWatch ?? this.driver.maxIdsPerWatch ?? Infinity,
        releaseDelay: this.options.releaseDelay,
        gate: this.watchGate,
        watchTimeout: this.watchTimeout,
        tracer: this.tracer,
        onEmpty: () => {
          if (this.pools.get(key) === created) this.pools.delete(key)
        },
      })
      this.pools.set(key, (pool = created))
    }
    return pool
  }
}

/** Collection refs remembered per client. */
const MAX_REFS = 256

/**
 * A new document id made in the client (as Firestore's are), so that the document can be shown before it exists: 128
 * random bits in hex, from `getRandomValues` (unlike `randomUUID`, available outside secure contexts too).
 */
function newDocumentId(): string {
  const bytes = globalThis.crypto.getRandomValues(new Uint8Array(16))
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')
}
