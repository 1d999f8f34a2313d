/**
 * A WebSocket proxy for hostile-input tests: the real kuzzle-sdk talks to it, it relays every frame to and from the
 * Kuzzle test server, and the test injects raw frames (anything, JSON or not) into the client connections.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { WebSocket, WebSocketServer, type RawData } from 'ws'

export interface WsProxy {
  readonly port: number
  /** Client connections open now. */
  readonly clients: number
  /** Text frames the server sent to clients, oldest first (the last 1,000). */
  readonly received: string[]
  /** Sends a raw frame to every client, as if the server had sent it (text, or binary for a Buffer). */
  inject(frame: string | Buffer): void
  close(): Promise<void>
}

/** Starts a proxy on 127.0.0.1 (free port) to `ws://127.0.0.1:<upstreamPort>`. */
export async function startWsProxy(upstreamPort: number): Promise<WsProxy> {
  const http: Server = createServer()
  const wss = new WebSocketServer({ server: http })
  const pairs = new Set<{ client: WebSocket; upstream: WebSocket }>()
  const received: string[] = []
  wss.on('connection', (client) => {
    const upstream = new WebSocket(`ws://127.0.0.1:${upstreamPort}`)
    const pair = { client, upstream }
    pairs.add(pair)
    const pending: RawData[] = []
    upstream.on('open', () => {
      for (const data of pending.splice(0)) upstream.send(data, { binary: false })
    })
    client.on('message', (data: RawData) => {
      if (upstream.readyState === WebSocket.OPEN) upstream.send(data, { binary: false })
      else pending.push(data)
    })
    upstream.on('message', (data: RawData, binary) => {
      if (!binary) {
        received.push(String(data))
        if (received.length > 1000) received.shift()
      }
      if (client.readyState === WebSocket.OPEN) client.send(data, { binary })
    })
    const end = () => {
      pairs.delete(pair)
      client.terminate()
      upstream.terminate()
    }
    client.on('close', end)
    upstream.on('close', end)
    client.on('error', end)
    upstream.on('error', end)
  })
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
  return {
    port: (http.address() as AddressInfo).port,
    get clients() {
      return pairs.size
    },
    received,
    inject(frame) {
      for (const { client } of pairs) if (client.readyState === WebSocket.OPEN) client.send(frame, { binary: Buffer.isBuffer(frame) })
    },
    async close() {
      for (const { client, upstream } of pairs) {
        client.terminate()
        upstream.terminate()
      }
      await new Promise<void>((resolve) => wss.close(() => resolve()))
      http.closeAllConnections()
      await new Promise<void>((resolve) => http.close(() => resolve()))
    },
  }
}
