import { step, initialDocState, isSettled, revisionOf, storedOf, visibleOf, type DocEffect, type DocInput, type DocState } from './doc-state'
import { cloneSafe, nextSnapshot, replaceInPlace } from './patch'
import { traceDecision, type Tracer } from './trace'
import type { CollectionRef, Doc, DocEvent, DocSource, Rev, WriteRequest } from './types'
import { ObservedError, asObservedError } from './types'

/** Lifecycle of one observed document, shared by every observer of it. */
export type EntryStatus = 'pending' | 'live' | 'reconnecting' | 'deleted' | 'error'

/** What an entry needs from the client that owns it. */
export interface EntryHost {
  /** Wraps a new document container (the Vue layer passes `reactive`). */
  wrap<T extends object>(value: T): T
  /** How long a revision gap is waited for before the document is read again (ms). */
  readonly gapTimeout: number
  /** A number that increases with every event received, to tell which of a read and an event came last. */
  nextSeq(): number
  /** The sequence number of the last event received. */
  readonly currentSeq: number
  /** Asks for a fresh read of this document (batched by the entry table). */
  refetch(entry: DocEntry): void
  /** Where decisions are traced (devtools), if anywhere. */
  readonly tracer?: Tracer
  /** Sends a local write to the backend (the driver's `write`). */
  send(ref: CollectionRef, w: WriteRequest): Promise<{ rev?: Rev }>
  /** Lets go of a hold on `entry` (a write in flight holds its document: see `write`). */
  release(entry: DocEntry): void
  /**
   * A local write (or its rollback) changed what `entry` shows from `before` to `after`, or its last pending write
   * left (confirmed, or superseded by a newer revision: then `after` is the server's): live searches place it again.
   */
  localChange?(entry: DocEntry, before: DocSource | null, after: DocSource | null): void
}

/** Options of a local write. */
export interface WriteOptions {
  /** Write only if the server's revision is still this one (the one shown); else the write fails with `conflict`. */
  ifRevision?: Rev
}

/**
 * Receives an entry's changes: its observers, as TanStack Query's queries call their observers' `onQueryUpdate`
 * (the observer is the listener: no listener object nor closures per observer).
 */
export interface EntryListener {
  /** The content changed; `changes` lists the top-level fields that differ. */
  entryChanged(changes: string[]): void
  entryDeleted(): void
  /** The status, the error or the pending flag may have changed. */
  entryStatusChanged(): void
  /** A local write was refused (and rolled back). */
  entryWriteRefused(err: ObservedError): void
  /** The client is closing: stop. */
  stop(): void
}

/** No listeners, as a list. */
const NO_LISTENERS: readonly EntryListener[] = Object.freeze([])

/**
 * Called when an event has been applied in order (or is a duplicate of the current revision). Called with
 * `superseded: true` instead when a read or a newer revision replaced the event before it could be applied: its
 * news (a query watch's membership) is then unknown, and the caller must ask its backend again.
 */
export type AppliedCallback = (e: DocEvent, superseded?: boolean) => void

const isList = (l: EntryListener | readonly EntryListener[]): l is readonly EntryListener[] => Array.isArray(l)

/** What an entry needs only once events come out of order, something fails, someone waits for a read, or it writes. */
interface Aside {
  /** Waits for a held event's gap to be filled (`run`). */
  gapTimer: ReturnType<typeof setTimeout> | undefined
  /** See `DocEntry.error`. */
  error: ObservedError | null
  /** Who waits for the read in flight (`whenSynced`). */
  waiters: Array<() => void> | null
  /** The local writes' bookkeeping, made by the first write. */
  writing: Writing | null
}

const newAside = (): Aside => ({ gapTimer: undefined, error: null, waiters: null, writing: null })

/** An entry's local writes, in flight or waiting for their echo. */
interface Writing {
  /** Writes made so far: the next one's number. */
  count: number
  /** The last write sent (the next waits for its answer). */
  sending: Promise<void>
  /** Waits for the echoes of confirmed writes (see `write`); cleared on dispose. */
  echoTimers: Set<ReturnType<typeof setTimeout>> | null
}

/** True for a well-formed event; anything else from a driver is dropped. */
export function isDocEvent(e: unknown): e is DocEvent {
  if (e === null || typeof e !== 'object') return false
  const { id, kind } = e as DocEvent
  return typeof id === 'string' && id !== '' && (kind === 'upsert' || kind === 'delete')
}

/**
 * One document, as the shell of its state machine (`doc-state.ts`, where its states and rules are): feeds it the
 * inputs, carries out its effects (the content shown, reads, the gap timer, the watches' callbacks) and holds what
 * is not the document's state: its holders, listeners and error.
 *
 * What it shows is held as a frozen value (`plain`), replaced on every change with unchanged fields shared; the
 * wrapped container (`source`, reactive under Vue, replaced in place) is made only for those who read it: a live
 * search's rows show the frozen value, so 5,000 rows hold no reactive container (issue 23).
 */
export class DocEntry {
  /** What is shown, frozen (fields copied with `__proto__` keys dropped); null when missing, deleted or not known yet. */
  private content: DocSource | null = null
  /** The wrapped container made from `content` on first read of `source`, then changed in place; null until then. */
  private container: DocSource | null = null
  /** Number of holders (observers, search hits); the table drops the entry at 0. */
  refs = 0
  /** How many of them need its id watch (observers; not a live query's hits): its collection's pool wants it from 1. */
  watchers = 0
  /**
   * Its observers: none, the one (most documents have one), or a list replaced on every change (never changed in
   * place, so that notifying walks the list as it was, with no copy).
   */
  private listening: EntryListener | readonly EntryListener[] | null = null

  private state: DocState<AppliedCallback>
  /**
   * `on`; `offline` while its watch is (told by `setOffline`: the status says `reconnecting`); `disposed` once its
   * table let it go, for good (nothing runs any more).
   */
  private life: 'on' | 'offline' | 'disposed' = 'on'
  /** Token of the latest read sent: an answer to an older one is dropped. */
  private syncToken = 0
  /** What few documents need, made on first need: the gap timer, an error, who waits for a read, local writes. */
  private aside: Aside | null = null

  private get disposed(): boolean {
    return this.life === 'disposed'
  }

  constructor(
    readonly ref: CollectionRef,
    readonly id: string,
    private readonly host: EntryHost,
    /** An earlier entry of this document was disposed recently: content from an event alone is not trusted at first. */
    returning = false,
  ) {
    this.state = initialDocState(returning)
  }

  /**
   * Current content as a wrapped container replaced in place (made on first read), or null when missing, deleted or
   * not known yet.
   */
  get source(): DocSource | null {
    if (this.content === null) return null
    return (this.container ??= this.host.wrap(cloneSafe(this.content)))
  }

  /**
   * The content shown as a frozen value, replaced (not changed) on every change: what searches sort by and their rows
   * show, with no container nor proxy. Null exactly when `source` is.
   */
  get plain(): DocSource | null {
    return this.content
  }

  /** What went wrong, until a read clears it (unless fatal); null for most documents (kept aside, made on need). */
  get error(): ObservedError | null {
    return this.aside?.error ?? null
  }

  private setError(error: ObservedError | null): void {
    if (error !== null) (this.aside ??= newAside()).error = error
    else if (this.aside) this.aside.error = null
  }

  /** The document's state (see doc-state.ts), for devtools and tests. */
  get docState(): DocState<AppliedCallback> {
    return this.state
  }

  get rev(): Rev | undefined {
    return revisionOf(this.state)
  }

  /** The content comes from this document's own read, not from an event or a search: no query watch vouched for it. */
  get fromRead(): boolean {
    return this.state.known.kind !== 'unknown' && this.state.known.from === 'read'
  }

  /** Sequence number of the last event received for this document. */
  get lastEventSeq(): number {
    return this.state.lastSeq
  }

  get status(): EntryStatus {
    // A watch that does not go live in time is being retried: reconnecting, with the error saying what to check.
    if (this.error) return this.error.code === 'watch_timeout' ? 'reconnecting' : 'error'
    if (!isSettled(this.state)) return 'pending'
    if (this.life === 'offline') return 'reconnecting'
    return this.content ? 'live' : 'deleted'
  }

  /** True once a read or a search's page has settled this entry's content. */
  get isSynced(): boolean {
    return isSettled(this.state)
  }

  /** The read this entry asked for goes out now, covering events received up to `seq`; returns its token. */
  beginSync(seq = this.host.currentSeq): number {
    this.run({ type: 'readSent', at: seq })
    return ++this.syncToken
  }

  /** Resolves once the read in flight (if any) has been applied or has failed. */
  whenSynced(): Promise<void> {
    if (!this.state.reading && isSettled(this.state)) return Promise.resolve()
    return new Promise((resolve) => ((this.aside ??= newAside()).waiters ??= []).push(resolve))
  }

  private settleWaiters(): void {
    const waiters = this.aside?.waiters
    if (!waiters) return
    this.aside!.waiters = null
    for (const w of waiters) w()
  }

  /** Its observers now, in the order they came (a list that later changes leave as it is). */
  get listeners(): readonly EntryListener[] {
    const l = this.listening
    return l === null ? NO_LISTENERS : isList(l) ? l : [l]
  }

  listen(listener: EntryListener): void {
    const l = this.listening
    if (l === null) this.listening = listener
    // An array literal or concat holds exactly its items (a spread into an empty array reserves room for 17).
    else if (!isList(l)) this.listening = l === listener ? l : [l, listener]
    else if (!l.includes(listener)) this.listening = l.concat(listener)
  }

  unlisten(listener: EntryListener): void {
    const l = this.listening
    if (l === listener) this.listening = null
    else if (l !== null && isList(l) && l.includes(listener)) {
      const rest = l.filter((x) => x !== listener)
      this.listening = rest.length === 1 ? rest[0] : rest
    }
  }

  /** Applies a read's answer, then the events that arrived while it was in flight. An older read's answer is dropped. */
  applySnapshot(doc: Doc | null, token: number): void {
    if (token !== this.syncToken) return
    if (this.error && !this.error.fatal) this.setError(null)
    this.run({ type: 'readAnswered', doc })
    // Listeners dedupe: a read may have cleared an error, found the document gone, or be the first one.
    this.notifyStatus()
    this.settleWaiters()
  }

  /**
   * Offers content read by a search started at `seq` (or carried by `event`, for a search's appearance). True when
   * the document kept content known to be newer.
   */
  offer(doc: Doc, seq: number, event?: DocEvent): boolean {
    return this.run({ type: 'offer', doc, seq, fromEvent: event !== undefined }) ?? false
  }

  /**
   * Hydration: shows content the server rendered (frozen, shared with the rows built from it, and its container if
   * one was handed out already) until this entry's first read confirms it or replaces what differs. The status
   * stays `pending`.
   */
  hydrate(content: DocSource | null, container: DocSource | null, rev: Rev | undefined): void {
    if (content === null || this.content !== null || this.state.known.kind !== 'unknown') return
    this.run({ type: 'hydrate', doc: content, rev })
    this.content = content
    this.container = container
  }

  /** True while a local write of this document is not confirmed. */
  get pending(): boolean {
    return this.state.pending.length > 0
  }

  /**
   * A local write: shown at once (before any request), sent after this document's earlier writes; resolves once the
   * server took it, rejects with an ObservedError once it refused it (rolled back: the server's content returns).
   */
  write(op: 'update' | 'replace' | 'remove' | 'create', content: DocSource | undefined, options: WriteOptions = {}): Promise<void> {
    const writing = ((this.aside ??= newAside()).writing ??= { count: 0, sending: Promise.resolve(), echoTimers: null })
    const n = ++writing.count
    // A write in flight holds its document, so that what it shows stays known (to live searches too) until the
    // server answers, whoever stops observing it meanwhile.
    this.refs++
    const copy = content === undefined ? undefined : cloneSafe(content)
    this.runLocal({ type: 'write', write: { n, op: op === 'create' ? 'replace' : op, content: copy } })
    const request: WriteRequest = { op, id: this.id, content: copy, ifRevision: options.ifRevision }
    const tracer = this.host.tracer
    const collection = `${this.ref.index}/${this.ref.collection}`
    const sent = writing.sending.then(() => {
      if (tracer?.active) tracer.emit({ type: 'write', phase: 'sent', collection, id: this.id, op })
      return this.host.send(this.ref, request)
    })
    // Writes of one document go out in order, each once the one before it is answered.
    writing.sending = sent.then(
      () => undefined,
      () => undefined,
    )
    return sent
      .then(
        (answer) => {
          const rev = answer && (typeof answer.rev === 'string' || typeof answer.rev === 'number') ? answer.rev : undefined
          if (tracer?.active) tracer.emit({ type: 'write', phase: 'confirmed', collection, id: this.id, op, rev })
          // The answer is a point of the stream of its own, so that a read or page sent at the same point is known to come after it.
          this.run({ type: 'writeAnswered', n, rev, at: this.host.nextSeq() })
          // Without a revision to recognise its echo by, what the server now stores is read; with one, it is read if
          // the echo does not come within the gap timeout (a lost notification must not leave the write pending).
          const waiting = () => !this.disposed && this.state.pending.some((w) => w.n === n)
          if (rev === undefined) {
            if (waiting()) this.host.refetch(this)
          } else if (waiting()) {
            const timer = setTimeout(() => {
              writing.echoTimers?.delete(timer)
              if (waiting()) this.host.refetch(this)
            }, this.host.gapTimeout)
            ;(writing.echoTimers ??= new Set()).add(timer)
          }
        },
        (err: unknown) => {
          const error = asObservedError(err, 'write_failed')
          if (tracer?.active) tracer.emit({ type: 'write', phase: 'refused', collection, id: this.id, op, error })
          this.runLocal({ type: 'writeFailed', n })
          for (const l of this.listeners) l.entryWriteRefused(error)
          throw error
        },
      )
      .finally(() => this.host.release(this))
  }

  /**
   * True while a local write of this document has not been answered by the server (it has not stored it yet), or was
   * answered after stream point `at` (a page read sent then may not hold it).
   */
  unansweredAt(at = Infinity): boolean {
    return this.state.pending.some((w) => w.ack === undefined || w.ack.at > at)
  }

  /** What the server stores as far as known: its last word with the writes it answered (null: missing or unknown). */
  get remote(): DocSource | null {
    return storedOf(this.state)
  }

  /** What the server stores as far as known (its last word with the writes it answered by stream point `at`). */
  storedAt(at = Infinity): DocSource | null {
    return storedOf(this.state, at)
  }

  /** What is shown: the server's content with the pending local writes applied on top. */
  get visible(): DocSource | null {
    return visibleOf(this.state)
  }

  /** A transition caused here, not by the server (a local write or its rollback): the live searches are told. */
  private runLocal(input: DocInput<AppliedCallback>): void {
    const before = visibleOf(this.state)
    this.run(input)
    if (!this.disposed) this.host.localChange?.(this, before, visibleOf(this.state))
  }


  /** Receives an event from a watch. */
  applyEvent(e: DocEvent, applied?: AppliedCallback): void {
    this.run({ type: 'event', e, seq: this.host.nextSeq(), tag: applied })
  }

  setOffline(offline: boolean): void {
    if (this.life === 'disposed' || (this.life === 'offline') === offline) return
    this.life = offline ? 'offline' : 'on'
    this.notifyStatus()
  }

  /** Records an error; a non-fatal one is cleared by the next successful read. */
  fail(err: ObservedError): void {
    if (this.error?.fatal && !err.fatal) return
    this.setError(err)
    // No read will answer what waits for one: the watches' news is told it is superseded.
    if (err.fatal) this.run({ type: 'readFailed', fatal: true })
    this.notifyStatus()
    this.settleWaiters()
  }

  dispose(): void {
    this.life = 'disposed'
    this.clearGapTimer()
    const writing = this.aside?.writing
    for (const timer of writing?.echoTimers ?? []) clearTimeout(timer)
    if (writing) writing.echoTimers = null
    // A query watch's news still waiting here can no longer be ordered: its searches ask their backend again (one
    // may want this document: the search that releases a document disposes it from inside such news).
    const { held, reading } = this.state
    const orphans = [...held, ...(reading?.covered ?? []), ...(reading?.since ?? [])].filter((r) => r.tag)
    this.state = { ...this.state, held: [], reading: null }
    this.listening = null
    this.settleWaiters()
    if (orphans.length) queueMicrotask(() => {
      for (const r of orphans) r.tag!(r.e, true)
    })
  }

  /** One transition, then its effects. */
  private run(input: DocInput<AppliedCallback>): boolean | undefined {
    if (this.disposed) return undefined
    const { state, effects, kept } = step(this.state, input)
    const previous = this.state
    const wasPending = previous.pending.length > 0
    this.state = state
    for (const effect of effects) {
      // A callback may have moved the state on since (a nested transition: every transition makes a new state
      // object, so identity tells, with no counter): its content is what to show now.
      if (effect.type === 'show' && this.state !== state) this.render(this.visible, effect.quiet)
      else this.effect(effect)
    }
    // A write confirmed by its echo or a read (or refused) changes what `pending` says.
    if (wasPending !== this.state.pending.length > 0) {
      this.notifyStatus()
      // Confirmed (a refusal is told by `runLocal`): the live searches settle what they placed by it.
      if (wasPending && input.type !== 'writeFailed' && !this.disposed) this.host.localChange?.(this, visibleOf(previous), visibleOf(this.state))
    }
    if (this.state.held.length === 0) this.clearGapTimer()
    else if (this.aside?.gapTimer === undefined && !this.disposed) {
      const aside = (this.aside ??= newAside())
      aside.gapTimer = setTimeout(() => {
        aside.gapTimer = undefined
        this.run({ type: 'gapTimeout' })
      }, this.host.gapTimeout)
    }
    return kept
  }

  private effect(effect: DocEffect<AppliedCallback>): void {
    switch (effect.type) {
      case 'show':
        return this.render(effect.doc, effect.quiet)
      case 'read':
        return this.host.refetch(this)
      case 'applied':
        return effect.tag(effect.e)
      case 'superseded':
        return effect.tag(effect.e, true)
      case 'decision':
        return traceDecision(this.host.tracer, this.ref, effect.e, effect.decision)
      case 'notFound':
        this.setError(
          new ObservedError(
            'not_found',
            `Document "${this.id}" not found in ${this.ref.index}/${this.ref.collection}; still watching for its creation`,
          ),
        )
        return
      case 'badEvent':
        return this.fail(new ObservedError('bad_event', effect.message))
    }
  }

  /** Shows `doc`, notifying listeners of what changed. `quiet`: the first content, told by the status. */
  private render(doc: DocSource | null, quiet: boolean): void {
    // The state holds what is shown once it is (see below): showing it again does nothing.
    if (doc === this.content) return
    if (doc === null) {
      this.content = this.container = null
      for (const l of this.listeners) l.entryDeleted()
      this.notifyStatus()
      return
    }
    let changes: string[]
    const created = this.content === null
    try {
      const next = nextSnapshot(this.content, doc)
      changes = next.changes
      if (this.container !== null && changes.length) replaceInPlace(this.container, next.value)
      this.content = next.value
    } catch (err) {
      // A hostile document: this observer shows the error, nothing else is touched.
      this.fail(asObservedError(err, 'bad_event'))
      return
    }
    // The state holds the server's content as it came; the frozen copy shown replaces it there (held once, not twice).
    const known = this.state.known
    if (known.kind === 'content' && known.doc === doc && this.state.pending.length === 0) {
      this.state = step(this.state, { type: 'shown', doc, as: this.content! }).state
    }
    if (this.error && !this.error.fatal) {
      this.setError(null)
      this.notifyStatus()
    } else if (created && isSettled(this.state)) this.notifyStatus()
    if (!quiet && (changes.length || created)) for (const l of this.listeners) l.entryChanged(changes)
  }

  private notifyStatus(): void {
    for (const l of this.listeners) l.entryStatusChanged()
  }

  private clearGapTimer(): void {
    const aside = this.aside
    if (aside?.gapTimer === undefined) return
    clearTimeout(aside.gapTimer)
    aside.gapTimer = undefined
  }
}
