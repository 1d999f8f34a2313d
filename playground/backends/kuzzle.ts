/**
 * The Kuzzle backend: the app's own kuzzle-sdk instance (browser build, native WebSocket) on the dev server's
 * Kuzzle-protocol test server, or on the real Kuzzle that VITE_KUZZLE_HOST names.
 */
import { Kuzzle, WebSocket as KuzzleWebSocket } from 'kuzzle-sdk'
import { kuzzleDriver } from 'vue-observed/kuzzle'
import type { Backend } from '../backend'
import { newTaxiId } from '../backend'
import type { KuzzleTarget } from '../config'
import { serverOutage, serverTraffic, setServerTraffic } from '../dev-api'
import { COLLECTION, INDEX, makeTaxi, random, trafficUpdate, type Taxi } from '../taxis'

export function kuzzleBackend(target: KuzzleTarget): Backend {
  const kuzzle = new Kuzzle(new KuzzleWebSocket(target.host, { port: target.port, ssl: target.ssl }))
  let connecting: Promise<void> | null = null
  // The SDK keeps retrying by itself when the first attempt fails; the driver subscribes once it is connected.
  // With tabs sharing connections, only the leader tab connects (the page's onLeader); a follower's write (the
  // buttons below) connects its own socket when it first needs one.
  const connect = () =>
    (connecting ??= kuzzle.connect().catch((err: Error) => {
      connecting = null
      console.warn(`Kuzzle: ${err.message}`)
    }))
  const connected = async () => {
    if (!kuzzle.connected) await connect()
  }
  const rnd = random(Date.now())
  return {
    name: 'kuzzle',
    driver: kuzzleDriver(kuzzle),
    index: INDEX,
    collection: COLLECTION,
    shared: true,
    connect: () => void connect(),
    canRestart: target.embedded,
    location: `${target.ssl ? 'wss' : 'ws'}://${target.host}:${target.port}${target.embedded ? ' (test server)' : ''}`,
    query({ status, borough, minFare }) {
      const filter = [
        ...(status ? [{ term: { status } }] : []),
        ...(borough ? [{ term: { borough } }] : []),
        ...(minFare > 0 ? [{ range: { fare: { gte: minFare } } }] : []),
      ]
      // Elasticsearch DSL; the driver translates it to a Koncorde filter for the live part.
      return { query: filter.length ? { bool: { filter } } : undefined }
    },
    async create() {
      await connected()
      const id = newTaxiId()
      await kuzzle.document.create(INDEX, COLLECTION, { ...makeTaxi(rnd) }, id)
      return id
    },
    async update(id) {
      await connected()
      const doc = await kuzzle.document.get(INDEX, COLLECTION, id)
      await kuzzle.document.update(INDEX, COLLECTION, id, { ...trafficUpdate(rnd, doc._source as unknown as Taxi) })
    },
    async remove(id) {
      await connected()
      await kuzzle.document.delete(INDEX, COLLECTION, id)
    },
    setTraffic: (rate) => setServerTraffic('kuzzle', rate),
    trafficRate: () => serverTraffic('kuzzle'),
    outage: (ms) => serverOutage('kuzzle', ms),
  }
}
