import { hasInjectionContext, inject, reactive, type App, type InjectionKey } from 'vue'
import { ObserverClient, type ObserverClientOptions } from '../core'
import { ownedObservers } from './owners'

/** Where the plugin provides its client. */
export const observerClientKey: InjectionKey<ObserverClient> = Symbol('vue-observed')

/**
 * Options of {@link createObserver}: the client's options (`driver` first of all; `initialState` for the server's
 * `client.dehydrate()` payload when hydrating a server-rendered page).
 */
export type CreateObserverOptions = Omit<ObserverClientOptions, 'wrap'> & {
  /**
   * Registers the Vue Devtools plugin (inspector and timeline; needs `@vue/devtools-api`, which Pinia brings).
   * Development builds only: a production build contains none of its code, whatever this says. Default: on in the
   * browser, off under `NODE_ENV === 'test'` (as Pinia does).
   */
  devtools?: boolean
}

/** The plugin, with the client it provides (for use outside components: router guards, tests). */
export interface ObserverPlugin {
  install(app: App): void
  readonly client: ObserverClient
}

/**
 * Creates the plugin: `app.use(createObserver({ driver: memoryDriver() }))`. One client per app: every
 * composable of the app shares its documents and watches. The client is closed when the app unmounts.
 */
export function createObserver(options: CreateObserverOptions): ObserverPlugin {
  if (!options || typeof options.driver?.watch !== 'function') {
    throw new TypeError('createObserver() needs a driver: app.use(createObserver({ driver: memoryDriver() }))')
  }
  // Reactive containers: replacing a document in place then triggers only the fields that changed.
  const { devtools: _devtools, ...clientOptions } = options
  const client = new ObserverClient({ ...clientOptions, wrap: reactive as <T extends object>(value: T) => T })
  return {
    client,
    install(app: App) {
      app.provide(observerClientKey, client)
      app.onUnmount?.(() => client.close())
      // The guard is Pinia's: bundlers replace process.env.NODE_ENV, so in production the branch and the dynamic
      // import inside it are removed, and the devtools module is never bundled.
      if (
        process.env.NODE_ENV !== 'production' &&
        typeof window !== 'undefined' &&
        (options.devtools ?? process.env.NODE_ENV !== 'test')
      ) {
        import('./devtools').then(
          (devtools) => devtools.setupObserverDevtools(app, client, ownedObservers),
          (err: unknown) => console.warn('[vue-observed] devtools plugin not loaded (is @vue/devtools-api installed?)', err),
        )
      }
    },
  }
}

/**
 * The app's observer client (the framework-free core), for imperative use: `get`, `mGet`, `search`.
 * Call it in `setup()`, a Pinia store or anywhere `inject()` works.
 */
export function useObserverClient(): ObserverClient {
  if (!hasInjectionContext()) {
    throw new Error(
      '[vue-observed] useObserverClient() was called outside setup(): call it (or useObservedDocument / useObservedSearch) ' +
        'inside a component setup(), a Pinia store, or app.runWithContext(), or pass { client } explicitly.',
    )
  }
  const client = inject(observerClientKey, null)
  if (!client) {
    throw new Error(
      '[vue-observed] No observer client: install the plugin first, e.g. ' +
        "app.use(createObserver({ driver: memoryDriver() })) with memoryDriver from 'vue-observed/memory'.",
    )
  }
  return client
}
