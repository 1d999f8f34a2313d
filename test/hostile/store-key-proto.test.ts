// @vitest-environment happy-dom
/**
 * Attack: `store: { store, key: '__proto__' }` (or `constructor`, `prototype`, or a key the state does not own)
 * would make `$patch` replace the Pinia state's prototype or shadow an inherited property. The composables refuse
 * such keys with `bad_argument` before anything is written or watched; map-mode stores still take hostile ids.
 */
import { mount, type VueWrapper } from '@vue/test-utils'
import { createPinia, defineStore, type Pinia } from 'pinia'
import { afterEach, describe, expect, it } from 'vitest'
import { defineComponent, h } from 'vue'
import { createObserver, ObservedError, useObservedDocument, useObservedSearch, type ObservedDoc } from '../../src'
import { memoryDriver, type MemoryDriver } from '../../src/drivers/memory'
import { waitFor } from '../helpers/wait-for'

const wrappers: VueWrapper[] = []
afterEach(() => {
  for (const w of wrappers.splice(0)) w.unmount()
})

type Taxi = { n: number }
const useTaxiStore = defineStore('hostile-key', {
  state: () => ({ current: null as ObservedDoc<Taxi> | null, list: [] as ObservedDoc<Taxi>[], byId: {} as Record<string, ObservedDoc<Taxi>> }),
})
type TaxiStore = ReturnType<typeof useTaxiStore>

function seeded(): MemoryDriver {
  const driver = memoryDriver()
  driver.seed<Taxi>('i', 'c', [
    { _id: 'a', _source: { n: 1 } },
    { _id: '__proto__', _source: { n: 2 } },
    { _id: 'constructor', _source: { n: 3 } },
  ])
  return driver
}

/** Mounts a component (real Pinia, real plugin) whose setup runs `use`; returns the setup errors (none or one). */
function mountWith(driver: MemoryDriver, use: (store: TaxiStore) => void): { store: TaxiStore; errors: unknown[]; pinia: Pinia } {
  const pinia = createPinia()
  const errors: unknown[] = []
  let store!: TaxiStore
  try {
    const w = mount(
      defineComponent({
        setup() {
          store = useTaxiStore()
          use(store)
          return () => h('p', 'ok')
        },
      }),
      { global: { plugins: [pinia, createObserver({ driver, releaseDelay: 5 })] } },
    )
    wrappers.push(w)
  } catch (err) {
    // A refused argument throws from setup(), as Vue reports any setup error.
    errors.push(err)
  }
  return { store, errors, pinia }
}

describe('store key __proto__ / constructor / prototype', () => {
  for (const key of ['__proto__', 'constructor', 'prototype', 'toString', 'undeclared']) {
    it(`useObservedDocument refuses store key "${key}" with bad_argument and writes nothing`, async () => {
      const driver = seeded()
      const { store, errors } = mountWith(driver, (store) => {
        // A JavaScript caller (or a cast) gets past the key's type.
        useObservedDocument('i', 'c', 'a', { store: { store, key: key as never } })
      })
      expect(errors).toHaveLength(1)
      expect(errors[0]).toBeInstanceOf(ObservedError)
      expect((errors[0] as ObservedError).code).toBe('bad_argument')
      expect(Object.getPrototypeOf(store.$state)).toBe(Object.prototype)
      expect(Object.hasOwn(store.$state, key)).toBe(false)
      expect(typeof store.$state.toString).toBe('function')
      expect(({} as Record<string, unknown>).n).toBeUndefined()
      expect(driver.activeWatches).toBe(0)
    })

    it(`useObservedSearch refuses store key "${key}" with bad_argument, as array or map`, async () => {
      for (const as of ['array', 'map'] as const) {
        const driver = seeded()
        const { store, errors } = mountWith(driver, (store) => {
          useObservedSearch('i', 'c', {}, { store: { store, key: key as never, as } })
        })
        expect((errors[0] as ObservedError).code).toBe('bad_argument')
        expect(Object.getPrototypeOf(store.$state)).toBe(Object.prototype)
        expect(Object.hasOwn(store.$state, key)).toBe(false)
        expect(driver.activeWatches).toBe(0)
      }
    })
  }

  it('declared keys still work, and a map-mode store keeps hostile ids as own properties', async () => {
    const driver = seeded()
    const { store, errors } = mountWith(driver, (store) => {
      useObservedDocument('i', 'c', 'a', { store: { store, key: 'current' } })
      useObservedSearch('i', 'c', { sort: 'n' }, { store: { store, key: 'byId', as: 'map' } })
    })
    expect(errors).toEqual([])
    await waitFor(() => store.current !== null && Object.keys(store.byId).length === 3, 2000, { what: 'store filled' })
    expect(store.current?._source.n).toBe(1)
    expect(Object.hasOwn(store.byId, '__proto__')).toBe(true)
    expect(Object.getPrototypeOf(store.byId)).toBe(Object.prototype)
    expect(store.byId['__proto__']?._source.n).toBe(2)
    expect(store.byId['constructor']?._source.n).toBe(3)
    expect(Object.getPrototypeOf(store.$state)).toBe(Object.prototype)
  })
})
