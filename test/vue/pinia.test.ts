// @vitest-environment happy-dom
// With a real Pinia: a setup store's observer stops on $dispose(); `store: { store, key }` writes through $patch
// (as an array, or a map by _id); a hook feeding a store.
import { afterEach, describe, expect, it } from 'vitest'
import { defineComponent, h, ref } from 'vue'
import { mount, type VueWrapper } from '@vue/test-utils'
import { createPinia, defineStore, setActivePinia, type Pinia } from 'pinia'
import { createObserver, useObservedDocument, useObservedSearch, type ObservedDoc } from '../../src'
import { memoryDriver, type MemoryDriver } from '../../src/drivers/memory'
import { waitFor } from '../helpers/wait-for'

type Taxi = { n: number; color: string }

const wrappers: VueWrapper[] = []
afterEach(() => {
  for (const w of wrappers.splice(0)) w.unmount()
})
function seeded(): MemoryDriver {
  const driver = memoryDriver()
  driver.seed<Taxi>('nyc', 'taxi', [
    { _id: 'a', _source: { n: 5, color: 'red' } },
    { _id: 'b', _source: { n: 3, color: 'red' } },
    { _id: 'c', _source: { n: 9, color: 'blue' } },
  ])
  return driver
}
/** Mounts a component that runs `use` in setup, with Pinia and the observer plugin. */
function mountApp<R>(driver: MemoryDriver, use: () => R): { r: R; pinia: Pinia; w: VueWrapper } {
  const pinia = createPinia()
  setActivePinia(pinia)
  const out: { r?: R } = {}
  const w = mount(
    defineComponent({
      setup() {
        out.r = use()
        return () => h('p')
      },
    }),
    { global: { plugins: [pinia, createObserver({ driver, releaseDelay: 5 })] } },
  )
  wrappers.push(w)
  return { r: out.r as R, pinia, w }
}

describe('Pinia', () => {
  it('a setup store using useObservedSearch stops on $dispose()', async () => {
    const driver = seeded()
    const useTaxis = defineStore('taxis-dispose', () => {
      const s = useObservedSearch<Taxi>('nyc', 'taxi', { query: { equals: { color: 'red' } }, sort: 'n' }, { live: 'query' })
      return { hits: s.hits, status: s.status }
    })
    const { r: store } = mountApp(driver, () => useTaxis())
    await waitFor(() => store.status === 'live', 1000)
    expect(store.hits.map((h) => h._id)).toEqual(['b', 'a'])
    await driver.update('nyc', 'taxi', 'c', { color: 'red' })
    await waitFor(() => store.hits.length === 3, 1000)
    expect(driver.activeWatches).toBe(1)
    store.$dispose()
    await waitFor(() => driver.activeWatches === 0, 1000, { what: '0 watches after $dispose' })
    expect(store.status).toBe('stopped')
  })

  it("store: { store, key } writes a document through $patch ('patch function')", async () => {
    const driver = seeded()
    const useCurrent = defineStore('current', { state: () => ({ taxi: null as ObservedDoc<Taxi> | null }) })
    const mutations: string[] = []
    const { r } = mountApp(driver, () => {
      const store = useCurrent()
      store.$subscribe((m) => mutations.push(m.type), { flush: 'sync' })
      const d = useObservedDocument('nyc', 'taxi', 'a', { store: { store, key: 'taxi' } })
      return { store, d }
    })
    await waitFor(() => r.store.taxi !== null, 1000)
    expect(r.store.taxi).toEqual({ _id: 'a', _source: { n: 5, color: 'red' } })
    expect(mutations.length).toBeGreaterThanOrEqual(1)
    expect(new Set(mutations)).toEqual(new Set(['patch function']))
    const before = mutations.length
    await driver.update('nyc', 'taxi', 'a', { n: 6 })
    await waitFor(() => r.store.taxi?._source.n === 6, 1000)
    expect(mutations.length).toBeGreaterThan(before)
    expect(new Set(mutations)).toEqual(new Set(['patch function']))
    // The store holds its own copy: writing to the store does not write into the observed document.
    expect(r.store.taxi).not.toBe(r.d.data.value)
    await driver.delete('nyc', 'taxi', 'a')
    await waitFor(() => r.store.taxi === null, 1000)
  })

  it('a search kept in a store as an array in sort order', async () => {
    const driver = seeded()
    const useList = defineStore('list', { state: () => ({ taxis: [] as ObservedDoc<Taxi>[] }) })
    const mutations: string[] = []
    const { r } = mountApp(driver, () => {
      const store = useList()
      store.$subscribe((m) => mutations.push(m.type), { flush: 'sync' })
      useObservedSearch('nyc', 'taxi', { query: { equals: { color: 'red' } }, sort: 'n' }, { live: 'query', store: { store, key: 'taxis' } })
      return store
    })
    await waitFor(() => r.taxis.length === 2, 1000)
    expect(r.taxis).toEqual([
      { _id: 'b', _source: { n: 3, color: 'red' } },
      { _id: 'a', _source: { n: 5, color: 'red' } },
    ])
    await driver.update('nyc', 'taxi', 'c', { color: 'red', n: 4 })
    await waitFor(() => r.taxis.length === 3, 1000)
    expect(r.taxis.map((t) => t._id)).toEqual(['b', 'c', 'a'])
    await driver.update('nyc', 'taxi', 'b', { n: 30 })
    await waitFor(() => r.taxis[2]?._id === 'b', 1000)
    expect(r.taxis.map((t) => `${t._id}${t._source.n}`)).toEqual(['c4', 'a5', 'b30'])
    expect(new Set(mutations)).toEqual(new Set(['patch function']))
  })

  it('a search kept in a store as a map by _id', async () => {
    const driver = seeded()
    const useMap = defineStore('map', { state: () => ({ byId: {} as Record<string, ObservedDoc<Taxi>> }) })
    const { r } = mountApp(driver, () => {
      const store = useMap()
      useObservedSearch('nyc', 'taxi', { sort: 'n' }, { live: 'query', store: { store, key: 'byId', as: 'map' } })
      return store
    })
    await waitFor(() => Object.keys(r.byId).length === 3, 1000)
    expect(r.byId).toEqual({
      a: { _id: 'a', _source: { n: 5, color: 'red' } },
      b: { _id: 'b', _source: { n: 3, color: 'red' } },
      c: { _id: 'c', _source: { n: 9, color: 'blue' } },
    })
    await driver.update('nyc', 'taxi', 'a', { color: 'green' })
    await waitFor(() => r.byId.a?._source.color === 'green', 1000)
    await driver.delete('nyc', 'taxi', 'b')
    await waitFor(() => !('b' in r.byId), 1000)
    expect(Object.keys(r.byId).sort()).toEqual(['a', 'c'])
  })

  it("an onChange hook feeding a store", async () => {
    const driver = seeded()
    const useLog = defineStore('log', () => {
      const seen = ref<number[]>([])
      const taxi = useObservedDocument<Taxi>('nyc', 'taxi', 'b')
      taxi.onChange((doc) => seen.value.push(doc._source.n))
      return { seen, status: taxi.status }
    })
    const { r: store } = mountApp(driver, () => useLog())
    await waitFor(() => store.status === 'live', 1000)
    await driver.update('nyc', 'taxi', 'b', { n: 4 })
    await driver.update('nyc', 'taxi', 'b', { n: 8 })
    await waitFor(() => store.seen.length === 2, 1000)
    // onChange reports changes after the first read, not the first read itself.
    expect(store.seen).toEqual([4, 8])
    store.$dispose()
    await waitFor(() => driver.activeWatches === 0, 1000)
  })
})
