/**
 * Attack: over a healthy socket, a proxy or hostile server sends `{"room":"disconnect"}` (or any other kuzzle-sdk
 * protocol event name as room). The SDK routes frames by room, so it emits that event as if the socket had told
 * it: on `disconnect` / `networkError` its realtime controller detaches every room's listeners while the server
 * keeps the subscriptions. Observers must keep following, or recover on their own, while the socket is really up.
 */
import { Kuzzle, WebSocket as KuzzleWebSocket } from 'kuzzle-sdk'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { ObserverClient } from '../../src/core/client'
import { kuzzleDriver } from '../../src/drivers/kuzzle'
import { waitFor } from '../helpers/wait-for'
import { startKuzzleServer, type KuzzleTestServer } from '../servers/kuzzle'
import { startWsProxy, type WsProxy } from './ws-proxy'

const I = 'hostile'
const C = 'spoofed'

let server: KuzzleTestServer
let proxy: WsProxy
let app: Kuzzle
let client: ObserverClient

beforeAll(async () => {
  server = await startKuzzleServer()
  proxy = await startWsProxy(server.port)
})

afterAll(async () => {
  await proxy?.close()
  await server?.stop()
})

beforeEach(async () => {
  app = new Kuzzle(new KuzzleWebSocket('127.0.0.1', { port: proxy.port, reconnectionDelay: 20 }))
  await app.connect()
  client = new ObserverClient({ driver: kuzzleDriver(app), gapTimeout: 50, releaseDelay: 5, backoff: { base: 5, cap: 100 } })
})

afterEach(async () => {
  client.close()
  await waitFor(() => server.subscriptionCount() === 0, 3000, { what: 'every subscription released' })
  app.disconnect()
  server.documents.clear()
  proxy.received.length = 0
})

/** kuzzle-sdk 7 protocol and instance event names a frame's `room` can make the SDK emit. */
const EVENT_ROOMS = [
  'disconnect',
  'networkError',
  'reconnect',
  'connect',
  'tokenExpired',
  'discarded',
  'queryError',
  'websocketRenewalStart',
  'websocketRenewalDone',
  'disconnected',
  'reconnected',
]

const n = (source: unknown) => (source as { n?: number } | null)?.n

describe('a frame whose room is an SDK event name, over a healthy socket', () => {
  it.each(EVENT_ROOMS)('{"room":"%s"}: live documents and live searches keep following', async (room) => {
    server.documents.create(I, C, 'a', { n: 1 })
    server.documents.create(I, C, 'b', { n: 2 })
    const a = client.get(I, C, 'a')
    const search = client.search(I, C, { query: { range: { n: { gte: 2 } } }, sort: [{ n: 'asc' }] }, { live: 'query' })
    await waitFor(() => a.status === 'live' && search.status === 'live', 3000)

    proxy.inject(JSON.stringify({ room }))
    proxy.inject(JSON.stringify({ room, error: { message: 'spoofed', status: 500 }, status: 500 }))

    // The socket is up: the SDK still answers, and observers follow changes made after the spoofed frame.
    await expect(app.server.now({})).resolves.toEqual(expect.any(Number))
    expect(app.connected).toBe(true)
    server.documents.update(I, C, 'a', { n: 3 })
    server.documents.create(I, C, 'c', { n: 4 })
    await waitFor(() => n(a._source) === 3, 3000, { what: `a follows after {"room":"${room}"}` })
    await waitFor(() => search.hits.map((h) => h._id).join() === 'b,a,c', 3000, { what: `the search follows after {"room":"${room}"}` })
    await waitFor(() => a.status === 'live' && search.status === 'live', 3000)
    // Still following later on, not only once.
    server.documents.update(I, C, 'a', { n: 5 })
    await waitFor(() => n(a._source) === 5 && search.hits.map((h) => h._id).join() === 'b,c,a', 3000)
  })
})

describe('SDK state a frame can corrupt', () => {
  it('{"room":"websocketRenewalStart"} does not make a later real token expiry go unnoticed', async () => {
    await app.auth.login('local', { username: 'erin', password: 'x' })
    server.documents.create(I, C, 'a', { n: 1 })
    const a = client.get(I, C, 'a')
    await waitFor(() => a.status === 'live', 3000)
    // The SDK now believes a cookie renewal is under way, and ignores token expiries until it ends (never).
    proxy.inject(JSON.stringify({ room: 'websocketRenewalStart' }))
    await expect(app.server.now({})).resolves.toEqual(expect.any(Number))
    expect(server.faults.expireTokens('erin')).toBe(1)
    // The server dropped the subscriptions: the observer says so instead of staying "live" on nothing.
    await waitFor(() => a.status === 'error', 3000, { what: 'the expiry reported' })
    expect(a.error).toMatchObject({ code: 'token_expired', fatal: false })
    await app.auth.login('local', { username: 'erin', password: 'x' })
    await waitFor(() => a.status === 'live', 5000, { what: 'live again after logging in' })
    server.documents.update(I, C, 'a', { n: 2 })
    await waitFor(() => n(a._source) === 2, 3000)
  })
})
