/**
 * One Kuzzle watch: a realtime subscription on a Koncorde filter (an `ids` filter, or a translated query), kept
 * across reconnections and re-targeted by `update()` without ever leaving a room that is still needed.
 */
import type { CollectionRef, Watch, WatchSink, WatchSpec } from '../../core/types'
import { ObservedError } from '../../core/types'
import type { ConnectionListener, KuzzleConnection, RoomHold } from './connection'
import { isNetworkError, toEvent, toObservedError } from './documents'
import type { KoncordeFilter } from './es-to-koncorde'

/** Turns a watch spec into the filter to subscribe to (null: nothing to follow). May throw ObservedError. */
export type FilterCompiler = (spec: WatchSpec) => KoncordeFilter | null

/** A Kuzzle watch. Only the driver creates these. */
export class KuzzleWatch implements Watch, ConnectionListener {
  readonly #connection: KuzzleConnection
  readonly #ref: CollectionRef
  readonly #sink: WatchSink
  readonly #compile: FilterCompiler
  readonly #queryWatch: boolean
  readonly #handoverDelay: number
  /** Rooms replaced by `update()`, still delivering what was sent to them before their replacement existed. */
  readonly #retiring = new Map<RoomHold, ReturnType<typeof setTimeout>>()
  /** The filter the watch should follow; an update sets it first, so a reconnection subscribes the newest one. */
  #filter: KoncordeFilter | null
  #hold: RoomHold | undefined
  /** Subscribed and `ready()` delivered since the last time the connection was lost. */
  #live = false
  /** `offline()` delivered and not yet followed by `ready()`. */
  #offlineReported = false
  /** Generation of the subscription attempt in flight, if any (one per connection generation). */
  #connectingIn: number | undefined
  /** Increases per subscription attempt; an attempt that is no longer the latest gives its room back. */
  #attempt = 0
  #closed = false
  #failed = false

  constructor(
    connection: KuzzleConnection,
    ref: CollectionRef,
    spec: WatchSpec,
    sink: WatchSink,
    compile: FilterCompiler,
    handoverDelay: number,
  ) {
    this.#connection = connection
    this.#handoverDelay = handoverDelay
    this.#ref = ref
    this.#sink = sink
    this.#compile = compile
    this.#queryWatch = 'query' in spec
    this.#filter = compile(spec)
  }

  /** Subscribes now if connected, otherwise as soon as the connection is up. */
  open(): void {
    this.#connection.attach(this)
    if (this.#connection.online) void this.#subscribe()
  }

  // ---- Watch ----------------------------------------------------------------------------------------------------

  async update(spec: WatchSpec): Promise<void> {
    if (this.#closed || this.#failed) return
    const filter = this.#compile(spec)
    const previous = this.#filter
    this.#filter = filter
    if (!this.#live) {
      // Not subscribed yet (or reconnecting): the pending or next subscription takes the new filter, and its
      // ready() tells the core when it is live.
      if (this.#connection.online) void this.#subscribe()
      return
    }
    const generation = this.#connection.generation
    let hold: RoomHold
    try {
      // New room first; the old one is left only after, and only if no other hold needs it.
      hold = await this.#connection.join(this.#ref, filter, (n) => this.#notify(n))
    } catch (err) {
      if (isNetworkError(err) && this.#connection.online) this.#sweep(filter)
      if (this.#closed || this.#failed) return
      // A dropped connection: the resubscription after it follows the new filter. Unless the connection is up
      // already (the SDK fails requests of a closed socket after a new one opened): then nothing follows it.
      if ((generation !== this.#connection.generation || isNetworkError(err)) && !this.#connection.online) return
      if (this.#filter === filter) this.#filter = previous
      throw toObservedError(err, 'watch_failed', `Kuzzle subscription update on ${this.#where()} failed`)
    }
    if (this.#closed || this.#failed || hold.generation !== this.#connection.generation || this.#filter !== filter) {
      this.#connection.release(hold)
      return
    }
    const old = this.#hold
    this.#hold = hold
    // A query room's notifications say whether a document matches that query: the old query's would mislead.
    if (old && this.#queryWatch) this.#connection.release(old)
    else if (old) this.#retire(old)
  }

  close(): void {
    if (this.#closed) return
    this.#closed = true
    this.#live = false
    if (this.#hold) this.#connection.release(this.#hold)
    this.#hold = undefined
    this.#releaseRetiring()
    this.#connection.detach(this)
  }

  // ---- connection events ----------------------------------------------------------------------------------------

  offline(): void {
    if (this.#closed || this.#failed) return
    if (this.#hold) this.#connection.release(this.#hold)
    this.#hold = undefined
    this.#releaseRetiring()
    this.#connectingIn = undefined
    this.#live = false
    // The SDK reports every failed reconnection attempt; the core hears of the outage once.
    if (!this.#offlineReported) {
      this.#offlineReported = true
      this.#sink.offline()
    }
  }

  online(): void {
    if (this.#closed || this.#failed || this.#live) return
    if (this.#connectingIn === this.#connection.generation) return
    void this.#subscribe()
  }

  reset(): void {
    if (this.#live && !this.#closed && !this.#failed) this.#sink.reset()
  }

  tokenExpired(): void {
    if (this.#closed || this.#failed) return
    if (this.#hold) this.#connection.release(this.#hold)
    this.#hold = undefined
    this.#releaseRetiring()
    this.#fail(new ObservedError('token_expired', 'Kuzzle token expired: log in again (kuzzle.auth.login) to resume', { fatal: false }))
  }

  // ---- internals ------------------------------------------------------------------------------------------------

  async #subscribe(): Promise<void> {
    const attempt = ++this.#attempt
    const generation = this.#connection.generation
    const filter = this.#filter
    this.#connectingIn = generation
    let hold: RoomHold
    try {
      hold = await this.#connection.join(this.#ref, filter, (n) => this.#notify(n))
    } catch (err) {
      if (isNetworkError(err) && this.#connection.online) this.#sweep(filter)
      if (attempt !== this.#attempt) return
      this.#connectingIn = undefined
      if (this.#closed || this.#failed) return
      // A dropped connection is not an error: the next 'connect' subscribes again. But when the connection is up
      // already (the SDK fails the requests of a closed socket after a new one opened), no 'connect' will come:
      // a non-fatal error makes the core open the watch again, with its backoff.
      if ((isNetworkError(err) || generation !== this.#connection.generation) && !this.#connection.online) return
      this.#fail(toObservedError(err, 'watch_failed', `Kuzzle subscription on ${this.#where()} failed`))
      return
    }
    if (attempt !== this.#attempt || this.#closed || this.#failed || hold.generation !== this.#connection.generation) {
      this.#connection.release(hold)
      return
    }
    this.#connectingIn = undefined
    if (this.#hold) this.#connection.release(this.#hold)
    this.#hold = hold
    this.#live = true
    this.#offlineReported = false
    this.#sink.ready()
  }

  /**
   * Leaves a replaced room later, not now: a notification of a write the server processed before the new room
   * existed went to the old room only, and may still be on its way (the SDK drops notifications of a room it left).
   */
  #retire(hold: RoomHold): void {
    this.#retiring.set(
      hold,
      setTimeout(() => {
        this.#retiring.delete(hold)
        this.#connection.release(hold)
      }, this.#handoverDelay),
    )
  }

  #releaseRetiring(): void {
    for (const [hold, timer] of this.#retiring) {
      clearTimeout(timer)
      this.#connection.release(hold)
    }
    this.#retiring.clear()
  }

  #notify(n: unknown): void {
    if (this.#closed || this.#failed) return
    const event = toEvent(n, this.#queryWatch)
    if (event) this.#sink.event(event)
  }

  /**
   * A subscription the SDK failed while connected may have reached the server all the same (the request went out
   * on the new socket). Subscribing the same filter again is idempotent there and tells its room; letting go of it
   * leaves the room unless another watch holds it.
   */
  #sweep(filter: KoncordeFilter | null): void {
    this.#connection.join(this.#ref, filter, () => undefined).then(
      (hold) => this.#connection.release(hold),
      () => undefined,
    )
  }

  #fail(error: ObservedError): void {
    this.#failed = true
    this.#live = false
    this.#sink.error(error)
  }

  #where(): string {
    return `${this.#ref.index}/${this.#ref.collection}`
  }
}
