/**
 * Hostile input over WebSocket: the real kuzzle-sdk talks to the Kuzzle test server through a proxy that injects
 * frames no server should send (not JSON, unknown types, unknown rooms and ids, prototype keys) and relays a 10 MB
 * document. The process keeps running (vitest fails on an uncaught exception), observers of other documents are
 * unaffected, and the connection keeps working.
 */
import { describe, expect, it } from 'vitest'
import { waitFor } from '../helpers/wait-for'
import { useKuzzleProxyFixture } from './kuzzle-proxy-fixture'

const I = 'hostile'
const C = 'docs'

const fx = useKuzzleProxyFixture()

const source = (id: string) => fx.server.documents.get(I, C, id)?._source
const mGets = () => fx.server.requests().filter((r) => r.controller === 'document' && r.action === 'mGet').length

/** The notification frame the server last sent for `id`. */
function lastNotification(id: string): Record<string, unknown> {
  const frame = [...fx.proxy.received]
    .reverse()
    .map((f) => JSON.parse(f) as Record<string, unknown>)
    .find((f) => f.type === 'document' && (f.result as { _id?: string } | undefined)?._id === id)
  if (!frame) throw new Error(`no notification for ${id} seen yet`)
  return frame
}

describe('frames a Kuzzle server should never send', () => {
  it('frames that are not JSON objects are dropped: no crash, the socket keeps working, watches resync', async () => {
    fx.server.documents.create(I, C, 'a', { n: 1 })
    fx.server.documents.create(I, C, 'b', { n: 1 })
    const a = fx.client.get(I, C, 'a')
    const b = fx.client.get(I, C, 'b')
    const search = fx.client.search(I, C, { sort: [{ n: 'asc' }] }, { live: 'query' })
    await waitFor(() => a.status === 'live' && b.status === 'live' && search.status === 'live', 3000)
    const readsBefore = mGets()

    for (const frame of ['not json {', 'null', '42', '"a string"', '[]', '', Buffer.from([0xff, 0x00, 0x13, 0x37])]) fx.proxy.inject(frame)

    // The SDK's socket still answers requests and delivers notifications.
    await expect(fx.app.server.now({})).resolves.toEqual(expect.any(Number))
    fx.server.documents.update(I, C, 'a', { n: 2 })
    await waitFor(() => (a._source as { n?: number } | null)?.n === 2, 3000, { what: 'a change after the garbage' })
    // A dropped frame could have been a notification: the watches read again.
    await waitFor(() => mGets() > readsBefore, 3000, { what: 'a resync read' })
    await waitFor(() => search.hits.map((h) => h._id).join() === 'b,a' && search.status === 'live', 3000)
    expect(a.status).toBe('live')
    expect(b._source).toEqual(source('b'))
  })

  it('notifications of unknown types, for unknown rooms or ids, or without a document, are ignored', async () => {
    fx.server.documents.create(I, C, 'a', { n: 1 })
    const a = fx.client.get(I, C, 'a')
    const errors: string[] = []
    a.on('error', (err) => errors.push(err.message))
    await waitFor(() => a.status === 'live', 3000)
    fx.server.documents.update(I, C, 'a', { n: 2 })
    await waitFor(() => (a._source as { n?: number } | null)?.n === 2, 3000)
    const real = lastNotification('a')
    const frames: unknown[] = [
      { ...real, type: 'weird' },
      { ...real, room: 'no-such-room' },
      { ...real, scope: 'sideways' },
      { ...real, action: 'transmogrify', result: { _id: 'a' } },
      { ...real, result: { _id: 'ghost', _source: { n: 99 } } },
      { ...real, result: null },
      { ...real, result: { _id: 42, _source: { n: 7 } } },
      { ...real, result: { _id: 'a', _source: 'not an object' } },
      { room: real.room },
      { type: 'TokenExpiredish', room: real.room },
    ]
    for (const frame of frames) fx.proxy.inject(JSON.stringify(frame))
    await expect(fx.app.server.now({})).resolves.toEqual(expect.any(Number))
    fx.server.documents.update(I, C, 'a', { n: 3 })
    await waitFor(() => (a._source as { n?: number } | null)?.n === 3, 3000)
    expect(a.status).toBe('live')
    expect(a._source).toEqual(source('a'))
    expect(fx.client.stats().documents).toBe(1) // no entry for the ghost
    expect(errors).toEqual([])
  })

  it('__proto__, constructor and prototype keys in a notification stay inside the document', async () => {
    fx.server.documents.create(I, C, 'a', { n: 1 })
    const a = fx.client.get(I, C, 'a')
    await waitFor(() => a.status === 'live', 3000)
    fx.server.documents.update(I, C, 'a', { n: 2 })
    await waitFor(() => (a._source as { n?: number } | null)?.n === 2, 3000)
    const real = lastNotification('a')
    const result = real.result as { _source: Record<string, unknown> }
    const info = result._source._kuzzle_info as { updatedAt: number }
    // Written as text: JSON.parse makes "__proto__" an own key, which a careless merge would follow.
    const body = JSON.stringify({ ...result._source, _kuzzle_info: { ...info, updatedAt: info.updatedAt + 1 }, n: 3 }).replace(
      /^\{/,
      '{"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}},"prototype":{"polluted":"yes"},',
    )
    fx.proxy.inject(JSON.stringify({ ...real, result: { _id: 'a', _source: '__BODY__' } }).replace('"__BODY__"', body))
    await waitFor(() => (a._source as { n?: number } | null)?.n === 3, 3000)
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    expect(Object.prototype).not.toHaveProperty('polluted')
    const shown = a._source as Record<string, unknown>
    expect(Object.getPrototypeOf(shown)).toBe(Object.prototype)
    expect(Object.keys(shown)).not.toContain('__proto__')
    expect(shown.constructor).toEqual({ prototype: { polluted: 'yes' } })
    expect(shown.prototype).toEqual({ polluted: 'yes' })
  })

  it('a 10 MB document is read and followed; other observers are unaffected', async () => {
    const big = 'x'.repeat(10 * 1024 * 1024)
    fx.server.documents.create(I, C, 'big', { blob: big, n: 1 })
    fx.server.documents.create(I, C, 'small', { n: 1 })
    const bigObserver = fx.client.get(I, C, 'big')
    const small = fx.client.get(I, C, 'small')
    await waitFor(() => bigObserver.status === 'live' && small.status === 'live', 10_000)
    expect((bigObserver._source as { blob: string }).blob.length).toBe(big.length)
    fx.server.documents.update(I, C, 'big', { n: 2 })
    fx.server.documents.update(I, C, 'small', { n: 2 })
    await waitFor(() => (bigObserver._source as { n?: number }).n === 2 && (small._source as { n?: number }).n === 2, 10_000)
    expect(bigObserver._source).toEqual(source('big'))
  })
})
