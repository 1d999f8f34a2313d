/**
 * A live search: the shell of its view model (`search-view.ts`, where its rows, window, total, counting and reading
 * are, with their rules). The shell connects the view to the backend and to the documents: it reads pages and counts
 * (`search-reads.ts`: when, which answer counts, retries behind the collection's read gate), holds one Observer per
 * row, feeds the view what it learns, carries out the view's effects, and diffs the rows shown to emit `appear`,
 * `disappear`, `delete` and one `hits` per change.
 *
 * ## What the shell holds (nothing per document outlives the rows)
 * - `view`: the view's state. `byId`: one Observer per row (spares included), and no other.
 * - `limbo` (`search-limbo.ts`): documents whose news nothing ordered, while their own read is in flight.
 * - `reads` (`search-reads.ts`): the page read and count in flight, and the query watch's events received while a
 *   page is read, replayed once it is answered.
 * - `changed`: rows whose document went away by another source than the query watch's news, fed to the view at the
 *   end of the task unless the news of the delete comes first (then the news says how the total moved).
 *
 * ## Rules
 * 1. News enters the view only once the document's entry ordered it: the query watch applies an event through the
 *    entry of a held document (`ordered`), and the search replays what it buffered during a page read through its
 *    rows' entries (`host.applyEvent`); content a search brings (a page, an appearance) goes through `host.offer`,
 *    which keeps newer content (the page then placed the row by older sort values: the view reads again).
 * 2. Limbo (Firestore's): news that a document matches, for a document no entry held when it came, cannot be told
 *    from a late event (a creation delivered after the delete that followed it: sanity seed 320207; the news a hit
 *    left from, arriving after it left: seed 102593). If it would be placed among the rows, its own read proves it:
 *    the news is proven when that read shows the news' revision (or content, without revisions). A document this
 *    client let go of lately (its entry disposed, remembered by the entry table) is read before it is shown (limbo);
 *    any other is shown at once and read, as a late event for a document never held here is rare. A read
 *    finding it gone, or news that it left, drops it; a read showing something else, or later news applied on top
 *    of it, leaves membership to the backend: the page is read.
 * 3. A read that superseded an event, a resync, or a skipped revision loses news: the view is told `lost` and reads
 *    its page again (the query pool reports these as a `ready(true)`). Content a row's own read or another search's
 *    page gave is not proven by news (`content`, not proven): the view reads its page again. Content an event gave
 *    (its query watch's news follows) or a local write (its echo's news follows) only places the row.
 * 4. Page reads are spaced by the backoff when the view reads again because of the page itself (rows placed by
 *    older content, a short page): a search index lagging behind its notifications must not make a loop. After
 *    three in a row, the page's placement is accepted.
 * 5. `live: 'hits'`: no query watch; rows are observed by id; a row deleted leaves, nothing refills it.
 * 6. Local writes (issue 16) are placed at once by the driver's client-side test of the query: `search-local.ts`.
 */
import type { LiveMode, SearchEvents, SearchHost, SearchOptions, SearchStatus } from './search-host'
import { Emitter, type Sink } from './emitter'
import type { Observer, ObserverEvents } from './observer'
import type { JoinedQuery } from './query-pool'
import { comparator } from './sort'
import { Limbo } from './search-limbo'
import { LocalPlacement, type About } from './search-local'
import { PageReads } from './search-reads'
import { hasMore, initialView, placeable, shownRows, stepView, type Row, type ViewInput, type ViewState } from './search-view'
import type { CollectionRef, DocEvent, DocSource, DriverSearchSpec, Page } from './types'
import type { ObservedError } from './types'

export type { LiveMode, LocalDoc, SearchEvents, SearchHost, SearchOptions, SearchStatus } from './search-host'

export { MAX_LIMBO } from './search-limbo'
/** Spare rows read beyond the window (a live query), so that an exit moves the next match up without a read. */
const MAX_MARGIN = 10

/** Key of the test-only view of a search's per-document memory (not exported by the package). */
export const memoryStats = Symbol('memoryStats')

const ROW_EVENTS = ['change', 'delete', 'error', 'pending'] as const

/** Why an input makes the view read its page again, for the devtools timeline (`lost` says its own). */
function readReason(input: ViewInput<unknown>): string | undefined {
  if (input.type === 'news' || (input.type === 'content' && input.proven)) return 'a hit left the window: refill it'
  if (input.type === 'content') return 'content a read gave a hit: membership unknown'
  if (input.type === 'counted') return input.failed ? 'a count failed: the page counts' : 'a count contradicts the rows: read them again'
  return undefined
}

/**
 * A live search: `hits` are observers in the query's sort order, `total` the number of matches. Emits a new
 * `hits` array whenever membership or order changes; a hit's content changes in place.
 */
export class ObserverSearchResult<T extends object = DocSource> extends Emitter<SearchEvents<T>> {
  /** The documents shown, in sort order. Replaced by a new array on every membership or order change. */
  hits: Observer<T>[] = []
  /**
   * Number of documents matching the query. When the backend's count is unusable (not a finite, non-negative
   * integer), the number of hits fetched: a lower bound, with `hasMore` telling whether the last page was full.
   */
  total = 0
  readonly size: number
  readonly live: LiveMode

  private readonly order: (a: Row, b: Row) => number
  private readonly margin: number
  private view: ViewState<T>
  private byId = new Map<string, Observer<T>>()
  private readonly limbo: Limbo<T>
  private stopped = true
  private loaded = false
  private _status: SearchStatus = 'stopped'
  private _error: ObservedError | null = null
  private query: JoinedQuery | null = null
  /** Live query: the shared watch has been ready since this search started (or since it last went offline). */
  private watchLive = false
  /** Page reads and counts, and the news that waits for a page (`search-reads.ts`). */
  private readonly reads: PageReads<T>
  /** A page's hits are being placed by it: their content changes are the page's, not inputs of their own. */
  private placing = false
  /** Rule 4: the read effect of the input being stepped comes from a page answer. */
  private answering = false
  /** 'hits' is emitted once the page's answer and the news buffered meanwhile are all in. */
  private hitsDeferred: boolean | null = null
  private changed: Map<string, boolean> | null = null
  private waiters: Array<() => void> = []
  /** Live query: local writes placed at once (rule 6). */
  private readonly local: LocalPlacement<T> | null
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
    this.order = comparator(spec.sort)
    this.margin = this.live === 'query' ? Math.min(this.size, MAX_MARGIN) : 0
    this.view = initialView<T>(this.size, this.live === 'query')
    this.limbo = new Limbo<T>(host, ref, {
      proven: (id, hit) => this.placeProven(id, hit),
      left: (id) => !this.stopped && !this.byId.has(id) && this.input({ type: 'news', id, source: null, matches: false }),
      lost: (reason) => !this.stopped && this.lost(reason),
      isRow: (id, hit) => !this.stopped && this.byId.get(id) === hit,
    })
    this.local =
      this.live === 'query'
        ? new LocalPlacement<T>(host, ref, spec, this.order, {
            view: () => this.view,
            held: (id) => this.byId.get(id),
            hold: (id) => this.hold(id),
            mayPlace: (row) => this.mayPlace(row),
            input: (input, about) => this.input(input, about),
            lost: (reason) => this.lost(reason),
          })
        : null
    const search = this
    this.reads = new PageReads<T>(host, ref, spec, this.live === 'query', this.margin, {
      get stopped() {
        return search.stopped
      },
      get status() {
        return search._status
      },
      view: () => this.view,
      input: (input) => this.input(input),
      answered: (page, at, size) => this.answer(page, at, size),
      fail: (err) => this.fail(err),
      settle: () => this.settle(),
    })
  }

  /** Number of hits shown (fetched) so far. */
  get fetched(): number {
    return this.hits.length
  }

  /** True when more matches exist than are shown: call `next()`. */
  get hasMore(): boolean {
    return hasMore(this.view)
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
    // What is shown mirrors the view, which starts empty (a search started again shows nothing until its page).
    this.view = initialView<T>(this.size, this.live === 'query')
    this.total = 0
    this.setStatus('pending')
    if (this.live === 'query') {
      this.query = this.host.joinQuery(this.ref, this.spec, {
        ready: (resync) => this.watchReady(resync),
        membership: (e, ordered) => this.membership(e, ordered),
        offline: () => {
          this.watchLive = false
          this.setStatus('reconnecting')
        },
        error: (err) => {
          this.watchLive = false
          this.fail(err)
        },
      })
      this.offLocal = this.host.onLocal(this.ref, (doc, before, after) => !this.stopped && this.loaded && this.local?.changed(doc, before, after))
    } else this.input({ type: 'readWanted' })
    return this
  }

  /** Stops following; releases every hit and the shared query watch. Safe to call twice. */
  stop(): void {
    if (this.stopped) return
    this.stopped = true
    this.reads.stop()
    this.changed = null
    this.host.stopped(this)
    this.query?.leave()
    this.query = null
    this.offLocal?.()
    this.offLocal = undefined
    for (const id of [...this.byId.keys()]) this.release(id)
    this.limbo.clear()
    this.view = initialView<T>(this.size, this.live === 'query')
    this.hits = []
    this.settle()
    this.setStatus('stopped')
    this.emit('hits', this.hits)
  }

  /** Shows `size` more hits (reading them if the rows do not hold them); resolves with the hits added. */
  next(): Promise<Observer<T>[]> {
    if (this.stopped || !this.loaded || !this.hasMore) return Promise.resolve([])
    const before = new Set(this.hits.map((h) => h._id))
    this.input({ type: 'grow', by: this.size })
    return this.whenRead().then(() => this.hits.filter((h) => !before.has(h._id)))
  }

  /** Reads the search again (as many hits as shown so far) and reconciles. */
  refresh(): Promise<Observer<T>[]> {
    if (this.stopped) return Promise.resolve([])
    const before = new Set(this.hits.map((h) => h._id))
    this.input({ type: 'readWanted' })
    // Asked by the app: a read waiting for its backoff goes now.
    if (this.view.reading?.at === null) this.reads.sendSoon()
    return this.whenRead().then(() => this.hits.filter((h) => !before.has(h._id)))
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

  /** Test-only: the per-document memory (rows held, documents in limbo), bounded by the rows and MAX_LIMBO. */
  [memoryStats](): { held: number; rows: number; limbo: number } {
    return { held: this.byId.size, rows: this.view.rows.length, limbo: this.limbo.size }
  }

  /** Resolves once no page read is wanted or in flight (answered, failed, or stopped). */
  private whenRead(): Promise<void> {
    if (!this.view.reading) return Promise.resolve()
    return new Promise((resolve) => this.waiters.push(resolve))
  }

  private settle(): void {
    const waiters = this.waiters
    this.waiters = []
    for (const w of waiters) w()
  }

  /** One view transition, then its effects. */
  private input(input: ViewInput<T>, about?: About): void {
    if (this.stopped) return
    const before = this.hits
    const { state, effects } = stepView(this.view, input, this.order, this.margin)
    const rowsChanged = state.rows !== this.view.rows
    this.view = state
    if (rowsChanged) this.releaseOutside()
    for (const effect of effects) {
      if (effect.type === 'read') {
        if (this.answering && !this.againAsked) this.reads.later()
        else {
          const why = readReason(input)
          if (why) this.host.readAgain?.(this.ref, why)
          this.reads.sendSoon()
        }
      } else if (effect.type === 'count') this.reads.countSoon()
      else this.show(before, about)
    }
    if (this.answering && !effects.some((e) => e.type === 'read')) this.reads.settled()
    if (!this.view.reading) this.settle()
  }

  /** The view wanted this page read again before its answer (news lost meanwhile): read at once. */
  private againAsked = false

  /** Rows shown → `hits`, `total`, and the events naming the document the input was about. */
  private show(before: Observer<T>[], about?: About): void {
    // A row placed by a page while its document still shows nothing (its read on the way) waits to be shown.
    this.hits = shownRows(this.view)
      .map((r) => this.byId.get(r._id)!)
      .filter((hit) => hit.content !== null)
    this.total = this.view.total
    if (about) {
      const was = before.some((h) => h._id === about.id)
      const held = this.byId.get(about.id)
      const is = held !== undefined && this.hits.includes(held)
      if (!was && is && about.how === 'news' && held.content) this.emit('appear', about.id, held.content)
      else if (was && !is) {
        if (about.gone) this.emit('delete', about.id)
        else if (about.how === 'news') this.emit('disappear', about.id)
      }
    }
    if (this.hitsDeferred !== null) this.hitsDeferred = true
    else this.emit('hits', this.hits)
  }

  private hold(id: string): Observer<T> {
    const held = this.byId.get(id)
    if (held) return held
    const hit = this.host.observe<T>(this.ref, id, this.live === 'hits')
    hit.subscribe(this.rowEvents, ROW_EVENTS)
    this.byId.set(id, hit)
    return hit
  }

  private release(id: string): void {
    const hit = this.byId.get(id)
    if (!hit) return
    this.byId.delete(id)
    this.changed?.delete(id)
    this.limbo.settled(id)
    hit.unsubscribe(this.rowEvents, ROW_EVENTS)
    hit.stop()
  }

  /** The rows' events, one sink for every row (a sink is told which observer emits): nothing per row. */
  private readonly rowEvents: Sink<ObserverEvents<T>, Observer<T>> = {
    change: (source, changes, hit) => {
      this.emit('change', hit._id, source, changes)
      this.contentChanged(hit._id, hit)
    },
    delete: (hit) => this.contentChanged(hit._id, hit),
    error: (err, hit) => this.emit('error', hit._id, err),
    pending: (pending, hit) => this.emit('pending', hit._id, pending),
  }

  /**
   * Rule: one Observer per row, and per news of a match the view holds for the page read in flight (it places that
   * news on the page's answer: sanity soak seed 1052914, a document proven by its read while the page was read, then
   * released as no row, and placed without an Observer), and no other (once a page's answer and its local overlay are
   * both placed). While a page's hits are held one by one (`placing`), an input their content causes (a pending write
   * the page confirms leaves: memory soak seed 1020606) must not release the hits held before it, not rows yet.
   */
  private releaseOutside(): void {
    // Every row is held (`byId` holds one Observer per row): no more held than rows, nothing to release. The usual
    // case, a row's content changed in place, costs no walk over the rows (a 5,000-row list: one per update).
    if (this.byId.size <= this.view.rows.length || this.answering || this.placing) return
    const kept = new Set(this.view.rows.map((r) => r._id))
    for (const news of this.view.reading?.since ?? []) if (news.matches) kept.add(news.id)
    for (const id of [...this.byId.keys()]) if (!kept.has(id)) this.release(id)
  }

  /**
   * A row's content changed: it is placed by it at once (a local write moves it in the same render). A row whose
   * document is gone waits for the end of the task: the query watch's news of the delete, if it comes, comes in the
   * same task and says how the total moved (no count); otherwise (another watch, a read) it leaves then.
   */
  private contentChanged(id: string, hit: Observer<T>): void {
    if (this.placing || this.stopped) return
    // Rule 6: a row with pending writes moves with what it shows; whether it still matches is for the local placement
    // (`LocalPlacement.changed`, a local cause, called next) or the query watch's news (a remote one) to say, and so is
    // its removal.
    if (this.live === 'query' && hit.pending) {
      if (hit.content === null) return
      this.changed?.delete(id)
      return this.input({ type: 'content', id, source: hit.content, proven: true }, { id, how: 'content', gone: false })
    }
    // Content an event gave is followed by the query watch's news of it, a local write by its echo's; content a read
    // or another search's page gave may no longer match, and no query watch says so (rule 3).
    const proven = this.live === 'hits' || hit.pending || this.host.provenance(hit) === 'event'
    const source = hit.content
    if (source !== null || this.live === 'hits') {
      this.changed?.delete(id)
      const hidden = source !== null && !this.hits.includes(hit)
      this.input({ type: 'content', id, source, proven }, { id, how: 'content', gone: source === null })
      // A row that waited for its document's content (see `show`) is shown now, even if the rows did not move.
      if (hidden && !this.hits.includes(hit) && shownRows(this.view).some((r) => r._id === id)) this.show(this.hits)
      return
    }
    const first = this.changed === null
    this.changed ??= new Map()
    this.changed.set(id, proven)
    if (first) queueMicrotask(() => this.flushChanged())
  }

  private flushChanged(): void {
    const changed = this.changed
    this.changed = null
    if (!changed || this.stopped) return
    for (const [id, proven] of changed) {
      const held = this.byId.get(id)
      const source = held?.content ?? null
      if (held) this.input({ type: 'content', id, source, proven }, { id, how: 'content', gone: source === null })
    }
  }

  private watchReady(resync: boolean): void {
    // A page read before the watch was first live (refresh() or next() early) may miss what changed until then.
    const first = !this.watchLive
    this.watchLive = true
    if (!this.loaded || resync || first) {
      // Events buffered for a read in flight came before the watch missed some (offline, reset): the read made now
      // supersedes them, and replaying them after it would undo what the missed ones did (a lost delete: seed 100662).
      if (resync || first) this.reads.restart()
      this.lost(resync ? 'the query watch resynced' : 'the query watch is live')
    } else this.setStatus('live')
  }

  /** News may have been lost: the view reads its page again (rule 3). */
  private lost(reason: string): void {
    this.host.readAgain?.(this.ref, reason)
    this.input({ type: 'lost' })
    // A read waiting for its backoff goes now: what it must learn is new.
    this.reads.expedite()
  }

  /** A page read answered: its hits are held and placed, then the news that came meanwhile (rule 1). */
  private answer(page: Page, at: number, size: number): void {
    const rows: Row<T>[] = []
    const moved: string[] = []
    const seen = new Set<string>()
    const unanswered = new Set<string>()
    if (this.live === 'query') for (const doc of this.host.pendingIn(this.ref, at)) unanswered.add(doc.id)
    // While the page is applied its hits are placed by it, not moved one by one as their content changes (sanity seed
    // 18: a hit the page moved was released as sorting past the previous window, and the page's match went missing).
    this.placing = true
    try {
      for (const doc of page.hits) {
        if (!doc || typeof doc._id !== 'string' || seen.has(doc._id)) continue
        seen.add(doc._id)
        // The page proves its hits.
        this.limbo.settled(doc._id)
        this.query?.read(doc._id, doc._rev)
        const hit = this.hold(doc._id)
        // The document knows newer content than the page, with other sort values: the page placed it by old ones.
        if (this.host.offer(hit, doc, at) && hit.content && this.order(doc, { _id: doc._id, _source: hit.content! }) !== 0) moved.push(doc._id)
        // Shown as gone only by local writes: the page's content places it. Writes the page cannot hold (not answered
        // when it was sent) are overlaid next, which removes it once, as a row (seed 1002642: it was counted off twice,
        // as gone and by the overlay); writes the page holds leave it unsure until its document shows the page's
        // content (its own read is on its way: seed 992118).
        if (hit.content === null && hit.pending && doc._source) {
          rows.push({ _id: doc._id, _source: doc._source as T })
          if (!unanswered.has(doc._id)) moved.push(doc._id)
        } else rows.push({ _id: doc._id, _source: hit.content as T })
      }
    } finally {
      this.placing = false
    }
    const first = !this.loaded
    this.loaded = true
    const { buffered, overflowed } = this.reads.takeBuffered()
    this.againAsked = this.view.reading?.again ?? false
    this.hitsDeferred = first
    this.answering = true
    try {
      this.input({ type: 'pageAnswered', rows, total: page.total, asked: size, moved: this.reads.insisting ? [] : moved })
      this.local?.overlay(at)
    } finally {
      this.answering = false
    }
    this.releaseOutside()
    if (buffered) for (const [e, seq, ordered] of buffered) this.replay(e, seq, ordered)
    if (overflowed) this.lost('more news during a page read than kept')
    const due = this.hitsDeferred
    this.hitsDeferred = null
    this._error = null
    this.setStatus('live')
    if (due) this.emit('hits', this.hits)
  }

  /**
   * An event that arrived while the page was read: a row's document gets it through its entry (which drops it if the
   * page was newer), the others go to membership as they came.
   */
  private replay(e: DocEvent, at: number, ordered: boolean): void {
    const held = this.byId.get(e.id)
    if (held) this.host.applyEvent(held, e, this.replayed)
    else this.news(e, ordered, at)
  }

  /** Membership of a replayed event once its document applied it; a read that superseded it means read again. */
  private readonly replayed = (e: DocEvent, superseded?: boolean) => {
    if (this.stopped) return
    if (superseded) this.lost('a read superseded an event')
    else this.news(e, true, this.host.currentSeq())
  }

  /** Live query: a document matched the query before or after a change. */
  private membership(e: DocEvent, ordered: boolean): void {
    if (this.stopped) return
    if (!this.reads.buffer(e, ordered)) this.news(e, ordered, this.host.currentSeq())
  }

  private news(e: DocEvent, ordered: boolean, at: number): void {
    const local = this.local?.match(e.id)
    const matches = local ?? (e.kind !== 'delete' && e.inQuery !== false)
    // What the server said of the change's matching, unless a pending write decides it (rule 6).
    const matchedBefore = local === undefined ? e.matchedBefore : undefined
    const held = this.byId.get(e.id)
    if (held) {
      // This news places the change: not again at the end of the task.
      this.changed?.delete(e.id)
      this.limbo.news(e)
      const source = held.content
      this.input({ type: 'news', id: e.id, source, matches: matches && source !== null, matchedBefore }, { id: e.id, how: 'news', gone: source === null })
      return
    }
    if (this.limbo.news(e)) return
    if (!matches || !e.doc) {
      this.input({ type: 'news', id: e.id, source: null, matches: false, matchedBefore })
      return
    }
    const row = { _id: e.id, _source: e.doc as T }
    // Past the last row (and no page in flight to place it) it only counts: nothing is held for it.
    if (!this.mayPlace(row)) return this.input({ type: 'news', id: e.id, source: row._source, matches: true, matchedBefore })
    const hit = this.hold(e.id)
    // A document this client let go of lately: its news may be the late one it left from (rule 2).
    if (!ordered && this.host.provenance(hit) === 'forgotten') {
      this.release(e.id)
      return this.limbo.hide(e)
    }
    const kept = this.host.offer(hit, { _id: e.id, _source: e.doc as DocSource, _rev: e.rev }, at, e)
    // Its document knows better (deleted since, or newer content whose own news follows, or not): whether that
    // matches is for the news that follows, or the backend, to say.
    if (kept || hit.content === null || (ordered && e.rev !== undefined && hit._rev !== e.rev)) {
      this.release(e.id)
      if (kept || hit.content !== null) this.lost('an appearance older than its document')
      return
    }
    this.input({ type: 'news', id: e.id, source: hit.content, matches: true, matchedBefore }, { id: e.id, how: 'news', gone: false })
    // Nothing ordered it: shown, and proven by its own read (rule 2), which removes it if it is gone.
    if (!ordered && this.byId.get(e.id) === hit) this.limbo.prove(e.id, hit, e)
  }

  /**
   * Whether news that `row` matches may make it a row: it sorts among the rows, or a page read is in flight (the view
   * holds the news and places it on the page's rows, among which it may sort: it is held until then, so that it
   * has its Observer if it becomes a row; sanity soak seed 1052914).
   */
  private mayPlace(row: Row<T>): boolean {
    return this.view.reading?.at != null || placeable(this.view, row, this.order)
  }

  /** A hidden document's read proved its news (rule 2): placed like any news. */
  private placeProven(id: string, hit: Observer<T>): void {
    if (this.stopped || this.byId.has(id) || hit.content === null) return
    const source = hit.content!
    if (!this.mayPlace({ _id: id, _source: source })) return this.input({ type: 'news', id, source, matches: true })
    this.hold(id)
    this.input({ type: 'news', id, source, matches: true }, { id, how: 'news', gone: false })
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
