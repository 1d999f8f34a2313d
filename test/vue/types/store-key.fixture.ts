/**
 * Type fixture for test/vue/store-key.types.test.ts: the Pinia target's key is checked against the store's state.
 * Every `@ts-expect-error` line must stay an error (tsc reports an unused directive otherwise); the rest compiles.
 */
import { defineStore } from 'pinia'
import { ref } from 'vue'
import { useObservedDocument, useObservedSearch, type ObservedDoc } from 'vue-observed'

type Taxi = { driver: string; fare: number }

const useOptionStore = defineStore('fixture-options', {
  state: () => ({
    current: null as ObservedDoc<Taxi> | null,
    strict: { _id: '', _source: { driver: '', fare: 0 } } as ObservedDoc<Taxi>,
    list: [] as ObservedDoc<Taxi>[],
    byId: {} as Record<string, ObservedDoc<Taxi>>,
    label: '',
  }),
})
const useSetupStore = defineStore('fixture-setup', () => {
  const picked = ref<ObservedDoc<Taxi> | null>(null)
  const rows = ref<ObservedDoc<Taxi>[]>([])
  return { picked, rows }
})

export function fixture(): void {
  const store = useOptionStore()
  const setup = useSetupStore()

  // A document goes to a key typed `ObservedDoc<T> | null`; T is the store's.
  const doc = useObservedDocument('i', 'c', 'id', { store: { store, key: 'current' } })
  const fare: number | undefined = doc.data.value?._source.fare
  useObservedDocument('i', 'c', 'id', { store: { store: setup, key: 'picked' } })
  // @ts-expect-error a key the state does not have
  useObservedDocument('i', 'c', 'id', { store: { store, key: 'typo' } })
  // @ts-expect-error a key that cannot hold null (a missing or deleted document writes null)
  useObservedDocument('i', 'c', 'id', { store: { store, key: 'strict' } })
  // @ts-expect-error a key holding a list, not a document
  useObservedDocument('i', 'c', 'id', { store: { store, key: 'list' } })
  // @ts-expect-error a key holding a string
  useObservedDocument('i', 'c', 'id', { store: { store, key: 'label' } })
  // @ts-expect-error the document type comes from the store: an explicit one cannot be checked against it
  useObservedDocument<Taxi>('i', 'c', 'id', { store: { store, key: 'typo' } })

  // A search goes to a key typed `ObservedDoc<T>[]`, or `Record<string, ObservedDoc<T>>` with `as: 'map'`.
  const hits = useObservedSearch('i', 'c', {}, { live: 'query', store: { store, key: 'list' } })
  const driver: string | undefined = hits.hits.value[0]?._source.driver
  useObservedSearch('i', 'c', {}, { store: { store, key: 'list', as: 'array' } })
  useObservedSearch('i', 'c', {}, { store: { store, key: 'byId', as: 'map' } })
  useObservedSearch('i', 'c', {}, { store: { store: setup, key: 'rows' } })
  // @ts-expect-error a key the state does not have
  useObservedSearch('i', 'c', {}, { store: { store, key: 'typo' } })
  // @ts-expect-error a map key without `as: 'map'`
  useObservedSearch('i', 'c', {}, { store: { store, key: 'byId' } })
  // @ts-expect-error an array key with `as: 'map'`
  useObservedSearch('i', 'c', {}, { store: { store, key: 'list', as: 'map' } })
  // @ts-expect-error a document key
  useObservedSearch('i', 'c', {}, { store: { store, key: 'current' } })

  void fare
  void driver
}
