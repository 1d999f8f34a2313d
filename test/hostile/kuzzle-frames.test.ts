/**
 * WebSocket frames that are not what the Kuzzle protocol promises, reaching the real kuzzle-sdk: a raw `ws` server
 * speaks just enough of the protocol to connect, read and subscribe, then sends garbage before a valid notification.
 * The core ObserverClient over the Kuzzle driver must keep running, converge, leave the other observer alone and
 * never touch Object.prototype.
 */
import type { AddressInfo } from 'node:net'
import { Kuzzle, WebSocket as KuzzleWebSocket } from 'kuzzle-sdk'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { WebSocketServer, type WebSocket } from 'ws'
import { ObserverClient } from '../../src/core'
import { kuzzleDriver } from '../../src/drivers/kuzzle'
import { waitFor } from '../helpers/wait-for'

type Source = Record<string, unknown>

const INDEX = 'i'
const COLLECTION = 'c'
const docs = new Map<string, Source>()
/** Channels each connection subscribed to. */
const channels = new Map<WebSocket, Set<string>>()
let wss: WebSocketServer
let port: number

const info = (t: number) => ({ author: null, createdAt: 1, updater: null, updatedAt: t })

function answer(ws: WebSocket, req: Record<string, unknown>, result: unknown, error: unknown = null, status = 200): void {
  const { requestId, controller, action, index, collection, volatile } = req
  ws.send(JSON.stringify({ requestId, status, error, controller, action, index, collection, volatile, result, room: requestId }))
}

function onRequest(ws: WebSocket, req: Record<string, unknown>): void {
  const route = `${String(req.controller)}:${String(req.action)}`
  const body = (req.body ?? {}) as Record<string, unknown>
  switch (route) {
    case 'auth:checkToken':
      return answer(ws, req, { valid: true, state: 'Enabled', expiresAt: -1 })
    case 'document:get': {
      const source = docs.get(String(req._id))
      if (!source) {
        return answer(ws, req, null, { id: 'services.storage.not_found', code: 0, message: 'Document not found', status: 404, props: [] }, 404)
      }
      return answer(ws, req, { _id: req._id, _source: source, _version: 1 })
    }
    case 'document:mGet': {
      const ids = (body.ids ?? []) as string[]
      return answer(ws, req, {
        successes: ids.filter((id) => docs.has(id)).map((id) => ({ _id: id, _source: docs.get(id), _version: 1 })),
        errors: ids.filter((id) => !docs.has(id)),
      })
    }
    case 'realtime:subscribe': {
      const roomId = `room-${Buffer.from(JSON.stringify(body)).toString('base64url').slice(0, 40)}`
      const channel = `${roomId}-311`
      channels.get(ws)?.add(channel)
      return answer(ws, req, { roomId, channel })
    }
    case 'realtime:unsubscribe':
      return answer(ws, req, { roomId: body.roomId })
    default:
      return answer(ws, req, {})
  }
}

/** Sends a raw frame to every connection. */
function sendRaw(frame: string): void {
  for (const ws of channels.keys()) ws.send(frame)
}

/** A document notification, sent on every channel of every connection. */
function notify(id: string, source: Source, raw?: string): void {
  for (const [ws, set] of channels) {
    for (const room of set) {
      const frame = raw ?? JSON.stringify(notification(id, source, room))
      ws.send(frame.replace('"__ROOM__"', JSON.stringify(room)))
    }
  }
}

function notification(id: string, source: unknown, room: string): Record<string, unknown> {
  return {
    type: 'document',
    status: 200,
    requestId: `n-${Math.random()}`,
    timestamp: Date.now(),
    volatile: {},
    index: INDEX,
    collection: COLLECTION,
    controller: 'document',
    action: 'update',
    protocol: 'websocket',
    scope: 'in',
    event: 'write',
    node: 'test',
    result: { _id: id, _source: source },
    room,
  }
}

beforeAll(async () => {
  wss = new WebSocketServer({ host: '127.0.0.1', port: 0 })
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()))
  port = (wss.address() as AddressInfo).port
  wss.on('connection', (ws) => {
    channels.set(ws, new Set())
    ws.on('close', () => channels.delete(ws))
    ws.on('message', (data) => {
      const text = String(data)
      if (text === '{"p":1}') return ws.send('{"p":2}')
      onRequest(ws, JSON.parse(text) as Record<string, unknown>)
    })
  })
})

afterAll(async () => {
  for (const ws of wss.clients) ws.terminate()
  await new Promise((resolve) => wss.close(resolve))
})

const probe = () => ({}) as Record<string, unknown>

describe('Kuzzle frames that are not what the protocol promises', () => {
  it('JSON frames that are not protocol are dropped; the observed document converges; the other one is unaffected', { timeout: 15_000 }, async () => {
    docs.set('a', { n: 1, _kuzzle_info: info(10) })
    docs.set('b', { n: 100, _kuzzle_info: info(10) })
    const kuzzle = new Kuzzle(new KuzzleWebSocket('127.0.0.1', { port, reconnectionDelay: 50 }))
    const unhandled: unknown[] = []
    const onUnhandled = (reason: unknown) => unhandled.push(reason)
    process.on('unhandledRejection', onUnhandled)
    process.on('uncaughtException', onUnhandled)
    const client = new ObserverClient({ driver: kuzzleDriver(kuzzle), gapTimeout: 100, backoff: { base: 20, cap: 100 } })
    try {
      await kuzzle.connect()
      const a = client.get<Source>(INDEX, COLLECTION, 'a')
      const b = client.get<Source>(INDEX, COLLECTION, 'b')
      await a.ready()
      await b.ready()
      await waitFor(() => a.status === 'live' && b.status === 'live', 3000, { what: 'both live' })
      expect(a._source).toEqual({ n: 1, _kuzzle_info: info(10) })
      const seen: unknown[] = []
      a.on('change', (source) => seen.push(source.n))
      const rooms = [...channels.values()].reduce((k, s) => k + s.size, 0)
      expect(rooms).toBeGreaterThan(0)

      // Frames that are JSON but not protocol. Left out, because kuzzle-sdk 7.17 itself throws on them from its `ws`
      // onmessage handler (an uncaught exception, after which that socket delivers nothing more): frames that are not
      // JSON (JSON.parse), `null` (reads `data.type`), and any frame with neither `room` nor `error` (`[1]`, `42`,
      // `"s"`: `new KuzzleError(undefined)` reads `.message`). See the hostile-input report.
      sendRaw(JSON.stringify(notification('a', { n: 666, _kuzzle_info: info(11) }, 'no-such-room-311')))
      sendRaw('{"room":"x"}')
      sendRaw('{"error":{"message":"stray error","status":500}}')
      sendRaw('{"type":"document","room":"x","result":null}')
      // Malformed notifications on the real rooms: no result, a result without id, a source that is not an object.
      notify('a', {}, '{"type":"document","scope":"in","room":"__ROOM__"}')
      notify('a', {}, '{"type":"document","scope":"in","result":{"_source":{"n":666}},"room":"__ROOM__"}')
      notify('a', {}, '{"type":"document","scope":"in","result":{"_id":"a","_source":"nope"},"room":"__ROOM__"}')
      notify('a', {}, '{"type":"bogus","scope":"in","result":{"_id":"a","_source":{"n":666}},"room":"__ROOM__"}')
      // A notification for an id nobody observes, on the real rooms.
      notify('ghost', { n: 13, _kuzzle_info: info(11) })
      // Prototype keys in the result and in its source.
      notify(
        'a',
        {},
        `{"type":"document","status":200,"timestamp":1,"index":"${INDEX}","collection":"${COLLECTION}","controller":"document","action":"update","scope":"in","event":"write","result":{"_id":"a","__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}},"prototype":{"polluted":"yes"},"_source":{"n":2,"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}},"prototype":{"polluted":"yes"},"_kuzzle_info":{"updatedAt":12}}},"room":"__ROOM__"}`,
      )
      await waitFor(() => a._source?.n === 2, 5000, { what: 'notification with prototype keys applied' })
      const s = a._source!
      expect(Object.hasOwn(s, '__proto__')).toBe(false)
      expect(Object.getPrototypeOf(s)).toBe(Object.prototype)
      expect(JSON.parse(JSON.stringify(s))).toEqual({
        n: 2,
        constructor: { prototype: { polluted: 'yes' } },
        prototype: { polluted: 'yes' },
        _kuzzle_info: { updatedAt: 12 },
      })
      expect(probe().polluted).toBeUndefined()

      // The valid notification that must win.
      const final = { n: 3, _kuzzle_info: info(20) }
      docs.set('a', final)
      notify('a', final)
      await waitFor(() => a._source?.n === 3, 5000, { what: 'a converged on the valid notification' })
      expect(a._source).toEqual(final)
      // Only the two well-formed notifications ever reached the observer.
      expect(seen).toEqual([2, 3])
      expect(a.status).toBe('live')
      expect(a.error).toBeNull()
      expect(b._source).toEqual({ n: 100, _kuzzle_info: info(10) })
      expect(b.status).toBe('live')
      expect(probe().polluted).toBeUndefined()
      expect(Object.getOwnPropertyNames(Object.prototype)).not.toContain('polluted')
      expect(unhandled).toEqual([])
      expect(kuzzle.connected).toBe(true)
    } finally {
      process.off('unhandledRejection', onUnhandled)
      process.off('uncaughtException', onUnhandled)
      client.close()
      kuzzle.disconnect()
    }
  })
})
