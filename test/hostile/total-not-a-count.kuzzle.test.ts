/**
 * Attack (issue 13, finding 6) through the real kuzzle-sdk: a proxy in front of the Kuzzle test server rewrites the
 * `total` of every document:search answer to `1e309` (Infinity once the SDK parses it), `-1` or `2.5`. Paging with
 * `while (hasMore) await next()` must end with every match, for a plain and a live-query search.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Kuzzle, WebSocket as KuzzleWebSocket } from 'kuzzle-sdk'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { WebSocket, WebSocketServer, type RawData } from 'ws'
import { ObserverClient } from '../../src/core/client'
import { kuzzleDriver } from '../../src/drivers/kuzzle'
import { startKuzzleServer, type KuzzleTestServer } from '../servers/kuzzle'

const I = 'hostile'
const C = 'totals'

let server: KuzzleTestServer
let http: Server
let forged = '1e309'
let app: Kuzzle
let client: ObserverClient

/** Relays frames both ways, with the total of search answers replaced by `forged` (as text: 1e309 is no JS number). */
async function startTotalRewriter(upstreamPort: number): Promise<Server> {
  const h = createServer()
  const wss = new WebSocketServer({ server: h })
  wss.on('connection', (downstream) => {
    const upstream = new WebSocket(`ws://127.0.0.1:${upstreamPort}`)
    const pending: RawData[] = []
    upstream.on('open', () => pending.splice(0).forEach((d) => upstream.send(d, { binary: false })))
    downstream.on('message', (d: RawData) => (upstream.readyState === WebSocket.OPEN ? upstream.send(d, { binary: false }) : pending.push(d)))
    upstream.on('message', (d: RawData) => {
      let text = String(d)
      if (text.includes('"action":"search"')) text = text.replace(/"total":\s*\d+/, `"total":${forged}`)
      if (downstream.readyState === WebSocket.OPEN) downstream.send(text)
    })
    const end = () => {
      downstream.terminate()
      upstream.terminate()
    }
    for (const ws of [downstream, upstream]) {
      ws.on('close', end)
      ws.on('error', end)
    }
  })
  await new Promise<void>((resolve) => h.listen(0, '127.0.0.1', resolve))
  return h
}

beforeAll(async () => {
  server = await startKuzzleServer()
  http = await startTotalRewriter(server.port)
})

afterAll(async () => {
  http?.closeAllConnections()
  await new Promise((resolve) => http?.close(resolve))
  await server?.stop()
})

beforeEach(async () => {
  app = new Kuzzle(new KuzzleWebSocket('127.0.0.1', { port: (http.address() as AddressInfo).port, reconnectionDelay: 20 }))
  await app.connect()
  client = new ObserverClient({ driver: kuzzleDriver(app), gapTimeout: 50, releaseDelay: 5, backoff: { base: 5, cap: 100 } })
  for (let k = 0; k < 25; k++) server.documents.create(I, C, `d${String(k).padStart(2, '0')}`, { n: k })
})

afterEach(() => {
  client.close()
  app.disconnect()
  server.documents.clear()
  server.clearRequests()
})

describe('a Kuzzle search answer whose total is not a count', () => {
  for (const total of ['1e309', '-1', '2.5']) {
    for (const live of ['hits', 'query'] as const) {
      it(`total ${total}, live: '${live}': paging ends with every match`, async () => {
        forged = total
        const s = client.search(I, C, { sort: [{ n: 'asc' }] }, { size: 10, live })
        await s.ready()
        expect(s.status).toBe('live')
        let pages = 0
        while (s.hasMore && pages < 20) {
          await s.next()
          pages++
        }
        expect(s.hasMore).toBe(false)
        expect(pages).toBeLessThanOrEqual(3)
        expect(s.hits.map((h) => (h._source as { n: number }).n)).toEqual(Array.from({ length: 25 }, (_, k) => k))
        expect(s.total).toBe(25)
        const searches = server.requests().filter((r) => r.controller === 'document' && r.action === 'search').length
        await s.next()
        expect(server.requests().filter((r) => r.controller === 'document' && r.action === 'search').length).toBe(searches)
        s.stop()
      })
    }
  }
})
