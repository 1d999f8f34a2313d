// @vitest-environment happy-dom
/**
 * The composables over the Kuzzle driver, the real kuzzle-sdk (in browser mode: happy-dom's WebSocket, `{"p":1}`
 * keep-alives) and the Kuzzle-protocol test server: mounted components follow writes from another client, deletes,
 * 250 documents, an outage, live queries and an expired token.
 */
import { mount, type VueWrapper } from '@vue/test-utils'
import { Kuzzle, WebSocket as KuzzleWebSocket } from 'kuzzle-sdk'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { defineComponent, h } from 'vue'
import { createObserver, useObservedDocument, useObservedSearch } from '../../src'
import { kuzzleDriver } from '../../src/drivers/kuzzle'
import { useBrowserLikeWebSocket } from '../helpers/browser-websocket'
import { waitFor } from '../helpers/wait-for'
import { startKuzzleServer, type KuzzleServerOptions, type KuzzleTestServer } from '../servers/kuzzle'

interface Taxi {
  city?: string
  fare?: number
  driver?: string
}

const I = 'nyc-open-data'
const C = 'yellow-taxi'

useBrowserLikeWebSocket()

let server: KuzzleTestServer
let app: Kuzzle
let other: Kuzzle
const clients: Kuzzle[] = []
const wrappers: VueWrapper[] = []

async function client(port = server.port): Promise<Kuzzle> {
  const kuzzle = new Kuzzle(new KuzzleWebSocket('127.0.0.1', { port, reconnectionDelay: 50 }))
  clients.push(kuzzle)
  await kuzzle.connect()
  return kuzzle
}

function mountWith<T>(kuzzle: Kuzzle, setup: () => T, render: (state: T) => ReturnType<typeof h>) {
  const plugin = createObserver({ driver: kuzzleDriver(kuzzle), backoff: { base: 50, cap: 200 }, releaseDelay: 10 })
  let state!: T
  const wrapper = mount(
    defineComponent({
      setup() {
        state = setup()
        return () => render(state)
      },
    }),
    { global: { plugins: [plugin] } },
  )
  wrappers.push(wrapper)
  return { wrapper, state, plugin }
}

beforeAll(async () => {
  server = await startKuzzleServer()
})

afterEach(async () => {
  for (const w of wrappers.splice(0)) w.unmount()
  await waitFor(() => server.subscriptionCount() === 0, 3000, { what: 'every subscription released' })
  for (const kuzzle of clients.splice(0)) kuzzle.disconnect()
  server.documents.clear()
})

afterAll(async () => {
  await server?.stop()
})

describe('useObservedDocument over Kuzzle', () => {
  it('a write from a second SDK client updates a mounted component (replaced, not merged)', async () => {
    app = await client()
    other = await client()
    server.documents.create(I, C, 't1', { city: 'NYC', fare: 10, driver: 'al' })
    const { wrapper, state } = mountWith(
      app,
      () => useObservedDocument<Taxi>(I, C, 't1'),
      (doc) => h('p', `${doc.status.value}:${doc.data.value?._source.fare ?? '-'}:${doc.data.value?._source.driver ?? '-'}`),
    )
    await waitFor(() => wrapper.text() === 'live:10:al', 3000)
    await other.document.update(I, C, 't1', { fare: 12 })
    await waitFor(() => wrapper.text() === 'live:12:al', 3000)
    await other.document.replace(I, C, 't1', { city: 'NYC', fare: 13 })
    await waitFor(() => wrapper.text() === 'live:13:-', 3000)
    expect(state.data.value?._source).not.toHaveProperty('driver')
    expect(state.data.value?._source).toHaveProperty('_kuzzle_info')
  })

  it('a delete gives status "deleted", and a re-creation brings it back', async () => {
    app = await client()
    other = await client()
    server.documents.create(I, C, 'd1', { fare: 1 })
    const { wrapper, state } = mountWith(
      app,
      () => useObservedDocument<Taxi>(I, C, 'd1'),
      (doc) => h('p', doc.status.value),
    )
    await waitFor(() => wrapper.text() === 'live', 3000)
    await other.document.delete(I, C, 'd1')
    await waitFor(() => state.status.value === 'deleted', 3000)
    await other.document.create(I, C, { fare: 2 }, 'd1')
    await waitFor(() => state.status.value === 'live' && state.data.value?._source.fare === 2, 3000)
  })

  it('keeps 250 observed documents live over sharded subscriptions (100 ids each)', async () => {
    app = await client()
    const ids = Array.from({ length: 250 }, (_, i) => `taxi-${i}`)
    for (const [i, id] of ids.entries()) server.documents.create(I, C, id, { fare: i })
    const { wrapper, state } = mountWith(
      app,
      () => ids.map((id) => useObservedDocument<Taxi>(I, C, id)),
      (docs) => h('p', String(docs.filter((d) => d.status.value === 'live').length)),
    )
    await waitFor(() => wrapper.text() === '250', 5000)
    expect(server.subscriptionCount()).toBe(3)
    for (const i of [0, 99, 100, 199, 200, 249]) server.documents.update(I, C, ids[i], { fare: -i - 1 })
    await waitFor(() => [0, 99, 100, 199, 200, 249].every((i) => state[i].data.value?._source.fare === -i - 1), 3000)
    expect(state[1].data.value?._source.fare).toBe(1)
  })

  it('converges after an outage: writes and deletes made while the server was down show after restart', async () => {
    app = await client()
    server.documents.create(I, C, 'o1', { fare: 1 })
    server.documents.create(I, C, 'o2', { fare: 2 })
    const { state } = mountWith(
      app,
      () => [useObservedDocument<Taxi>(I, C, 'o1'), useObservedDocument<Taxi>(I, C, 'o2'), useObservedDocument<Taxi>(I, C, 'o3')],
      (docs) => h('p', docs.map((d) => d.status.value).join()),
    )
    // o3 never existed: the core says not_found while it keeps watching for its creation.
    await waitFor(() => state.map((d) => d.status.value).join() === 'live,live,error', 3000)
    expect(state[2].error.value).toMatchObject({ code: 'not_found', fatal: false })
    await server.stop()
    await waitFor(() => state[0].status.value === 'reconnecting', 3000)
    // Written while no client can hear: no notification will ever carry these.
    server.documents.update(I, C, 'o1', { fare: 10 })
    server.documents.delete(I, C, 'o2')
    server.documents.create(I, C, 'o3', { fare: 3 })
    await server.restart()
    await waitFor(
      () =>
        state.map((d) => d.status.value).join() === 'live,deleted,live' &&
        state[0].data.value?._source.fare === 10 &&
        state[2].data.value?._source.fare === 3,
      5000,
    )
    // And live again afterwards.
    server.documents.update(I, C, 'o3', { fare: 4 })
    await waitFor(() => state[2].data.value?._source.fare === 4, 3000)
  })

  it('converges through delayed and reordered notifications, applying them in updatedAt order', async () => {
    app = await client()
    other = await client()
    server.documents.create(I, C, 'r1', { fare: 0 })
    const { state } = mountWith(
      app,
      () => useObservedDocument<Taxi>(I, C, 'r1'),
      (doc) => h('p', String(doc.data.value?._source.fare)),
    )
    await waitFor(() => state.status.value === 'live' && state.data.value?._source.fare === 0, 3000)
    const seen: number[] = []
    state.onChange((doc) => seen.push(doc._source.fare as number))
    server.faults.delayNotifications(20)
    server.faults.reorderNotifications(2)
    for (let fare = 1; fare <= 5; fare++) await other.document.update(I, C, 'r1', { fare })
    await waitFor(() => state.data.value?._source.fare === 5, 3000)
    server.faults.delayNotifications(0)
    // Delivered 2, 1, 4, 3, 5: the stale ones are dropped, never applied over a newer revision.
    expect(seen).toEqual([...seen].sort((a, b) => a - b))
    expect(seen.at(-1)).toBe(5)
    expect(state.data.value?._source).toEqual(server.documents.get(I, C, 'r1')?._source)
  })

  it('puts observers in error when the token expires, and recovers once the app logs in again', async () => {
    const secured: KuzzleServerOptions = { requireAuth: true }
    const auth = await startKuzzleServer(secured)
    try {
      const kuzzle = await client(auth.port)
      await kuzzle.auth.login('local', { username: 'dana', password: 'x' })
      auth.documents.create(I, C, 'a1', { fare: 1 })
      const { state, wrapper } = mountWith(
        kuzzle,
        () => useObservedDocument<Taxi>(I, C, 'a1'),
        (doc) => h('p', doc.status.value),
      )
      await waitFor(() => state.status.value === 'live', 3000)
      auth.faults.expireTokens()
      await waitFor(() => state.status.value === 'error', 3000)
      expect(state.error.value?.message).toMatch(/token expired|anonymous/i)
      expect(state.error.value?.fatal).toBe(false)
      await kuzzle.auth.login('local', { username: 'dana', password: 'x' })
      await waitFor(() => state.status.value === 'live', 5000)
      auth.documents.update(I, C, 'a1', { fare: 2 })
      await waitFor(() => state.data.value?._source.fare === 2, 3000)
      wrapper.unmount()
      wrappers.splice(wrappers.indexOf(wrapper), 1)
      await waitFor(() => auth.subscriptionCount() === 0, 3000)
    } finally {
      await auth.stop()
    }
  })
})

describe('useObservedSearch over Kuzzle', () => {
  it("live: 'query' adds documents that start matching and removes those that stop, in sort order", async () => {
    app = await client()
    other = await client()
    server.documents.create(I, C, 'a', { city: 'NYC', fare: 30 })
    server.documents.create(I, C, 'b', { city: 'SF', fare: 20 })
    server.documents.create(I, C, 'c', { city: 'NYC', fare: 10 })
    const appeared: string[] = []
    const disappeared: string[] = []
    const { wrapper, state } = mountWith(
      app,
      () => {
        const search = useObservedSearch<Taxi>(I, C, { query: { term: { city: 'NYC' } }, sort: [{ fare: 'asc' }] }, { live: 'query' })
        search.onAppear((doc) => appeared.push(doc._id))
        search.onDisappear((id) => disappeared.push(id))
        return search
      },
      (s) => h('ul', s.hits.value.map((hit) => h('li', `${hit._id}:${hit._source.fare}`))),
    )
    const rows = () => wrapper.findAll('li').map((li) => li.text()).join()
    await waitFor(() => state.status.value === 'live' && rows() === 'c:10,a:30', 3000)
    expect(state.total.value).toBe(2)

    await other.document.update(I, C, 'b', { city: 'NYC' }) // starts matching, lands in the middle
    await waitFor(() => rows() === 'c:10,b:20,a:30', 3000)
    await other.document.create(I, C, { city: 'NYC', fare: 5 }, 'd') // appears first
    await waitFor(() => rows() === 'd:5,c:10,b:20,a:30', 3000)
    await other.document.update(I, C, 'c', { city: 'LA' }) // stops matching
    await waitFor(() => rows() === 'd:5,b:20,a:30', 3000)
    await other.document.update(I, C, 'a', { fare: 1 }) // moves to the front
    await waitFor(() => rows() === 'a:1,d:5,b:20', 3000)
    await other.document.delete(I, C, 'd')
    await waitFor(() => rows() === 'a:1,b:20', 3000)
    expect(state.total.value).toBe(2)
    expect(appeared).toEqual(expect.arrayContaining(['b', 'd']))
    expect(disappeared).toEqual(expect.arrayContaining(['c']))
  })

  it("live: 'query' with an untranslatable query reports unsupported_query, and works with explicit filters", async () => {
    app = await client()
    server.documents.create(I, C, 'n', { city: 'NYC' })
    const { state } = mountWith(
      app,
      () => [
        useObservedSearch<Taxi>(I, C, { query: { wildcard: { city: 'N*' } } }, { live: 'query' }),
        useObservedSearch<Taxi>(I, C, { query: { match_all: {} }, filters: { regexp: { city: '^N' } } }, { live: 'query' }),
      ],
      () => h('p'),
    )
    await waitFor(() => state[0].status.value === 'error', 3000)
    expect(state[0].error.value).toMatchObject({ code: 'unsupported_query' })
    expect(state[0].error.value?.message).toMatch(/wildcard.*filters/s)
    await waitFor(() => state[1].status.value === 'live' && state[1].hits.value.length === 1, 3000)
    server.documents.create(I, C, 'n2', { city: 'Newark' })
    server.documents.create(I, C, 's', { city: 'SF' }) // matched by match_all, not by the filter: no live add
    await waitFor(() => state[1].hits.value.map((h) => h._id).join() === 'n,n2', 3000)
  })
})

describe('a misnamed index or collection over Kuzzle', () => {
  it('composables show a fatal not_found naming index and collection (Kuzzle 412 unknown_collection / unknown_index)', async () => {
    app = await client()
    server.documents.create(I, C, 'a', { fare: 1 })
    const { state } = mountWith(
      app,
      () => ({
        doc: useObservedDocument<Taxi>(I, 'yelow-taxi', 'a'),
        search: useObservedSearch<Taxi>('nyc-opendata', C, { sort: 'fare' }, { live: 'query' }),
      }),
      () => h('p'),
    )
    await waitFor(() => state.doc.status.value === 'error' && state.search.status.value === 'error', 3000)
    expect(state.doc.error.value).toMatchObject({ code: 'not_found', fatal: true })
    expect(state.doc.error.value?.message).toMatch(/"yelow-taxi".*"nyc-open-data"/)
    expect(state.doc.data.value).toBeNull()
    expect(state.search.error.value).toMatchObject({ code: 'not_found', fatal: true })
    expect(state.search.error.value?.message).toMatch(/no index "nyc-opendata"/)
    expect(state.search.hits.value).toEqual([])
  })
})
