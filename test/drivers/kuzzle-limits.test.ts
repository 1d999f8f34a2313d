/**
 * The Kuzzle driver and Kuzzle's limits: the read-size limit it states (`limits.documentsFetchCount`) and what it
 * makes of a busy server (503 `api.process.overloaded`, 429 `api.process.too_many_requests`).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { kuzzleDriver } from '../../src/drivers/kuzzle'
import { ObservedError } from '../../src/core/types'
import { kuzzleFixture } from '../servers/kuzzle/fixtures'
import type { KuzzleFixture } from '../servers/kuzzle/fixtures'

const ref = { index: 'nyc-open-data', collection: 'yellow-taxi' }

let fx: KuzzleFixture

beforeAll(async () => {
  fx = await kuzzleFixture()
})

afterEach(() => {
  fx.server.faults.refuseReads(0)
  fx.disconnectClients()
  fx.server.documents.clear()
})

afterAll(async () => {
  await fx?.close()
})

describe('read-size limit', () => {
  it("states Kuzzle's default documentsFetchCount (10,000) as maxIdsPerRead, and takes the server's own", async () => {
    const kuzzle = await fx.client()
    expect(kuzzleDriver(kuzzle).maxIdsPerRead).toBe(10_000)
    expect(kuzzleDriver(kuzzle, { maxIdsPerRead: 500 }).maxIdsPerRead).toBe(500)
    for (const bad of [0, -1, 1.5, Number.NaN]) {
      expect(() => kuzzleDriver(kuzzle, { maxIdsPerRead: bad })).toThrow(/maxIdsPerRead/)
    }
  })

  it('an mGet of maxIdsPerRead ids is accepted by the server, one more is refused', async () => {
    const kuzzle = await fx.client()
    const driver = kuzzleDriver(kuzzle)
    fx.server.documents.createCollection(ref.index, ref.collection)
    const ids = Array.from({ length: driver.maxIdsPerRead! }, (_, i) => `id-${i}`)
    await expect(driver.mGet(ref, ids)).resolves.toEqual([])
    await expect(driver.mGet(ref, [...ids, 'one-more'])).rejects.toMatchObject({ code: 'read_failed' })
  })
})

describe('a busy server', () => {
  it.each([
    ['overloaded', 503, 'api.process.overloaded'],
    ['too_many_requests', 429, 'api.process.too_many_requests'],
  ] as const)('%s (%i) is a non-fatal read_failed saying Kuzzle is busy, with no made-up retryAfter', async (as, status, id) => {
    const kuzzle = await fx.client()
    const driver = kuzzleDriver(kuzzle)
    fx.server.documents.create(ref.index, ref.collection, 'a', { n: 1 })
    fx.server.faults.refuseReads(3, as)
    for (const read of [() => driver.get(ref, 'a'), () => driver.mGet(ref, ['a']), () => driver.search(ref, { sort: [] }, { from: 0, size: 10 })]) {
      const error = await read().then(
        () => undefined,
        (e: unknown) => e,
      )
      expect(error).toBeInstanceOf(ObservedError)
      expect(error).toMatchObject({ code: 'read_failed', fatal: false, retryAfter: undefined })
      expect((error as Error).message).toContain(`busy (${status})`)
      expect((error as Error).message).toContain(id)
    }
    // The refusal is over: reads work again.
    await expect(driver.get(ref, 'a')).resolves.toMatchObject({ _id: 'a' })
  })
})
