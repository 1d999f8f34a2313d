/**
 * Kuzzle's user notifications and channel options (kuzzleio/kuzzle 2.56): a subscription with `users: 'all' | 'in' |
 * 'out'` gets `type: 'user'` notifications when another connection joins or leaves its room, with the room's count
 * after it (lib/core/realtime/hotelClerk.ts subscribeToRoom / removeRoomForCustomer, notifier._notifyUser,
 * notification/user.js); `scope: 'none'` is accepted and gets no document notification; channel names are
 * `<roomId>-<users><cluster><scope>` digits (channel.ts, `-311` by default); realtimeController.publish adds
 * `_kuzzle_info: { author, createdAt }` to the message.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { Kuzzle } from 'kuzzle-sdk'
import { kuzzleFixture } from './kuzzle/fixtures'
import type { KuzzleFixture } from './kuzzle/fixtures'
import { waitFor } from '../helpers/wait-for'

const I = 'users-index'
const C = 'rooms'
const FILTER = { equals: { kind: 'taxi' } }

let fx: KuzzleFixture

beforeAll(async () => {
  fx = await kuzzleFixture()
  fx.server.documents.createCollection(I, C)
})

afterEach(async () => {
  fx.disconnectClients()
  await waitFor(() => fx.server.subscriptionCount() === 0, 2000)
  fx.server.documents.clear()
})

afterAll(async () => {
  await fx?.close()
})

type Frame = Record<string, unknown> & { type?: string; user?: string; result?: { count?: number; _source?: Record<string, unknown> } }

async function listen(kuzzle: Kuzzle, options: { scope?: string; users?: string }, filter: object = FILTER): Promise<{ frames: Frame[]; roomId: string }> {
  const frames: Frame[] = []
  const roomId = await kuzzle.realtime.subscribe(
    I,
    C,
    filter,
    (n) => {
      frames.push(n as unknown as Frame)
    },
    // The SDK types these as enums; Kuzzle takes the strings.
    options as Parameters<Kuzzle['realtime']['subscribe']>[4],
  )
  return { frames, roomId }
}

const users = (frames: Frame[]) => frames.filter((f) => f.type === 'user').map((f) => `${f.user}:${f.result?.count}`)

describe('user notifications', () => {
  it("users: 'all' hears others join and leave (unsubscribe and disconnection), with the room's count", async () => {
    const watcher = await fx.client()
    const { frames } = await listen(watcher, { users: 'all' })
    const b = await fx.client()
    const { roomId } = await listen(b, {})
    await waitFor(() => users(frames).join() === 'in:2', 2000)
    const join = frames.find((f) => f.type === 'user')!
    expect(join).toMatchObject({ status: 200, index: I, collection: C, controller: 'realtime', action: 'subscribe', user: 'in', result: { count: 2 } })
    expect(join.volatile).toMatchObject({ sdkInstanceId: expect.any(String) })
    await b.realtime.unsubscribe(roomId)
    await waitFor(() => users(frames).join() === 'in:2,out:1', 2000)
    expect(frames.at(-1)).toMatchObject({ action: 'unsubscribe', user: 'out' })
    const c = await fx.client()
    await listen(c, {})
    await waitFor(() => users(frames).join() === 'in:2,out:1,in:2', 2000)
    c.disconnect()
    await waitFor(() => users(frames).join() === 'in:2,out:1,in:2,out:1', 2000)
    // Its own subscription is not announced to itself, and a second subscribe of a member announces nothing.
    await listen(watcher, { users: 'all' })
    await watcher.server.now({})
    expect(users(frames)).toHaveLength(4)
  })

  it("users: 'in' hears only joins, 'out' only leaves, 'none' (the default) nothing", async () => {
    const watcher = await fx.client()
    const joins = await listen(watcher, { users: 'in' })
    const leaves = await listen(watcher, { users: 'out' })
    const none = await listen(watcher, {}, { equals: { kind: 'bus' } })
    const b = await fx.client()
    for (const filter of [FILTER, { equals: { kind: 'bus' } }]) {
      const { roomId } = await listen(b, {}, filter)
      await b.realtime.unsubscribe(roomId)
    }
    await waitFor(() => users(joins.frames).join() === 'in:2' && users(leaves.frames).join() === 'out:1', 2000)
    await watcher.server.now({})
    expect(users(none.frames)).toEqual([])
  })

  it("users: 'none' and 'out' share the channel <roomId>-311 (Channel.hash gives both 3): the first one decides", async () => {
    const first = await fx.client()
    const out = await listen(first, { users: 'out' })
    const second = await fx.client()
    const none = await listen(second, { users: 'none' })
    const b = await fx.client()
    const { roomId } = await listen(b, {})
    await b.realtime.unsubscribe(roomId)
    // The 'none' subscriber is on the channel created with users 'out': it hears the leave too.
    await waitFor(() => users(out.frames).join() === 'out:2' && users(none.frames).join() === 'out:2', 2000)
  })
})

describe('channels', () => {
  it("are named as Kuzzle names them, and scope: 'none' is accepted and gets user notifications only", async () => {
    const kuzzle = await fx.client()
    const raw = (options: Record<string, unknown>) =>
      kuzzle.query({ controller: 'realtime', action: 'subscribe', index: I, collection: C, body: FILTER, ...options }).then((r) => r.result as { roomId: string; channel: string })
    const plain = await raw({})
    expect(plain.channel).toBe(`${plain.roomId}-311`)
    expect((await raw({ users: 'all' })).channel).toBe(`${plain.roomId}-111`)
    expect((await raw({ scope: 'in', users: 'in' })).channel).toBe(`${plain.roomId}-212`)
    expect((await raw({ scope: 'none', users: 'all' })).channel).toBe(`${plain.roomId}-11`)
    await expect(raw({ scope: 'sideways' })).rejects.toMatchObject({ status: 400, id: 'core.realtime.invalid_scope' })
    await kuzzle.realtime.unsubscribe(plain.roomId)

    const watcher = await fx.client()
    const { frames } = await listen(watcher, { scope: 'none', users: 'all' })
    fx.server.documents.create(I, C, 'cab', { kind: 'taxi' })
    const b = await fx.client()
    await listen(b, {})
    await waitFor(() => users(frames).join() === 'in:2', 2000)
    expect(frames.filter((f) => f.type === 'document')).toEqual([])
  })
})

describe('realtime:publish', () => {
  it('adds _kuzzle_info { author, createdAt } to the published message', async () => {
    const watcher = await fx.client()
    const { frames } = await listen(watcher, {})
    const publisher = await fx.client()
    const before = Date.now()
    await publisher.realtime.publish(I, C, { kind: 'taxi', text: 'hello' })
    await waitFor(() => frames.length === 1, 2000)
    expect(frames[0]).toMatchObject({ type: 'document', action: 'publish', event: 'publish', scope: 'in' })
    const info = frames[0].result?._source?._kuzzle_info as { author: string; createdAt: number }
    expect(info).toEqual({ author: '-1', createdAt: expect.any(Number) })
    expect(info.createdAt).toBeGreaterThanOrEqual(before)
    expect(frames[0].result?._source).toMatchObject({ kind: 'taxi', text: 'hello' })
  })
})
