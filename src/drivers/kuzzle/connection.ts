/**
 * The driver's view of one Kuzzle SDK instance: its connection state (from the protocol's own events, which the
 * SDK does not throttle), and the rooms the driver's watches hold on it.
 *
 * Rooms are reference counted because the SDK's `realtime.unsubscribe(roomId)` detaches every listener of that
 * room id and leaves it server-side: a room shared by two watches (or by the old and new filter of an update) must
 * only be left when its last holder lets go. That is the SDK Observer's bug this avoids.
 */
import type { Kuzzle } from 'kuzzle-sdk'
import type { CollectionRef } from '../../core/types'
import type { KoncordeFilter } from './es-to-koncorde'

/** One joined room, as held by one watch. */
export interface RoomHold {
  /** Undefined for a watch that follows nothing (an empty id set): no room at all. */
  readonly roomId: string | undefined
  /** Connection generation it was joined in; holds of an older generation are already gone server-side. */
  readonly generation: number
  /** Notifications are delivered while true. */
  active: boolean
}

/** What the connection tells its watches. */
export interface ConnectionListener {
  /** The connection dropped: every room is gone server-side. */
  offline(): void
  /** The connection is up (again): subscribe. */
  online(): void
  /** Kuzzle said the token expired: rooms are gone, the app must log in again. */
  tokenExpired(): void
  /** A frame the SDK could not read was dropped: it may have been a notification. */
  reset(): void
}

type Listener = (...args: unknown[]) => void

/** How often the driver checks that kuzzle.disconnect() did not remove its protocol listeners. */
const WATCHDOG_MS = 250

/** Socket message handlers already wrapped by {@link KuzzleConnection}'s frame guard. */
const guardedHandlers = new WeakSet<object>()

/**
 * True when a WebSocket payload is not what the SDK's frame handler can read: a JSON object with a `room` (it
 * routes those to their listeners, and turns any other frame into an error built from its `error` field).
 */
function unreadable(payload: unknown): boolean {
  const raw = (payload as { data?: unknown } | null)?.data ?? payload
  try {
    const data: unknown = JSON.parse(String(raw))
    return data === null || typeof data !== 'object' || Array.isArray(data) || typeof (data as { room?: unknown }).room !== 'string'
  } catch {
    return true
  }
}

/** Connection state and room bookkeeping for one SDK instance, shared by every watch of a driver. */
export class KuzzleConnection {
  /** Increases each time the connection is lost (or its rooms dropped): older holds are void. */
  generation = 0
  readonly #kuzzle: Kuzzle
  readonly #listeners = new Set<ConnectionListener>()
  readonly #rooms = new Map<string, number>()
  /** Rooms being left: a watch that lands in one of them must join again once the leave is done. */
  readonly #leaving = new Map<string, Promise<void>>()
  #listening = false
  #watchdog: ReturnType<typeof setInterval> | undefined

  constructor(kuzzle: Kuzzle) {
    this.#kuzzle = kuzzle
    this.#guardFrames()
  }

  get online(): boolean {
    return this.#kuzzle.connected
  }

  /** Starts telling `listener` about the connection; SDK listeners are added with the first one. */
  attach(listener: ConnectionListener): void {
    this.#listeners.add(listener)
    this.#guardFrames()
    if (!this.#listening) {
      this.#listening = true
      this.#addProtocolListeners()
      this.#kuzzle.on('connected', this.#onConnected)
      // kuzzle.disconnect() removes our protocol listeners, and the 'connected' of a connect() within 200 ms of the
      // previous one is dropped (the SDK throttles its own events): then nothing would tell us of the new socket.
      this.#watchdog = setInterval(this.#checkListeners, WATCHDOG_MS)
      ;(this.#watchdog as { unref?: () => void }).unref?.()
      this.#kuzzle.on('tokenExpired', this.#onTokenExpired)
      this.#kuzzle.on('reAuthenticated', this.#onReAuthenticated)
    }
  }

  /** Stops telling `listener`; every SDK listener is removed with the last one. */
  detach(listener: ConnectionListener): void {
    this.#listeners.delete(listener)
    if (this.#listeners.size > 0 || !this.#listening) return
    this.#listening = false
    const protocol = this.#kuzzle.protocol
    protocol.removeListener('connect', this.#onOnline)
    protocol.removeListener('reconnect', this.#onOnline)
    protocol.removeListener('disconnect', this.#onProtocolOffline)
    protocol.removeListener('networkError', this.#onProtocolOffline)
    protocol.removeListener('tokenExpired', this.#onTokenExpired)
    this.#kuzzle.removeListener('connected', this.#onConnected)
    clearInterval(this.#watchdog)
    this.#watchdog = undefined
    this.#kuzzle.removeListener('tokenExpired', this.#onTokenExpired)
    this.#kuzzle.removeListener('reAuthenticated', this.#onReAuthenticated)
  }

  /**
   * Joins the room of `filter` (scope all, no user notifications, own writes included, no SDK auto-resubscription:
   * watches resubscribe themselves so that `ready` means acknowledged). `filter` null joins nothing.
   */
  async join(ref: CollectionRef, filter: KoncordeFilter | null, onNotification: (n: unknown) => void): Promise<RoomHold> {
    this.#guardFrames()
    const generation = this.generation
    if (filter === null) return { roomId: undefined, generation, active: true }
    for (;;) {
      const hold: { roomId: string | undefined; generation: number; active: boolean } = { roomId: undefined, generation, active: true }
      const options = { scope: 'all', users: 'none', subscribeToSelf: true, autoResubscribe: false }
      const roomId = await this.#kuzzle.realtime.subscribe(
        ref.index,
        ref.collection,
        filter,
        (n) => {
          if (hold.active) onNotification(n)
        },
        options as Parameters<Kuzzle['realtime']['subscribe']>[4],
      )
      hold.roomId = roomId
      const leaving = this.#leaving.get(roomId)
      if (leaving && generation === this.generation) {
        // The SDK's unsubscribe in flight will detach this room's listeners too and may leave it server-side.
        hold.active = false
        await leaving
        if (generation !== this.generation) return hold
        continue
      }
      if (generation === this.generation) this.#rooms.set(roomId, (this.#rooms.get(roomId) ?? 0) + 1)
      return hold
    }
  }

  /** Lets go of a hold; the room is left when no other hold of this generation needs it. */
  release(hold: RoomHold): void {
    if (!hold.active) return
    hold.active = false
    const roomId = hold.roomId
    if (roomId === undefined) return
    if (hold.generation !== this.generation) {
      // The SDK reports a reconnection after its new socket is open, so a subscription counted in the old
      // generation may have been made on the new socket: leave it too, unless this generation holds the room.
      if (!this.#rooms.has(roomId)) this.#leave(roomId)
      return
    }
    const count = (this.#rooms.get(roomId) ?? 0) - 1
    if (count > 0) {
      this.#rooms.set(roomId, count)
      return
    }
    this.#rooms.delete(roomId)
    this.#leave(roomId)
  }

  /** Unsubscribes from a room no hold needs (a join of it meanwhile waits for this to finish). */
  #leave(roomId: string): void {
    if (!this.online) return
    const leave = this.#kuzzle.realtime
      .unsubscribe(roomId)
      .catch(() => {
        // Not subscribed any more (token expiry, reconnection): nothing to leave.
      })
      .finally(() => {
        if (this.#leaving.get(roomId) === leave) this.#leaving.delete(roomId)
      })
    this.#leaving.set(roomId, leave)
  }

  #addProtocolListeners(): void {
    const protocol = this.#kuzzle.protocol
    // The protocol's events, unlike the Kuzzle instance's, are not dropped when they repeat within 200 ms.
    protocol.addListener('connect', this.#onOnline)
    protocol.addListener('reconnect', this.#onOnline)
    protocol.addListener('disconnect', this.#onProtocolOffline)
    protocol.addListener('networkError', this.#onProtocolOffline)
    // Heard from the protocol too: the Kuzzle instance drops a token expiry while it believes a reconnection or a
    // cookie renewal is in progress (a state one frame can set for good) or one came within the last second, yet
    // the server has dropped every room all the same.
    protocol.addListener('tokenExpired', this.#onTokenExpired)
  }

  /**
   * True while the SDK's socket is really open. The SDK emits a frame's `room` as an event, so a frame
   * `{"room":"disconnect"}` looks like a disconnection to its listeners: only the socket itself can say.
   */
  #socketOpen(): boolean {
    const client = (this.#kuzzle.protocol as unknown as { client?: { readyState?: unknown; OPEN?: unknown } | null }).client
    // The WebSocket OPEN constant is 1 in browsers and in `ws`.
    return !!client && client.readyState === (typeof client.OPEN === 'number' ? client.OPEN : 1) && this.online
  }

  /**
   * A `disconnect` or `networkError` of the protocol. Real ones come with the socket closing or closed (or
   * replaced). One over an open socket came from a frame: nothing is down, but the SDK's realtime controller has
   * already detached every room's listeners on it, so the watches subscribe again (the server keeps the
   * subscriptions, joining is idempotent there) and resync what they may have missed.
   */
  readonly #onProtocolOffline: Listener = () => {
    if (!this.#socketOpen()) return this.#onOffline()
    // Deferred: the SDK detaches room listeners in its own listener of the same event, which may run after this one.
    queueMicrotask(() => {
      if (!this.#socketOpen()) return
      this.#onOffline()
      this.#onOnline()
    })
  }

  #dropRooms(): void {
    this.generation++
    this.#rooms.clear()
    this.#leaving.clear()
  }

  readonly #onOffline: Listener = () => {
    this.#dropRooms()
    for (const l of [...this.#listeners]) l.offline()
  }

  readonly #onOnline: Listener = () => {
    this.#guardFrames()
    for (const l of [...this.#listeners]) l.online()
  }

  /**
   * kuzzle-sdk parses every frame in its socket's message handler and throws on one that is not a JSON object;
   * in Node the exception escapes the socket, which then stops reading: the connection is dead without a word.
   * The handler of the current socket (a new one per connection) is wrapped so that such a frame is dropped, and
   * the watches resync in case it was a notification. Other exceptions (an app listener's) still surface, later.
   */
  #guardFrames(): void {
    const client = (this.#kuzzle.protocol as unknown as { client?: { onmessage?: unknown } | null }).client
    const handler = client?.onmessage
    if (!client || typeof handler !== 'function' || guardedHandlers.has(handler)) return
    const guard = (payload: unknown): void => {
      try {
        ;(handler as (payload: unknown) => void).call(client, payload)
      } catch (err) {
        if (!unreadable(payload)) {
          setTimeout(() => {
            throw err
          })
          return
        }
        for (const l of [...this.#listeners]) l.reset()
      }
    }
    guardedHandlers.add(guard)
    client.onmessage = guard
  }

  readonly #checkListeners = (): void => {
    this.#guardFrames()
    if (this.#kuzzle.protocol.listeners('disconnect').includes(this.#onProtocolOffline)) return
    this.#onOffline()
    this.#addProtocolListeners()
    if (this.online) this.#onOnline()
  }

  readonly #onConnected: Listener = () => {
    // kuzzle.disconnect() removes every protocol listener without a 'disconnect' event: rooms are gone.
    if (!this.#kuzzle.protocol.listeners('disconnect').includes(this.#onProtocolOffline)) {
      this.#onOffline()
      this.#addProtocolListeners()
    }
    this.#onOnline()
  }

  readonly #onTokenExpired: Listener = () => {
    this.#dropRooms()
    for (const l of [...this.#listeners]) l.tokenExpired()
  }

  readonly #onReAuthenticated: Listener = () => {
    // The SDK logged in again after a TokenExpired, which dropped every room server-side.
    this.#onOffline()
    this.#onOnline()
  }
}
