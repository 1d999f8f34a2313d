/**
 * One document's state as one value, and its transitions as one pure function: `step(state, input)` returns the
 * next state and the effects the shell (`DocEntry`) carries out. No timers, no I/O, no driver in here.
 *
 * ## Legal states
 * - `known` is what the server last said, and how we know it:
 *   - `unknown`: nothing yet (a new entry; `forgotten` when an earlier entry of it was disposed lately, so that
 *     content offered from an event alone may be a late one);
 *   - `content` (a document body and its revision) or `missing` (deleted, or never created; the deletion's
 *     revision when an event said so), each with `from`: `read` (this document's own read: what the server
 *     stores), `event` (a watch's change, placed by the rules below), `page` (a search's page or appearance: the
 *     search index may lag), `provisional` (a search's content shown until this document's own read lands) or
 *     `hydration` (server-rendered content, until the first read confirms it). `asOf` is the stream point (the
 *     sequence number of the last event received when the read or page was sent) a read or page gave it at.
 * - `reading`: a read of this document is wanted or in flight (`at`: the stream point it covers, null until sent);
 *   events received meanwhile wait in `since` and are placed on its answer. A new document starts with one not
 *   asked for: its first read, or a search's page, settles it (a local write's answer asks for it, as no event can
 *   place a write's echo on a document never read). Null when no read is outstanding.
 * - `held`: events waiting for the revision they continue (a gap in the chain), each with its watch's `tag`.
 * - `past`: string revisions known superseded (bounded: the last PAST_REVS). Numeric revisions need no memory: they
 *   compare.
 * - `existed`: the document was seen with content once (a read that finds it missing is then no `not_found`).
 * - `pending`: local writes not yet reflected in `known`, in the order they were made. Each is `sent` until the
 *   server answers, then `acknowledged` at the revision the server gave it (and the stream point of the answer)
 *   until `known` reaches it: its echo (an event at that revision), a revision after it, or a read sent after the
 *   answer. What is shown is {@link visibleOf}: `known` with the pending writes applied in order.
 *
 * ## Invariants (each transition keeps them)
 * 1. One comparison decides "newer" ({@link placeEvent}): an event applies only on the revision it continues
 *    (`previousRev`), or, without a chain, when its numeric revision is not older. Anything else waits for the
 *    revision it continues (a gap) or, when no event can fill the gap, for a read. Nothing is applied on a guess.
 * 2. A revision seen superseded is in the past, whichever watch delivers it, also after a deletion: every
 *    `previousRev` received, every revision an applied change or a read replaced, and every revision of an event
 *    received before a read was sent that the read does not show.
 * 3. A read supersedes every event received before it was sent: its answer replaces the content, whatever the
 *    revisions say (a revision "from the future" cannot freeze a document), and only events received after it was
 *    sent are placed on top.
 * 4. Memory is bounded per document: `held` ≤ MAX_HELD, `since` ≤ MAX_BUFFERED (past either, the document is read
 *    again), `past` ≤ PAST_REVS.
 * 5. Every event a watch delivered is answered at most once through its tag: `applied` (its news is current) or
 *    `superseded` (a read or a newer revision replaced it unapplied: the watch's searches ask their backend again);
 *    only stale news that the document matched goes unanswered, as the same watch's newer news of it follows.
 *
 * 6. Local writes are an overlay: every transition that changes `known` shows `known` with the pending writes
 *    applied on top again (a rebase); a write leaves the overlay once `known` reaches it, or when the server refuses
 *    it (its content returns to the server's). What is shown changes only when the overlaid content does: a
 *    confirmation whose content is already shown renders nothing.
 *
 * ## Sources, and how each enters
 * - Local writes: `write`, then `writeAnswered` or `writeFailed` (see `pending` and invariant 6).
 * - Hydrated content: the `hydrate` input, `from: 'hydration'` (known as of the server render); the first read
 *   confirms or replaces it.
 * - Content relayed from another tab: the leader tab's events and reads enter as the same `event` and
 *   `readAnswered` inputs; the follower's state is the same value.
 */
import { deepEqual, isPlainObject } from './patch'
import type { Doc, DocEvent, DocSource, Rev } from './types'

/** Where known content came from; see the legal states above. */
export type Origin = 'read' | 'event' | 'page' | 'provisional' | 'hydration'

/** What the server last said of the document. */
export type Known =
  | { readonly kind: 'unknown'; readonly forgotten: boolean }
  | { readonly kind: 'content'; readonly doc: DocSource; readonly rev?: Rev; readonly from: Origin; readonly asOf: number }
  | { readonly kind: 'missing'; readonly rev?: Rev; readonly from: Origin; readonly asOf: number }

/** An event as received: its arrival sequence number, and the tag of the watch that delivered it (if it listens). */
export interface Received<Tag> {
  readonly e: DocEvent
  readonly seq: number
  readonly tag?: Tag
}

/** A read wanted or in flight (or, for a new document, the first read or page waited for). */
export interface Reading<Tag> {
  /** Stream point the read covers (events received up to it are in its answer); null until it is sent. */
  readonly at: number | null
  /** This state machine asked for it (a `read` effect went out). */
  readonly asked: boolean
  /** Events received since the read was first wanted, in arrival order. */
  readonly since: readonly Received<Tag>[]
  /** Events held for a gap when the read was sent: the read supersedes them. */
  readonly covered: readonly Received<Tag>[]
  /** More events came than `since` keeps: once answered, the document is read again. */
  readonly overflow: boolean
}

/** A local write: `update` merges `content` (objects deeply, as Kuzzle's `document:update`), `replace` sets it. */
export interface LocalWrite {
  /** Its number, unique per document, in the order writes are made. */
  readonly n: number
  readonly op: 'update' | 'replace' | 'remove'
  readonly content?: DocSource
  /** Answered by the server at this revision, at this stream point; absent while sent. */
  readonly ack?: { readonly rev?: Rev; readonly at: number }
}

/** One document's state. */
export interface DocState<Tag = unknown> {
  readonly known: Known
  readonly reading: Reading<Tag> | null
  readonly held: readonly Received<Tag>[]
  readonly past: readonly Rev[]
  readonly existed: boolean
  /** Sequence number of the last event received for this document. */
  readonly lastSeq: number
  readonly pending: readonly LocalWrite[]
}

/** What the state machine is told. */
export type DocInput<Tag = unknown> =
  /** A watch delivered an event (`seq`: its arrival number, greater than any before). */
  | { readonly type: 'event'; readonly e: DocEvent; readonly seq: number; readonly tag?: Tag }
  /** A read is wanted (it will be sent when the collection's batch goes out). */
  | { readonly type: 'readWanted' }
  /** The read was sent when events were at `at`. */
  | { readonly type: 'readSent'; readonly at: number }
  /** The read's answer: the document, or null when missing. */
  | { readonly type: 'readAnswered'; readonly doc: Doc | null }
  /** The read failed; a fatal failure gives it up (no retry will answer). */
  | { readonly type: 'readFailed'; readonly fatal: boolean }
  /** A search read this content at stream point `seq` (or an event carried it, `fromEvent`). */
  | { readonly type: 'offer'; readonly doc: Doc; readonly seq: number; readonly fromEvent: boolean }
  /** The gap an event is held for was not filled in time. */
  | { readonly type: 'gapTimeout' }
  /** Server-rendered content (until the first read confirms it). */
  | { readonly type: 'hydrate'; readonly doc: DocSource; readonly rev?: Rev }
  /** A local write, shown at once. */
  | { readonly type: 'write'; readonly write: LocalWrite }
  /** The server took write `n` at revision `rev` (when the driver says), events being at `at`. */
  | { readonly type: 'writeAnswered'; readonly n: number; readonly rev?: Rev; readonly at: number }
  /** The server refused write `n`: it is rolled back. */
  | { readonly type: 'writeFailed'; readonly n: number }
  /**
   * The shell shows the known content `doc` as `as`, an equal value it keeps (frozen): `known` holds that one
   * instead, so that a document's content is held once, not twice. Changes nothing else, shows nothing.
   */
  | { readonly type: 'shown'; readonly doc: DocSource; readonly as: DocSource }

/** What the shell does after a transition. */
export type DocEffect<Tag = unknown> =
  /** Show this content (null: the document is gone). `quiet`: its first content, announced by the status. */
  | { readonly type: 'show'; readonly doc: DocSource | null; readonly quiet: boolean }
  /** Read the document (batched per collection, behind its retry gate). */
  | { readonly type: 'read' }
  /** The event's news is current (applied, or a duplicate of what is shown). */
  | { readonly type: 'applied'; readonly e: DocEvent; readonly tag: Tag }
  /** The event was replaced unapplied: its watch's searches ask their backend again. */
  | { readonly type: 'superseded'; readonly e: DocEvent; readonly tag: Tag }
  /** What was decided for an event (devtools' timeline). */
  | { readonly type: 'decision'; readonly e: DocEvent; readonly decision: 'applied' | 'duplicate' | 'stale' | 'held' | 'buffered' }
  /** The read found the document missing, and it never existed. */
  | { readonly type: 'notFound' }
  /** An event carried something unusable. */
  | { readonly type: 'badEvent'; readonly message: string }

/** The result of one transition. `kept`: for an offer, the document kept content known to be newer. */
export interface DocStep<Tag = unknown> {
  readonly state: DocState<Tag>
  readonly effects: readonly DocEffect<Tag>[]
  readonly kept?: boolean
}

/** Out-of-order events held per document; past this the document is read instead. */
export const MAX_HELD = 64
/** Events kept while a read is in flight; past this they are dropped and the document read again. */
export const MAX_BUFFERED = 1024
/** Superseded string revisions remembered per document. */
export const PAST_REVS = 16

/** A new document: unknown, with its first read wanted (events wait for it). */
/** One empty list shared by every state (states are never modified in place): nothing allocated per document. */
const NONE: readonly never[] = Object.freeze([])

export function initialDocState<Tag>(forgotten = false): DocState<Tag> {
  return {
    known: { kind: 'unknown', forgotten },
    reading: { at: null, asked: false, since: NONE, covered: NONE, overflow: false },
    held: NONE,
    past: NONE,
    existed: false,
    lastSeq: 0,
    pending: NONE,
  }
}

/** What the document shows: the server's content with the pending local writes applied in order. */
export function visibleOf(s: DocState<unknown>): DocSource | null {
  let doc = s.known.kind === 'content' ? s.known.doc : null
  for (const w of s.pending) doc = applyWrite(doc, w)
  return doc
}

/**
 * What the server stores as far as this state knows: its last word with the writes it has answered applied; with
 * `at`, only those answered by stream point `at` (what a page read sent then holds: an answer has a point of its own).
 */
export function storedOf(s: DocState<unknown>, at = Infinity): DocSource | null {
  let doc = s.known.kind === 'content' ? s.known.doc : null
  for (const w of s.pending) if (w.ack && w.ack.at <= at) doc = applyWrite(doc, w)
  return doc
}

function applyWrite(doc: DocSource | null, w: LocalWrite): DocSource | null {
  if (w.op === 'remove') return null
  if (w.op === 'replace') return w.content ?? null
  // An update of a missing document is refused by the server: nothing to show until it says so.
  return doc === null ? null : (mergeDeep(doc, w.content ?? {}) as DocSource)
}

/** `patch` merged into `base`: plain objects deeply, anything else (arrays included) replaced. Copies, never edits. */
function mergeDeep(base: Record<string, unknown>, patch: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base }
  for (const key of Object.keys(patch)) {
    if (key === '__proto__') continue
    const next = patch[key]
    const prev = out[key]
    out[key] = isPlainObject(next) && isPlainObject(prev) ? mergeDeep(prev, next) : next
  }
  return out
}

/** True once a read or a search's page settled the document (hydrated or provisional content is not settled). */
export function isSettled(s: DocState<unknown>): boolean {
  return s.known.kind !== 'unknown' && s.known.from !== 'hydration' && s.known.from !== 'provisional'
}

/** The revision the document is known at. */
export function revisionOf(s: DocState<unknown>): Rev | undefined {
  return s.known.kind === 'unknown' ? undefined : s.known.rev
}

/** The transition function. The input state is never modified. */
export function step<Tag>(state: DocState<Tag>, input: DocInput<Tag>): DocStep<Tag> {
  const t = new Transition(state)
  const kept = t.run(input)
  if (state.pending.length || t.s.pending.length) t.overlay(state, input)
  return { state: t.s, effects: t.effects, kept }
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] }

/** One transition in progress: a draft of the next state and the effects so far. */
class Transition<Tag> {
  readonly s: Mutable<DocState<Tag>>
  readonly effects: DocEffect<Tag>[] = []

  constructor(state: DocState<Tag>) {
    this.s = { ...state }
  }

  run(input: DocInput<Tag>): boolean | undefined {
    switch (input.type) {
      case 'event':
        return void this.received({ e: input.e, seq: input.seq, tag: input.tag })
      case 'readWanted':
        return void this.wantRead()
      case 'readSent':
        return void this.readSent(input.at)
      case 'readAnswered':
        return void this.readAnswered(input.doc)
      case 'readFailed':
        return void this.readFailed(input.fatal)
      case 'offer':
        return this.offer(input.doc, input.seq, input.fromEvent)
      case 'gapTimeout':
        if (this.s.held.length) this.wantRead()
        return
      case 'hydrate':
        return void this.hydrate(input.doc, input.rev)
      case 'write':
        this.s.pending = [...this.s.pending, input.write]
        return
      case 'writeAnswered':
        this.s.pending = this.s.pending.map((w) => (w.n === input.n ? { ...w, ack: { rev: input.rev, at: input.at } } : w))
        // A first read waited for but asked by no one (a document created or written here, never read): its echo
        // could not be placed without one, so the write would stay pending. The answer asks for it.
        if (this.s.reading && !this.s.reading.asked) this.wantRead()
        return
      case 'writeFailed':
        this.s.pending = this.s.pending.filter((w) => w.n !== input.n)
        return
      case 'shown':
        if (this.s.known.kind === 'content' && this.s.known.doc === input.doc) this.s.known = { ...this.s.known, doc: input.as }
        return
    }
  }

  /**
   * Invariant 6, after any transition while local writes are pending: writes `known` has reached leave, and what is
   * shown is the overlaid content, shown only when it differs from what was.
   */
  overlay(before: DocState<Tag>, input: DocInput<Tag>): void {
    const rev = this.rev
    const readAt = input.type === 'readAnswered' && before.reading?.at != null ? before.reading.at : null
    this.s.pending = this.s.pending.filter((w) => {
      if (!w.ack) return true
      // Its echo or a later revision is known, or a read sent after the answer covers it.
      if (w.ack.rev !== undefined && (w.ack.rev === rev || this.isPast(w.ack.rev) || (typeof w.ack.rev === 'number' && typeof rev === 'number' && rev > w.ack.rev))) return false
      return !(readAt !== null && readAt >= w.ack.at)
    })
    const shows = this.effects.filter((e): e is Extract<DocEffect<Tag>, { type: 'show' }> => e.type === 'show')
    const was = visibleOf(before)
    const now = visibleOf(this.s)
    if (shows.length === 0 && was === now) return
    const quiet = shows.length > 0 && shows.every((e) => e.quiet)
    const kept = this.effects.filter((e) => e.type !== 'show')
    this.effects.length = 0
    this.effects.push(...kept)
    if (!deepEqual(was, now)) this.effects.push({ type: 'show', doc: now, quiet })
  }

  private get rev(): Rev | undefined {
    return revisionOf(this.s)
  }

  private emit(effect: DocEffect<Tag>): void {
    this.effects.push(effect)
  }

  private answer(r: Received<Tag>, superseded: boolean): void {
    if (r.tag !== undefined) this.emit({ type: superseded ? 'superseded' : 'applied', e: r.e, tag: r.tag })
  }

  /** Remembers a string revision as superseded (numbers compare and need no memory). */
  private pass(rev: Rev | null | undefined): void {
    if (typeof rev !== 'string' || rev === this.rev || this.s.past.includes(rev)) return
    const past = this.s.past.length >= PAST_REVS ? this.s.past.slice(1) : this.s.past.slice()
    past.push(rev)
    this.s.past = past
  }

  private isPast(rev: Rev | undefined): boolean {
    const cur = this.rev
    if (rev === undefined || rev === cur) return false
    if (typeof rev === 'number' && typeof cur === 'number') return rev < cur
    return this.s.past.includes(rev)
  }

  private wantRead(): void {
    const reading = this.s.reading
    if (reading?.asked) return
    this.s.reading = reading ? { ...reading, asked: true } : { at: null, asked: true, since: NONE, covered: NONE, overflow: false }
    this.emit({ type: 'read' })
  }

  private received(r: Received<Tag>): void {
    this.s.lastSeq = r.seq
    const reading = this.s.reading
    if (reading) {
      this.emit({ type: 'decision', e: r.e, decision: 'buffered' })
      if (reading.since.length < MAX_BUFFERED) this.s.reading = { ...reading, since: [...reading.since, r] }
      else {
        this.s.reading = { ...reading, overflow: true }
        this.answer(r, true)
      }
      return
    }
    this.place(r)
  }

  /**
   * Invariant 1: where an event stands against what is known. Applies it, drops it as a duplicate or as stale,
   * holds it for the revision it continues, or asks for a read when nothing can place it.
   */
  private place(r: Received<Tag>): void {
    const { e } = r
    const known = this.s.known
    if (known.kind === 'unknown') {
      // Only after a read was given up for good (fatal): arrival order is all there is.
      this.apply(r)
      return
    }
    const cur = known.rev
    if (e.rev !== undefined && e.rev === cur && (e.previousRev !== undefined || e.kind === 'delete' || known.kind === 'missing')) {
      this.emit({ type: 'decision', e, decision: 'duplicate' })
      this.pass(e.previousRev)
      this.answer(r, false)
      return
    }
    if (this.isPast(e.rev)) {
      this.stale(r)
      return
    }
    switch (placeEvent(known, e, this.s.past)) {
      case 'apply':
        this.apply(r)
        this.drain()
        return
      case 'stale':
        this.stale(r)
        return
      case 'hold':
        this.hold(r)
        return
      case 'read':
        // Nothing can fill this gap: the read says where the document stands, and supersedes the event.
        this.emit({ type: 'decision', e, decision: 'held' })
        this.readFor(r)
        return
    }
  }

  /** An event older than what is known. */
  private stale(r: Received<Tag>): void {
    const { e } = r
    this.emit({ type: 'decision', e, decision: 'stale' })
    // Older than what is known: so is the revision it came from.
    this.pass(e.rev)
    this.pass(e.previousRev)
    // News that the document left a query may be that watch's latest about it (a document it no longer matches gets
    // no newer event from it): its searches ask again. News that it matched is followed by a newer event.
    if (e.kind === 'delete' || e.inQuery === false) this.answer(r, true)
    // Older only by a clock (no chain places it: none, or a creation, which continues nothing known) than content no
    // read confirmed: a late event, the content shown came with a revision from the future (a hostile server), or
    // clocks disagree (a creation stamped by a node whose clock is behind, after a deletion not heard of: review of
    // Kuzzle's creations). A read decides, rather than the clock.
    const known = this.s.known
    if (e.previousRev == null && typeof e.rev === 'number' && known.kind !== 'unknown' && known.from !== 'read') {
      this.wantRead()
    }
  }

  private hold(r: Received<Tag>): void {
    const { e } = r
    this.emit({ type: 'decision', e, decision: 'held' })
    if (this.s.held.length >= MAX_HELD) {
      this.answer(r, true)
      this.wantRead()
      return
    }
    const key = e.previousRev ?? null
    // A change from the same revision: the same change from another watch (each keeps its own copy, for its own
    // news), a duplicate from the same watch (replaces its copy), or another change (a fork: the latest is kept).
    const same = this.s.held.filter((h) => (h.e.previousRev ?? null) === key)
    let held = this.s.held.slice()
    if (same.length && same[0].e.rev !== e.rev) {
      held = held.filter((h) => (h.e.previousRev ?? null) !== key)
      for (const h of same) this.answer(h, true)
    }
    const i = held.findIndex((h) => (h.e.previousRev ?? null) === key && h.tag === r.tag)
    if (i >= 0) held[i] = r
    else held.push(r)
    this.s.held = held
  }

  /** Applies the held events that now continue the revision known, in chain order. */
  private drain(): void {
    for (;;) {
      const known = this.s.known
      if (known.kind === 'unknown') return
      const i = this.s.held.findIndex((h) => continues(known, h.e))
      if (i < 0) break
      const first = this.s.held[i]
      const key = first.e.previousRev ?? null
      const copies = this.s.held.filter((h) => (h.e.previousRev ?? null) === key)
      this.s.held = this.s.held.filter((h) => (h.e.previousRev ?? null) !== key)
      if (this.isPast(first.e.rev)) {
        for (const c of copies) this.stale(c)
        continue
      }
      this.apply(first)
      for (const c of copies) if (c !== first) this.answer(c, c.e.rev !== first.e.rev)
    }
    // Held events the known revision has passed since can never apply.
    const passed = this.s.held.filter((h) => this.isPast(h.e.rev))
    if (passed.length) {
      this.s.held = this.s.held.filter((h) => !passed.includes(h))
      for (const h of passed) this.stale(h)
    }
    // A creation held while the document existed, now deleted without it continuing: no event can place it.
    if (this.s.known.kind === 'missing') {
      const creations = this.s.held.filter((h) => h.e.previousRev === null)
      if (creations.length) {
        this.s.held = this.s.held.filter((h) => h.e.previousRev !== null)
        for (const h of creations) this.readFor(h)
      }
    }
  }

  /** Nothing can place this event: a read says where the document stands, and supersedes it. */
  private readFor(r: Received<Tag>): void {
    this.wantRead()
    this.s.reading = { ...this.s.reading!, covered: [...this.s.reading!.covered, r] }
  }

  /** Applies an event placed in order. */
  private apply(r: Received<Tag>): void {
    const { e } = r
    const known = this.s.known
    const asOf = known.kind === 'unknown' ? 0 : known.asOf
    if (e.kind === 'delete') {
      this.emit({ type: 'decision', e, decision: 'applied' })
      const rev = e.rev ?? (known.kind === 'unknown' ? undefined : known.rev)
      this.s.known = { kind: 'missing', rev, from: 'event', asOf }
      this.passAll(known, e)
      if (known.kind === 'content') this.emit({ type: 'show', doc: null, quiet: false })
      this.answer(r, false)
      return
    }
    if (!isPlainObject(e.doc)) {
      // A document leaving a query may come without its body (older Kuzzle): membership news only.
      if (e.inQuery === false) {
        this.answer(r, false)
        return
      }
      this.emit({ type: 'badEvent', message: `Change for document "${r.e.id}" carries no document body; ignored` })
      return
    }
    this.emit({ type: 'decision', e, decision: 'applied' })
    this.s.known = { kind: 'content', doc: e.doc, rev: e.rev, from: 'event', asOf }
    this.passAll(known, e)
    this.s.existed = true
    this.emit({ type: 'show', doc: e.doc, quiet: false })
    this.answer(r, false)
  }

  /** After an event applied: the revision it replaced and the one it continued are passed. */
  private passAll(before: Known, e: DocEvent): void {
    if (before.kind !== 'unknown') this.pass(before.rev)
    this.pass(e.previousRev)
  }

  private readSent(at: number): void {
    const reading = this.s.reading ?? { at: null, asked: true, since: NONE, covered: NONE, overflow: false }
    // Events held for a gap came before the read is sent: it shows them or something newer.
    this.s.reading = { ...reading, at, covered: [...reading.covered, ...this.s.held] }
    this.s.held = NONE
  }

  private readFailed(fatal: boolean): void {
    const reading = this.s.reading
    if (!fatal || !reading) return
    // Given up for good: what waited for it can no longer be ordered.
    this.s.reading = null
    for (const r of reading.covered) this.answer(r, true)
    for (const r of reading.since) this.answer(r, true)
  }

  private readAnswered(doc: Doc | null): void {
    const reading = this.s.reading ?? { at: this.s.lastSeq, asked: true, since: NONE, covered: NONE, overflow: false }
    this.s.reading = null
    const before = this.s.known
    const rev = doc?._rev
    if (doc !== null && !isPlainObject(doc._source)) {
      this.emit({ type: 'badEvent', message: `Document "${doc._id}" is not an object` })
      for (const r of [...reading.covered, ...reading.since]) this.answer(r, true)
      return
    }
    const first = !isSettled(this.s) && before.kind !== 'content'
    // Content a search read after this read was sent, shown meanwhile, is newer by its revision: it stays.
    const at = reading.at ?? this.s.lastSeq
    if (before.kind === 'content' && (before.from === 'provisional' || before.from === 'page') && before.asOf > at && doc !== null) {
      if (typeof rev === 'number' && typeof before.rev === 'number' && rev < before.rev) {
        this.s.known = { ...before, from: 'page' }
        this.settle(reading, doc._rev)
        return
      }
    }
    this.s.known =
      doc === null
        ? { kind: 'missing', from: 'read', asOf: at }
        : { kind: 'content', doc: doc._source, rev, from: 'read', asOf: at }
    // Invariant 3: the answer replaces what was known; every revision it does not show, received before it was
    // sent, is passed (invariant 2). A search's content read after it was sent may be newer: not passed.
    if (before.kind !== 'unknown' && before.asOf <= at) this.pass(before.rev)
    if (doc !== null) this.s.existed = true
    if (doc !== null) this.emit({ type: 'show', doc: doc._source, quiet: first })
    else if (before.kind === 'content') this.emit({ type: 'show', doc: null, quiet: false })
    if (doc === null && !this.s.existed) this.emit({ type: 'notFound' })
    this.settle(reading, rev)
  }

  /** While replaying events, one may have asked for a read again: the rest wait for it. */
  private waitsForRead(r: Received<Tag>): boolean {
    const reading = this.s.reading
    if (!reading) return false
    this.s.reading = { ...reading, since: [...reading.since, r] }
    return true
  }

  /**
   * A page or an appearance settles a document that waited for its first read or page: events received before the
   * page was read are placed on top of it (a search index may lag behind them), unless the page has no revision
   * to place them by (then it is taken as including them).
   */
  private settleByPage(reading: Reading<Tag>, seq: number, rev: Rev | undefined): void {
    this.s.reading = null
    for (const r of reading.covered) this.answer(r, true)
    for (const r of reading.since) {
      if (rev === undefined && r.seq <= seq && !this.waitsForRead(r)) this.answer(r, true)
      else if (!this.waitsForRead(r)) this.place(r)
    }
    if (reading.overflow) this.wantRead()
  }

  /** After a read's answer: what it supersedes is told so, what came after it is placed on top. */
  private settle(reading: Reading<Tag>, rev: Rev | undefined): void {
    for (const r of reading.covered) {
      this.pass(r.e.rev)
      this.answer(r, true)
    }
    // Held events (none should be, a read clears them when sent) wait on top of the new content.
    const at = reading.at ?? this.s.lastSeq
    const after: Received<Tag>[] = []
    for (const r of reading.since) {
      if (r.seq > at) after.push(r)
      else if (rev !== undefined && r.e.rev === rev && r.e.previousRev !== undefined) {
        // A duplicate of the read's revision: its news is current.
        this.emit({ type: 'decision', e: r.e, decision: 'duplicate' })
        this.answer(r, false)
      } else {
        this.pass(r.e.rev)
        this.answer(r, true)
      }
    }
    if (this.s.held.length) this.drain()
    for (const r of after) if (!this.waitsForRead(r)) this.place(r)
    if (reading.overflow) this.wantRead()
  }

  /**
   * Content a search read at stream point `seq` (a page) or an event carried (an appearance). Taken when nothing
   * newer is known; otherwise revisions decide, or a read does. Returns true when the document kept content known
   * to be newer (the search must not place it by the offered sort values).
   */
  private offer(doc: Doc, seq: number, fromEvent: boolean): boolean {
    if (!isPlainObject(doc._source)) return false
    const known = this.s.known
    const cur = this.rev
    // At a revision the chain has moved past (a clock's order alone is checked below), or older than a read it shows
    // that was sent after the page, or an event that a read or page it shows covers (received at or before the
    // stream point it was sent at: sanity seed 1602's class).
    if (typeof doc._rev === 'string' && doc._rev !== cur && this.s.past.includes(doc._rev)) return true
    const covered = fromEvent && known.kind !== 'unknown' && seq === known.asOf && known.from !== 'event'
    if (isSettled(this.s) && known.kind !== 'unknown' && (seq < known.asOf || covered) && doc._rev !== cur) return true
    if (this.s.reading && this.s.reading.at !== null) {
      // Its own read decides. Until it lands, a document not shown may show the search's content.
      if (known.kind !== 'content') {
        // Shown until the read lands: `provisional` while nothing settled the document, else a page's.
        const from = isSettled(this.s) ? 'page' : 'provisional'
        this.s.known = { kind: 'content', doc: doc._source, rev: doc._rev, from, asOf: seq }
        this.emit({ type: 'show', doc: doc._source, quiet: !isSettled({ ...this.s, known }) })
      }
      // Meanwhile it may show an event's content that came after the page: not placed by the page's sort values.
      return this.s.known.kind === 'content' && known.kind === 'content' && this.s.lastSeq > seq && doc._rev !== cur
    }
    if (!isSettled(this.s) || this.s.lastSeq <= seq) {
      if (isSettled(this.s) && typeof doc._rev === 'number' && typeof cur === 'number' && doc._rev < cur) {
        // Older than what is shown, which came before the page was read: the search index lags behind, or the
        // content shown came with a revision nothing can check. A read settles it, unless it is a read's already.
        if (known.kind !== 'unknown' && known.from !== 'read') this.wantRead()
        return false
      }
      this.take(doc, seq)
      // Seen again through an event after an earlier entry was disposed: what that entry knew died with it, so this
      // may be a late event. A read settles it.
      if (fromEvent && known.kind === 'unknown' && known.forgotten) this.wantRead()
      return false
    }
    if (doc._rev !== undefined && doc._rev === cur) return false
    if (typeof doc._rev === 'number' && typeof cur === 'number') {
      if (doc._rev > cur) this.take(doc, seq)
      // Kept, but known newer only by a revision nothing checked (an event's): a read confirms or replaces it.
      else if (known.kind !== 'unknown' && known.from !== 'read') this.wantRead()
      return doc._rev < cur
    }
    this.wantRead()
    return false
  }

  /** Takes a search's content as what the server said at `seq`. */
  private take(doc: Doc, seq: number): void {
    // What was known before is not passed: a search index may lag behind it.
    const before = this.s.known
    const quiet = !isSettled(this.s) && before.kind !== 'content'
    this.s.known = { kind: 'content', doc: doc._source, rev: doc._rev, from: 'page', asOf: seq }
    this.s.existed = true
    this.emit({ type: 'show', doc: doc._source, quiet })
    const reading = this.s.reading
    if (reading && reading.at === null) this.settleByPage(reading, seq, doc._rev)
    if (this.s.held.length) this.drain()
  }

  private hydrate(doc: DocSource, rev: Rev | undefined): void {
    if (this.s.known.kind !== 'unknown') return
    this.s.known = { kind: 'content', doc, rev, from: 'hydration', asOf: 0 }
    this.s.existed = true
  }
}

/** True when the event continues the known revision. */
function continues(known: Exclude<Known, { kind: 'unknown' }>, e: DocEvent): boolean {
  if (e.previousRev === undefined) return false
  if (e.previousRev !== null) return e.previousRev === known.rev
  // A creation continues a missing document only when its numeric revision is after the deletion's. Missing with no
  // revision (a read found nothing) is the state both before a creation and after its deletion: a late creation
  // whose deletion this watch never delivers (it followed the document only later) would come back for good (memory
  // soak seed 1090152). A read places it instead.
  if (known.kind !== 'missing') return false
  return typeof known.rev === 'number' && typeof e.rev === 'number' && e.rev > known.rev
}

/**
 * Invariant 1, the one comparison: where an event stands against what is known (duplicates and revisions known
 * passed are settled before). `apply`: it continues the known revision, or without a chain its numeric revision is
 * not older. `stale`: older. `hold`: it continues a revision not seen yet (a gap an event may fill). `read`: nothing
 * can place it (a creation on a document deleted since, a change without a chain on a missing document).
 */
export function placeEvent(known: Exclude<Known, { kind: 'unknown' }>, e: DocEvent, past: readonly Rev[]): 'apply' | 'stale' | 'hold' | 'read' {
  const cur = known.rev
  const numeric = typeof e.rev === 'number' && typeof cur === 'number'
  if (e.previousRev !== undefined) {
    // A delete on a document known missing changes nothing but its revision, whatever it continues.
    if (continues(known, e) || (e.kind === 'delete' && known.kind === 'missing')) return 'apply'
    if (numeric && (e.rev as number) < (cur as number)) return 'stale'
    if (e.previousRev !== null && typeof e.previousRev === 'string' && past.includes(e.previousRev)) return 'stale'
    // A creation on a document known deleted that does not continue it: no event can fill that gap.
    if (e.previousRev === null && known.kind === 'missing') return 'read'
    return 'hold'
  }
  if (e.rev === undefined) return 'apply'
  if (known.kind === 'content') {
    if (numeric) return (e.rev as number) >= (cur as number) ? 'apply' : 'stale'
    return cur === undefined ? 'apply' : 'read'
  }
  // Missing: only a deletion time it is newer than places it; a delete on a missing document changes nothing.
  if (numeric && (e.rev as number) > (cur as number)) return 'apply'
  if (e.kind === 'delete') return 'apply'
  return 'read'
}
