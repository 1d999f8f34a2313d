/**
 * Attack: over a healthy socket, a proxy or hostile server sends `{"room":"disconnect"}` (or any other kuzzle-sdk
 * protocol event name as room). The SDK routes frames by room, so it emits that event as if the socket had told
 * it: on `disconnect` / `networkError` its realtime controller detaches every room's listeners while the server
 * keeps the subscriptions. Observers must keep following, or recover on their own, while the socket is really up.
 */
import { describe, expect, it } from 'vitest'
import { waitFor } from '../helpers/wait-for'
import { useKuzzleProxyFixture } from './kuzzle-proxy-fixture'

const I = 'hostile'
const C = 'spoofed'

const fx = useKuzzleProxyFixture()

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
    fx.server.documents.create(I, C, 'a', { n: 1 })
    fx.server.documents.create(I, C, 'b', { n: 2 })
    const a = fx.client.get(I, C, 'a')
    const search = fx.client.search(I, C, { query: { range: { n: { gte: 2 } } }, sort: [{ n: 'asc' }] }, { live: 'query' })
    await waitFor(() => a.status === 'live' && search.status === 'live', 3000)

    fx.proxy.inject(JSON.stringify({ room }))
    fx.proxy.inject(JSON.stringify({ room, error: { message: 'spoofed', status: 500 }, status: 500 }))

    // The socket is up: the SDK still answers, and observers follow changes made after the spoofed frame.
    await expect(fx.app.server.now({})).resolves.toEqual(expect.any(Number))
    expect(fx.app.connected).toBe(true)
    fx.server.documents.update(I, C, 'a', { n: 3 })
    fx.server.documents.create(I, C, 'c', { n: 4 })
    await waitFor(() => n(a._source) === 3, 3000, { what: `a follows after {"room":"${room}"}` })
    await waitFor(() => search.hits.map((h) => h._id).join() === 'b,a,c', 3000, { what: `the search follows after {"room":"${room}"}` })
    await waitFor(() => a.status === 'live' && search.status === 'live', 3000)
    // Still following later on, not only once.
    fx.server.documents.update(I, C, 'a', { n: 5 })
    await waitFor(() => n(a._source) === 5 && search.hits.map((h) => h._id).join() === 'b,c,a', 3000)
  })
})

describe('SDK state a frame can corrupt', () => {
  it('{"room":"websocketRenewalStart"} does not make a later real token expiry go unnoticed', async () => {
    await fx.app.auth.login('local', { username: 'erin', password: 'x' })
    fx.server.documents.create(I, C, 'a', { n: 1 })
    const a = fx.client.get(I, C, 'a')
    await waitFor(() => a.status === 'live', 3000)
    // The SDK now believes a cookie renewal is under way, and ignores token expiries until it ends (never).
    fx.proxy.inject(JSON.stringify({ room: 'websocketRenewalStart' }))
    await expect(fx.app.server.now({})).resolves.toEqual(expect.any(Number))
    expect(fx.server.faults.expireTokens('erin')).toBe(1)
    // The server dropped the subscriptions: the observer says so instead of staying "live" on nothing.
    await waitFor(() => a.status === 'error', 3000, { what: 'the expiry reported' })
    expect(a.error).toMatchObject({ code: 'token_expired', fatal: false })
    await fx.app.auth.login('local', { username: 'erin', password: 'x' })
    await waitFor(() => a.status === 'live', 5000, { what: 'live again after logging in' })
    fx.server.documents.update(I, C, 'a', { n: 2 })
    await waitFor(() => n(a._source) === 2, 3000)
  })
})
