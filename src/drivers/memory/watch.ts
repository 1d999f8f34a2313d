/**
 * One memory watch: decides which writes concern it, and delivers its frames (ready, events, reset, offline, error)
 * to the sink asynchronously, first in first out, through the fault knobs.
 */
import type { DocEvent, Watch, WatchSink, WatchSpec } from '../../core/types'
import { ObservedError } from '../../core/types'
import type { EventPlan } from './faults'
import type { Matcher } from './filter'
import { copyJson } from './json'
import type { StoredSource } from './json'

/** What a watch follows, compiled. */
export type CompiledWatchSpec =
  | { readonly kind: 'ids'; readonly ids: ReadonlySet<string> }
  | { readonly kind: 'query'; readonly match: Matcher }

/** A stored document version. */
export interface StoredDoc {
  readonly source: StoredSource
  readonly rev: number
}

/** One write, as watches see it. `before` / `after` absent: the document did not exist / was deleted. */
export interface WriteRecord {
  readonly id: string
  readonly rev: number
  readonly before?: StoredDoc
  readonly after?: StoredDoc
}

/** What a watch needs from its driver. */
export interface WatchHost {
  /** Simulated latency (ms) before `ready()`, each event, and an `update()` going live. */
  readonly latency: number
  /** `faults.disconnect()` is in effect: a new watch waits for `reconnect()`. */
  readonly disconnected: boolean
  /** See `MemoryFaults.reorderWindow`. */
  readonly reorderWindow: number
  /** Fate of one event (lost, delayed, duplicated, held). */
  planEvent(): EventPlan | null
  /** Validates and compiles a spec; throws `ObservedError`. */
  compile(spec: WatchSpec): CompiledWatchSpec
  /** Forgets a closed watch. */
  remove(watch: MemoryWatch): void
}

interface PendingEvent {
  readonly id: string
  readonly kind: 'upsert' | 'delete'
  readonly source?: StoredSource
  readonly rev: number
  readonly previousRev: number | null
  readonly inQuery?: boolean
  readonly matchedBefore?: boolean
}

type Frame =
  | { readonly type: 'ready'; readonly due: number; readonly resumed?: false }
  | { readonly type: 'event'; readonly due: number; readonly event: PendingEvent; readonly plan: EventPlan }
  | { readonly type: 'reset' | 'offline'; readonly due: number }
  | { readonly type: 'error'; readonly due: number; readonly error: ObservedError }

const now = () => performance.now()

/** A memory watch. Only the driver creates these. */
export class MemoryWatch implements Watch {
  /** Follows this spec now (an `update()` swaps it once the new set is live). */
  spec: CompiledWatchSpec | undefined
  /** `ready()` was delivered at least once. */
  live = false
  /** Reported an error: delivers nothing more. */
  failed = false
  /** `close()` was called. */
  closed = false

  readonly #host: WatchHost
  readonly #sink: WatchSink
  #queue: Frame[] = []
  #lastDue = 0
  #timer: ReturnType<typeof setTimeout> | undefined
  #held: { frame: Extract<Frame, { type: 'event' }>; timer: ReturnType<typeof setTimeout> } | undefined
  #updates = new Set<{ timer: ReturnType<typeof setTimeout>; resolve: () => void }>()

  constructor(host: WatchHost, sink: WatchSink, spec: CompiledWatchSpec | undefined) {
    this.#host = host
    this.#sink = sink
    this.spec = spec
  }

  // ---- Watch ----------------------------------------------------------------------------------------------------

  /** Follows a new spec once it is live, after one round trip (`latency`, at least a macrotask). */
  update(spec: WatchSpec): Promise<void> {
    if (this.closed || this.failed) return Promise.resolve()
    let compiled: CompiledWatchSpec
    try {
      compiled = this.#host.compile(spec)
    } catch (err) {
      return Promise.reject(err)
    }
    return new Promise<void>((resolve) => {
      // The new set goes live after one round trip; writes in between are seen through the old set.
      const entry = {
        resolve,
        timer: setTimeout(() => {
          this.#updates.delete(entry)
          if (!this.closed && !this.failed) this.spec = compiled
          resolve()
        }, this.#host.latency),
      }
      this.#updates.add(entry)
    })
  }

  /** Stops for good: frames in flight are discarded, pending updates resolve, the sink is never called again. */
  close(): void {
    if (this.closed) return
    this.closed = true
    this.#clearQueue()
    for (const u of this.#updates) {
      clearTimeout(u.timer)
      u.resolve()
    }
    this.#updates.clear()
    this.#host.remove(this)
  }

  // ---- driver side ----------------------------------------------------------------------------------------------

  /** Queues the initial `ready()` (after a macrotask plus latency), unless disconnected: then on reconnect. */
  open(): void {
    if (!this.#host.disconnected) this.#push({ type: 'ready', due: this.#due(this.#host.latency) })
  }

  /** Queues the event a write produces for this watch, if it concerns it. */
  offer(write: WriteRecord): void {
    if (this.closed || this.failed || !this.spec) return
    const { id, before, after, rev } = write
    let inQuery: boolean | undefined
    let matchedBefore: boolean | undefined
    if (this.spec.kind === 'ids') {
      if (!this.spec.ids.has(id)) return
    } else {
      try {
        matchedBefore = before !== undefined && this.spec.match(before.source, id)
        inQuery = after !== undefined && this.spec.match(after.source, id)
      } catch (cause) {
        // A throwing predicate would throw again on every write: stop for good.
        const message = cause instanceof Error ? cause.message : String(cause)
        this.fail(new ObservedError('watch_failed', message, { fatal: true, cause }))
        return
      }
      if (!matchedBefore && !inQuery) return
    }
    const plan = this.#host.planEvent()
    if (!plan) return
    const event: PendingEvent = {
      id,
      kind: after ? 'upsert' : 'delete',
      source: after?.source,
      rev,
      previousRev: before ? before.rev : null,
      inQuery,
      matchedBefore,
    }
    this.#push({ type: 'event', due: this.#due(this.#host.latency + plan.delay), event, plan })
  }

  /** `faults.missEvents()`: events in flight are lost, then `reset()`. */
  missEvents(): void {
    if (this.closed || this.failed) return
    // Only events are lost: a `ready` not delivered yet must still come, or the watch would never go live.
    const kept = this.#queue.filter((f) => f.type !== 'event')
    this.#clearQueue()
    for (const f of kept) this.#push({ ...f, due: this.#due(Math.max(0, f.due - now())) })
    this.#push({ type: 'reset', due: this.#due(0) })
  }

  /** `faults.disconnect()`. */
  goOffline(): void {
    if (this.closed || this.failed) return
    this.#clearQueue()
    this.#push({ type: 'offline', due: this.#due(0) })
  }

  /** `faults.reconnect()`. */
  comeBack(): void {
    if (this.closed || this.failed) return
    this.#push({ type: 'ready', due: this.#due(this.#host.latency), resumed: false })
  }

  /** Reports an error and stops delivering. */
  fail(error: ObservedError): void {
    if (this.closed || this.failed) return
    this.failed = true
    this.#clearQueue()
    this.#push({ type: 'error', due: this.#due(0), error })
  }

  // ---- delivery -------------------------------------------------------------------------------------------------

  #due(delay: number): number {
    // First in, first out: a frame never overtakes an earlier one.
    this.#lastDue = Math.max(this.#lastDue, now() + delay)
    return this.#lastDue
  }

  #push(frame: Frame): void {
    this.#queue.push(frame)
    this.#schedule()
  }

  #clearQueue(): void {
    this.#queue = []
    this.#lastDue = 0
    if (this.#timer !== undefined) clearTimeout(this.#timer)
    this.#timer = undefined
    if (this.#held) clearTimeout(this.#held.timer)
    this.#held = undefined
  }

  #schedule(): void {
    if (this.#timer !== undefined || this.closed || !this.#queue.length) return
    this.#timer = setTimeout(this.#pump, Math.max(0, this.#queue[0].due - now()))
  }

  readonly #pump = (): void => {
    this.#timer = undefined
    // Only frames queued before this task: a write made from inside a sink callback is delivered in a later task.
    const queue = this.#queue
    const budget = queue.length
    const t = now() + 1 // timers may fire a hair early
    // Index, then one splice: shift() per frame is quadratic on long bursts.
    let i = 0
    while (i < budget && queue[i].due <= t && !this.closed && this.#queue === queue) this.#dispatch(queue[i++])
    if (this.#queue === queue) queue.splice(0, i)
    this.#schedule()
  }

  #dispatch(frame: Frame): void {
    switch (frame.type) {
      case 'ready':
        this.live = true
        this.#call(() => (frame.resumed === false ? this.#sink.ready({ resumed: false }) : this.#sink.ready()))
        return
      case 'reset':
        this.#call(() => this.#sink.reset())
        return
      case 'offline':
        this.#call(() => this.#sink.offline())
        return
      case 'error':
        this.#call(() => this.#sink.error(frame.error))
        return
      case 'event': {
        if (frame.plan.hold && !this.#held) {
          const held = {
            frame,
            timer: setTimeout(() => {
              if (this.#held !== held) return
              this.#held = undefined
              this.#deliver(frame)
            }, Math.max(0, this.#host.reorderWindow)),
          }
          this.#held = held
          return
        }
        const held = this.#held
        this.#held = undefined
        if (held) clearTimeout(held.timer)
        this.#deliver(frame)
        if (held) this.#deliver(held.frame)
      }
    }
  }

  #deliver(frame: Extract<Frame, { type: 'event' }>): void {
    for (let n = frame.plan.duplicate ? 2 : 1; n > 0; n--) {
      const e = frame.event
      // A fresh deep copy per delivery: the sink may keep or mutate what it gets.
      const event: DocEvent = {
        id: e.id,
        kind: e.kind,
        ...(e.source ? { doc: copyJson(e.source) as Record<string, unknown> } : {}),
        rev: e.rev,
        previousRev: e.previousRev,
        ...(e.inQuery === undefined ? {} : { inQuery: e.inQuery, matchedBefore: e.matchedBefore }),
      }
      this.#call(() => this.#sink.event(event))
    }
  }

  #call(fn: () => void): void {
    if (this.closed) return
    try {
      fn()
    } catch (err) {
      // A throwing sink is the caller's bug: surface it without breaking delivery to anyone else.
      setTimeout(() => {
        throw err
      })
    }
  }
}
