/**
 * `vue-observed/nuxt`: the Nuxt module. It only wires: it installs the library's Vue plugin from `nuxt.config`
 * options (the driver comes from a file of the app, since a config cannot hold functions), moves the server's
 * `client.dehydrate()` through Nuxt's own payload (serialised by Nuxt's devalue, like Pinia's state), and
 * auto-imports the composables.
 *
 * ```ts
 * export default defineNuxtConfig({ modules: ['vue-observed/nuxt'], observed: { driver: '~/observed.driver' } })
 * ```
 */
import { addImports, addPluginTemplate, addTypeTemplate, defineNuxtModule, findPath } from '@nuxt/kit'
import type { ObserverClientOptions } from './core'

/** Client options that a config can hold (plain data: no driver, no functions). */
export type ObservedNuxtClientOptions = Pick<
  ObserverClientOptions,
  'gapTimeout' | 'releaseDelay' | 'backoff' | 'maxIdsPerWatch' | 'watchTimeout'
> & {
  /** The Vue Devtools plugin (development builds only). Default: on in the browser. */
  devtools?: boolean
}

/** The module's options: `observed: { … }` in `nuxt.config`. */
export interface ObservedNuxtOptions {
  /**
   * The app's driver file (Nuxt aliases allowed), whose default export is a factory
   * `(nuxtApp) => Driver`, e.g. `() => sanityDriver(createClient({ … }))`. It is called once per request on the
   * server and once in the browser. Default: `'~/observed.driver'`.
   */
  driver: string
  /** Carry what the server read to the browser through Nuxt's payload (default true). */
  hydrate: boolean
  /** Auto-import `useObservedDocument`, `useObservedSearch` and `useObserverClient` (default true). */
  autoImports: boolean
  /** Options of the observer client. */
  client: ObservedNuxtClientOptions
}

/** Where the dehydrated state travels in `nuxtApp.payload`. */
export const PAYLOAD_KEY = 'vueObserved'

/** The composables the module auto-imports, from the package itself. */
export const AUTO_IMPORTS = ['useObservedDocument', 'useObservedSearch', 'useObserverClient'] as const

/** The runtime plugin's source: the Vue plugin per app, the driver from the app's file, the payload both ways. */
export function pluginSource(driverPath: string, options: Pick<ObservedNuxtOptions, 'hydrate' | 'client'>): string {
  return `import { defineNuxtPlugin } from '#app'
import { toRaw } from 'vue'
import { createObserver, validateState } from 'vue-observed'
import createDriver from ${JSON.stringify(driverPath)}

const hydrate = ${JSON.stringify(options.hydrate)}
const clientOptions = ${JSON.stringify(options.client ?? {})}

export default defineNuxtPlugin({
  name: 'vue-observed',
  setup(nuxtApp) {
    if (typeof createDriver !== 'function') {
      throw new TypeError('[vue-observed] ' + ${JSON.stringify(driverPath)} + ' must export a driver factory as its default export, e.g. export default () => memoryDriver()')
    }
    const initialState = import.meta.client && hydrate ? toRaw(nuxtApp.payload[${JSON.stringify(PAYLOAD_KEY)}]) : undefined
    const observer = createObserver({ ...clientOptions, driver: createDriver(nuxtApp), initialState })
    nuxtApp.vueApp.use(observer)
    if (import.meta.server) {
      nuxtApp.hooks.hook('app:rendered', () => {
        if (hydrate) {
          // validateState: a checked copy of plain data (no __proto__ keys, which Nuxt's devalue refuses).
          const state = validateState(observer.client.dehydrate())
          if (typeof state !== 'string') nuxtApp.payload[${JSON.stringify(PAYLOAD_KEY)}] = state
        }
        // One client per request, done once its page is rendered (a server app is never unmounted).
        observer.client.close()
      })
    }
    return { provide: { observer: observer.client } }
  },
})
`
}

export default defineNuxtModule<ObservedNuxtOptions>({
  meta: {
    name: 'vue-observed',
    configKey: 'observed',
    compatibility: { nuxt: '>=3.10.0' },
  },
  defaults: {
    driver: '~/observed.driver',
    hydrate: true,
    autoImports: true,
    client: {},
  },
  async setup(options, nuxt) {
    const driverPath = await findPath(options.driver, { alias: nuxt.options.alias, cwd: nuxt.options.srcDir })
    if (!driverPath) {
      throw new Error(
        `[vue-observed] The driver file ${JSON.stringify(options.driver)} (observed.driver in nuxt.config) was not found: ` +
          'create it with a factory as its default export, e.g. export default () => memoryDriver()',
      )
    }
    addPluginTemplate({
      filename: 'vue-observed.plugin.mjs',
      getContents: () => pluginSource(driverPath, options),
    })
    // `useNuxtApp().$observer`, typed (Nuxt types the injections of plugin files, not of plugin templates).
    addTypeTemplate({
      filename: 'types/vue-observed.d.ts',
      getContents: () => `import type { ObserverClient } from 'vue-observed'
declare module '#app' {
  interface NuxtApp { $observer: ObserverClient }
}
declare module 'vue' {
  interface ComponentCustomProperties { $observer: ObserverClient }
}
export {}
`,
    })
    if (options.autoImports) {
      addImports(AUTO_IMPORTS.map((name) => ({ name, from: 'vue-observed' })))
    }
  },
})
