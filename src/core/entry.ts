import { cloneSafe, isPlainObject, replaceInPlace } from './patch'
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
  /** Asks for a fresh read of this document (batched by the entry table). */
  refetch(entry: DocEntry): void
}

/** Receives an entry's changes (observer handles, searches). */
export interface EntryListener {
  change?(changes: string[]): void
  delete?(): void
  status?(): void
}

/** Called when an event has been applied in order (or is a duplicate of the current revision). */
export type AppliedCallback = (e: DocEvent) => void

type Held = readonly [DocEvent, AppliedCallback | undefined]

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
  error: ObservedError | null = null
  /** Number of holders (observers, search hits); the table drops the entry at 0. */
  refs = 0
  /** Sequence number of the last event received for this document. */
  lastEventSeq = 0
  readonly listeners = new Set<EntryListener>()

  private synced = false
  private offline = false
  private existedOnce = false
  private buffer: Held[] | null = []
  private overflowed = false
  private syncToken = 0
  /** A read was requested (beginSync) and its answer has not been applied yet. */
  private readPending = false
  private held = new Map<Rev | null, Held>()
  private recent: Rev[] = []
  private gapTimer: ReturnType<typeof setTimeout> | undefined
  private waiters: Array<() => void> = []

  constructor(
    readonly ref: CollectionRef,
    readonly id: string,
    private readonly host: EntryHost,
  ) {}

  get status(): EntryStatus {
    if (this.error) return 'error'
    if (!this.synced) return 'pending'
    if (this.offline) return 'reconnecting'
    return this.source ? 'live' : 'deleted'
  }

  /** True once a read or a seed has given this entry its content. */
  get isSynced(): boolean {
    return this.synced
  }

  /** Starts buffering events for a read about to be issued; returns the token its answer must carry. */
  beginSync(): number {
    this.buffer ??= []
    // Events held for a gap were delivered before this read starts, so the read includes them.
    this.held.clear()
    this.clearGapTimer()
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
   * (another started since) is discarded.
   */
  applySnapshot(doc: Doc | null, token: number): void {
    if (token !== this.syncToken) return
    this.readPending = false
    const buffered = this.buffer ?? []
    this.buffer = null
    const keepCurrent =
      this.synced && doc !== null && typeof doc._rev === 'number' && typeof this.rev === 'number' && doc._rev < this.rev
    // The first content is not a change: listeners learn of it through the status.
    const first = !this.synced
    this.synced = true
    if (this.error && !this.error.fatal) this.error = null
    if (!keepCurrent) {
      try {
        this.setContent(doc, doc?._rev, first)
      } catch (err) {
        // A hostile document: this observer shows the error, nothing else is touched.
        this.fail(asObservedError(err, 'bad_event'))
        return
      }
    }
    if (doc === null && !this.existedOnce) {
      this.error = new ObservedError(
        'not_found',
        `Document "${this.id}" not found in ${this.ref.index}/${this.ref.collection}; still watching for its creation`,
      )
    }
    for (const [e, cb] of buffered) this.route(e, cb)
    if (this.overflowed) {
      this.overflowed = false
      this.host.refetch(this)
    }
    // Listeners dedupe: a read may have cleared an error, found the document gone, or be the first one.
    this.notifyStatus()
    this.settle()
  }

  /**
   * Offers content read by a search started at `seq`. It is taken when nothing newer arrived since; otherwise a
   * revision comparison decides, or a fresh read does.
   */
  offer(doc: Doc, seq: number): void {
    if (this.readPending) {
      // A read of our own, issued once the watch was live, is in flight: its answer wins. Until it lands, a
      // document not shown yet may show the offered content.
      if (this.source === null && !this.synced) {
        try {
          this.setContent(doc, doc._rev, true)
        } catch (err) {
          this.fail(asObservedError(err, 'bad_event'))
        }
      }
      return
    }
    if (!this.synced || this.lastEventSeq <= seq) {
      this.applySnapshot(doc, this.beginSync())
      return
    }
    if (doc._rev !== undefined && doc._rev === this.rev) return
    if (typeof doc._rev === 'number' && typeof this.rev === 'number') {
      if (doc._rev > this.rev) this.applySnapshot(doc, this.beginSync())
      return
    }
    this.host.refetch(this)
  }

  /** Receives an event from a watch. */
  applyEvent(e: DocEvent, applied?: AppliedCallback): void {
    this.lastEventSeq = this.host.nextSeq()
    if (this.buffer) {
      if (this.buffer.length < MAX_BUFFERED) this.buffer.push([e, applied])
      else this.overflowed = true
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
    this.held.clear()
    this.buffer = null
    this.listeners.clear()
    this.settle()
  }

  private route(e: DocEvent, applied: AppliedCallback | undefined): void {
    const rev = e.rev
    if (rev !== undefined && this.rev !== undefined) {
      if (rev === this.rev && (e.previousRev !== undefined || e.kind === 'delete')) {
        // A duplicate of what we hold: nothing to apply, but its membership news is still current.
        applied?.(e)
        return
      }
      if (typeof rev === 'number' && typeof this.rev === 'number' ? rev < this.rev : this.recent.includes(rev)) return
    }
    if (e.previousRev !== undefined && this.rev !== undefined) {
      const continues = e.previousRev === this.rev || (e.previousRev === null && this.source === null)
      if (!continues) {
        this.hold(e, applied)
        return
      }
    }
    this.apply(e, applied)
    this.drain()
  }

  private hold(e: DocEvent, applied: AppliedCallback | undefined): void {
    if (this.held.size >= MAX_HELD) {
      this.held.clear()
      this.host.refetch(this)
      return
    }
    this.held.set(e.previousRev ?? null, [e, applied])
    this.gapTimer ??= setTimeout(() => {
      this.gapTimer = undefined
      this.host.refetch(this)
    }, this.host.gapTimeout)
  }

  private drain(): void {
    for (;;) {
      const key = this.rev !== undefined && this.held.has(this.rev) ? this.rev : this.source === null && this.held.has(null) ? null : undefined
      if (key === undefined) break
      const [e, cb] = this.held.get(key)!
      this.held.delete(key)
      this.apply(e, cb)
    }
    if (this.held.size === 0) this.clearGapTimer()
  }

  private apply(e: DocEvent, applied: AppliedCallback | undefined): void {
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
    if (rev !== undefined && typeof rev !== 'number') {
      this.recent.push(rev)
      if (this.recent.length > RECENT_REVS) this.recent.shift()
    }
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

  private notifyStatus(): void {
    for (const l of [...this.listeners]) l.status?.()
  }

  private clearGapTimer(): void {
    if (this.gapTimer !== undefined) clearTimeout(this.gapTimer)
    this.gapTimer = undefined
  }
}
