import { createApp } from 'vue'
import { createPinia } from 'pinia'
import { createObserver } from 'vue-observed'
import App from './App.vue'
import { backendKey, type Backend } from './backend'
import { chosenBackend } from './backend-choice'
import type { BackendName, PlaygroundConfig } from './config'
import { fetchConfig } from './dev-api'

/** The backend the page runs on; Kuzzle and Sanity need the dev server's config (where they are). */
async function openBackend(name: BackendName, config: PlaygroundConfig | null): Promise<Backend> {
  if (name === 'kuzzle' && config) return (await import('./backends/kuzzle')).kuzzleBackend(config.kuzzle)
  if (name === 'sanity' && config) return (await import('./backends/sanity')).sanityBackend(config.sanity)
  return (await import('./backends/memory')).memoryBackend()
}

const config = await fetchConfig()
const backend = await openBackend(chosenBackend(), config)
const available: BackendName[] = config ? ['memory', 'kuzzle', 'sanity'] : ['memory']

createApp(App, { available })
  .provide(backendKey, backend)
  .use(createPinia())
  // A playground reconnects quickly: retries back off up to 5 s instead of the default 30 s.
  .use(createObserver({ driver: backend.driver, backoff: { base: 250, cap: 5000 } }))
  .mount('#app')
