import { defineStore } from 'pinia'
import { computed } from 'vue'
import { useObservedSearch } from 'vue-observed'
import { useBackend } from '../backend'
import { BOROUGHS, STATUSES, type Taxi } from '../taxis'
import { useConnectionStore } from './connection'

/** A Pinia setup store fed by a live search of the whole fleet; its observer stops with the store. */
export const useFleetStore = defineStore('fleet', () => {
  const backend = useBackend()
  // #region call
  const fleet = useObservedSearch<Taxi>(backend.index, backend.collection, {}, { size: 1000, live: 'query' })
  // #endregion call
  useConnectionStore().track(fleet.status, fleet.error)
  const taxis = fleet.hits
  const byStatus = computed(() => {
    const counts = Object.fromEntries(STATUSES.map((s) => [s, 0])) as Record<Taxi['status'], number>
    for (const t of taxis.value) counts[t._source.status]++
    return counts
  })
  const byBorough = computed(() => {
    const counts = Object.fromEntries(BOROUGHS.map((b) => [b, 0])) as Record<Taxi['borough'], number>
    for (const t of taxis.value) counts[t._source.borough]++
    return counts
  })
  return { taxis, total: fleet.total, status: fleet.status, byStatus, byBorough }
})
