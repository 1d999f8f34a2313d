import { isDocEvent } from './entry'
import type { EntryTable } from './entry-table'
import { collectionKey } from './entry-table'
import { closeQuietly, toError } from './pool'
import type { RetryGate } from './retry-gate'
import { collectionName, type Tracer } from './trace'
import { startWatchClock } from './watch-timeout'
import { WatchChain } from './watch-chain'
import type { CollectionRef, DocEvent, Driver, DriverSearchSpec, Rev, Watch, WatchSink } from './types'
import { ObservedError } from './types'

/**
 * Documents whose last reported revision a query watch remembers, to notice one it missed: a fixed allowance,
 * whatever the history (an entry goes when its document is deleted or leaves; past the cap the oldest goes). A
 * forgotten document's next event is taken as its first, as after a resync; documents held by a search still
 * order every event by their own revision chain and read on a gap.
 */
export const MAX_REPORTED = 10_000

/** What a live-query search hears from its shared query watch. */
export interface QueryListener {
  /** The watch is live; `resync` when events may have been missed since the last time (reconnect, reset). */
  ready(resync: boolean): void
  /**
   * A document matching the query before or after a change. `ordered`: its document's entry applied it in revision
   * order first; false when no entry held the document (nothing here could order it: a late event passes for news).
   * The event keeps the driver's `matchedBefore` only when it continues a revision this listener's total counted (one
   * the watch's own last event gave, or this listener's page read): otherwise a change the watch missed may lie
   * between what the total counted and that "before" (`watch-chain.ts`).
   */
  membership(e: DocEvent, ordered: boolean): void
  offline(): void
  error(err: ObservedError): void
}

/** Stable JSON with sorted keys; undefined when the value holds a function (such queries are not shared). */
export function stableKey(value: unknown): string | undefined {
  let shareable = true
  const json = JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v === 'function') shareable = false
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      return Object.fromEntries(Object.keys(v).sort().map((k) => [k, (v as Record<string, unknown>)[k]]))
    }
    return v
  })
  return shareable ? json : undefined
}

/** A search's place on a shared query watch. */
export interface JoinedQuery {
  /** Leaves the watch (closed when its last search leaves). */
  leave(): void
  /** A page read the document at this revision, matching: what the watch reports next should continue it. */
  read(id: string, rev: Rev | undefined): void
}

/** One shared query watch, as `client.inspect()` shows it. */
export interface QueryWatchInspection {
  target: 'query'
  collection: string
  query: DriverSearchSpec['query']
  params: DriverSearchSpec['params']
  filters: DriverSearchSpec['filters']
  status: 'opening' | 'live' | 'offline' | 'waiting' | 'dead'
  since: number
  /** Searches sharing it. */
  searches: number
  error: ObservedError | null
}

/** One driver query watch shared by every search with the same (collection, query, params, filters). */
class SharedQueryWatch {
  readonly listeners = new Set<QueryListener>()
  watch: Watch | null = null
  live = false
  /** Failed: the reopening waits for the client's watch gate. */
  private waiting = false
  /** The clock of the watch being opened (see watch-timeout.ts), until it goes live. */
  private clock?: ReturnType<typeof setTimeout>
  private fatal: ObservedError | null = null
  /** Per matching document, the revision this watch last reported, and from where (cleared while offline: a resync follows). */
  private reported = new WatchChain<QueryListener>(MAX_REPORTED)
  /** Events whose `matchedBefore` the chain proved only for the listener whose page read gave their "before". */
  private readerProofs = new WeakMap<DocEvent, QueryListener>()
  /** Events may have been missed since the last time the watch was live (offline, error, reset). */
  private missed = false
  /** When the watch's state last changed, and its last error (devtools). */
  private since = Date.now()
  private lastError: ObservedError | null = null

  constructor(
    private readonly ref: CollectionRef,
    private readonly spec: DriverSearchSpec,
    private readonly driver: Driver,
    private readonly table: EntryTable,
    private readonly gate: RetryGate,
    private readonly watchTimeout: number,
    private readonly tracer?: Tracer,
  ) {}

  inspect(): QueryWatchInspection {
    const status = this.fatal ? 'dead' : this.waiting ? 'waiting' : this.live ? 'live' : this.missed ? 'offline' : 'opening'
    const { query, params, filters } = this.spec
    const error = this.fatal ?? (this.waiting ? this.lastError : null)
    return { target: 'query', collection: collectionName(this.ref), query, params, filters, status, since: this.since, searches: this.listeners.size, error }
  }

  private trace(phase: 'open' | 'live' | 'offline' | 'failed' | 'closed', error?: ObservedError): void {
    this.since = Date.now()
    if (this.tracer?.active) this.tracer.emit({ type: 'watch', phase, collection: collectionName(this.ref), target: 'query', error })
  }

  add(listener: QueryListener): void {
    this.listeners.add(listener)
    if (this.fatal) listener.error(this.fatal)
    else if (this.live) queueMicrotask(() => this.listeners.has(listener) && this.live && listener.ready(false))
    else if (!this.watch && !this.waiting) this.open()
  }

  private open(): void {
    // While watches are failing, a new one waits for the gate's next step like the ones that failed.
    if (this.gate.backingOff) {
      this.waiting = true
      this.gate.defer(this, () => this.reopen())
      return
    }
    let watch: Watch | null = null
    const isCurrent = () => watch !== null && this.watch === watch
    const sink: WatchSink = {
      ready: (info) => {
        if (!watch) return queueMicrotask(() => sink.ready(info))
        if (!isCurrent()) return
        this.stopClock()
        const resync = this.missed && !info?.resumed
        this.missed = false
        this.live = true
        this.trace('live')
        this.gate.succeed()
        for (const l of [...this.listeners]) l.ready(resync)
      },
      event: (e) => {
        if (!isCurrent()) return
        if (this.tracer?.active && isDocEvent(e)) {
          this.tracer.emit({ type: 'event', collection: collectionName(this.ref), id: e.id, kind: e.kind, rev: e.rev, via: 'query' })
        }
        this.dispatch(e)
      },
      reset: () => {
        if (!isCurrent()) return
        // Before the watch is live (or while it is offline) there is nothing to resync yet: its ready will.
        this.reported.clear()
        if (this.live) for (const l of [...this.listeners]) l.ready(true)
        else this.missed = true
      },
      offline: () => {
        if (!isCurrent()) return
        this.missed = true
        this.live = false
        this.reported.clear()
        this.trace('offline')
        for (const l of [...this.listeners]) l.offline()
      },
      error: (err) => {
        if (!watch) return queueMicrotask(() => sink.error(err))
        if (isCurrent()) this.failed(err)
      },
    }
    this.trace('open')
    try {
      watch = this.driver.watch(this.ref, { query: this.spec }, sink)
      this.watch = watch
      this.stopClock()
      this.clock = startWatchClock(this.watchTimeout, this.driver.name, this.ref, (err) => {
        this.clock = undefined
        sink.error(err)
      })
    } catch (err) {
      const e = toError(err)
      this.failed(new ObservedError(e.code, e.message, { fatal: true, cause: err }))
    }
  }

  private dispatch(event: DocEvent): void {
    if (!isDocEvent(event)) return
    const proof = this.reported.event(event)
    // Searches may have counted or read while the missed revision had the document elsewhere: they read again.
    if (proof === 'skips') this.resyncSoon('the watch skipped a revision of ' + event.id)
    // `matchedBefore` stays where the chain proves it: for every listener, or for the one page reader it names.
    let e = event
    if (e.matchedBefore !== undefined && proof !== 'all') {
      if (proof === null || proof === 'skips') e = withoutMatchedBefore(e)
      else this.readerProofs.set(e, proof)
    }
    const entry = this.table.peek(this.ref, e.id)
    // A held document orders the event by revision first; membership follows only once it is applied.
    if (entry) entry.applyEvent(e, this.notify)
    else {
      // Counted like any event, so that a search's read started before it is known to be older than it.
      this.table.nextSeq()
      this.reported.told(e)
      for (const l of [...this.listeners]) l.membership(this.provenFor(e, l), false)
    }
  }

  /** The event as listener `l` may take it: without `matchedBefore` when only another page reader's total proves it. */
  private provenFor(e: DocEvent, l: QueryListener): DocEvent {
    if (e.matchedBefore === undefined) return e
    const reader = this.readerProofs.get(e)
    return reader === undefined || reader === l ? e : withoutMatchedBefore(e)
  }

  /** A page's revision stands for what the watch reported, unless the watch has reported the document since. */
  read(id: string, rev: Rev | undefined, reader: QueryListener): void {
    if (this.live) this.reported.page(id, rev, reader)
  }

  /** A listener left: what its pages proved is forgotten (the chain keeps no reader that is gone). */
  forget(reader: QueryListener): void {
    this.reported.forget(reader)
  }

  /** One function for every event, so that a document counts its callbacks by watch, not by event. */
  private readonly notify = (applied: DocEvent, superseded?: boolean) => {
    if (superseded) {
      this.resyncSoon('a read superseded an event, membership unknown')
      return
    }
    this.reported.told(applied)
    for (const l of [...this.listeners]) l.membership(this.provenFor(applied, l), true)
  }

  private resyncQueued = false

  /** A read replaced an event before it was applied: whether it matched is unknown, so searches read again. */
  private resyncSoon(reason: string): void {
    if (this.resyncQueued) return
    this.resyncQueued = true
    if (this.tracer?.active) this.tracer.emit({ type: 'resync', collection: collectionName(this.ref), reason })
    queueMicrotask(() => {
      this.resyncQueued = false
      // Not live: the next ready resyncs anyway.
      if (this.live) for (const l of [...this.listeners]) l.ready(true)
    })
  }

  private stopClock(): void {
    clearTimeout(this.clock)
    this.clock = undefined
  }

  private failed(err: ObservedError): void {
    this.stopClock()
    if (this.watch) closeQuietly(this.watch)
    this.watch = null
    this.live = false
    this.missed = true
    this.reported.clear()
    this.lastError = err
    this.trace('failed', err)
    for (const l of [...this.listeners]) l.error(err)
    if (err.fatal) {
      this.fatal = err
      return
    }
    this.waiting = true
    this.gate.fail(this, () => this.reopen(), err)
  }

  private reopen(): void {
    this.waiting = false
    if (this.listeners.size && !this.watch && !this.fatal) this.open()
  }

  close(): void {
    this.stopClock()
    this.gate.forget(this)
    this.waiting = false
    if (this.watch) this.trace('closed')
    if (this.watch) closeQuietly(this.watch)
    this.watch = null
    this.live = false
    this.reported.clear()
  }
}

function withoutMatchedBefore(e: DocEvent): DocEvent {
  const { matchedBefore: _, ...rest } = e
  return rest
}

/** Pooled query watches: one per distinct need, closed when its last search leaves. */
export class QueryPool {
  private watches = new Map<string, SharedQueryWatch>()
  private unique = 0

  constructor(
    private readonly driver: Driver,
    private readonly table: EntryTable,
    /** One backoff for every failing watch of the client (per connection, not per query). */
    private readonly gate: RetryGate,
    private readonly watchTimeout: number,
    private readonly tracer?: Tracer,
  ) {}

  /** Every shared query watch, for devtools. */
  inspect(): QueryWatchInspection[] {
    return [...this.watches.values()].map((w) => w.inspect())
  }

  get watchCount(): number {
    let n = 0
    for (const w of this.watches.values()) if (w.watch) n++
    return n
  }

  /** Joins (or opens) the watch for this query. */
  join(ref: CollectionRef, spec: DriverSearchSpec, listener: QueryListener): JoinedQuery {
    let need: string | undefined
    try {
      need = this.driver.queryKey ? this.driver.queryKey(spec) : stableKey([spec.query, spec.params, spec.filters])
    } catch {
      need = undefined // not shareable; opening the watch reports what is wrong with the query
    }
    const key = `${collectionKey(ref)}:${need ?? `#${++this.unique}`}`
    let shared = this.watches.get(key)
    if (!shared) this.watches.set(key, (shared = new SharedQueryWatch(ref, spec, this.driver, this.table, this.gate, this.watchTimeout, this.tracer)))
    shared.add(listener)
    const joined = shared
    return {
      leave: () => {
        joined.listeners.delete(listener)
        joined.forget(listener)
        if (joined.listeners.size === 0 && this.watches.get(key) === joined) {
          joined.close()
          this.watches.delete(key)
        }
      },
      read: (id, rev) => joined.listeners.has(listener) && joined.read(id, rev, listener),
    }
  }

  dispose(): void {
    for (const w of this.watches.values()) w.close()
    this.watches.clear()
  }
}
