import { startReadClock } from './watch-timeout'
import { backoffDelay, type BackoffOptions } from './backoff'
import { Emitter } from './emitter'
import type { Observer } from './observer'
import type { JoinedQuery, QueryListener } from './query-pool'
import { counted, countOf } from './guards'
import type { RetryGate } from './retry-gate'
import { comparator } from './sort'
import type { CollectionRef, Doc, DocEvent, DocSource, Driver, DriverSearchSpec, Page, Rev } from './types'
import { ObservedError } from './types'

/**
 * How a search stays live. `hits`: the documents returned are observed by id (Kuzzle SDK's behaviour).
 * `query`: documents that start matching appear and those that stop matching disappear, in the query's sort.
 */
export type LiveMode = 'hits' | 'query'

export type SearchStatus = 'idle' | 'pending' | 'live' | 'reconnecting' | 'stopped' | 'error'

/** Options of a search. */
export interface SearchOptions {
  /** Page size (default 20). */
  size?: number
  /** See {@link LiveMode}; default `hits`. */
  live?: LiveMode
}

/** Events of an {@link ObserverSearchResult}. */
export interface SearchEvents<T extends object> {
  /** A hit's content changed. */
  change: (id: string, source: T, changes: string[]) => void
  /** A hit was deleted (and removed from `hits`). */
  delete: (id: string) => void
  /** An error on one hit (`id`) or on the search itself (`id` null). */
  error: (id: string | null, err: ObservedError) => void
  /** `live: 'query'`: a document started matching and entered `hits`. */
  appear: (id: string, source: T) => void
  /** `live: 'query'`: a document stopped matching and left `hits`. */
  disappear: (id: string) => void
  /** `hits` (a new array), `total` or their order changed. */
  hits: (hits: Observer<T>[]) => void
  /** A hit's `pending` changed: a local write of it started, or its last one was confirmed or refused. */
  pending: (id: string, pending: boolean) => void
  status: (status: SearchStatus) => void
}

/** What a search needs from its client. */
export interface SearchHost {
  readonly driver: Driver
  readonly backoff: BackoffOptions
  /** How long a first page may take before the search says `reconnecting` (watch_timeout); 0: no limit. */
  readonly readTimeout?: number
  /** Counts the search as started, so that closing the client stops it; throws a `closed` error once closed. */
  started(search: { stop(): void }): void
  /** The search stopped. */
  stopped(search: { stop(): void }): void
  /** The backoff shared by the failing search reads of a collection: one probe per step, not one per search. */
  readGate(ref: CollectionRef): RetryGate
  /** Sequence number of the last event received, to order reads against events. */
  currentSeq(): number
  /** A started observer for a hit; `watch` false when the search's own query watch follows it. */
  observe<T extends object>(ref: CollectionRef, id: string, watch: boolean): Observer<T>
  /** Gives a hit the content a search read (or `event` carried), unless something newer arrived since `seq` (then true). */
  offer(observer: { readonly ref: CollectionRef; readonly _id: string }, doc: Doc, seq: number, event?: DocEvent): boolean | undefined
  /** The revision a held document is at. */
  revision(observer: { readonly ref: CollectionRef; readonly _id: string }): Rev | undefined
  /** True when a held document's content comes from its own read rather than from an event or a search. */
  fromRead(observer: { readonly ref: CollectionRef; readonly _id: string }): boolean
  joinQuery(ref: CollectionRef, spec: DriverSearchSpec, listener: QueryListener): JoinedQuery
  /** Tells `listener` of local writes (and their rollbacks) in `ref`'s collection; returns the unsubscribe. */
  onLocal(ref: CollectionRef, listener: (doc: LocalDoc, before: DocSource | null, after: DocSource | null) => void): () => void
  /** The documents of `ref`'s collection with local writes the server has not answered yet. */
  pendingIn(ref: CollectionRef): Iterable<LocalDoc>
  /** Traces a decision to read again (devtools), when someone listens. */
  readAgain?(ref: CollectionRef, reason: string): void
  /** Passes an event to a held document, which orders it and calls `applied` once it is applied. */
  applyEvent(
    observer: { readonly ref: CollectionRef; readonly _id: string },
    e: DocEvent,
    applied: (e: DocEvent, superseded?: boolean) => void,
  ): void
}

/** A document with local writes, as a search places it: by what it shows, against what the server stores. */
export interface LocalDoc {
  readonly id: string
  /** A local write of it is not confirmed yet. */
  readonly pending: boolean
  /** The server's content with the pending writes on top (null: removed). */
  readonly visible: DocSource | null
  /** What the server stores as far as known: its last word with the writes it answered (null: missing or unknown). */
  readonly remote: DocSource | null
}

/** Membership events buffered while a read is in flight; past this the search is read again instead. */
const MAX_BUFFERED = 10_000
/**
 * Per-document memory of a search beyond its hits is capped, so that it is bounded by the window plus a fixed
 * allowance whatever the history (issue 13: 20,000 documents created then deleted). The oldest entries go first;
 * what forgetting one costs is said where each structure is defined.
 */
/** Documents outside the hits whose last event is remembered, to drop stale ones. */
export const MAX_OUTSIDE = 2_000
/** Hits removed by their delete whose news of leaving the query has not come yet. */
export const MAX_REMOVED = 1_000

/** Key of the test-only view of a search's per-document memory (not exported by the package). */
export const memoryStats = Symbol('memoryStats')

/**
 * A live search: `hits` are observers in the query's sort order, `total` the number of matches. Emits a new
 * `hits` array whenever membership or order changes; a hit's content changes in place.
 */
export class ObserverSearchResult<T extends object = DocSource> extends Emitter<SearchEvents<T>> {
  /** The documents fetched so far, in sort order. Replaced by a new array on every membership or order change. */
  hits: Observer<T>[] = []
  /**
   * Number of documents matching the query. When the backend's count is unusable (not a finite, non-negative
   * integer), the number of hits fetched: a lower bound, with `hasMore` telling whether the last page was full.
   */
  total = 0
  readonly size: number
  readonly live: LiveMode

  private readonly compare: (a: { _id: string; _source: unknown }, b: { _id: string; _source: unknown }) => number
  private readonly sortFields: Set<string>
  private byId = new Map<string, { hit: Observer<T>; offs: Array<() => void> }>()
  private stopped = true
  private loaded = false
  private _status: SearchStatus = 'stopped'
  private _error: ObservedError | null = null
  private query: JoinedQuery | null = null
  private loadToken = 0
  private loading: Promise<Observer<T>[]> | null = null
  /** The read in flight replaces the window (start, refresh, resync, refill) rather than appending a page. */
  private loadingReplace = false
  /** A page's answer is being applied: the page places its hits (a phase of the read, not of the hits). */
  private applyingPage = false
  /** Membership events received during a read, with the sequence number they arrived at. */
  private buffered: Array<readonly [DocEvent, number]> | null = null
  private overflowed = false
  private after: unknown
  private retryTimer?: ReturnType<typeof setTimeout>
  private countTimer?: ReturnType<typeof setTimeout>
  /** How many hits the search shows: `size`, grown by each `next()`. */
  private window = 0
  private refillQueued = false
  /** Reads again in a row because hits were newer than the page. */
  private newerReads = 0
  /** Live query: the shared watch has been ready since this search started (or since it last went offline). */
  private watchLive = false
  /** The last page was full but its total was no count: more matches may exist, how many is unknown. */
  private uncounted = false
  /**
   * Hits removed by their delete, until the query watch's news that they left (already counted off) comes. At most
   * MAX_REMOVED, oldest forgotten first: news for a forgotten one counts it off again, and the recount that follows
   * (a read) corrects the total.
   */
  private removedByDelete = new Set<string>()
  /**
   * Last event seen for documents not held: events for them have no entry to order them. At most MAX_OUTSIDE,
   * oldest forgotten first; once one is forgotten (`forgot`), a late event could pass for news, so a document that
   * appears is confirmed by a read of its own.
   */
  private outside = new Map<string, { rev?: Rev; previousRev?: Rev | null }>()
  private forgot = false
  /** Live query: the driver's client-side test of the query, once it has one (places local writes, issue 16). */
  private matcher?: (source: DocSource, id: string) => boolean
  private offLocal?: () => void

  constructor(
    private readonly host: SearchHost,
    readonly ref: CollectionRef,
    readonly spec: DriverSearchSpec,
    options: SearchOptions = {},
  ) {
    super()
    this.size = options.size ?? 20
    this.live = options.live ?? 'hits'
    this.compare = comparator(spec.sort)
    this.sortFields = new Set(spec.sort.map((k) => k.field.split('.')[0]))
  }

  /** Number of hits fetched so far. */
  get fetched(): number {
    return this.hits.length
  }

  /** True when more matches exist than are fetched: call `next()`. */
  get hasMore(): boolean {
    return this.hits.length < this.total || this.uncounted
  }

  get status(): SearchStatus {
    return this._status
  }

  get error(): ObservedError | null {
    return this._error
  }

  get isActive(): boolean {
    return !this.stopped
  }

  /** Starts: subscribes first (live query), then reads the first page. Does nothing if already started. */
  start(): this {
    if (!this.stopped) return this
    this.host.started(this)
    this.stopped = false
    this.loaded = false
    this.watchLive = false
    this.setStatus('pending')
    if (this.live === 'query') {
      this.query = this.host.joinQuery(this.ref, this.spec, {
        ready: (resync) => this.watchReady(resync),
        membership: (e) => this.membership(e),
        offline: () => {
          this.watchLive = false
          this.setStatus('reconnecting')
        },
        error: (err) => {
          this.watchLive = false
          this.fail(err)
        },
      })
      this.offLocal = this.host.onLocal(this.ref, (doc, before, after) => this.localChanged(doc, before, after))
    } else {
      void this.load(true)
    }
    return this
  }

  /** Stops following; releases every hit and the shared query watch. Safe to call twice. */
  stop(): void {
    if (this.stopped) return
    this.stopped = true
    this.loadToken++
    this.loading = null
    this.buffered = null
    clearTimeout(this.retryTimer)
    clearTimeout(this.countTimer)
    this.host.readGate(this.ref).forget(this)
    this.host.stopped(this)
    this.query?.leave()
    this.query = null
    this.offLocal?.()
    this.offLocal = undefined
    for (const id of [...this.byId.keys()]) this.release(id)
    this.hits = []
    this.window = 0
    this.uncounted = false
    this.removedByDelete.clear()
    this.outside.clear()
    this.forgot = false
    this.setStatus('stopped')
    this.emit('hits', this.hits)
  }

  /** Fetches the next page and appends it; resolves with the hits added. */
  next(): Promise<Observer<T>[]> {
    if (this.stopped || !this.loaded) return Promise.resolve([])
    if (this.loading) return this.loading
    if (!this.hasMore) return Promise.resolve([])
    return this.load(false)
  }

  /** Reads the search again (as many hits as fetched so far) and reconciles. */
  refresh(): Promise<Observer<T>[]> {
    if (this.stopped) return Promise.resolve([])
    return this.load(true)
  }

  /** Resolves once the first page is there, or the search failed or stopped. */
  ready(): Promise<this> {
    if (this._status !== 'pending') return Promise.resolve(this)
    return new Promise((resolve) => {
      const off = this.on('status', (s) => {
        if (s === 'pending') return
        off()
        resolve(this)
      })
    })
  }

  private watchReady(resync: boolean): void {
    // A page read before the watch was first live (refresh() or next() early) may miss what changed until then.
    const first = !this.watchLive
    this.watchLive = true
    if (!this.loaded || resync || first) {
      // Events buffered for a read still in flight came before the watch missed some (offline, reset): the read
      // made now supersedes them, and replaying them after it would undo what the missed ones did (a lost delete).
      if (resync || first) this.buffered = null
      void this.load(true)
    } else this.setStatus('live')
  }

  private load(replace: boolean): Promise<Observer<T>[]> {
    // An append (next(), or its retry) asked while the window is read again goes out after that read: it would read
    // past a window about to change, and supersede the read that changes it (kuzzle seed 912694: a failed next()'s retry
    // discarded the resync read, and a hit kept content older than the server's).
    if (!replace && this.loading && this.loadingReplace) {
      return this.loading.then(() => (this.stopped || !this.loaded ? [] : this.load(false)))
    }
    this.loadingReplace = replace
    const token = ++this.loadToken
    const promise = this.read(replace, token).finally(() => {
      if (this.loading === promise) this.loading = null
    })
    this.loading = promise
    return promise
  }

  private async read(replace: boolean, token: number): Promise<Observer<T>[]> {
    clearTimeout(this.retryTimer)
    const seq = this.host.currentSeq()
    if (this.live === 'query') this.buffered ??= []
    const from = replace ? 0 : this.hits.length
    const size = replace ? Math.max(this.hits.length, this.size, this.window) : this.size
    // A document that local writes took out of the window still matches on the server: read past it.
    const spare = this.live === 'query' && replace ? count(this.host.pendingIn(this.ref)) : 0
    let page: Page
    // A first page that does not answer (queued behind a browser's connection limit) must not leave the search
    // `pending` without a word: past the watch timeout it says `reconnecting` and what to check; the read goes on.
    const clock =
      this._status === 'pending'
        ? startReadClock(this.host.readTimeout ?? 0, this.host.driver.name, this.ref, (err) => {
            if (token === this.loadToken && !this.stopped && this._status === 'pending') this.fail(err)
          })
        : undefined
    try {
      page = await this.host.driver.search(this.ref, this.spec, { from, size: size + spare, after: replace ? undefined : this.after })
      if (!page || !Array.isArray(page.hits)) throw new TypeError('search did not return { hits, total }')
    } catch (err) {
      clearTimeout(clock)
      if (token !== this.loadToken || this.stopped) return []
      this.loading = null
      this.buffered = null
      const error =
        err instanceof ObservedError && err.code !== 'watch_failed'
          ? err
          : new ObservedError('read_failed', `Search in ${this.ref.index}/${this.ref.collection} failed: ${(err as Error)?.message ?? err}`, { cause: err })
      this.fail(error)
      if (!error.fatal && error.code !== 'unsupported_query' && error.code !== 'bad_argument') {
        this.host.readGate(this.ref).fail(this, () => void this.load(replace), error)
      }
      return []
    }
    clearTimeout(clock)
    if (token !== this.loadToken || this.stopped) return []
    this.loading = null
    this.host.readGate(this.ref).succeed()
    const added: Observer<T>[] = []
    const seen = new Set<string>()
    let newer = false
    const next = replace ? [] : [...this.hits]
    // While the page is applied its hits are placed by it, not moved one by one as their content changes (sanity seed
    // 18: a hit the page moved was released as sorting past the previous window, and the page's match went missing).
    this.applyingPage = true
    try {
      for (const doc of page.hits) {
        if (!doc || typeof doc._id !== 'string' || seen.has(doc._id)) continue
        seen.add(doc._id)
        this.query?.read(doc._id, doc._rev)
        const held = this.byId.get(doc._id)
        if (held && !replace) continue
        const hit = held?.hit ?? this.hold(doc._id)
        // The document knows newer content than the page, with other sort values: the page placed it by old ones.
        if (this.host.offer(hit, doc, seq) && hit._source && this.compare(doc, hit) !== 0) newer = true
        next.push(hit)
        if (!held) added.push(hit)
      }
    } finally {
      this.applyingPage = false
    }
    if (replace) for (const hit of this.hits) if (!seen.has(hit._id)) this.release(hit._id)
    this.hits = next.filter((h) => h._source !== null).sort(this.compare as (a: Observer<T>, b: Observer<T>) => number)
    // Hits whose document is known deleted since the page was read: the page counted them, they no longer match.
    // (A hit released while offered, its new content sorting past the window, still matches and counts.)
    const deleted = next.filter((h) => h._source === null && h.isActive)
    const gone = deleted.length
    if (this.live === 'query') {
      for (const h of deleted) {
        this.rememberOutside(h._id, this.host.revision(h))
        this.release(h._id)
      }
    }
    ;({ total: this.total, uncounted: this.uncounted } = counted(page.total, page.hits.length, size + spare, this.hits.length, gone))
    this.after = page.after
    this.window = replace ? size : this.window + size
    this.loaded = true
    if (this.live === 'query') this.overlayLocal()
    const buffered = this.buffered
    this.buffered = null
    if (buffered) for (const [e, at] of buffered) this.replay(e, at)
    const short = this.hits.length < this.window
    if (this.overflowed) {
      this.overflowed = false
      void this.load(true)
    } else if ((newer || short) && this.live === 'query' && this.hasMore && this.newerReads < 3) {
      // A hit's newer content may sort after matches not fetched, or a hit that left during the read (deleted,
      // moved past the window) left room for one: read again once the backend has it (a search index may lag
      // behind its notifications, so a few times at most, spaced by the backoff).
      this.retryTimer = setTimeout(() => void this.load(true), backoffDelay(this.newerReads++, this.host.backoff))
    } else if (!newer && !short) this.newerReads = 0
    this._error = null
    this.setStatus('live')
    this.emit('hits', this.hits)
    return added
  }

  private hold(id: string): Observer<T> {
    const hit = this.host.observe<T>(this.ref, id, this.live === 'hits')
    const offs = [
      hit.on('change', (source, changes) => this.hitChanged(hit, source, changes)),
      hit.on('delete', () => this.hitDeleted(hit)),
      hit.on('error', (err) => this.emit('error', id, err)),
      hit.on('pending', (p) => this.emit('pending', id, p)),
    ]
    this.byId.set(id, { hit, offs })
    return hit
  }

  private release(id: string): void {
    const held = this.byId.get(id)
    if (!held) return
    this.byId.delete(id)
    for (const off of held.offs) off()
    held.hit.stop()
  }

  private rememberOutside(id: string, rev: Rev | undefined, previousRev?: Rev | null): void {
    if (rev === undefined) return
    this.remember(id, rev, previousRev)
  }

  private remember(id: string, rev: Rev | undefined, previousRev: Rev | null | undefined): void {
    this.outside.delete(id)
    this.outside.set(id, { rev, previousRev })
    if (this.outside.size > MAX_OUTSIDE) {
      this.outside.delete(this.outside.keys().next().value!)
      this.forgot = true
    }
  }

  private hitChanged(hit: Observer<T>, source: T, changes: string[]): void {
    this.emit('change', hit._id, source, changes)
    if (this.applyingPage) return
    // Content a read gave (a gap, a document seen again) may no longer match, and no query watch says so: read again.
    if (this.live === 'query' && this.host.fromRead(hit)) this.reloadSoon()
    if (!this.sortFields.size || !changes.some((c) => this.sortFields.has(c))) return
    const i = this.hits.indexOf(hit)
    if (i < 0) return
    const hits = this.hits
    const before = i > 0 && this.compare(hits[i - 1], hit) > 0
    const after = i < hits.length - 1 && this.compare(hit, hits[i + 1]) > 0
    // The last hit of a window with more matches beyond it may now sort after one of those, even if it did not move.
    const edge = this.live === 'query' && this.hasMore && i === hits.length - 1
    if (!before && !after && !edge) return
    const rest = hits.slice(0, i).concat(hits.slice(i + 1))
    const at = this.insertionPoint(rest, hit)
    if (this.live === 'query' && this.hasMore && at === rest.length) {
      // It now sorts past the last fetched hit: it may belong to a page not fetched yet.
      this.hits = rest
      this.release(hit._id)
      this.refill()
    } else {
      rest.splice(at, 0, hit)
      this.hits = rest
    }
    this.emit('hits', this.hits)
  }

  private hitDeleted(hit: Observer<T>): void {
    if (!this.byId.has(hit._id)) return
    // Gone by a local removal the server has not answered: placed by `localChanged`, which the entry calls next.
    if (this.live === 'query' && hit.pending && this.matches() && this.removedLocally(hit._id)) return
    // A hit being offered (a page read, an appearance) is not counted yet: only a shown one counts off.
    if (this.hits.includes(hit)) {
      this.hits = this.hits.filter((h) => h !== hit)
      this.total = Math.max(0, this.total - 1)
      if (this.live === 'query') this.recount()
    }
    if (this.live === 'query') {
      this.removedByDelete.add(hit._id)
      if (this.removedByDelete.size > MAX_REMOVED) this.removedByDelete.delete(this.removedByDelete.values().next().value!)
      // Once out of the hits, only this remembers how recent it is: a late, older event must not bring it back.
      this.rememberOutside(hit._id, this.host.revision(hit))
    }
    this.release(hit._id)
    this.emit('delete', hit._id)
    this.emit('hits', this.hits)
    this.refill()
  }

  /**
   * Live query: a hit left while more documents match than are shown, so the next match moves up into the
   * window. Only the backend knows which one: read the window again.
   */
  private refill(): void {
    if (this.live !== 'query' || this.refillQueued || !this.hasMore || this.hits.length >= this.window) return
    this.refillQueued = true
    this.host.readAgain?.(this.ref, 'a hit left the window: refill it')
    queueMicrotask(() => {
      this.refillQueued = false
      if (!this.stopped && this.loaded && this.hasMore && this.hits.length < this.window) void this.load(true)
    })
  }

  /**
   * An event that arrived while the page was read: a document held now gets it through its entry (which drops it
   * if the page was newer), the others go straight to membership.
   */
  private replay(e: DocEvent, at: number): void {
    const held = this.byId.get(e.id)
    if (held) this.host.applyEvent(held.hit, e, this.replayed)
    else this.membership(e, at)
  }

  /** Membership of a replayed event once its document applied it; a read that superseded it means read again. */
  private readonly replayed = (e: DocEvent, superseded?: boolean) => {
    if (!superseded) this.membership(e)
    else this.reloadSoon()
  }

  private reloadQueued = false

  private reloadSoon(): void {
    if (this.reloadQueued) return
    this.reloadQueued = true
    this.host.readAgain?.(this.ref, 'membership unknown (a read superseded an event, or content a read gave changed)')
    queueMicrotask(() => {
      this.reloadQueued = false
      if (!this.stopped) void this.load(true)
    })
  }

  /** True when an event for a document outside the hits is older than one already seen for it. */
  private staleOutside(e: DocEvent): boolean {
    const last = this.outside.get(e.id)
    if (e.rev !== undefined && last?.rev !== undefined) {
      const numeric = typeof e.rev === 'number' && typeof last.rev === 'number'
      const stale = numeric ? (e.rev as number) <= (last.rev as number) : e.rev === last.rev || e.rev === last.previousRev
      // Older than an event already seen for it; anything newer is remembered below.
      if (stale) {
        // News that it matches, older only by a clock (no chain places it): a late event, or the one remembered
        // came from the future (a hostile server). The backend decides, rather than the clock.
        if (numeric && e.rev !== last.rev && e.previousRev === undefined && e.kind === 'upsert' && e.inQuery !== false) this.reloadSoon()
        return true
      }
    }
    this.remember(e.id, e.rev, e.previousRev)
    return false
  }

  /** Live query: a document matched the query before or after a change (already applied in revision order). */
  private membership(e: DocEvent, at = this.host.currentSeq()): void {
    if (this.stopped) return
    if (this.buffered) {
      if (this.buffered.length < MAX_BUFFERED) this.buffered.push([e, at])
      else this.overflowed = true
      return
    }
    const held = this.byId.get(e.id)
    // What was last seen of it outside the hits: news that does not continue it is not placed by its chain.
    const seen = held ? undefined : this.outside.get(e.id)
    if (!held && this.staleOutside(e)) {
      // Already seen: the news of the delete that removed a hit, say, which is counted off already.
      this.removedByDelete.delete(e.id)
      return
    }
    const inQuery = e.kind !== 'delete' && e.inQuery !== false
    if (!inQuery) {
      // A hit that its local writes keep matching stays until they are confirmed or refused.
      if (held && this.localMatch(held.hit) === true) return
      if (held) {
        // A hit being offered (its appearance, a page) applied this on the way: it was not counted yet.
        const shown = this.hits.includes(held.hit)
        // The change it left by came from `previousRev`: that revision's own news, arriving late, is stale too.
        this.rememberOutside(e.id, e.rev, e.previousRev)
        this.release(e.id)
        if (!shown) return
        this.hits = this.hits.filter((h) => h !== held.hit)
        this.total = Math.max(0, this.total - 1)
        // The last count may already have left it out (its news came late): count again.
        this.recount()
        this.emit('disappear', e.id)
        this.emit('hits', this.hits)
        this.refill()
      } else if (!this.removedByDelete.delete(e.id) && this.hasMore) {
        // A document beyond the window left; the page read may have counted it already: count again.
        this.total = Math.max(this.hits.length, this.total - 1)
        this.recount()
        this.emit('hits', this.hits)
      }
      return
    }
    if (held || !e.doc) return
    const hasMore = this.hasMore
    // Unless every match is fetched, we cannot tell an appearance from a change beyond the window: count again.
    if (hasMore) this.recount()
    const candidate = { _id: e.id, _source: e.doc }
    const last = this.hits[this.hits.length - 1]
    if (hasMore && (!last || this.compare(candidate, last) > 0)) return
    const hit = this.hold(e.id)
    const stale = this.host.offer(hit, { _id: e.id, _source: e.doc as DocSource, _rev: e.rev }, at, e)
    if (stale || hit._source === null || this.localMatch(hit) === false) {
      // Its document knows better (deleted since, or newer content): it does not count as is. Whether newer
      // content matches is for the backend to say.
      this.release(e.id)
      if (stale) this.replayed(e, true)
      return
    }
    if (!hasMore) {
      this.total++
      this.recount()
    }
    const hits = [...this.hits]
    hits.splice(this.insertionPoint(hits, hit), 0, hit)
    // The window keeps its size: an entry pushes the last hit out of it (still a match, still counted: hasMore).
    const pushed = this.window > 0 && hits.length > this.window ? hits.pop()! : null
    this.hits = hits
    if (pushed) {
      this.rememberOutside(pushed._id, this.host.revision(pushed))
      this.release(pushed._id)
      // Pushed out by the order of the contents held, which may not be the backend's yet (a hit whose own news is
      // still on its way): the page read settles which matches the window holds (memory seed 710678).
      if (pushed !== hit) this.reloadSoon()
    }
    if (pushed === hit) {
      this.emit('hits', this.hits)
      return
    }
    this.emit('appear', e.id, hit._source)
    this.emit('hits', this.hits)
    // An appearance that does not continue what was last seen of the document (a creation arriving after the
    // delete that followed it, reordered: sanity seed 320207), or one whose past this search may have forgotten,
    // may be a late event. Its own read settles it.
    if (this.forgot || (seen?.rev !== undefined && e.previousRev !== seen.rev)) void hit.refresh()
  }

  /** The driver's client-side matcher, looked up until it has one (Sanity's waits for groq-js to load). */
  private matches(): ((source: DocSource, id: string) => boolean) | undefined {
    return (this.matcher ??= this.host.driver.matcher?.(this.ref, this.spec))
  }

  /**
   * Whether a hit matches by what its unanswered local writes show; undefined when none decides it (news the server
   * sends once it has a write is taken as is: the server decides membership).
   */
  private localMatch(hit: Observer<T>): boolean | undefined {
    const match = hit.pending ? this.matches() : undefined
    if (match) for (const doc of this.host.pendingIn(this.ref)) if (doc.id === hit._id) return doc.visible !== null && match(doc.visible, doc.id)
    return undefined
  }

  /**
   * A local write (or its rollback) changed what a document of the collection shows: it enters, moves or leaves the
   * window at once, by the driver's matcher (no matcher: the server's news places it). The total moves by what the
   * change did to its matching; the server's news of it, when it comes, finds it placed already.
   */
  private localChanged(doc: LocalDoc, before: DocSource | null, after: DocSource | null): void {
    const match = this.stopped || !this.loaded ? undefined : this.matches()
    if (!match) return
    if (before !== after) {
      const now = after !== null && match(after, doc.id)
      const was = before !== null && match(before, doc.id)
      if (this.placeLocal(doc.id, after, now, Number(now) - Number(was))) this.emit('hits', this.hits)
    }
    // Settled (confirmed or refused): the total was moved by an estimate of what the server counted; its count decides.
    if (!doc.pending) this.recount()
  }

  /** True when the document shows nothing only because of an unanswered local write (the server still has it). */
  private removedLocally(id: string): boolean {
    for (const doc of this.host.pendingIn(this.ref)) if (doc.id === id) return doc.visible === null && doc.remote !== null
    return false
  }

  /** After a page (what the server stores): each document with unanswered local writes goes where it shows. */
  private overlayLocal(): void {
    const match = this.matches()
    if (!match) return
    for (const doc of this.host.pendingIn(this.ref)) {
      const now = doc.visible !== null && match(doc.visible, doc.id)
      const was = doc.remote !== null && match(doc.remote, doc.id)
      this.placeLocal(doc.id, doc.visible, now, Number(now) - Number(was), true)
    }
    // Read past the documents that left locally: rows beyond the window go.
    while (this.hits.length > this.window && this.window > 0) this.release(this.hits.pop()!._id)
  }

  /** Places a document as its local content says; true when the hits or the total changed. */
  private placeLocal(id: string, source: DocSource | null, now: boolean, delta: number, quiet = false): boolean {
    const held = this.byId.get(id)
    const shown = held !== undefined && this.hits.includes(held.hit)
    const more = this.hasMore
    // A hit shown is counted; elsewhere the change of its matching says how the count moves.
    if (shown) delta = now ? 0 : -1
    this.total = Math.max(0, this.total + delta)
    if (shown && !now) {
      this.hits = this.hits.filter((h) => h !== held.hit)
      this.release(id)
      // Its news of leaving, when the server has the write, is counted off already.
      this.removedByDelete.add(id)
      if (this.removedByDelete.size > MAX_REMOVED) this.removedByDelete.delete(this.removedByDelete.values().next().value!)
      if (!quiet) {
        this.emit(source === null ? 'delete' : 'disappear', id)
        this.refill()
      }
      return true
    }
    if (shown || held || !now || source === null) return delta !== 0
    const last = this.hits[this.hits.length - 1]
    if (more && (!last || this.compare({ _id: id, _source: source }, last) > 0)) return delta !== 0
    const hit = this.hold(id)
    const hits = [...this.hits]
    hits.splice(this.insertionPoint(hits, hit), 0, hit)
    // The window keeps its size: the last row moves out (still a match, still counted).
    const pushed = !quiet && this.window > 0 && hits.length > this.window ? hits.pop()! : null
    this.hits = hits
    if (pushed) this.release(pushed._id)
    if (!quiet && pushed !== hit) this.emit('appear', id, hit._source!)
    return true
  }

  /** Test-only: the sizes of the per-document memory (see MAX_OUTSIDE, MAX_REMOVED). */
  [memoryStats](): { held: number; outside: number; removedByDelete: number } {
    return { held: this.byId.size, outside: this.outside.size, removedByDelete: this.removedByDelete.size }
  }

  private recount(): void {
    clearTimeout(this.countTimer)
    this.countTimer = setTimeout(() => {
      const token = this.loadToken
      this.host.driver.search(this.ref, this.spec, { from: 0, size: 0 }).then(
        (page) => {
          const count = countOf(page?.total)
          if (token !== this.loadToken || this.stopped || count === undefined) return
          const before = this.total
          const wasUncounted = this.uncounted
          this.total = Math.max(count, this.hits.length)
          this.uncounted = false
          // A count that changes nothing renders nothing (a change outside the window is counted again, issue 23).
          if (this.total !== before || wasUncounted) this.emit('hits', this.hits)
          // Hits appended while every match seemed fetched may now sort after matches not fetched: read again.
          if (this.live === 'query' && this.total !== before && this.hasMore) void this.load(true)
        },
        () => undefined, // the next event or resync counts again
      )
    }, 50)
  }

  private insertionPoint(hits: Observer<T>[], hit: Observer<T>): number {
    let lo = 0
    let hi = hits.length
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (this.compare(hits[mid], hit) <= 0) lo = mid + 1
      else hi = mid
    }
    return lo
  }

  private fail(err: ObservedError): void {
    this._error = err
    // A watch that does not go live in time is being retried: reconnecting, with the error saying what to check.
    this.setStatus(err.code === 'watch_timeout' ? 'reconnecting' : 'error', true)
    this.emit('error', null, err)
  }

  private setStatus(status: SearchStatus, force = false): void {
    if (status === this._status && !force) return
    this._status = status
    this.emit('status', status)
  }
}

function count(items: Iterable<unknown>): number {
  let n = 0
  for (const _ of items) n++
  return n
}
