/**
 * Conformance of the Kuzzle-protocol test server, checked with the real kuzzle-sdk over real sockets (and a raw
 * `ws` client where the frames themselves are the point).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { Kuzzle, WebSocket as KuzzleWebSocket } from 'kuzzle-sdk'
import type { DocumentNotification, Notification } from 'kuzzle-sdk'
import WebSocket from 'ws'
import { startKuzzleServer } from './kuzzle'
import type { KuzzleTestServer } from './kuzzle'
import { waitFor } from '../helpers/wait-for'

const INDEX = 'nyc-open-data'
const COLLECTION = 'yellow-taxi'

let server: KuzzleTestServer
const clients: Kuzzle[] = []

async function connect(options: { reconnectionDelay?: number } = {}): Promise<Kuzzle> {
  const kuzzle = new Kuzzle(new KuzzleWebSocket('127.0.0.1', { port: server.port, reconnectionDelay: options.reconnectionDelay ?? 50 }))
  clients.push(kuzzle)
  await kuzzle.connect()
  return kuzzle
}

/** A raw client: sends frames, collects every frame received. */
async function rawClient(): Promise<{ socket: WebSocket; frames: Record<string, unknown>[]; send(frame: object): void }> {
  const socket = new WebSocket(server.url)
  const frames: Record<string, unknown>[] = []
  socket.on('message', (data) => frames.push(JSON.parse(data.toString())))
  await new Promise((resolve, reject) => {
    socket.once('open', resolve)
    socket.once('error', reject)
  })
  return { socket, frames, send: (frame) => socket.send(JSON.stringify(frame)) }
}

/** What the SDK rejects with on an API error (its KuzzleError class is not exported). */
interface ApiError {
  status: number
  id: string
  message: string
}

async function rejection(promise: Promise<unknown>): Promise<ApiError> {
  try {
    await promise
  } catch (e) {
    return e as ApiError
  }
  throw new Error('expected a rejection')
}

beforeAll(async () => {
  server = await startKuzzleServer()
  // Kuzzle refuses document actions on an unknown collection: create it, as an app's setup would.
  server.documents.createCollection(INDEX, COLLECTION)
})

afterEach(() => {
  for (const kuzzle of clients.splice(0)) kuzzle.disconnect()
  server.documents.clear()
  server.faults.delayNotifications(0)
})

afterAll(async () => {
  await server?.stop()
})

describe('frames', () => {
  it('answers the browser keep-alive and echoes requestId as room', async () => {
    const raw = await rawClient()
    raw.send({ p: 1 })
    await waitFor(() => raw.frames.length === 1)
    expect(raw.frames[0]).toEqual({ p: 2 })
    raw.send({ controller: 'server', action: 'now', requestId: 'r-1', volatile: { sdkName: 'raw' } })
    const response = await waitFor(() => raw.frames.find((f) => f.requestId === 'r-1'))
    expect(response).toMatchObject({ requestId: 'r-1', room: 'r-1', status: 200, error: null, controller: 'server', action: 'now', volatile: { sdkName: 'raw' } })
    expect(typeof (response.result as { now: number }).now).toBe('number')
    raw.send({ controller: 'document', action: 'nothing', requestId: 'r-2' })
    const error = await waitFor(() => raw.frames.find((f) => f.requestId === 'r-2'))
    expect(error).toMatchObject({ status: 404, result: null, error: { id: 'api.process.action_not_found', status: 404, code: 0x02020005 } })
    // funnel.getController: a controller Kuzzle does not have is controller_not_found.
    raw.send({ controller: 'nope', action: 'nothing', requestId: 'r-3' })
    const noController = await waitFor(() => raw.frames.find((f) => f.requestId === 'r-3'))
    expect(noController).toMatchObject({ status: 404, error: { id: 'api.process.controller_not_found', code: 0x02020004, message: 'API controller "nope" not found.' } })
    raw.socket.close()
  })

  it('sends auth:checkToken on SDK connect and validates tokens issued by auth:login', async () => {
    server.clearRequests()
    const kuzzle = await connect()
    await waitFor(() => server.requests().some((r) => r.controller === 'auth' && r.action === 'checkToken'))
    const jwt = await kuzzle.auth.login('local', { username: 'alice', password: 'secret' })
    expect(typeof jwt).toBe('string')
    expect(kuzzle.jwt).toBe(jwt)
    await expect(kuzzle.auth.checkToken()).resolves.toMatchObject({ valid: true, kuid: 'alice' })
    await expect(kuzzle.auth.checkToken('not.a.token')).resolves.toMatchObject({ valid: false })
    const created = await kuzzle.document.create(INDEX, COLLECTION, { a: 1 }, 'by-alice')
    expect((created._source as Record<string, unknown>)._kuzzle_info).toMatchObject({ author: 'alice' })
    expect(server.requests().find((r) => r.action === 'create')?.jwt).toBe(jwt)
  })
})

describe('documents', () => {
  it('creates, reads, updates, replaces and deletes with _version and _kuzzle_info', async () => {
    const kuzzle = await connect()
    const created = await kuzzle.document.create(INDEX, COLLECTION, { name: 'a', nested: { x: 1, y: 2 } }, 'doc-1')
    expect(created).toMatchObject({ _id: 'doc-1', _version: 1, _source: { name: 'a' } })
    const info = (created._source as Record<string, unknown>)._kuzzle_info as { createdAt: number; updatedAt: number | null; author: string }
    expect(typeof info.createdAt).toBe('number')
    expect(info.updatedAt).toBeNull()
    expect(info.author).toBe('-1')

    const got = await kuzzle.document.get(INDEX, COLLECTION, 'doc-1')
    expect(got).toEqual({ _id: 'doc-1', _version: 1, _source: created._source })
    await expect(kuzzle.document.exists(INDEX, COLLECTION, 'doc-1')).resolves.toBe(true)
    await expect(kuzzle.document.exists(INDEX, COLLECTION, 'nope')).resolves.toBe(false)

    const updated = await kuzzle.document.update(INDEX, COLLECTION, 'doc-1', { nested: { y: 3 } }, { source: true })
    expect(updated._version).toBe(2)
    expect(updated._source).toMatchObject({ name: 'a', nested: { x: 1, y: 3 } })
    const updatedInfo = (updated._source as Record<string, unknown>)._kuzzle_info as { createdAt: number; updatedAt: number }
    expect(updatedInfo.updatedAt).toBeGreaterThan(info.createdAt)
    expect(updatedInfo.createdAt).toBe(info.createdAt)

    const replaced = await kuzzle.document.replace(INDEX, COLLECTION, 'doc-1', { other: true })
    expect(replaced._version).toBe(3)
    expect(replaced._source).not.toHaveProperty('name')

    // As Kuzzle's document controller: a replace stamps every field anew (its author and creation time are the
    // replace's), and so does a createOrReplace, also when it creates; only `create` leaves updatedAt null.
    const replacedInfo = (replaced._source as Record<string, unknown>)._kuzzle_info as { createdAt: number; updatedAt: number; updater: string }
    expect(replacedInfo.createdAt).toBeGreaterThan(info.createdAt)
    expect(replacedInfo.updatedAt).toBe(replacedInfo.createdAt)
    expect(replacedInfo.updater).toBe('-1')

    const upserted = await kuzzle.document.createOrReplace(INDEX, COLLECTION, 'doc-2', { name: 'b' })
    expect(upserted).toMatchObject({ _id: 'doc-2', _version: 1 })
    const upsertedInfo = (upserted._source as Record<string, unknown>)._kuzzle_info as { createdAt: number; updatedAt: number }
    expect(upsertedInfo.updatedAt).toBe(upsertedInfo.createdAt)

    const mget = await kuzzle.document.mGet(INDEX, COLLECTION, ['doc-1', 'missing', 'doc-2'])
    expect(mget.successes.map((d) => d._id)).toEqual(['doc-1', 'doc-2'])
    expect(mget.errors).toEqual(['missing'])

    await expect(kuzzle.document.delete(INDEX, COLLECTION, 'doc-1')).resolves.toBe('doc-1')
    const missing = await rejection(kuzzle.document.get(INDEX, COLLECTION, 'doc-1'))
    expect(missing.status).toBe(404)
    expect(missing.id).toBe('services.storage.not_found')
    const dup = await rejection(kuzzle.document.create(INDEX, COLLECTION, { name: 'again' }, 'doc-2'))
    expect(dup.status).toBe(400)
    expect(dup.id).toBe('services.storage.document_already_exists')
    expect((await rejection(kuzzle.document.update(INDEX, COLLECTION, 'nope', { a: 1 }))).id).toBe('services.storage.not_found')
    expect((await rejection(kuzzle.document.delete(INDEX, COLLECTION, 'nope'))).id).toBe('services.storage.not_found')
  })

  it('searches with the Elasticsearch subset, sort, from/size and total', async () => {
    const kuzzle = await connect()
    const docs = [
      { _id: 'a', body: { city: 'NYC', fare: 10, tags: ['x', 'y'], driver: { name: 'al' } } },
      { _id: 'b', body: { city: 'NYC', fare: 30, tags: ['y'] } },
      { _id: 'c', body: { city: 'SF', fare: 20 } },
      { _id: 'd', body: { city: 'SF', fare: 20, driver: { name: 'bo' } } },
      { _id: 'e', body: { city: 'LA' } },
    ]
    await kuzzle.document.mCreate(INDEX, COLLECTION, docs)
    const ids = async (body: Record<string, unknown>, options: { from?: number; size?: number } = {}) => {
      const result = await kuzzle.document.search(INDEX, COLLECTION, body, options)
      return { ids: result.hits.map((h) => h._id), total: result.total }
    }
    expect(await ids({ query: { match_all: {} }, sort: [{ _id: 'asc' }] })).toEqual({ ids: ['a', 'b', 'c', 'd', 'e'], total: 5 })
    expect((await ids({ query: { term: { city: 'NYC' } } })).ids.sort()).toEqual(['a', 'b'])
    expect((await ids({ query: { terms: { city: ['SF', 'LA'] } } })).ids.sort()).toEqual(['c', 'd', 'e'])
    expect((await ids({ query: { match: { city: 'LA' } } })).ids).toEqual(['e'])
    expect((await ids({ query: { term: { tags: 'x' } } })).ids).toEqual(['a'])
    expect((await ids({ query: { range: { fare: { gt: 10, lte: 20 } } } })).ids.sort()).toEqual(['c', 'd'])
    expect((await ids({ query: { exists: { field: 'driver.name' } } })).ids.sort()).toEqual(['a', 'd'])
    expect((await ids({ query: { ids: { values: ['b', 'e', 'zz'] } } })).ids.sort()).toEqual(['b', 'e'])
    expect(
      (await ids({ query: { bool: { must: [{ range: { fare: { gte: 10 } } }], must_not: { term: { city: 'SF' } } } } })).ids.sort(),
    ).toEqual(['a', 'b'])
    expect((await ids({ query: { bool: { should: [{ term: { city: 'LA' } }, { term: { fare: 30 } }] } } })).ids.sort()).toEqual(['b', 'e'])
    expect((await ids({ query: { bool: { filter: { term: { city: 'SF' } }, should: { term: { fare: 99 } } } } })).ids.sort()).toEqual(['c', 'd'])

    // Missing values last; ties by _id; from/size page through the sorted total.
    const sorted = await ids({ sort: [{ fare: 'desc' }] })
    expect(sorted.ids).toEqual(['b', 'c', 'd', 'a', 'e'])
    expect(await ids({ sort: [{ fare: { order: 'asc' } }] }, { from: 1, size: 2 })).toEqual({ ids: ['c', 'd'], total: 5 })

    // The SDK's next() pages with search_after when a sort and a size are given.
    const first = await kuzzle.document.search(INDEX, COLLECTION, { sort: [{ fare: 'asc' }, { _id: 'asc' }] }, { size: 2 })
    const second = await first.next()
    const third = await second!.next()
    expect([...first.hits, ...second!.hits, ...third!.hits].map((h) => h._id)).toEqual(['a', 'c', 'd', 'b', 'e'])
    await expect(third!.next()).resolves.toBeNull()

    const unsupported = await rejection(kuzzle.document.search(INDEX, COLLECTION, { query: { wildcard: { city: 'N*' } } }))
    expect(unsupported.status).toBe(400)
  })
})

describe('realtime', () => {
  it('notifies scope in on create/update (full document, _updatedFields) and scope out on leaving and delete', async () => {
    const watcher = await connect()
    const writer = await connect()
    const received: DocumentNotification[] = []
    const roomId = await watcher.realtime.subscribe(INDEX, COLLECTION, { equals: { city: 'NYC' } }, (n: Notification) => {
      received.push(n as DocumentNotification)
    })
    expect(server.subscriptionCount()).toBe(1)

    await writer.document.create(INDEX, COLLECTION, { city: 'NYC', fare: 1, extra: { a: 1 } }, 't1')
    await waitFor(() => received.length === 1)
    expect(received[0]).toMatchObject({ type: 'document', scope: 'in', action: 'create', event: 'write', index: INDEX, collection: COLLECTION })
    expect(received[0].result._id).toBe('t1')
    expect(received[0].result._source).toMatchObject({ city: 'NYC', fare: 1 })
    expect(typeof received[0].timestamp).toBe('number')

    await writer.document.update(INDEX, COLLECTION, 't1', { fare: 2, extra: { b: 2 } })
    await waitFor(() => received.length === 2)
    expect(received[1]).toMatchObject({ scope: 'in', action: 'update' })
    expect(received[1].result._source).toMatchObject({ city: 'NYC', fare: 2, extra: { a: 1, b: 2 } })
    expect(received[1].result._updatedFields?.sort()).toEqual(['extra.b', 'fare'])

    await writer.document.update(INDEX, COLLECTION, 't1', { city: 'SF' })
    await waitFor(() => received.length === 3)
    expect(received[2]).toMatchObject({ scope: 'out', action: 'update' })
    expect(received[2].result._source).toMatchObject({ city: 'SF' })

    // No longer matching: further writes are not notified; coming back is scope in again.
    await writer.document.update(INDEX, COLLECTION, 't1', { fare: 3 })
    await writer.document.update(INDEX, COLLECTION, 't1', { city: 'NYC' })
    await waitFor(() => received.length === 4)
    expect(received[3]).toMatchObject({ scope: 'in', action: 'update' })

    await writer.document.delete(INDEX, COLLECTION, 't1')
    await waitFor(() => received.length === 5)
    expect(received[4]).toMatchObject({ scope: 'out', action: 'delete', event: 'delete' })
    expect(received[4].result._source).toMatchObject({ city: 'NYC', fare: 3 })

    await watcher.realtime.unsubscribe(roomId)
    expect(server.subscriptionCount()).toBe(0)
  })

  it('gives the same roomId for the same filter across connections and restarts, idempotently', async () => {
    const a = await connect()
    const b = await connect()
    const filter = { ids: { values: ['x', 'y'] } }
    const roomA = await a.realtime.subscribe(INDEX, COLLECTION, filter, () => {})
    const roomB = await b.realtime.subscribe(INDEX, COLLECTION, filter, () => {})
    expect(roomA).toBe(roomB)
    await a.realtime.subscribe(INDEX, COLLECTION, filter, () => {})
    expect(server.subscriptionCount()).toBe(2)
    const other = await a.realtime.subscribe(INDEX, 'other-collection', filter, () => {})
    expect(other).not.toBe(roomA)
    const restarted = await startKuzzleServer()
    try {
      const c = new Kuzzle(new KuzzleWebSocket('127.0.0.1', { port: restarted.port }))
      clients.push(c)
      await c.connect()
      expect(await c.realtime.subscribe(INDEX, COLLECTION, filter, () => {})).toBe(roomA)
    } finally {
      await restarted.stop()
    }
  })

  it('rejects a filter over the condition limit with a proper error frame', async () => {
    const limited = await startKuzzleServer({ maxConditions: 10 })
    try {
      const kuzzle = new Kuzzle(new KuzzleWebSocket('127.0.0.1', { port: limited.port }))
      clients.push(kuzzle)
      await kuzzle.connect()
      const values = (n: number) => Array.from({ length: n }, (_, i) => `id-${i}`)
      await expect(kuzzle.realtime.subscribe(INDEX, COLLECTION, { ids: { values: values(10) } }, () => {})).resolves.toBeTypeOf('string')
      const error = await rejection(kuzzle.realtime.subscribe(INDEX, COLLECTION, { ids: { values: values(11) } }, () => {}))
      expect(error.status).toBe(400)
      expect(error.id).toBe('api.assert.koncorde_dsl_error')
      expect(error.message).toMatch(/conditions/)
      expect(limited.subscriptionCount()).toBe(1)
    } finally {
      await limited.stop()
    }
  })

  it('sends server-side writes as notifications from another client, and honours silent', async () => {
    const kuzzle = await connect()
    const received: DocumentNotification[] = []
    await kuzzle.realtime.subscribe(INDEX, COLLECTION, { ids: { values: ['s1'] } }, (n: Notification) => {
      received.push(n as DocumentNotification)
    })
    server.documents.create(INDEX, COLLECTION, 's1', { v: 1 }, { silent: true })
    server.documents.update(INDEX, COLLECTION, 's1', { v: 2 })
    await waitFor(() => received.length === 1)
    expect(received[0].result._source).toMatchObject({ v: 2 })
    expect(received[0].volatile).toEqual({})
    await kuzzle.document.update(INDEX, COLLECTION, 's1', { v: 3 }, { silent: true })
    server.documents.delete(INDEX, COLLECTION, 's1')
    await waitFor(() => received.length === 2)
    expect(received[1]).toMatchObject({ scope: 'out', action: 'delete' })
    expect(received[1].result._source).toMatchObject({ v: 3 })
  })
})

describe('faults', () => {
  it('delays notifications, keeping their order', async () => {
    const kuzzle = await connect()
    const received: Array<{ v: unknown; at: number }> = []
    await kuzzle.realtime.subscribe(INDEX, COLLECTION, {}, (n: Notification) => {
      received.push({ v: (n as DocumentNotification).result._source.v, at: Date.now() })
    })
    server.faults.delayNotifications(150)
    const start = Date.now()
    server.documents.create(INDEX, COLLECTION, 'd1', { v: 1 })
    server.documents.update(INDEX, COLLECTION, 'd1', { v: 2 })
    await waitFor(() => received.length === 2, 3000)
    expect(received.map((r) => r.v)).toEqual([1, 2])
    expect(received[0].at - start).toBeGreaterThanOrEqual(140)
  })

  it('reorders: holds one notification and sends it after the next', async () => {
    const kuzzle = await connect()
    const received: unknown[] = []
    await kuzzle.realtime.subscribe(INDEX, COLLECTION, {}, (n: Notification) => {
      received.push((n as DocumentNotification).result._source.v)
    })
    server.faults.reorderNotifications(1)
    server.documents.create(INDEX, COLLECTION, 'r1', { v: 1 })
    server.documents.update(INDEX, COLLECTION, 'r1', { v: 2 })
    server.documents.update(INDEX, COLLECTION, 'r1', { v: 3 })
    await waitFor(() => received.length === 3)
    expect(received).toEqual([2, 1, 3])
  })

  it('expires a token: TokenExpired reaches the SDK and the subscriptions are dropped', async () => {
    const kuzzle = await connect()
    await kuzzle.auth.login('local', { username: 'bob', password: 'x' })
    let expired = 0
    kuzzle.on('tokenExpired', () => expired++)
    await kuzzle.realtime.subscribe(INDEX, COLLECTION, {}, () => {})
    expect(server.subscriptionCount()).toBe(1)
    expect(server.faults.expireTokens()).toBe(1)
    await waitFor(() => expired === 1)
    expect(server.subscriptionCount()).toBe(0)
    expect(kuzzle.jwt).toBeNull()
  })

  it('drops connections and restarts on the same port; the SDK reconnects and documents are kept', async () => {
    const kuzzle = await connect()
    const events: string[] = []
    kuzzle.on('networkError', () => events.push('networkError'))
    await kuzzle.document.create(INDEX, COLLECTION, { kept: true }, 'k1')
    expect(server.faults.dropConnections()).toBe(1)
    await waitFor(() => events.includes('networkError'))
    // Wait on the connection itself: the SDK swallows a 'reconnected' emitted within 200 ms of the previous one.
    await waitFor(() => kuzzle.connected && server.connectionCount() === 1, 5000)

    events.length = 0
    const port = server.port
    await server.stop()
    await waitFor(() => events.includes('networkError'))
    expect(server.connectionCount()).toBe(0)
    expect(kuzzle.connected).toBe(false)
    await server.restart()
    expect(server.port).toBe(port)
    await waitFor(() => kuzzle.connected && server.connectionCount() === 1, 5000)
    await expect(kuzzle.document.get(INDEX, COLLECTION, 'k1')).resolves.toMatchObject({ _source: { kept: true } })
  })
})
