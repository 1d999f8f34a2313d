/**
 * The Kuzzle driver against the Kuzzle-protocol test server, through the real kuzzle-sdk over real sockets: reads,
 * id watches (update without losing the room, sharding), reconnection, token expiry, and no leaked subscriptions
 * or SDK listeners.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { Kuzzle } from 'kuzzle-sdk'
import { kuzzleDriver } from '../../src/drivers/kuzzle'
import type { Driver, Watch } from '../../src/core/types'
import { ObservedError } from '../../src/core/types'
import { kuzzleFixture, recordingSink } from '../servers/kuzzle/fixtures'
import type { KuzzleFixture, RecordingSink } from '../servers/kuzzle/fixtures'
import { waitFor } from '../helpers/wait-for'

const ref = { index: 'nyc-open-data', collection: 'yellow-taxi' }
const { index: I, collection: C } = ref

let fx: KuzzleFixture
let kuzzle: Kuzzle
let driver: Driver
let watches: Watch[] = []

function watchIds(ids: string[], sink: RecordingSink = recordingSink(), d: Driver = driver): { watch: Watch; sink: RecordingSink } {
  const watch = d.watch(ref, { ids }, sink)
  watches.push(watch)
  return { watch, sink }
}

const infoOf = (source: unknown) => (source as { _kuzzle_info: { createdAt: number; updatedAt: number | null } })._kuzzle_info

beforeAll(async () => {
  fx = await kuzzleFixture()
})

afterEach(async () => {
  for (const w of watches) w.close()
  watches = []
  // No test may leave a room behind (rooms × connections on the server).
  await waitFor(() => fx.server.subscriptionCount() === 0, 2000, { what: 'every subscription released' })
  fx.disconnectClients()
  fx.server.clearRequests()
  fx.server.documents.clear()
})

afterAll(async () => {
  await fx?.close()
})

async function setup(options?: Parameters<typeof kuzzleDriver>[1]): Promise<void> {
  kuzzle = await fx.client()
  driver = kuzzleDriver(kuzzle, options)
}

describe('reads', () => {
  it('gets a document with its _kuzzle_info and a numeric rev, and null for a missing one', async () => {
    await setup()
    fx.server.documents.create(I, C, 'a', { fare: 1 })
    const doc = await driver.get(ref, 'a')
    expect(doc?._id).toBe('a')
    expect(doc?._source).toMatchObject({ fare: 1 })
    expect(doc?._rev).toBe(infoOf(doc?._source).createdAt)
    fx.server.documents.update(I, C, 'a', { fare: 2 })
    const updated = await driver.get(ref, 'a')
    expect(updated?._rev).toBe(infoOf(updated?._source).updatedAt)
    expect(updated!._rev as number).toBeGreaterThan(doc!._rev as number)
    await expect(driver.get(ref, 'missing')).resolves.toBeNull()
  })

  it('mGets, leaving missing ids out', async () => {
    await setup()
    fx.server.documents.create(I, C, 'a', { n: 1 })
    fx.server.documents.create(I, C, 'c', { n: 3 })
    const docs = await driver.mGet(ref, ['a', 'b', 'c'])
    expect(docs.map((d) => d._id)).toEqual(['a', 'c'])
    expect(docs.every((d) => typeof d._rev === 'number')).toBe(true)
    await expect(driver.mGet(ref, [])).resolves.toEqual([])
  })

  it('searches with the normalized sort (ties by _id), from/size and total', async () => {
    await setup()
    for (const [id, fare] of [['d', 2], ['b', 1], ['c', 2], ['a', 3], ['e', 0]] as const) {
      fx.server.documents.create(I, C, id, { fare, city: id === 'e' ? 'SF' : 'NYC' })
    }
    const spec = { query: { term: { city: 'NYC' } }, sort: [{ field: 'fare', order: 'desc' as const }] }
    const first = await driver.search(ref, spec, { from: 0, size: 2 })
    expect(first.hits.map((h) => h._id)).toEqual(['a', 'c'])
    expect(first.total).toBe(4)
    const second = await driver.search(ref, spec, { from: 2, size: 2 })
    expect(second.hits.map((h) => h._id)).toEqual(['d', 'b'])
    const all = await driver.search(ref, { sort: [] }, { from: 0, size: 10 })
    expect(all.hits.map((h) => h._id)).toEqual(['a', 'b', 'c', 'd', 'e'])
    const sent = fx.server.requests().filter((r) => r.action === 'search')
    expect((sent[0].body as { sort: unknown }).sort).toEqual([{ fare: { order: 'desc' } }, { _id: { order: 'asc' } }])
    expect(sent[0]).toMatchObject({ from: 0, size: 2 })
  })

  it('reports a rejected search as a fatal read_failed error', async () => {
    await setup()
    const error = await driver.search(ref, { query: { wildcard: { city: 'N*' } }, sort: [] }, { from: 0, size: 10 }).catch((e) => e)
    expect(error).toBeInstanceOf(ObservedError)
    expect(error).toMatchObject({ code: 'read_failed', fatal: true })
  })
})

describe('ids watches', () => {
  it('turns notifications into full-document events ordered by updatedAt, and deletes by timestamp', async () => {
    await setup()
    fx.server.documents.create(I, C, 'a', { v: 1, removed: true })
    const { sink } = watchIds(['a', 'b'])
    await waitFor(() => sink.count('ready') === 1)
    expect(fx.server.subscriptionCount()).toBe(1)
    expect(fx.server.requests().find((r) => r.action === 'subscribe')).toMatchObject({
      body: { ids: { values: ['a', 'b'] } },
      scope: 'all',
      users: 'none',
    })

    fx.server.documents.replace(I, C, 'a', { v: 2 })
    fx.server.documents.create(I, C, 'b', { v: 1 })
    fx.server.documents.create(I, C, 'not-watched', { v: 1 })
    await waitFor(() => sink.events().length === 2)
    const [replaced, created] = sink.events()
    expect(replaced).toMatchObject({ id: 'a', kind: 'upsert' })
    expect(replaced.doc).toMatchObject({ v: 2 })
    expect(replaced.doc).not.toHaveProperty('removed')
    expect(replaced.rev).toBe(infoOf(replaced.doc).updatedAt)
    expect(replaced.previousRev).toBeUndefined()
    expect(created).toMatchObject({ id: 'b', kind: 'upsert' })
    expect(created.rev).toBe(infoOf(created.doc).createdAt)
    // A creation continues nothing (Kuzzle's notifier says `action: 'create'`); a replace says nothing of a chain.
    expect(created.previousRev).toBeNull()

    fx.server.documents.update(I, C, 'b', { w: 2 })
    await waitFor(() => sink.events().length === 3)
    expect(sink.events()[2].doc).toMatchObject({ v: 1, w: 2 })

    fx.server.documents.delete(I, C, 'a')
    await waitFor(() => sink.events().length === 4)
    const deleted = sink.events()[3]
    expect(deleted).toMatchObject({ id: 'a', kind: 'delete' })
    expect(deleted.doc).toBeUndefined()
    expect(deleted.rev as number).toBeGreaterThanOrEqual(replaced.rev as number)
    expect(sink.count('error')).toBe(0)
  })

  it('delivers the writes the app makes through the same SDK instance', async () => {
    await setup()
    const { sink } = watchIds(['mine'])
    await waitFor(() => sink.count('ready') === 1)
    await kuzzle.document.create(I, C, { v: 1 }, 'mine')
    await waitFor(() => sink.eventsFor('mine').length === 1)
  })

  it('update() subscribes the new room before leaving the old one: kept ids never miss an event', async () => {
    await setup()
    const { watch, sink } = watchIds(['a', 'b'])
    await waitFor(() => sink.count('ready') === 1)
    const oldRoom = fx.server.requests().find((r) => r.action === 'subscribe')
    fx.server.clearRequests()

    // Writes on the kept id keep flowing while the update is in flight.
    let writes = 0
    let stop = false
    const writer = (async () => {
      while (!stop) {
        fx.server.documents.createOrReplace(I, C, 'b', { n: ++writes })
        await new Promise((resolve) => setImmediate(resolve))
      }
    })()
    await watch.update!({ ids: ['b', 'c'] })
    stop = true
    await writer
    await waitFor(() => sink.eventsFor('b').some((e) => (e.doc as { n: number }).n === writes))
    const ns = sink.eventsFor('b').map((e) => (e.doc as { n: number }).n)
    // Every write is seen (duplicates are possible while both rooms are live, never a gap).
    expect([...new Set(ns)]).toEqual(Array.from({ length: writes }, (_, i) => i + 1))

    // The old room is left after the new one is joined (the request reaches the server a moment later).
    await waitFor(() => fx.server.requests().some((r) => r.action === 'unsubscribe'))
    const requests = fx.server.requests().map((r) => r.action)
    expect(requests.filter((a) => a === 'subscribe' || a === 'unsubscribe')).toEqual(['subscribe', 'unsubscribe'])
    expect(oldRoom).toBeDefined()
    await waitFor(() => fx.server.subscriptionCount() === 1)

    const before = sink.events().length
    fx.server.documents.create(I, C, 'a', { gone: true })
    fx.server.documents.create(I, C, 'c', { added: true })
    await waitFor(() => sink.eventsFor('c').length === 1)
    expect(sink.events().slice(before).map((e) => e.id)).toEqual(['c'])
    expect(sink.count('ready')).toBe(1)
  })

  it('update() keeps the old room through the handover: a notification sent to it before the new room existed arrives', async () => {
    await setup({ handoverDelay: 5000 })
    const { watch, sink } = watchIds(['a'])
    await waitFor(() => sink.count('ready') === 1)
    // The notification of this write goes to the old room only, and is still on its way when the update resolves.
    fx.server.faults.delayNotifications(400)
    fx.server.documents.create(I, C, 'a', { n: 1 })
    await watch.update!({ ids: ['a', 'b'] })
    expect(sink.eventsFor('a')).toEqual([])
    await waitFor(() => sink.eventsFor('a').length >= 1, 3000, { what: 'the delayed notification of the old room' })
    expect(sink.eventsFor('a')[0].doc).toMatchObject({ n: 1 })
    fx.server.faults.delayNotifications(0)
    // Both rooms are held until the handover ends; closing the watch leaves both at once.
    expect(fx.server.subscriptionCount()).toBe(2)
    watch.close()
    await waitFor(() => fx.server.subscriptionCount() === 0, 2000)
  })

  it("a notification the reorder fault holds on a replaced room arrives within the default handover (soak seed 1160305)", async () => {
    await setup()
    const { watch, sink } = watchIds(['a'])
    await waitFor(() => sink.count('ready') === 1)
    // Held until the next notification, which never comes: sent when the server's hold limit ends, which must come
    // well before the replaced room is left (at 1000 ms both, it raced that release under load and was lost).
    fx.server.faults.reorderNotifications(1)
    const start = Date.now()
    fx.server.documents.create(I, C, 'a', { n: 1 })
    await watch.update!({ ids: ['a', 'b'] })
    await waitFor(() => sink.eventsFor('a').length === 1, 2000, { what: 'the held notification of the old room' })
    expect(Date.now() - start).toBeLessThan(900)
    watch.close()
  })

  it('never leaves a room another watch still holds (the SDK Observer bug)', async () => {
    await setup()
    const first = watchIds(['x', 'y'])
    const second = watchIds(['x', 'y'])
    await waitFor(() => first.sink.count('ready') === 1 && second.sink.count('ready') === 1)
    first.watch.close()
    // A round trip on the same socket: anything close() sent has been processed by now.
    await kuzzle.server.now({})
    fx.server.documents.create(I, C, 'x', { v: 1 })
    await waitFor(() => second.sink.eventsFor('x').length === 1)
    expect(fx.server.subscriptionCount()).toBe(1)
    expect(fx.server.requests().some((r) => r.action === 'unsubscribe')).toBe(false)
    expect(first.sink.events()).toEqual([])

    // And an update that lands on a room a sibling holds keeps it too.
    const third = watchIds(['z'])
    await waitFor(() => third.sink.count('ready') === 1)
    await third.watch.update!({ ids: ['x', 'y'] })
    second.watch.close()
    fx.server.documents.update(I, C, 'x', { v: 2 })
    await waitFor(() => third.sink.eventsFor('x').length === 1)
    await waitFor(() => fx.server.subscriptionCount() === 1)
  })

  it('sequential updates end on the widest set asked last', async () => {
    await setup()
    const { watch, sink } = watchIds(['a'])
    await waitFor(() => sink.count('ready') === 1)
    await watch.update!({ ids: ['a', 'b'] })
    await watch.update!({ ids: ['a', 'b', 'c'] })
    await watch.update!({ ids: ['c'] })
    await watch.update!({ ids: ['c', 'd'] })
    await waitFor(() => fx.server.subscriptionCount() === 1)
    for (const id of ['a', 'b', 'c', 'd']) fx.server.documents.create(I, C, id, {})
    await waitFor(() => sink.eventsFor('d').length === 1)
    expect(sink.events().map((e) => e.id).sort()).toEqual(['c', 'd'])
  })

  it('shards 250 ids into watches of maxIdsPerWatch (100), all live; 101 ids exceed the server limit', async () => {
    await setup()
    expect(driver.maxIdsPerWatch).toBe(100)
    const ids = Array.from({ length: 250 }, (_, i) => `doc-${String(i).padStart(3, '0')}`)
    const shards = [ids.slice(0, 100), ids.slice(100, 200), ids.slice(200)]
    const sinks = shards.map((shard) => watchIds(shard).sink)
    await waitFor(() => sinks.every((s) => s.count('ready') === 1))
    expect(fx.server.subscriptionCount()).toBe(3)
    for (const id of ids) fx.server.documents.create(I, C, id, { id })
    await waitFor(() => sinks.reduce((n, s) => n + s.events().length, 0) === 250)
    sinks.forEach((s, i) => expect(s.events().map((e) => e.id)).toEqual(shards[i]))

    const tooMany = watchIds(Array.from({ length: 101 }, (_, i) => `x-${i}`))
    await waitFor(() => tooMany.sink.count('error') === 1)
    expect(tooMany.sink.errors()[0]).toMatchObject({ code: 'watch_failed', fatal: true })
    expect(tooMany.sink.errors()[0].message).toMatch(/conditions/)
  })

  it('follows nothing for an empty id set, and ready() still comes', async () => {
    await setup()
    const { watch, sink } = watchIds([])
    await waitFor(() => sink.count('ready') === 1)
    expect(fx.server.subscriptionCount()).toBe(0)
    await watch.update!({ ids: ['n'] })
    expect(fx.server.subscriptionCount()).toBe(1)
    fx.server.documents.create(I, C, 'n', {})
    await waitFor(() => sink.eventsFor('n').length === 1)
  })

  it('rejects ids that are not non-empty strings', async () => {
    await setup()
    expect(() => driver.watch(ref, { ids: [''] }, recordingSink())).toThrow(ObservedError)
    expect(() => driver.watch({ index: '', collection: C }, { ids: ['a'] }, recordingSink())).toThrow(/index and collection/)
  })
})

describe('connection', () => {
  it('reports offline when the server stops and ready again after restart, then events flow again', async () => {
    await setup()
    const a = watchIds(['a'])
    const b = watchIds(['b'])
    await waitFor(() => a.sink.count('ready') === 1 && b.sink.count('ready') === 1)
    await fx.server.stop()
    await waitFor(() => a.sink.count('offline') === 1 && b.sink.count('offline') === 1)
    // A write while the server is unreachable from the client is missed: the core resyncs after ready().
    fx.server.documents.create(I, C, 'a', { during: 'outage' })
    await fx.server.restart()
    await waitFor(() => a.sink.count('ready') === 2 && b.sink.count('ready') === 2, 5000)
    expect(a.sink.frames.map((f) => f.type)).toEqual(['ready', 'offline', 'ready'])
    expect(a.sink.frames[2]).toEqual({ type: 'ready', resumed: undefined })
    expect(fx.server.subscriptionCount()).toBe(2)
    fx.server.documents.update(I, C, 'a', { after: 'restart' })
    await waitFor(() => a.sink.eventsFor('a').length === 1)
    expect(a.sink.count('offline')).toBe(1)
  })

  it('survives dropped connections twice in a row (the SDK swallows a repeated "reconnected")', async () => {
    await setup()
    const { sink } = watchIds(['a'])
    await waitFor(() => sink.count('ready') === 1)
    for (let round = 2; round <= 3; round++) {
      fx.server.faults.dropConnections()
      await waitFor(() => sink.count('ready') === round, 5000)
    }
    expect(sink.frames.map((f) => f.type)).toEqual(['ready', 'offline', 'ready', 'offline', 'ready'])
    fx.server.documents.create(I, C, 'a', {})
    await waitFor(() => sink.eventsFor('a').length === 1)
  })

  it('recovers when the app disconnects its SDK and connects it again', async () => {
    // The SDK drops a 'connected' emitted within eventTimeout (200 ms) of the previous one; -1 keeps them all here.
    kuzzle = await fx.client({ eventTimeout: -1 })
    driver = kuzzleDriver(kuzzle)
    const { sink } = watchIds(['a'])
    await waitFor(() => sink.count('ready') === 1)
    // disconnect() removes every protocol listener, the driver's too, without a 'disconnect' event.
    kuzzle.disconnect()
    await waitFor(() => fx.server.subscriptionCount() === 0)
    await kuzzle.connect()
    await waitFor(() => sink.count('ready') === 2)
    expect(sink.frames.map((f) => f.type)).toEqual(['ready', 'offline', 'ready'])
    fx.server.documents.create(I, C, 'a', {})
    await waitFor(() => sink.eventsFor('a').length === 1)
    // Its listeners are back, so a later network drop is seen too.
    fx.server.faults.dropConnections()
    await waitFor(() => sink.count('ready') === 3, 5000)
  })

  it('waits for the connection when a watch opens before the SDK is connected', async () => {
    await setup()
    await fx.server.stop()
    await waitFor(() => !kuzzle.connected)
    const { sink } = watchIds(['late'])
    await fx.server.restart()
    await waitFor(() => sink.count('ready') === 1, 5000)
    expect(sink.count('error')).toBe(0)
  })

  it('an update made while offline is what gets subscribed on reconnection', async () => {
    await setup()
    const { watch, sink } = watchIds(['a'])
    await waitFor(() => sink.count('ready') === 1)
    await fx.server.stop()
    await waitFor(() => sink.count('offline') === 1)
    await watch.update!({ ids: ['a', 'b'] })
    await fx.server.restart()
    await waitFor(() => sink.count('ready') === 2, 5000)
    fx.server.documents.create(I, C, 'b', {})
    await waitFor(() => sink.eventsFor('b').length === 1)
  })

  it('reports an expired token as a non-fatal token_expired error', async () => {
    await setup()
    await kuzzle.auth.login('local', { username: 'carol', password: 'x' })
    const { sink } = watchIds(['a'])
    await waitFor(() => sink.count('ready') === 1)
    expect(fx.server.faults.expireTokens('carol')).toBe(1)
    await waitFor(() => sink.count('error') === 1)
    const error = sink.errors()[0]
    expect(error).toBeInstanceOf(ObservedError)
    expect(error).toMatchObject({ code: 'token_expired', fatal: false })
    expect(error.message).toMatch(/log in again/)
    expect(fx.server.subscriptionCount()).toBe(0)
    // A new watch (what the core opens after backoff) works again, here anonymously.
    const again = watchIds(['a'])
    await waitFor(() => again.sink.count('ready') === 1)
  })

  it('removes every SDK listener it added once the last watch closes, and leaves no subscription', async () => {
    await setup()
    const protocolEvents = ['connect', 'reconnect', 'disconnect', 'networkError'] as const
    const kuzzleEvents = ['connected', 'tokenExpired', 'reAuthenticated'] as const
    const count = () => [
      ...protocolEvents.map((e) => kuzzle.protocol.listenerCount(e)),
      ...kuzzleEvents.map((e) => kuzzle.listenerCount(e)),
    ]
    const before = count()
    const a = watchIds(['a'])
    const b = watchIds(Array.from({ length: 100 }, (_, i) => `b-${i}`))
    await waitFor(() => a.sink.count('ready') === 1 && b.sink.count('ready') === 1)
    expect(count()).not.toEqual(before)
    a.watch.close()
    expect(count()).not.toEqual(before)
    b.watch.close()
    expect(count()).toEqual(before)
    await waitFor(() => fx.server.subscriptionCount() === 0)
    // Events after close are not delivered.
    fx.server.documents.create(I, C, 'a', {})
    await kuzzle.document.get(I, C, 'a')
    expect(a.sink.events()).toEqual([])
  })
})
