/**
 * Fixtures for tests that use the Kuzzle test server: the server, real SDK clients on it, and a sink that records
 * what a driver watch reports.
 */
import { Kuzzle, WebSocket as KuzzleWebSocket } from 'kuzzle-sdk'
import type { DocEvent, ObservedError, WatchSink } from '../../../src/core/types'
import { startKuzzleServer } from './index'
import type { KuzzleServerOptions, KuzzleTestServer } from './index'

/** What a watch reported, in order. */
export type Frame =
  | { readonly type: 'ready'; readonly resumed?: boolean }
  | { readonly type: 'event'; readonly event: DocEvent }
  | { readonly type: 'reset' | 'offline' }
  | { readonly type: 'error'; readonly error: ObservedError }

/** A sink that records every call. */
export interface RecordingSink extends WatchSink {
  readonly frames: Frame[]
  count(type: Frame['type']): number
  events(): DocEvent[]
  /** Events for one id. */
  eventsFor(id: string): DocEvent[]
  errors(): ObservedError[]
}

export function recordingSink(): RecordingSink {
  const frames: Frame[] = []
  return {
    frames,
    ready: (info) => frames.push({ type: 'ready', resumed: info?.resumed }),
    event: (event) => frames.push({ type: 'event', event }),
    reset: () => frames.push({ type: 'reset' }),
    offline: () => frames.push({ type: 'offline' }),
    error: (error) => frames.push({ type: 'error', error }),
    count: (type) => frames.filter((f) => f.type === type).length,
    events: () => frames.flatMap((f) => (f.type === 'event' ? [f.event] : [])),
    eventsFor: (id) => frames.flatMap((f) => (f.type === 'event' && f.event.id === id ? [f.event] : [])),
    errors: () => frames.flatMap((f) => (f.type === 'error' ? [f.error] : [])),
  }
}

/** A server plus the SDK clients opened on it, all closed by `close()`. */
export interface KuzzleFixture {
  readonly server: KuzzleTestServer
  /** A connected SDK client (reconnecting every 50 ms when the connection drops), with extra Kuzzle options. */
  client(options?: ConstructorParameters<typeof Kuzzle>[1]): Promise<Kuzzle>
  /** Disconnects every client opened since the last call. */
  disconnectClients(): void
  close(): Promise<void>
}

export async function kuzzleFixture(options: KuzzleServerOptions = {}): Promise<KuzzleFixture> {
  const server = await startKuzzleServer(options)
  let clients: Kuzzle[] = []
  const disconnectClients = () => {
    for (const kuzzle of clients) kuzzle.disconnect()
    clients = []
  }
  return {
    server,
    async client(options) {
      const kuzzle = new Kuzzle(new KuzzleWebSocket('127.0.0.1', { port: server.port, reconnectionDelay: 50 }), options)
      clients.push(kuzzle)
      await kuzzle.connect()
      return kuzzle
    },
    disconnectClients,
    async close() {
      disconnectClients()
      await server.stop()
    },
  }
}
