import { backoffDelay, type BackoffOptions } from './backoff'
import type { ObservedError } from './types'

/** The longest `Retry-After` honoured (ms): a server cannot park a client for longer than this. */
const MAX_RETRY_AFTER = 10 * 60_000

/**
 * How a gate lets its waiting retries go at each backoff step:
 * - `batch`: all of them at once; they are reads that the caller merges into as few requests as it can (one mGet
 *   per collection and read-size limit), so a step costs a bounded number of requests whatever waits;
 * - `probe`: one of them (oldest first); when it succeeds the gate opens and lets the others go. For requests that
 *   cannot be merged (one listener or one search page each): a failing server gets one request per step.
 */
export type GateMode = 'batch' | 'probe'

/**
 * One backoff schedule shared by everything that failed against the same server resource (promise 7: retries are
 * batched, backed off, bounded and honour `Retry-After`). Replaces a timer per document, per search or per watch.
 *
 * States (`timer` decides which):
 * - open: no timer. Requests go out as they come; `attempt` counts the steps since the last success.
 * - backing off: a timer runs until the next step; every retry, and every new request that asks (`defer`), waits
 *   in `waiting`. A step lets them go (all, or one probe) and counts one attempt; a success reopens the gate.
 * Transitions: fail (open → backing off), step (backing off → open, or backing off again for the probes left),
 * succeed (any → open, attempt 0, the waiting let go), forget (a waiting retry's owner went away), dispose.
 */
export class RetryGate {
  private attempt = 0
  private timer: ReturnType<typeof setTimeout> | undefined
  /** Retries waiting for the next step, by owner (one per owner: the latest), oldest first. */
  private readonly waiting = new Map<object, () => void>()
  /** The longest `Retry-After` the server asked for since the last step. */
  private retryAfter = 0
  private disposed = false

  constructor(
    private readonly mode: GateMode,
    private readonly backoff: BackoffOptions,
  ) {}

  /** True while a backoff step is pending: new requests should `defer` rather than go out. */
  get backingOff(): boolean {
    return this.timer !== undefined
  }

  /** How many owners wait (for tests and devtools). */
  get size(): number {
    return this.waiting.size
  }

  /** `owner`'s request failed with `err`: `retry` runs at the next step. */
  fail(owner: object, retry: () => void, err?: ObservedError): void {
    if (this.disposed) return
    if (err?.retryAfter !== undefined) this.retryAfter = Math.max(this.retryAfter, Math.min(err.retryAfter, MAX_RETRY_AFTER))
    this.waiting.delete(owner)
    this.waiting.set(owner, retry)
    this.schedule()
  }

  /** Runs `request` now when the gate is open; otherwise it waits for the next step. Returns whether it ran now. */
  defer(owner: object, request: () => void): boolean {
    if (this.disposed) return false
    if (!this.backingOff) {
      request()
      return true
    }
    if (!this.waiting.has(owner)) this.waiting.set(owner, request)
    return false
  }

  /** A request went through: the gate opens and whatever waits goes now. */
  succeed(): void {
    this.attempt = 0
    this.retryAfter = 0
    if (this.timer === undefined && this.waiting.size === 0) return
    clearTimeout(this.timer)
    this.timer = undefined
    this.release(this.waiting.size)
  }

  /** `owner` no longer needs its retry (stopped, released, closed). */
  forget(owner: object): void {
    this.waiting.delete(owner)
    if (this.waiting.size === 0 && this.timer !== undefined) {
      clearTimeout(this.timer)
      this.timer = undefined
    }
  }

  /** Drops every waiting retry and the timer for good (client shutdown). */
  dispose(): void {
    this.disposed = true
    clearTimeout(this.timer)
    this.timer = undefined
    this.waiting.clear()
  }

  private schedule(): void {
    if (this.timer !== undefined) return
    const delay = Math.max(backoffDelay(this.attempt, this.backoff), this.retryAfter)
    this.timer = setTimeout(() => this.step(), delay)
  }

  private step(): void {
    this.timer = undefined
    this.attempt++
    this.retryAfter = 0
    this.release(this.mode === 'batch' ? this.waiting.size : 1)
    // Probes left: the next one goes at the next step, unless a success lets them all go first.
    if (this.waiting.size > 0) this.schedule()
  }

  private release(count: number): void {
    const run: Array<() => void> = []
    for (const [owner, retry] of this.waiting) {
      if (run.length >= count) break
      this.waiting.delete(owner)
      run.push(retry)
    }
    for (const retry of run) retry()
  }
}
