/**
 * User notifications reaching the driver's rooms are ignored safely. The driver subscribes with `users: 'none'`,
 * whose channel Kuzzle shares with `users: 'out'` (both `<roomId>-311`, lib/core/realtime/channel.ts): when an app
 * subscribed to the same filter with `users: 'out'` first, `type: 'user'` leave notifications arrive on the
 * driver's room. They are no document event, no reason to resync, and no error.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { UserOption } from 'kuzzle-sdk'
import { ObserverClient } from '../../src/core/client'
import { kuzzleDriver } from '../../src/drivers/kuzzle'
import { kuzzleFixture, recordingSink } from '../servers/kuzzle/fixtures'
import type { KuzzleFixture } from '../servers/kuzzle/fixtures'
import { waitFor } from '../helpers/wait-for'

const ref = { index: 'nyc-open-data', collection: 'yellow-taxi' }
const { index: I, collection: C } = ref
const FILTER = { ids: { values: ['a'] } }

let fx: KuzzleFixture

beforeAll(async () => {
  fx = await kuzzleFixture()
})

afterEach(async () => {
  fx.disconnectClients()
  await waitFor(() => fx.server.subscriptionCount() === 0, 2000, { what: 'every subscription released' })
  fx.server.documents.clear()
})

afterAll(async () => {
  await fx?.close()
})

/** Another app subscribes to the driver's filter with users: 'out' first, then a third client joins and leaves. */
async function userTraffic(app: { protocol: { addListener(event: string, fn: (f: unknown) => void): unknown } }) {
  const other = await fx.client()
  const roomId = await other.realtime.subscribe(I, C, FILTER, () => undefined, { users: UserOption.out })
  const onDriverChannel: Array<Record<string, unknown>> = []
  app.protocol.addListener(`${roomId}-311`, (f) => onDriverChannel.push(f as Record<string, unknown>))
  return {
    onDriverChannel,
    async churn(times: number) {
      const visitor = await fx.client()
      for (let i = 0; i < times; i++) {
        const id = await visitor.realtime.subscribe(I, C, FILTER, () => undefined)
        await visitor.realtime.unsubscribe(id)
      }
    },
  }
}

describe('user notifications on a driver room', () => {
  it('the watch reports no event, reset or error for them, and keeps delivering document changes', async () => {
    fx.server.documents.create(I, C, 'a', { n: 1 })
    const app = await fx.client()
    const traffic = await userTraffic(app)
    const sink = recordingSink()
    const watch = kuzzleDriver(app).watch(ref, { ids: ['a'] }, sink)
    await waitFor(() => sink.count('ready') === 1)
    await traffic.churn(3)
    await waitFor(() => traffic.onDriverChannel.filter((f) => f.type === 'user').length === 3, 2000, { what: 'user notifications on the driver channel' })
    expect(traffic.onDriverChannel[0]).toMatchObject({ type: 'user', user: 'out', result: { count: 2 } })
    expect(sink.frames.map((f) => f.type)).toEqual(['ready'])
    fx.server.documents.update(I, C, 'a', { n: 2 })
    await waitFor(() => sink.eventsFor('a').length === 1)
    expect(sink.eventsFor('a')[0]).toMatchObject({ id: 'a', kind: 'upsert', doc: { n: 2 } })
    expect(sink.errors()).toEqual([])
    watch.close()
  })

  it('an observer stays live and exact, with no extra read', async () => {
    fx.server.documents.create(I, C, 'a', { n: 1 })
    const app = await fx.client()
    const traffic = await userTraffic(app)
    const client = new ObserverClient({ driver: kuzzleDriver(app), releaseDelay: 5 })
    const a = client.get(I, C, 'a')
    const errors: unknown[] = []
    a.on('error', (e) => errors.push(e))
    await waitFor(() => a.status === 'live')
    const reads = fx.server.requests().filter((r) => r.controller === 'document').length
    await traffic.churn(5)
    await waitFor(() => traffic.onDriverChannel.filter((f) => f.type === 'user').length === 5, 2000)
    fx.server.documents.update(I, C, 'a', { n: 2 })
    await waitFor(() => (a._source as { n?: number } | null)?.n === 2)
    expect(a.status).toBe('live')
    expect(a._source).toEqual(fx.server.documents.get(I, C, 'a')?._source)
    expect(errors).toEqual([])
    expect(fx.server.requests().filter((r) => r.controller === 'document').length).toBe(reads)
    client.close()
  })
})
