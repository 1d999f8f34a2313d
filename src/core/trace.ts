import type { CollectionRef, Rev, WriteRequest } from './types'
import type { ObservedError } from './types'

/**
 * One decision of the core, for devtools' timeline and for debugging. `collection` is `index/collection`.
 * Events are delivered synchronously and not kept: whoever listens bounds what it keeps.
 */
export type TraceEvent =
  /** A watch delivered an event (before it is ordered). `via`: an id watch or a query watch. */
  | { type: 'event'; collection: string; id: string; kind: 'upsert' | 'delete'; rev?: Rev; via: 'ids' | 'query' }
  /** What the revision chain decided for an event. */
  | { type: 'decision'; collection: string; id: string; decision: TraceDecision; rev?: Rev; previousRev?: Rev | null }
  /** A document read (mGet) was sent, answered or failed. */
  | { type: 'read'; phase: 'sent' | 'answered' | 'failed'; collection: string; ids: string[]; found?: number; error?: ObservedError }
  /** A search read a page (or counted), was answered or failed. */
  | { type: 'search'; phase: 'sent' | 'answered' | 'failed'; collection: string; from: number; size: number; hits?: number; total?: number; error?: ObservedError }
  /** A watch changed state. */
  | { type: 'watch'; phase: 'open' | 'live' | 'offline' | 'failed' | 'closed'; collection: string; target: 'ids' | 'query'; ids?: number; error?: ObservedError }
  /** Live query: membership could not be proven (a read superseded an event, a skipped revision): searches read again. */
  | { type: 'resync'; collection: string; reason: string }
  /** A local write: shown and sent, confirmed by the server (at `rev`), or refused and rolled back. */
  | { type: 'write'; phase: 'sent' | 'confirmed' | 'refused'; collection: string; id: string; op: WriteRequest['op']; rev?: Rev; error?: ObservedError }

/**
 * `applied`: continued the chain; `duplicate`: the revision held already; `stale`: older than what is held;
 * `held`: waits for a gap; `buffered`: arrived during a read, applied on top of it.
 */
export type TraceDecision = 'applied' | 'duplicate' | 'stale' | 'held' | 'buffered'

/** A trace event with the time it happened (ms since the epoch). */
export type TraceRecord = TraceEvent & { at: number }

export type TraceListener = (event: TraceRecord) => void

/**
 * Fans the core's decisions out to listeners. Emitters check `active` first (`tracer.active && tracer.emit({...})`):
 * with nobody listening, tracing costs one property read and allocates nothing.
 */
export class Tracer {
  private listeners: Set<TraceListener> | null = null

  /** True while someone listens. */
  get active(): boolean {
    return this.listeners !== null
  }

  on(listener: TraceListener): () => void {
    ;(this.listeners ??= new Set()).add(listener)
    return () => {
      if (!this.listeners?.delete(listener) || this.listeners.size) return
      this.listeners = null
    }
  }

  emit(event: TraceEvent): void {
    if (!this.listeners) return
    const record = event as TraceRecord
    record.at = Date.now()
    for (const l of this.listeners) {
      try {
        l(record)
      } catch {
        // A listener (devtools) must never break the core.
      }
    }
  }
}

/** `index/collection`, as traces and inspections name collections. */
export function collectionName(ref: CollectionRef): string {
  return `${ref.index}/${ref.collection}`
}

/** Traces what the revision chain decided for an event; free when nobody listens. */
export function traceDecision(
  tracer: Tracer | undefined,
  ref: CollectionRef,
  e: { id: string; rev?: Rev; previousRev?: Rev | null },
  decision: TraceDecision,
): void {
  if (tracer?.active) tracer.emit({ type: 'decision', collection: collectionName(ref), id: e.id, decision, rev: e.rev, previousRev: e.previousRev })
}
