/**
 * The setup the Kuzzle attack tests share: a Kuzzle test server, a WebSocket proxy in front of it (to inject or
 * rewrite frames), and per test an app's kuzzle-sdk connected through the proxy with an ObserverClient over it.
 * Registers the vitest hooks; read the parts through the returned getters.
 */
import { Kuzzle, WebSocket as KuzzleWebSocket } from 'kuzzle-sdk'
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest'
import { ObserverClient } from '../../src/core/client'
import { kuzzleDriver } from '../../src/drivers/kuzzle'
import { waitFor } from '../helpers/wait-for'
import { startKuzzleServer, type KuzzleTestServer } from '../servers/kuzzle'
import { startWsProxy, type WsProxy } from './ws-proxy'

export interface KuzzleProxyFixture {
  readonly server: KuzzleTestServer
  readonly proxy: WsProxy
  readonly app: Kuzzle
  readonly client: ObserverClient
}

export function useKuzzleProxyFixture(): KuzzleProxyFixture {
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
    server.clearRequests()
    proxy.received.length = 0
  })

  return {
    get server() {
      return server
    },
    get proxy() {
      return proxy
    },
    get app() {
      return app
    },
    get client() {
      return client
    },
  }
}
