import { createApp, shallowRef } from 'vue'
import { createPinia } from 'pinia'
import { createObserver, type TabRole } from 'vue-observed'
import App from './App.vue'
import { backendKey, shareTabs, tabRoleKey, type Backend } from './backend'
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

const tabRole = shallowRef<TabRole>('alone')
const share = shareTabs(backend)
// Without sharing, every tab opens its own connection.
if (!share) backend.connect?.()

createApp(App, { available })
  .provide(backendKey, backend)
  .provide(tabRoleKey, tabRole)
  .use(createPinia())
  .use(
    createObserver({
      driver: backend.driver,
      // A playground reconnects quickly: retries back off up to 5 s instead of the default 30 s.
      backoff: { base: 250, cap: 5000 },
      // Tabs on Kuzzle or Sanity share one set of connections: the leader tab holds them (and connects Kuzzle's
      // socket); the others go through it. `?share=0` in the URL turns it off.
      shareAcrossTabs: share && {
        onLeader: () => backend.connect?.(),
        onRoleChange: (role) => (tabRole.value = role),
      },
    }),
  )
  .mount('#app')
