/**
 * Local writes (issue 16) through the Kuzzle driver, the real kuzzle-sdk and the Kuzzle-protocol test server:
 * optimistic update confirmed by its answer's revision (its notification changes nothing shown), replace and remove,
 * a create of an existing id refused (conflict) and rolled back, and `ifRevision` checked.
 */
import { Kuzzle, WebSocket as KuzzleWebSocket } from 'kuzzle-sdk'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { ObserverClient } from '../../src'
import { kuzzleDriver } from '../../src/drivers/kuzzle'
import { staysEqual, waitFor } from '../helpers/wait-for'
import { startKuzzleServer, type KuzzleTestServer } from '../servers/kuzzle'

const I = 'nyc-open-data'
const C = 'yellow-taxi'
type Taxi = { fare: number; city?: string; where?: { lat: number; lng?: number } }

let server: KuzzleTestServer
const sdks: Kuzzle[] = []
const clients: ObserverClient[] = []

beforeAll(async () => {
  server = await startKuzzleServer()
})
afterEach(async () => {
  for (const c of clients.splice(0)) c.close()
  await waitFor(() => server.subscriptionCount() === 0, 3000, { what: 'every subscription released' })
  for (const k of sdks.splice(0)) k.disconnect()
  server.documents.clear()
})
afterAll(async () => {
  await server?.stop()
})

async function connect() {
  const kuzzle = new Kuzzle(new KuzzleWebSocket('127.0.0.1', { port: server.port, reconnectionDelay: 50 }))
  sdks.push(kuzzle)
  await kuzzle.connect()
  const client = new ObserverClient({ driver: kuzzleDriver(kuzzle), backoff: { base: 50, cap: 200 } })
  clients.push(client)
  return { kuzzle, client }
}

describe('local writes over Kuzzle', () => {
  it('an optimistic update shows at once and is confirmed without changing any field it wrote again', async () => {
    server.documents.create(I, C, 't1', { fare: 10, city: 'NYC', where: { lat: 1, lng: 2 } })
    const { client } = await connect()
    const t1 = client.get<Taxi>(I, C, 't1')
    await t1.ready()
    const changes: string[][] = []
    t1.on('change', (_s, c) => changes.push(c))
    const write = t1.update({ fare: 12, where: { lat: 3 } })
    expect(t1._source).toMatchObject({ fare: 12, city: 'NYC', where: { lat: 3, lng: 2 } })
    expect(t1.pending).toBe(true)
    await write
    await waitFor(() => !t1.pending, 3000, { what: 'confirmed' })
    // Its notification arrives too: nothing it wrote changes again (only the server's _kuzzle_info).
    await staysEqual(() => JSON.stringify(changes), 200)
    expect(changes[0]).toEqual(['fare', 'where'])
    expect(changes.slice(1).flat().every((field) => field === '_kuzzle_info')).toBe(true)
    expect(server.documents.get(I, C, 't1')?._source).toMatchObject({ fare: 12, city: 'NYC', where: { lat: 3, lng: 2 } })
  })

  it('replace and remove are shown at once and stored', async () => {
    server.documents.create(I, C, 't2', { fare: 10, city: 'NYC' })
    const { client } = await connect()
    const t2 = client.get<Taxi>(I, C, 't2')
    await t2.ready()
    const replaced = t2.replace({ fare: 20 })
    expect(t2._source).toEqual({ fare: 20 })
    await replaced
    await waitFor(() => !t2.pending && t2._source?.fare === 20 && !('city' in t2._source), 3000)
    const removed = t2.remove()
    expect(t2._source).toBeNull()
    await removed
    await waitFor(() => t2.status === 'deleted' && !t2.pending, 3000)
    expect(server.documents.get(I, C, 't2') ?? null).toBeNull()
  })

  it('a create of an existing id is refused with conflict and rolled back; ifRevision is checked (rollback)', async () => {
    server.documents.create(I, C, 't3', { fare: 10 })
    const { client, kuzzle } = await connect()
    const t3 = client.get<Taxi>(I, C, 't3')
    await t3.ready()
    const created = client.create(I, C, { fare: 99 }, 't3')
    expect(t3._source).toEqual({ fare: 99 })
    await expect(created).rejects.toMatchObject({ code: 'conflict' })
    await waitFor(() => t3._source?.fare === 10 && !t3.pending, 3000, { what: 'rolled back' })
    const rev = t3._rev
    await kuzzle.document.update(I, C, 't3', { fare: 11 })
    await waitFor(() => t3._source?.fare === 11, 3000)
    await expect(t3.update({ fare: 50 }, { ifRevision: rev })).rejects.toMatchObject({ code: 'conflict' })
    await waitFor(() => t3._source?.fare === 11 && !t3.pending, 3000)
    await t3.update({ fare: 51 }, { ifRevision: t3._rev })
    await waitFor(() => server.documents.get(I, C, 't3')?._source.fare === 51, 3000)
  })
})
