/**
 * Bulk changes over the Kuzzle driver: document:updateByQuery and document:deleteByQuery notify each document on its
 * own (as Kuzzle does), and live documents and `live: 'query'` searches follow them.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { Kuzzle } from 'kuzzle-sdk'
import { ObserverClient } from '../../src/core/client'
import { kuzzleDriver } from '../../src/drivers/kuzzle'
import { kuzzleFixture } from '../servers/kuzzle/fixtures'
import type { KuzzleFixture } from '../servers/kuzzle/fixtures'
import { waitFor } from '../helpers/wait-for'

const I = 'nyc-open-data'
const C = 'yellow-taxi'

let fx: KuzzleFixture
let app: Kuzzle
let writer: Kuzzle
let client: ObserverClient

beforeAll(async () => {
  fx = await kuzzleFixture()
  fx.server.documents.createCollection(I, C)
})

afterEach(async () => {
  client.close()
  await waitFor(() => fx.server.subscriptionCount() === 0, 2000, { what: 'every subscription released' })
  fx.disconnectClients()
  fx.server.documents.clear()
})

afterAll(async () => {
  await fx?.close()
})

async function setup(): Promise<void> {
  for (const [id, fare, city] of [['a', 1, 'NYC'], ['b', 2, 'NYC'], ['c', 3, 'LA'], ['d', 4, 'NYC']] as const) {
    fx.server.documents.create(I, C, id, { fare, city })
  }
  app = await fx.client()
  writer = await fx.client()
  client = new ObserverClient({ driver: kuzzleDriver(app), gapTimeout: 50, releaseDelay: 5, backoff: { base: 5, cap: 50 } })
}

const fare = (source: unknown) => (source as { fare?: number } | null)?.fare
const ids = (hits: ReadonlyArray<{ _id: string }>) => hits.map((h) => h._id).join()

describe('bulk changes', () => {
  it('updateByQuery: every live document changed shows its new content; a live query search gains and loses members', async () => {
    await setup()
    const docs = ['a', 'b', 'c', 'd'].map((id) => client.get(I, C, id))
    const nyc = client.search(I, C, { query: { term: { city: 'NYC' } }, sort: [{ fare: 'asc' }] }, { live: 'query' })
    await waitFor(() => docs.every((d) => d.status === 'live') && nyc.status === 'live' && ids(nyc.hits) === 'a,b,d', 3000)
    const reads = fx.server.requests().filter((r) => r.controller === 'document').length

    // a and b move to LA (leave the search), c moves to NYC (joins it) — one request each way.
    await writer.document.updateByQuery(I, C, { terms: { _id: ['a', 'b'] } }, { city: 'LA', fare: 10 })
    await writer.document.updateByQuery(I, C, { term: { city: 'LA' } }, { fare: 20 })
    await writer.document.updateByQuery(I, C, { ids: { values: ['c'] } }, { city: 'NYC', fare: 0 })

    await waitFor(() => ids(nyc.hits) === 'c,d', 3000, { what: 'the search follows the bulk update' })
    await waitFor(() => docs.map((d) => fare(d._source)).join() === '20,20,0,4', 3000, { what: 'documents follow the bulk update' })
    expect(docs.map((d) => (d._source as { city: string }).city)).toEqual(['LA', 'LA', 'NYC', 'NYC'])
    expect(nyc.total).toBe(2)
    for (const [i, id] of ['a', 'b', 'c', 'd'].entries()) expect(docs[i]._source).toEqual(fx.server.documents.get(I, C, id)?._source)
    // Followed from notifications: far fewer reads than documents changed (none needed for the live documents).
    expect(fx.server.requests().filter((r) => r.controller === 'document' && r.action !== 'updateByQuery').length - reads).toBeLessThan(4)
  })

  it('deleteByQuery: every live document deleted is marked deleted; a live query search drops them', async () => {
    await setup()
    const docs = ['a', 'b', 'c', 'd'].map((id) => client.get(I, C, id))
    const all = client.search(I, C, { sort: [{ fare: 'desc' }] }, { live: 'query' })
    await waitFor(() => docs.every((d) => d.status === 'live') && ids(all.hits) === 'd,c,b,a', 3000)

    const deleted = await writer.document.deleteByQuery(I, C, { query: { term: { city: 'NYC' } } })
    expect([...deleted].sort()).toEqual(['a', 'b', 'd'])

    await waitFor(() => ids(all.hits) === 'c', 3000, { what: 'the search drops the deleted documents' })
    await waitFor(() => docs.map((d) => d.status).join() === 'deleted,deleted,live,deleted', 3000)
    expect(all.total).toBe(1)
    expect(docs[2]._source).toEqual(fx.server.documents.get(I, C, 'c')?._source)
  })
})
