import { defineStore } from 'pinia'
import { computed, onScopeDispose, shallowReactive, type Ref } from 'vue'
import type { ObservedError } from 'vue-observed'

/** The connection as the page shows it. */
export type ConnectionState = 'pending' | 'live' | 'reconnecting' | 'error'

interface Source {
  status: Ref<string>
  error: Ref<ObservedError | null>
}

/**
 * The connection badge's state, derived from the status refs of the live composables on the page (the list, the
 * detail pane, the fleet store): any error wins, then reconnecting, then pending; live when all are live.
 * A document that does not exist (`not_found`) says nothing about the connection, nor do paused or deleted ones.
 */
export const useConnectionStore = defineStore('connection', () => {
  const sources = shallowReactive(new Map<symbol, Source>())

  /** Adds a composable's status to the badge, until the calling scope (component, store) ends. */
  function track(status: Ref<string>, error: Ref<ObservedError | null>): void {
    const key = Symbol()
    sources.set(key, { status, error })
    onScopeDispose(() => sources.delete(key))
  }

  const state = computed<ConnectionState>(() => {
    const states = [...sources.values()].map(({ status, error }) => {
      if (status.value === 'error') return error.value?.code === 'not_found' ? 'live' : 'error'
      return status.value
    })
    if (states.includes('error')) return 'error'
    if (states.includes('reconnecting')) return 'reconnecting'
    if (states.includes('pending') || !states.includes('live')) return 'pending'
    return 'live'
  })
  const message = computed(() => {
    for (const { status, error } of sources.values()) {
      if (status.value === 'error' && error.value && error.value.code !== 'not_found') return error.value.message
    }
    return ''
  })
  return { state, message, track }
})
