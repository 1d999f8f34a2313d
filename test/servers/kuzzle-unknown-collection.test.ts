/**
 * Kuzzle on an unknown index or collection, as upstream does it (kuzzleio/kuzzle 2.56): every document action goes
 * through `indexCache.assertCollectionExists` (lib/core/storage/clientAdapter.js, lib/core/storage/indexCache.ts),
 * which throws 412 `services.storage.unknown_index` ("The index "%s" does not exist.", code 0x01010001) or 412
 * `services.storage.unknown_collection` ("The collection "%s":"%s" does not exist.", code 0x01010002)
 * (lib/kerror/codes/1-services.json). `realtime:subscribe` checks no collection (lib/core/realtime/hotelClerk.ts):
 * subscribing to one that does not exist yet is allowed, and follows it once it does.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { Kuzzle } from 'kuzzle-sdk'
import { kuzzleFixture } from './kuzzle/fixtures'
import type { KuzzleFixture } from './kuzzle/fixtures'
import { waitFor } from '../helpers/wait-for'

let fx: KuzzleFixture
let kuzzle: Kuzzle

beforeAll(async () => {
  fx = await kuzzleFixture()
  fx.server.documents.createCollection('known-index', 'known')
})

afterEach(() => {
  fx.disconnectClients()
  fx.server.documents.clear()
})

afterAll(async () => {
  await fx?.close()
})

async function rejection(promise: Promise<unknown>): Promise<Record<string, unknown>> {
  try {
    await promise
  } catch (e) {
    return { ...(e as object), message: (e as Error).message }
  }
  throw new Error('expected a rejection')
}

const reads = (index: string, collection: string) => ({
  get: () => kuzzle.document.get(index, collection, 'a'),
  mGet: () => kuzzle.document.mGet(index, collection, ['a', 'b']),
  search: () => kuzzle.document.search(index, collection, { query: { match_all: {} } }),
  count: () => kuzzle.document.count(index, collection, {}),
  exists: () => kuzzle.document.exists(index, collection, 'a'),
  create: () => kuzzle.document.create(index, collection, { n: 1 }, 'a'),
  update: () => kuzzle.document.update(index, collection, 'a', { n: 2 }),
  delete: () => kuzzle.document.delete(index, collection, 'a'),
})

describe('document actions on an unknown index or collection (indexCache.assertCollectionExists)', () => {
  it('an unknown index: 412 services.storage.unknown_index naming the index, on every document action', async () => {
    kuzzle = await fx.client()
    for (const [action, call] of Object.entries(reads('no-such-index', 'known'))) {
      const error = await rejection(call())
      expect(error, action).toMatchObject({
        status: 412,
        id: 'services.storage.unknown_index',
        code: 0x01010001,
        message: 'The index "no-such-index" does not exist.',
        props: ['no-such-index'],
      })
    }
  })

  it('an unknown collection of a known index: 412 services.storage.unknown_collection naming both', async () => {
    kuzzle = await fx.client()
    for (const [action, call] of Object.entries(reads('known-index', 'no-such-collection'))) {
      const error = await rejection(call())
      expect(error, action).toMatchObject({
        status: 412,
        id: 'services.storage.unknown_collection',
        code: 0x01010002,
        message: 'The collection "known-index":"no-such-collection" does not exist.',
        props: ['known-index', 'no-such-collection'],
      })
    }
  })

  it('a known but empty collection is not an error: 404 for a document, empty results otherwise', async () => {
    kuzzle = await fx.client()
    expect(await rejection(kuzzle.document.get('known-index', 'known', 'a'))).toMatchObject({ status: 404, id: 'services.storage.not_found', code: 0x0101000b })
    await expect(kuzzle.document.mGet('known-index', 'known', ['a'])).resolves.toMatchObject({ successes: [], errors: ['a'] })
    await expect(kuzzle.document.search('known-index', 'known', {})).resolves.toMatchObject({ hits: [], total: 0 })
    await expect(kuzzle.document.count('known-index', 'known', {})).resolves.toBe(0)
  })

  it('index:exists and collection:exists tell; index:create then collection:create make reads work', async () => {
    kuzzle = await fx.client()
    await expect(kuzzle.index.exists('later-index')).resolves.toBe(false)
    await kuzzle.index.create('later-index')
    await expect(kuzzle.index.exists('later-index')).resolves.toBe(true)
    await expect(kuzzle.collection.exists('later-index', 'later')).resolves.toBe(false)
    expect(await rejection(kuzzle.document.count('later-index', 'later', {}))).toMatchObject({ id: 'services.storage.unknown_collection' })
    await kuzzle.collection.create('later-index', 'later', {})
    await expect(kuzzle.collection.exists('later-index', 'later')).resolves.toBe(true)
    await expect(kuzzle.document.count('later-index', 'later', {})).resolves.toBe(0)
  })
})

describe('realtime:subscribe on an unknown collection (hotelClerk.subscribe checks no collection)', () => {
  it('is allowed, and the room follows the collection once it exists', async () => {
    kuzzle = await fx.client()
    const seen: string[] = []
    const roomId = await kuzzle.realtime.subscribe('future-index', 'future', {}, (n) => {
      seen.push((n as { result?: { _id?: string } }).result?._id ?? '?')
    })
    expect(roomId).toEqual(expect.any(String))
    fx.server.documents.create('future-index', 'future', 'first', { n: 1 })
    await waitFor(() => seen.join() === 'first', 2000)
    await kuzzle.realtime.unsubscribe(roomId)
  })
})
