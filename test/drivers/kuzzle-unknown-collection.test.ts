/**
 * What a real Kuzzle answers for an unknown index or collection (412 services.storage.unknown_index /
 * unknown_collection) reaches the app as a fatal `not_found` naming index and collection, on every read path,
 * never as "no such document" or an empty result. Subscribing stays allowed (Kuzzle allows it).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { Kuzzle } from 'kuzzle-sdk'
import { ObserverClient } from '../../src/core/client'
import { ObservedError } from '../../src/core/types'
import type { Driver } from '../../src/core/types'
import { kuzzleDriver } from '../../src/drivers/kuzzle'
import { kuzzleFixture, recordingSink } from '../servers/kuzzle/fixtures'
import type { KuzzleFixture } from '../servers/kuzzle/fixtures'
import { staysEqual, waitFor } from '../helpers/wait-for'

const INDEX = 'nyc-open-data'

let fx: KuzzleFixture
let kuzzle: Kuzzle
let driver: Driver
let client: ObserverClient | undefined

beforeAll(async () => {
  fx = await kuzzleFixture()
  fx.server.documents.createCollection(INDEX, 'yellow-taxi')
})

afterEach(async () => {
  client?.close()
  client = undefined
  await waitFor(() => fx.server.subscriptionCount() === 0, 2000, { what: 'every subscription released' })
  fx.disconnectClients()
  fx.server.documents.clear()
})

afterAll(async () => {
  await fx?.close()
})

async function failure(promise: Promise<unknown>): Promise<ObservedError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(ObservedError)
  return error as ObservedError
}

const cases = [
  { what: 'an unknown collection', ref: { index: INDEX, collection: 'yelow-taxi' }, names: ['"yelow-taxi"', `"${INDEX}"`], id: 'unknown_collection' },
  { what: 'an unknown index', ref: { index: 'nyc-opendata', collection: 'yellow-taxi' }, names: ['"yellow-taxi"', '"nyc-opendata"'], id: 'unknown_index' },
]

describe.each(cases)('$what', ({ ref, names, id }) => {
  it('get, mGet and search reject with a fatal not_found naming index and collection', async () => {
    kuzzle = await fx.client()
    driver = kuzzleDriver(kuzzle)
    for (const read of [() => driver.get(ref, 'a'), () => driver.mGet(ref, ['a', 'b']), () => driver.search(ref, { sort: [] }, { from: 0, size: 10 })]) {
      const error = await failure(read())
      expect(error).toMatchObject({ code: 'not_found', fatal: true })
      for (const name of names) expect(error.message).toContain(name)
      expect(error.message).toContain(`services.storage.${id}`)
    }
  })

  it('a watch on it still subscribes (Kuzzle allows it)', async () => {
    kuzzle = await fx.client()
    driver = kuzzleDriver(kuzzle)
    const sink = recordingSink()
    const watch = driver.watch(ref, { ids: ['a'] }, sink)
    await waitFor(() => sink.count('ready') === 1)
    expect(sink.errors()).toEqual([])
    watch.close()
  })

  it('observers and searches of the core show the error instead of a missing document or an empty list', async () => {
    kuzzle = await fx.client()
    client = new ObserverClient({ driver: kuzzleDriver(kuzzle), backoff: { base: 5, cap: 50 }, releaseDelay: 5 })
    const doc = client.get(ref.index, ref.collection, 'a')
    const many = client.mGet(ref.index, ref.collection, ['a', 'b'])
    const search = client.search(ref.index, ref.collection, { sort: 'fare' }, { live: 'query' })
    await waitFor(() => doc.status === 'error' && search.status === 'error', 3000, { what: 'doc and search in error' })
    for (const error of [doc.error, search.error, ...many.map((o) => o.error)]) {
      expect(error).toMatchObject({ code: 'not_found', fatal: true })
      for (const name of names) expect(error!.message).toContain(name)
    }
    expect(many.every((o) => o.status === 'error')).toBe(true)
    // Fatal: not retried in a loop.
    // Longer than the backoff's cap (50 ms): a retry would have been sent by then.
    await staysEqual(() => fx.server.requests().filter((r) => r.controller === 'document').length, 100, { what: 'document requests' })
  })
})

it('a missing document of a known collection is still null, and an empty one still an empty page', async () => {
  kuzzle = await fx.client()
  driver = kuzzleDriver(kuzzle)
  const ref = { index: INDEX, collection: 'yellow-taxi' }
  await expect(driver.get(ref, 'nope')).resolves.toBeNull()
  await expect(driver.mGet(ref, ['nope'])).resolves.toEqual([])
  await expect(driver.search(ref, { sort: [] }, { from: 0, size: 10 })).resolves.toEqual({ hits: [], total: 0 })
})
