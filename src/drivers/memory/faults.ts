/**
 * Fault injection for the memory driver: knobs that make its realtime channel misbehave the way real networks and
 * backends do, reproducibly (all randomness comes from the driver's seeded PRNG).
 */
import { ObservedError } from '../../core/types'

/**
 * The fault knobs of a memory driver (`driver.faults`). Everything is off by default; set fields directly.
 * Probabilities are drawn once per event per watch.
 */
export interface MemoryFaults {
  /**
   * Extra delay before an event is delivered, in ms: a number, or `[min, max]` drawn per event. Delivery stays
   * first-in first-out per watch (a slow link, not a reordering one): use `reorder` for that.
   */
  delay: number | readonly [number, number]
  /**
   * Probability (0..1) that an event is held back and delivered right after the next event of the same watch
   * (or after `reorderWindow` ms if no other event comes, so a held event is late, never lost).
   */
  reorder: number
  /** How long a held event waits for a following event before it is delivered anyway, in ms. Default 50. */
  reorderWindow: number
  /** Probability (0..1) that an event is delivered twice. */
  duplicate: number
  /** Probability (0..1) that an event is silently lost. */
  drop: number
  /** The next N `get` / `mGet` / `search` calls reject with `ObservedError('read_failed')`. Counts down. */
  failReads: number
  /**
   * The next N `watch()` calls open a watch that never becomes ready and reports a non-fatal
   * `ObservedError('watch_failed')` instead. Counts down.
   */
  failWatchOpens: number
  /** Whether `disconnect()` is in effect. */
  readonly disconnected: boolean
  /** Tells every open watch it may have missed events (`sink.reset()`), discarding the events still in flight. */
  missEvents(): void
  /**
   * Simulates a lost connection: every open watch gets `sink.offline()`, events in flight are lost, and so is every
   * event until `reconnect()`. Watches opened meanwhile become ready only on `reconnect()`. Reads and writes work.
   */
  disconnect(): void
  /** Ends `disconnect()`: every open watch gets `sink.ready({ resumed: false })` (events were missed). */
  reconnect(): void
  /**
   * Every open watch reports `sink.error(ObservedError('watch_failed', message))` and delivers nothing more;
   * it stays counted in `activeWatches` until closed. Non-fatal unless `{ fatal: true }`.
   */
  failWatches(message?: string, options?: { fatal?: boolean }): void
  /** Turns every knob off and reconnects if disconnected. */
  reset(): void
}

/** What the fault controller needs from the driver. */
export interface FaultTarget {
  /** Open watches, in opening order. */
  watches(): Iterable<{
    missEvents(): void
    goOffline(): void
    comeBack(): void
    fail(error: ObservedError): void
  }>
}

/** How one event travels to one watch. */
export interface EventPlan {
  readonly delay: number
  readonly duplicate: boolean
  readonly hold: boolean
}

/** The driver's implementation of {@link MemoryFaults}, plus the decisions the delivery pipeline asks for. */
export class FaultController implements MemoryFaults {
  delay: number | readonly [number, number] = 0
  reorder = 0
  reorderWindow = 50
  duplicate = 0
  drop = 0
  failReads = 0
  failWatchOpens = 0
  #disconnected = false
  readonly #target: FaultTarget
  readonly #random: () => number

  constructor(target: FaultTarget, random: () => number) {
    this.#target = target
    this.#random = random
  }

  get disconnected(): boolean {
    return this.#disconnected
  }

  missEvents(): void {
    for (const w of [...this.#target.watches()]) w.missEvents()
  }

  disconnect(): void {
    if (this.#disconnected) return
    this.#disconnected = true
    for (const w of [...this.#target.watches()]) w.goOffline()
  }

  reconnect(): void {
    if (!this.#disconnected) return
    this.#disconnected = false
    for (const w of [...this.#target.watches()]) w.comeBack()
  }

  failWatches(message = 'Simulated watch failure', options: { fatal?: boolean } = {}): void {
    for (const w of [...this.#target.watches()]) w.fail(new ObservedError('watch_failed', message, { fatal: options.fatal }))
  }

  reset(): void {
    this.delay = 0
    this.reorder = 0
    this.reorderWindow = 50
    this.duplicate = 0
    this.drop = 0
    this.failReads = 0
    this.failWatchOpens = 0
    this.reconnect()
  }

  #chance(p: number): boolean {
    // No draw when a knob is off, so enabling one knob does not shift another's sequence needlessly.
    return p > 0 && this.#random() < p
  }

  /** Fate of one event for one watch: `null` when it is lost. */
  planEvent(): EventPlan | null {
    if (this.#chance(this.drop)) return null
    // Anything but finite numbers counts as 0: a NaN due time would stall the watch's queue for good.
    const ms = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : 0)
    let delay = 0
    if (Array.isArray(this.delay)) {
      const min = ms(this.delay[0])
      delay = min + this.#random() * Math.max(0, ms(this.delay[1]) - min)
    } else {
      delay = ms(this.delay)
    }
    return { delay, duplicate: this.#chance(this.duplicate), hold: this.#chance(this.reorder) }
  }

  /** Consumes one simulated read failure, if any is pending. */
  takeReadFailure(): boolean {
    if (this.failReads > 0) {
      this.failReads--
      return true
    }
    return false
  }

  /** Consumes one simulated watch-open failure, if any is pending. */
  takeWatchOpenFailure(): boolean {
    if (this.failWatchOpens > 0) {
      this.failWatchOpens--
      return true
    }
    return false
  }
}
