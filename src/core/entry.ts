import { cloneSafe, isPlainObject, replaceInPlace } from './patch'
import { traceDecision, type Tracer } from './trace'
import type { CollectionRef, Doc, DocEvent, DocSource, Rev } from './types'
import { ObservedError, asObservedError } from './types'

/** Lifecycle of one observed document, shared by every observer of it. */
export type EntryStatus = 'pending' | 'live' | 'reconnecting' | 'deleted' | 'error'

/** What an entry needs from the client that owns it. */
export interface EntryHost {
  /** Wraps a new document container (the Vue layer passes `reactive`). */
  wrap<T extends object>(value: T): T
  /** How long a revision gap is waited for before the document is refetched (ms). */
  readonly gapTimeout: number
  /** A number that increases with every event received, to tell which of a read and an event came last. */
  nextSeq(): number
  /** The sequence number of the last event received. */
  readonly currentSeq: number
  /** Asks for a fresh read of this document (batched by the entry table). */
  refetch(entry: DocEntry): void
  /** Where decisions are traced (devtools), if anywhere. */
  readonly tracer?: Tracer
}

/** Receives an entry's changes (observer handles, searches). */
export interface EntryListener {
  change?(changes: string[]): void
  delete?(): void
  status?(): void
}

/**
 * Called when an event has been applied in order (or is a duplicate of the current revision). Called with
 * `superseded: true` instead when a read replaced the event before it could be applied: its news (a query watch's
 * membership) is then unknown, and the caller must ask its backend again.
 */
export type AppliedCallback = (e: DocEvent, superseded?: boolean) => void

type Held = readonly [DocEvent, AppliedCallback | undefined]
/** An event that arrived while a read was in flight, with its arrival sequence number. */
type Buffered = readonly [DocEvent, AppliedCallback | undefined, number]

/** True for a well-formed event; anything else from a driver is dropped. */
export function isDocEvent(e: unknown): e is DocEvent {
  if (e === null || typeof e !== 'object') return false
  const { id, kind } = e as DocEvent
  return typeof id === 'string' && id !== '' && (kind === 'upsert' || kind === 'delete')
}

/** Out-of-order events kept per document; past this the document is refetched instead (bounded memory). */
const MAX_HELD = 64
/** Events buffered while a read is in flight; past this they are dropped and the document read again. */
const MAX_BUFFERED = 1024
/** Recently applied string revisions, to recognise duplicates that are not the current one. */
const RECENT_REVS = 16

/**
 * One document's state: its content (replaced in place), its revision, the events held back while a read is in
 * flight (promise 1) or while a gap in the revision chain is waited for (promise 2).
 */
export class DocEntry {
  /** Current content, or null when the document does not exist (or is not known yet). */
  source: DocSource | null = null
  rev: Rev | undefined = undefined
  /** The content comes from this entry's own read, not from an event or a search: no query watch vouched for it. */
  fromRead = false
  error: ObservedError | null = null
  /** Number of holders (observers, search hits); the table drops the entry at 0. */
  refs = 0
  /** Sequence number of the last event received for this document. */
  lastEventSeq = 0
  readonly listeners = new Set<EntryListener>()

  private synced = false
  private offline = false
  private existedOnce = false
  private buffer: Buffered[] | null = []
  /** Events received up to this sequence number are included in the read in flight. */
  private syncSeq = 0
  /** The content comes from a read that included the events received up to this sequence number. */
  private contentSeq = 0
  private overflowed = false
  private syncToken = 0
  /** A read was requested (beginSync) and its answer has not been applied yet. */
  private readPending = false
  /** Content a search offered while this entry's read was in flight is shown: the search read it at this sequence number. */
  private shownSeq = 0
  /** Per missing revision, the change that continues from it, as each watch that delivered it sent it. */
  private held = new Map<Rev | null, Held[]>()
  /** Events that were held when a read started: their callbacks learn of them once the read lands. */
  private heldAtSync: Held[] = []
  /** Callbacks of events dropped unapplied (overflow, stale news of leaving), to be told they were superseded. */
  private superseded = new Map<AppliedCallback, DocEvent>()
  private recent: Rev[] = []
  private gapTimer: ReturnType<typeof setTimeout> | undefined
  private waiters: Array<() => void> = []

  constructor(
    readonly ref: CollectionRef,
    readonly id: string,
    private readonly host: EntryHost,
    /** An earlier entry of this document was disposed recently: content from an event alone is not trusted at first. */
    private returning = false,
  ) {}

  get status(): EntryStatus {
    // A watch that does not go live in time is being retried: reconnecting, with the error saying what to check.
    if (this.error) return this.error.code === 'watch_timeout' ? 'reconnecting' : 'error'
    if (!this.synced) return 'pending'
    if (this.offline) return 'reconnecting'
    return this.source ? 'live' : 'deleted'
  }

  /** True once a read or a seed has given this entry its content. */
  get isSynced(): boolean {
    return this.synced
  }

  /**
   * Starts buffering events for a read about to be issued (or, for a search's content, issued when events were at
   * `seq`); returns the token its answer must carry.
   */
  beginSync(seq = this.host.currentSeq, keepHeld = false): number {
    this.buffer ??= []
    this.syncSeq = seq
    // Events held for a gap were delivered before this read starts, so the read includes their content; their
    // callbacks (a query watch's membership news) are settled once it lands. Content a search offers may be older
    // than them (an event's, a page read before they came): they stay held, and what continues it is applied.
    if (!keepHeld) {
      for (const copies of this.held.values()) for (const h of copies) if (h[1]) this.heldAtSync.push(h)
      this.held.clear()
      this.clearGapTimer()
    }
    this.readPending = true
    return ++this.syncToken
  }

  /** Resolves once the read in flight (if any) has been applied or has failed. */
  whenSynced(): Promise<void> {
    if (!this.buffer && this.synced) return Promise.resolve()
    return new Promise((resolve) => this.waiters.push(resolve))
  }

  private settle(): void {
    const waiters = this.waiters
    this.waiters = []
    for (const w of waiters) w()
  }

  /**
   * Applies a read's answer, then the events that arrived while it was in flight. An answer for an older read
   * (another started since) is discarded. `offered`: the content comes from a search, whose index may lag behind.
   */
  applySnapshot(doc: Doc | null, token: number, offered = false): void {
    if (token !== this.syncToken) return
    this.readPending = false
    const buffered = this.buffer ?? []
    this.buffer = null
    // A read is the server's truth as of when it was sent: it replaces whatever came before, however high its
    // revision (a revision from the future must not pin a document; Kuzzle's is a clock we cannot check). Only
    // content a search read after this read was sent, shown meanwhile, is compared, like any event after it.
    const keepCurrent =
      this.shownSeq > this.syncSeq && doc !== null && typeof doc._rev === 'number' && typeof this.rev === 'number' && doc._rev < this.rev
    this.shownSeq = 0
    // The first content is not a change: listeners learn of it through the status. Content a search offered
    // before this first read landed is shown already: a difference from it is a change.
    const first = !this.synced && this.source === null
    this.synced = true
    if (this.error && !this.error.fatal) this.error = null
    if (!keepCurrent) {
      this.contentSeq = this.syncSeq
      this.fromRead = !offered
      try {
        this.setContent(doc, doc?._rev, first)
      } catch (err) {
        // A hostile document: this observer shows the error, nothing else is touched.
        this.fail(asObservedError(err, 'bad_event'))
        this.settleCallbacks()
        this.tellSuperseded()
        return
      }
    }
    if (doc === null && !this.existedOnce) {
      this.error = new ObservedError(
        'not_found',
        `Document "${this.id}" not found in ${this.ref.index}/${this.ref.collection}; still watching for its creation`,
      )
    }
    this.settleCallbacks()
    if (this.held.size) this.drain()
    // An event received before the read was sent was written before it: the read holds it or something newer. Only
    // a duplicate of the read's revision still applies (its news is current); the others (a creation and the
    // changes that followed it, before a delete the read shows, say) only tell their callbacks that the read
    // superseded them. Without a revision (a missing document), or from a search, only a missing document is sure.
    const revless = doc === null || doc._rev === undefined
    // Taken now: a search may offer content from inside these events, which starts another sync.
    const readSeq = this.syncSeq
    for (const [e, cb, seq] of buffered) {
      if (seq <= readSeq && (revless || (!offered && e.rev !== this.rev))) {
        if (cb) this.superseded.set(cb, e)
      } else this.route(e, cb)
    }
    this.tellSuperseded()
    if (this.overflowed) {
      this.overflowed = false
      this.host.refetch(this)
    }
    // Listeners dedupe: a read may have cleared an error, found the document gone, or be the first one.
    this.notifyStatus()
    this.settle()
  }

  /**
   * Offers content read by a search started at `seq` (or carried by `event`, for a search's appearance). It is
   * taken when nothing newer arrived since; otherwise a revision comparison decides, or a fresh read does. True
   * when the document kept content known to be newer.
   */
  offer(doc: Doc, seq: number, event?: DocEvent): boolean {
    // Content at a revision this document has already moved past, or older than the read it shows (a search
    // replaying an older event), is stale.
    if (doc._rev !== undefined && doc._rev !== this.rev && this.recent.includes(doc._rev)) return true
    if (this.synced && seq < this.contentSeq && doc._rev !== this.rev) return true
    if (this.readPending) {
      this.showUntilRead(doc, seq)
      // Its own read will decide; meanwhile it may show an event's content that came after the page (kuzzle seed
      // 103332): the search must not place it by the page's older sort values.
      return this.source !== null && this.lastEventSeq > seq && doc._rev !== this.rev
    }
    if (!this.synced || this.lastEventSeq <= seq) {
      if (this.synced && typeof doc._rev === 'number' && typeof this.rev === 'number' && doc._rev < this.rev) {
        // Older than what is shown, which came before the page was read: the search index lags behind, or the
        // content shown came from an event whose revision (a clock) nothing can check. A read settles it, unless
        // the content shown is a read's already.
        if (!this.fromRead) this.host.refetch(this)
        return false
      }
      const returning = event && !this.synced && this.returning
      this.applySnapshot(doc, this.beginSync(seq, true), true)
      // Seen again through an event after an earlier entry was disposed: what that entry held died with it (a
      // change waiting for a gap, a delete among them), so this event may be a late one. A read settles it.
      if (returning) {
        this.returning = false
        this.host.refetch(this)
      }
      return false
    }
    if (doc._rev !== undefined && doc._rev === this.rev) return false
    if (typeof doc._rev === 'number' && typeof this.rev === 'number') {
      if (doc._rev > this.rev) this.applySnapshot(doc, this.beginSync(seq, true), true)
      // Kept, but known newer only by a revision nothing checked (an event's): a read confirms it or replaces it.
      else if (!this.fromRead) this.host.refetch(this)
      return doc._rev < this.rev
    }
    this.host.refetch(this)
    // The same holds for the read just asked for (a missing document holding a change for a gap, say).
    if (this.readPending) this.showUntilRead(doc, seq)
    return false
  }

  /**
   * Hydration: shows content the server rendered (a container already wrapped, shared with the rows built from it)
   * until this entry's first read confirms it in place or replaces what differs. The status stays `pending`.
   */
  hydrate(source: DocSource | null, rev: Rev | undefined): void {
    if (this.synced || this.source !== null || source === null) return
    this.source = source
    this.rev = rev
    if (rev !== undefined && typeof rev !== 'number') this.remember(rev)
    this.existedOnce = true
  }

  /**
   * A read of our own is in flight: its answer wins. Until it lands, a document not shown (not read yet, or missing
   * when last read) may show content a search offers, so that the search that read it keeps it.
   */
  private showUntilRead(doc: Doc, seq: number): void {
    if (this.source !== null) return
    this.shownSeq = seq
    try {
      this.setContent(doc, doc._rev, !this.synced)
    } catch (err) {
      this.fail(asObservedError(err, 'bad_event'))
    }
  }

  /** Receives an event from a watch. */
  applyEvent(e: DocEvent, applied?: AppliedCallback): void {
    this.lastEventSeq = this.host.nextSeq()
    if (this.buffer) {
      traceDecision(this.host.tracer, this.ref, e, 'buffered')
      if (this.buffer.length < MAX_BUFFERED) this.buffer.push([e, applied, this.lastEventSeq])
      else {
        this.overflowed = true
        if (applied) this.superseded.set(applied, e)
      }
      return
    }
    this.route(e, applied)
  }

  setOffline(offline: boolean): void {
    if (this.offline === offline) return
    this.offline = offline
    this.notifyStatus()
  }

  /** Records an error; a non-fatal one is cleared by the next successful read. */
  fail(err: ObservedError): void {
    if (this.error?.fatal && !err.fatal) return
    this.error = err
    this.notifyStatus()
    this.settle()
  }

  dispose(): void {
    this.clearGapTimer()
    // A query watch's news still waiting here can no longer be ordered: its searches ask their backend again (one
    // may want this document: the search that releases a document disposes it from inside such news).
    const orphans: Held[] = []
    for (const copies of this.held.values()) for (const h of copies) if (h[1]) orphans.push(h)
    for (const h of this.heldAtSync) orphans.push(h)
    for (const [e, cb] of this.buffer ?? []) if (cb) orphans.push([e, cb])
    const superseded = [...this.superseded]
    this.held.clear()
    this.heldAtSync = []
    this.superseded.clear()
    this.buffer = null
    this.listeners.clear()
    this.settle()
    if (orphans.length || superseded.length) {
      queueMicrotask(() => {
        for (const [e, cb] of orphans) cb!(e, true)
        for (const [cb, e] of superseded) cb(e, true)
      })
    }
  }

  private route(e: DocEvent, applied: AppliedCallback | undefined): void {
    const rev = e.rev
    if (rev !== undefined && this.rev !== undefined) {
      if (rev === this.rev && (e.previousRev !== undefined || e.kind === 'delete')) {
        // A duplicate of what we hold: nothing to apply, but its membership news is still current.
        traceDecision(this.host.tracer, this.ref, e, 'duplicate')
        if (typeof e.previousRev === 'string') this.remember(e.previousRev)
        applied?.(e)
        return
      }
      if (typeof rev === 'number' && typeof this.rev === 'number' ? rev < this.rev : this.recent.includes(rev)) {
        // Stale content. A query watch's news that the document left may still be that watch's latest about it
        // (a document it no longer matches gets no newer event from it): its searches must ask again. News that
        // it matched is followed by a newer event from the same watch.
        traceDecision(this.host.tracer, this.ref, e, 'stale')
        if (applied && (e.kind === 'delete' || e.inQuery === false)) {
          this.superseded.set(applied, e)
          this.tellSuperseded()
        }
        // Older only by a clock (no chain places it) than content no read confirmed: a late event, or the content
        // shown came with a revision from the future (a hostile server). A read decides, rather than the clock.
        if (e.previousRev === undefined && typeof rev === 'number' && !this.fromRead && !this.readPending) this.host.refetch(this)
        return
      }
    }
    if (e.previousRev !== undefined && this.rev !== undefined) {
      const continues = e.previousRev === this.rev || (e.previousRev === null && this.source === null)
      if (!continues) {
        this.hold(e, applied)
        return
      }
    } else if (e.kind === 'upsert' && e.previousRev != null && this.synced && this.source === null) {
      // A read found the document missing, which leaves no revision to order against: a change from an existing
      // revision is a late one from before its deletion (a replaced watch resuming its history) or follows a
      // creation we missed. Either way it waits for its chain like any gap, and the gap's read settles it.
      this.hold(e, applied)
      return
    }
    this.apply(e, applied)
    this.drain()
  }

  private hold(e: DocEvent, applied: AppliedCallback | undefined): void {
    traceDecision(this.host.tracer, this.ref, e, 'held')
    if (this.held.size >= MAX_HELD) {
      if (applied) this.superseded.set(applied, e)
      this.host.refetch(this)
      return
    }
    const key = e.previousRev ?? null
    const copies = this.held.get(key)
    if (copies && copies[0][0].rev === e.rev) {
      // The same change from another watch (an id watch and a query watch): each keeps its own event (its own
      // membership); a duplicate from the same watch replaces its copy.
      const i = copies.findIndex(([, cb]) => cb === applied)
      if (i >= 0) copies[i] = [e, applied]
      else copies.push([e, applied])
    } else this.held.set(key, [[e, applied]])
    this.gapTimer ??= setTimeout(() => {
      this.gapTimer = undefined
      this.host.refetch(this)
    }, this.host.gapTimeout)
  }

  private drain(): void {
    for (;;) {
      const key = this.rev !== undefined && this.held.has(this.rev) ? this.rev : this.source === null && this.held.has(null) ? null : undefined
      if (key === undefined) break
      const [[e, cb], ...others] = this.held.get(key)!
      this.held.delete(key)
      // A creation held since before this document's later history (it was deleted since) is not its future.
      if (key === null && e.rev !== undefined && this.rev !== undefined) {
        if (typeof e.rev === 'number' && typeof this.rev === 'number' ? e.rev < this.rev : this.leadsToPast(e.rev)) continue
      }
      this.apply(e, cb)
      for (const [other, otherCb] of others) if (otherCb && this.rev === other.rev) otherCb(other)
    }
    if (this.held.size === 0) this.clearGapTimer()
  }

  /** True when this revision, or one the changes held after it lead to, has been passed already. */
  private leadsToPast(rev: Rev): boolean {
    for (let i = 0; i <= MAX_HELD; i++) {
      if (this.recent.includes(rev)) return true
      const next = this.held.get(rev)?.[0][0].rev
      if (next === undefined) return false
      rev = next
    }
    return false
  }

  private apply(e: DocEvent, applied: AppliedCallback | undefined): void {
    // The revision this change came from is passed too: its own event, arriving late, is stale.
    if (typeof e.previousRev === 'string') this.remember(e.previousRev)
    traceDecision(this.host.tracer, this.ref, e, 'applied')
    this.fromRead = false
    if (e.kind === 'delete') {
      this.setContent(null, e.rev ?? this.rev)
    } else if (!isPlainObject(e.doc)) {
      // A document leaving a query may come without its body (older Kuzzle): membership news only.
      if (e.inQuery === false) {
        applied?.(e)
        return
      }
      this.fail(new ObservedError('bad_event', `Change for document "${this.id}" carries no document body; ignored`))
      return
    } else {
      try {
        this.setContent({ _id: this.id, _source: e.doc }, e.rev)
      } catch (err) {
        this.fail(asObservedError(err, 'bad_event'))
        return
      }
    }
    applied?.(e)
  }

  /** Replaces the content (in place when there is some), notifying listeners of what changed. */
  private setContent(doc: Doc | null, rev: Rev | undefined, quiet = false): void {
    this.rev = rev
    if (rev !== undefined && typeof rev !== 'number') this.remember(rev)
    if (doc === null) {
      if (this.source === null) return
      this.source = null
      for (const l of [...this.listeners]) l.delete?.()
      this.notifyStatus()
      return
    }
    if (!isPlainObject(doc._source)) throw new ObservedError('bad_event', `Document "${this.id}" is not an object`)
    const created = this.source === null
    let changes: string[]
    if (created) {
      this.source = this.host.wrap(cloneSafe(doc._source))
      changes = Object.keys(this.source)
      this.existedOnce = true
    } else {
      changes = replaceInPlace(this.source!, doc._source)
    }
    if (this.error && !this.error.fatal) {
      this.error = null
      this.notifyStatus()
    } else if (created && this.synced) this.notifyStatus()
    if (!quiet && (changes.length || created)) for (const l of [...this.listeners]) l.change?.(changes)
  }

  /**
   * After a read landed: the read superseded every event held for a gap when it started. Even one whose revision
   * the read gave did not continue its chain: the revisions missed in between may have left the query and come
   * back, so a count or page taken meanwhile may be wrong, and its callbacks must ask again.
   */
  private settleCallbacks(): void {
    const held = this.heldAtSync
    this.heldAtSync = []
    for (const [e, cb] of held) this.superseded.set(cb!, e)
  }

  private tellSuperseded(): void {
    if (this.superseded.size === 0) return
    const told = [...this.superseded]
    this.superseded.clear()
    for (const [cb, e] of told) cb(e, true)
  }

  private remember(rev: string): void {
    if (this.recent.includes(rev)) return
    this.recent.push(rev)
    if (this.recent.length > RECENT_REVS) this.recent.shift()
  }

  private notifyStatus(): void {
    for (const l of [...this.listeners]) l.status?.()
  }

  private clearGapTimer(): void {
    if (this.gapTimer !== undefined) clearTimeout(this.gapTimer)
    this.gapTimer = undefined
  }
}
