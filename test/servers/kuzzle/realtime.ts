/**
 * The test server's realtime engine: rooms keyed by Koncorde's normalized-filter id, channels per scope/users
 * option (named as Kuzzle's lib/core/realtime/channel.ts names them), the document notifications Kuzzle sends (scope
 * in / out, full document, `_updatedFields`) and its user notifications (join / leave with the room's count, to
 * channels whose `users` option asks for them: hotelClerk.subscribeToRoom / removeRoomForCustomer, notifier).
 */
import { Koncorde } from 'koncorde'
import { errors } from './errors'
import type { Source, StoredDocument, WriteResult } from './store'

type Scope = 'all' | 'in' | 'out' | 'none'
type Users = 'all' | 'in' | 'out' | 'none'

interface Channel {
  readonly scope: Scope
  readonly users: Users
}

interface Room {
  readonly id: string
  readonly index: string
  readonly collection: string
  readonly channels: Map<string, Channel>
  /** Connection id → the channels it joined in this room. */
  readonly members: Map<string, Set<string>>
  /** Connection id → the `volatile` of its subscription, repeated in user notifications about it. */
  readonly volatiles: Map<string, Record<string, unknown>>
}

/** Who caused a notification: the fields of the originating request that notifications repeat. */
export interface NotificationOrigin {
  readonly requestId: string
  readonly controller: string
  readonly volatile: Record<string, unknown>
  readonly protocol: string
}

/** A frame to send to one connection. */
export interface Outgoing {
  readonly connectionId: string
  readonly frame: Record<string, unknown>
}

// A fixed seed makes room ids stable across restarts and server instances, as Kuzzle's configured seed does.
// (Koncorde checks for a Buffer although its typings say ArrayBuffer.)
const SEED = Buffer.alloc(32, 42) as unknown as ArrayBuffer
const NODE_ID = 'knode-test-server'
const SCOPES = ['all', 'in', 'out', 'none']
const USERS = ['all', 'in', 'out', 'none']

const koncordeIndex = (index: string, collection: string) => `${index}\n${collection}`

// Channel.hash of lib/core/realtime/channel.ts: a digit for users (none shares out's 3), one for cluster
// propagation (always on here), one for scope (none has no digit). The default channel is `<roomId>-311`.
const USERS_DIGIT: Record<Users, string> = { all: '1', in: '2', out: '3', none: '3' }
const SCOPE_DIGIT: Record<Scope, string> = { all: '1', in: '2', out: '3', none: '' }

function channelName(roomId: string, channel: Channel): string {
  return `${roomId}-${USERS_DIGIT[channel.users]}1${SCOPE_DIGIT[channel.scope]}`
}

/** Rooms, subscriptions and notification fan-out. */
export class RealtimeEngine {
  readonly #koncorde: Koncorde
  readonly #rooms = new Map<string, Room>()
  readonly #byConnection = new Map<string, Set<string>>()
  /** Sends user notifications, which subscriptions and departures cause outside any write. */
  readonly #send: (outgoing: Outgoing[]) => void

  constructor(maxConditions: number, send: (outgoing: Outgoing[]) => void = () => undefined) {
    this.#koncorde = new Koncorde({ maxConditions, regExpEngine: 're2', seed: SEED })
    this.#send = send
  }

  /** realtime:subscribe. Idempotent for a connection already in the room. */
  subscribe(
    connectionId: string,
    index: string,
    collection: string,
    filter: unknown,
    scope: unknown = 'all',
    users: unknown = 'none',
    volatile: Record<string, unknown> = {},
  ): { roomId: string; channel: string } {
    if (typeof scope !== 'string' || !SCOPES.includes(scope)) throw errors.invalidScope()
    if (typeof users !== 'string' || !USERS.includes(users)) throw errors.invalidUsers()
    const body = filter ?? {}
    if (typeof body !== 'object' || Array.isArray(body)) throw errors.invalidType('body', 'object')
    let normalized
    try {
      normalized = this.#koncorde.normalize(body as Record<string, unknown>, koncordeIndex(index, collection))
    } catch (e) {
      throw errors.koncorde((e as Error).message)
    }
    let room = this.#rooms.get(normalized.id)
    if (!room) {
      this.#koncorde.store(normalized)
      room = { id: normalized.id, index, collection, channels: new Map(), members: new Map(), volatiles: new Map() }
      this.#rooms.set(room.id, room)
    }
    const channel: Channel = { scope: scope as Scope, users: users as Users }
    const name = channelName(room.id, channel)
    let joined = room.members.get(connectionId)
    // Only a connection new to the room is announced, to the channels that existed before its own.
    const announce = !joined
    const existing = [...room.channels.keys()]
    // Room.createChannel keeps the first channel of a name: users 'none' and 'out' share one (both hash to 3).
    if (!room.channels.has(name)) room.channels.set(name, channel)
    if (!joined) {
      joined = new Set()
      room.members.set(connectionId, joined)
      room.volatiles.set(connectionId, volatile)
    }
    joined.add(name)
    let rooms = this.#byConnection.get(connectionId)
    if (!rooms) {
      rooms = new Set()
      this.#byConnection.set(connectionId, rooms)
    }
    rooms.add(room.id)
    if (announce) this.#send(this.#userNotifications(room, existing, 'in', 'subscribe', volatile))
    return { roomId: room.id, channel: name }
  }

  /** realtime:unsubscribe: removes the connection from the room; an empty room is destroyed. */
  unsubscribe(connectionId: string, roomId: unknown): { roomId: string } {
    if (typeof roomId !== 'string') throw errors.missingArgument('body.roomId')
    const room = this.#rooms.get(roomId)
    if (!room || !room.members.has(connectionId)) throw errors.notSubscribed(connectionId, roomId)
    this.#leave(connectionId, room)
    return { roomId }
  }

  /** Drops every subscription of a connection (disconnection, token expiry). */
  removeConnection(connectionId: string): void {
    for (const roomId of this.#byConnection.get(connectionId) ?? []) {
      const room = this.#rooms.get(roomId)
      if (room) this.#leave(connectionId, room)
    }
    this.#byConnection.delete(connectionId)
  }

  /** realtime:count. */
  count(roomId: unknown): number {
    if (typeof roomId !== 'string') throw errors.missingArgument('body.roomId')
    return this.#rooms.get(roomId)?.members.size ?? 0
  }

  /**
   * realtime:list: `{ [index]: { [collection]: { [roomId]: subscribers } } }`, as hotelClerk.list builds it from the
   * cluster state (state.ts listRealtimeRooms). Kuzzle then drops the collections the user may not subscribe to; this
   * server has no rights, so every user sees every room.
   */
  list(): Record<string, Record<string, Record<string, number>>> {
    const list: Record<string, Record<string, Record<string, number>>> = {}
    for (const room of this.#rooms.values()) {
      const byCollection = (list[room.index] ??= {})
      const rooms = (byCollection[room.collection] ??= {})
      rooms[room.id] = room.members.size
    }
    return list
  }

  /** Live subscriptions: rooms × connections. */
  subscriptionCount(): number {
    let n = 0
    for (const room of this.#rooms.values()) n += room.members.size
    return n
  }

  /** Room ids a connection is subscribed to. */
  roomsOf(connectionId: string): string[] {
    return [...(this.#byConnection.get(connectionId) ?? [])]
  }

  /** The frames a write produces: scope in to rooms the new content matches, scope out to rooms it left. */
  documentNotifications(write: WriteResult, origin: NotificationOrigin): Outgoing[] {
    const before = write.before ? this.#match(write.index, write.collection, write.before) : []
    const after = write.after ? this.#match(write.index, write.collection, write.after) : []
    const base = {
      index: write.index,
      collection: write.collection,
      action: write.action,
      event: write.action === 'delete' ? 'delete' : 'write',
      timestamp: write.timestamp,
    }
    const out: Outgoing[] = []
    if (write.after) {
      const result: Record<string, unknown> = { _id: write.id, _source: write.after._source }
      if (write.updatedFields) result._updatedFields = write.updatedFields
      out.push(...this.#fanOut(after, 'in', { ...base, result }, origin))
      const left = before.filter((r) => !after.includes(r))
      out.push(...this.#fanOut(left, 'out', { ...base, result }, origin))
    } else if (write.before) {
      out.push(...this.#fanOut(before, 'out', { ...base, result: { _id: write.id, _source: write.before._source } }, origin))
    }
    return out
  }

  /** realtime:publish: a message to the rooms its content matches, as a scope-in 'publish' notification. */
  publishNotifications(index: string, collection: string, id: string | null, message: Source, origin: NotificationOrigin, timestamp: number): Outgoing[] {
    const rooms = this.#koncorde.test({ ...message, ...(id === null ? {} : { _id: id }) }, koncordeIndex(index, collection))
    return this.#fanOut(rooms, 'in', { index, collection, action: 'publish', event: 'publish', timestamp, result: { _id: id, _source: message } }, origin)
  }

  #match(index: string, collection: string, doc: StoredDocument): string[] {
    return this.#koncorde.test({ ...doc._source, _id: doc._id }, koncordeIndex(index, collection))
  }

  #fanOut(roomIds: string[], scope: 'in' | 'out', content: Record<string, unknown>, origin: NotificationOrigin): Outgoing[] {
    const out: Outgoing[] = []
    for (const roomId of roomIds) {
      const room = this.#rooms.get(roomId)
      if (!room) continue
      for (const [connectionId, channels] of room.members) {
        for (const name of channels) {
          const channel = room.channels.get(name)
          if (!channel || (channel.scope !== 'all' && channel.scope !== scope)) continue
          out.push({
            connectionId,
            frame: {
              status: 200,
              type: 'document',
              requestId: origin.requestId,
              volatile: origin.volatile,
              controller: origin.controller,
              protocol: origin.protocol,
              node: NODE_ID,
              scope,
              ...content,
              room: name,
            },
          })
        }
      }
    }
    return out
  }

  #leave(connectionId: string, room: Room): void {
    const volatile = room.volatiles.get(connectionId) ?? {}
    room.members.delete(connectionId)
    room.volatiles.delete(connectionId)
    this.#byConnection.get(connectionId)?.delete(room.id)
    if (room.members.size === 0) {
      this.#rooms.delete(room.id)
      this.#koncorde.remove(room.id, koncordeIndex(room.index, room.collection))
      return
    }
    this.#send(this.#userNotifications(room, [...room.channels.keys()], 'out', 'unsubscribe', volatile))
  }

  /**
   * `type: 'user'` notifications of a join or leave, with the room's count after it, to the members of `channels`
   * whose `users` option is `all` or this direction (notifier._notifyUser; UserNotification.fromRequest).
   */
  #userNotifications(room: Room, channels: string[], user: 'in' | 'out', action: string, volatile: Record<string, unknown>): Outgoing[] {
    const out: Outgoing[] = []
    const frame = {
      status: 200,
      type: 'user',
      user,
      result: { count: room.members.size },
      node: NODE_ID,
      timestamp: Date.now(),
      volatile,
      index: room.index,
      collection: room.collection,
      controller: 'realtime',
      action,
      protocol: 'websocket',
    }
    for (const name of channels) {
      const channel = room.channels.get(name)
      if (!channel || (channel.users !== 'all' && channel.users !== user)) continue
      for (const [connectionId, joined] of room.members) {
        if (joined.has(name)) out.push({ connectionId, frame: { ...frame, room: name } })
      }
    }
    return out
  }
}
