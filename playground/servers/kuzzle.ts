/**
 * The Kuzzle side of the dev server: the embedded Kuzzle-protocol test server (seeded with the fleet), or a real
 * Kuzzle reached through kuzzle-sdk from Node (seeded only when its collection does not exist yet).
 */
import { createRequire } from 'node:module'
import { startKuzzleServer, type KuzzleTestServer } from '../../test/servers/kuzzle'
import type { KuzzleTarget } from '../config'
import { COLLECTION, INDEX, fleet, type Taxi } from '../taxis'
import type { FleetBackend, FleetDoc } from './fleet-backend'

/** The embedded server, with its test API (`server`) for the end-to-end tests. */
export interface EmbeddedKuzzle extends FleetBackend {
  readonly server: KuzzleTestServer
}

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Starts the Kuzzle-protocol test server on 127.0.0.1:`port` (0: a free port), seeded with the fleet. */
export async function embeddedKuzzle(port: number): Promise<EmbeddedKuzzle> {
  const server = await startKuzzleServer({ port })
  const seed = () => {
    server.documents.clear()
    for (const doc of fleet()) server.documents.create(INDEX, COLLECTION, doc._id, { ...doc._source }, { silent: true })
  }
  seed()
  return {
    name: 'kuzzle',
    embedded: true,
    server,
    async list() {
      return server.documents.list(INDEX, COLLECTION) as unknown as FleetDoc[]
    },
    async update(id, change) {
      server.documents.update(INDEX, COLLECTION, id, { ...change })
    },
    async reset() {
      seed()
    },
    async outage(downMs) {
      await server.stop()
      await wait(downMs)
      await server.restart()
    },
    close: () => server.stop(),
  }
}

/** Field types for a real Kuzzle (Elasticsearch): keywords so that the playground's filters and sorts work. */
const MAPPINGS = {
  properties: {
    driver: { type: 'keyword' },
    status: { type: 'keyword' },
    borough: { type: 'keyword' },
    position: { type: 'geo_point' },
    fare: { type: 'float' },
    updatedAt: { type: 'date', format: 'epoch_millis' },
  },
}

/** A real Kuzzle: creates and seeds the playground's collection if it is missing, then writes through the SDK. */
export async function remoteKuzzle(target: KuzzleTarget, log: (message: string) => void): Promise<FleetBackend> {
  // Required only for a real Kuzzle (and not imported: Vite's module runner that loaded this file is closed by now).
  const { Kuzzle, WebSocket: KuzzleWebSocket } = createRequire(import.meta.url)('kuzzle-sdk') as typeof import('kuzzle-sdk')
  const kuzzle = new Kuzzle(new KuzzleWebSocket(target.host, { port: target.port, ssl: target.ssl }))
  const ready = (async () => {
    await kuzzle.connect()
    if (!(await kuzzle.index.exists(INDEX))) await kuzzle.index.create(INDEX)
    if (!(await kuzzle.collection.exists(INDEX, COLLECTION))) {
      await kuzzle.collection.create(INDEX, COLLECTION, { mappings: MAPPINGS })
      const docs = fleet().map((d) => ({ _id: d._id, body: { ...d._source } }))
      await kuzzle.document.mCreateOrReplace(INDEX, COLLECTION, docs, { refresh: 'wait_for' })
      log(`seeded ${docs.length} taxis into ${INDEX}/${COLLECTION}`)
    }
  })()
  ready.catch((err) => log(`Kuzzle at ${target.host}:${target.port}: ${(err as Error).message}`))
  return {
    name: 'kuzzle',
    embedded: false,
    async list() {
      await ready
      const result = await kuzzle.document.search(INDEX, COLLECTION, {}, { size: 1000 })
      return result.hits.map((h) => ({ _id: h._id, _source: h._source as unknown as Taxi }))
    },
    async update(id, change) {
      await ready
      await kuzzle.document.update(INDEX, COLLECTION, id, { ...change })
    },
    async reset() {
      throw new Error('Resetting a real Kuzzle is not supported')
    },
    async close() {
      kuzzle.disconnect()
    },
  }
}
