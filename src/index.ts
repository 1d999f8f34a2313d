/**
 * vue-observed: live documents and searches for Vue 3 components and Pinia stores.
 * Backends come as their own entries: `vue-observed/memory`, `vue-observed/kuzzle`, `vue-observed/sanity`.
 */
export * from './vue'
export * from './core'
