/**
 * How mutation events travel from the store to listeners, with the delivery faults a distributed backend shows:
 * reordering, duplicates, delay and loss. Every knob is a deterministic countdown, so a test states exactly what
 * happens to which events.
 */

/** A mutation event on its way to one listener. */
export interface PendingEvent {
  readonly documentId: string
  readonly transactionId: string
  /** Writes the event to its listener (a no-op once the listener is closed). */
  send(): void
  /** The event will never be sent: dropped, or discarded by `clear`. */
  lost?(): void
}

/** Which events a knob applies to; all when absent. */
export type EventMatcher = (event: { readonly documentId: string; readonly transactionId: string }) => boolean

interface Countdown {
  remaining: number
  readonly match?: EventMatcher
}

function take(c: Countdown | null, e: PendingEvent): boolean {
  if (!c || c.remaining <= 0 || (c.match && !c.match(e))) return false
  c.remaining--
  return true
}

/** The delivery pipeline shared by every listener of a server. */
export class Delivery {
  private dropping: Countdown | null = null
  private duplicating: Countdown | null = null
  private holding: (Countdown & { readonly held: PendingEvent[] }) | null = null
  private delayMs = 0
  private readonly timers = new Map<NodeJS.Timeout, PendingEvent>()

  /** The next `count` matching events are lost (they stay in the resume history). */
  drop(count: number, match?: EventMatcher): void {
    this.dropping = { remaining: count, match }
  }

  /** Each of the next `count` matching events is sent twice in a row. */
  duplicate(count: number, match?: EventMatcher): void {
    this.duplicating = { remaining: count, match }
  }

  /** The next `count` matching events are held, then sent in reverse order once the last of them arrives. */
  reorder(count: number, match?: EventMatcher): void {
    this.flush()
    this.holding = { remaining: count, match, held: [] }
  }

  /** Sends the events `reorder` is holding now, in reverse order, and stops holding. */
  flush(): void {
    const held = this.holding?.held ?? []
    this.holding = null
    for (const e of held.reverse()) this.dispatch(e)
  }

  /** Every event waits `ms` before it is sent (order is kept); 0 turns it off. */
  delay(ms: number): void {
    this.delayMs = Math.max(0, ms)
  }

  /** Turns every knob off; events held or delayed are discarded. */
  clear(): void {
    const discarded = [...(this.holding?.held ?? []), ...this.timers.values()]
    this.dropping = this.duplicating = this.holding = null
    this.delayMs = 0
    for (const t of this.timers.keys()) clearTimeout(t)
    this.timers.clear()
    for (const e of discarded) e.lost?.()
  }

  /** Routes one event through the knobs. */
  deliver(e: PendingEvent): void {
    if (take(this.dropping, e)) return e.lost?.()
    const copies = take(this.duplicating, e) ? 2 : 1
    for (let i = 0; i < copies; i++) {
      if (this.holding && take(this.holding, e)) {
        this.holding.held.push(e)
        if (this.holding.remaining === 0) this.flush()
      } else {
        this.dispatch(e)
      }
    }
  }

  private dispatch(e: PendingEvent): void {
    if (this.delayMs === 0) return e.send()
    const t = setTimeout(() => {
      this.timers.delete(t)
      e.send()
    }, this.delayMs)
    this.timers.set(t, e)
  }
}
