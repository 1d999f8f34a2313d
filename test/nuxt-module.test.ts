/**
 * The Nuxt module (`vue-observed/nuxt`), without a build: its setup in a real Nuxt (`loadNuxt` on the README's
 * Nuxt files), and its runtime plugin run on both sides with a fake `nuxtApp`: the server puts what it read into
 * Nuxt's payload (plain data Nuxt's devalue accepts), the browser hydrates from it. The built app is
 * test/e2e/nuxt.e2e.ts.
 */
import { mkdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { loadNuxt } from '@nuxt/kit'
import type { Nuxt } from '@nuxt/schema'
import { parse, stringify } from 'devalue'
import { afterAll, describe, expect, it } from 'vitest'
import { createSSRApp, defineComponent, h } from 'vue'
import { renderToString } from 'vue/server-renderer'
import { useObservedDocument, type ObserverClient } from '../src'
import { AUTO_IMPORTS, PAYLOAD_KEY, pluginSource } from '../src/nuxt'
import { exampleDir, readmeExamples } from './readme/examples'

const srcModule = fileURLToPath(new URL('../src/nuxt.ts', import.meta.url))
const appFile = (path: string) => readFileSync(fileURLToPath(new URL(`./nuxt/${path}`, import.meta.url)), 'utf8')
const blocks = readmeExamples()
const dirs: Array<{ remove(): void }> = []
afterAll(() => dirs.forEach((d) => d.remove()))

/** Nuxt loaded (not built) on a folder holding the README's nuxt.config and driver file, with this module from src/. */
async function nuxtWith(config: string, driver: string | null): Promise<{ nuxt: Nuxt; dir: string }> {
  const dir = exampleDir(`nuxt-${dirs.length}`)
  dirs.push(dir)
  // `vue-observed/nuxt` is the package's dist/ (not built under `npm test`): the same module from src/ here.
  dir.write('nuxt.config.ts', config.replace("'vue-observed/nuxt'", JSON.stringify(srcModule)))
  if (driver !== null) {
    mkdirSync(dir.path('app'), { recursive: true })
    dir.write('app/observed.driver.ts', driver)
  }
  const nuxt = await loadNuxt({ cwd: dir.path('.'), ready: true, overrides: { telemetry: false, devtools: { enabled: false } } })
  return { nuxt, dir: dir.path('.') }
}

describe('Nuxt module setup (loadNuxt on the README nuxt.config)', () => {
  it('the README Nuxt examples are the files of the e2e app (test/nuxt/)', () => {
    expect(blocks['nuxt-driver']).toBe(appFile('app/observed.driver.ts'))
    expect(blocks['nuxt-page']).toBe(appFile('app/components/TaxiCard.vue'))
    // The app's config is the README's plus what the test needs (the test server's address, a browser-only page).
    const config = appFile('nuxt.config.ts')
    for (const line of blocks['nuxt-config'].split('\n').filter((l) => /^\s+(modules|observed):/.test(l))) expect(config).toContain(line)
  })

  it('installs the plugin from nuxt.config options (driver file resolved) and auto-imports the composables', async () => {
    const { nuxt, dir } = await nuxtWith(blocks['nuxt-config'], 'export default () => null\n')
    try {
      const plugin = nuxt.options.plugins.find((p) => typeof p !== 'string' && String(p.src).endsWith('vue-observed.plugin.mjs'))
      expect(plugin).toBeDefined()
      const template = nuxt.options.build.templates.find((t) => t.filename === 'vue-observed.plugin.mjs')
      const source = await template!.getContents!({ nuxt, app: {} as never, options: {} })
      expect(source).toContain(`import createDriver from ${JSON.stringify(`${dir}/app/observed.driver.ts`)}`)
      expect(source).toContain('const hydrate = true')
      const imports: Array<{ name: string; from: string }> = []
      await nuxt.callHook('imports:extend', imports as never)
      expect(imports.filter((i) => i.from === 'vue-observed').map((i) => i.name)).toEqual([...AUTO_IMPORTS])
      // useNuxtApp().$observer is typed.
      const types = nuxt.options.build.templates.find((t) => t.filename === 'types/vue-observed.d.ts')
      expect(await types!.getContents!({ nuxt, app: {} as never, options: {} })).toMatch(/interface NuxtApp \{ \$observer: ObserverClient \}/)
    } finally {
      await nuxt.close()
    }
  })

  it('honours hydrate: false, autoImports: false and client options', async () => {
    const config = `export default defineNuxtConfig({
  modules: ['vue-observed/nuxt'],
  observed: { hydrate: false, autoImports: false, client: { gapTimeout: 500 } },
})
`
    const { nuxt } = await nuxtWith(config, 'export default () => null\n')
    try {
      const template = nuxt.options.build.templates.find((t) => t.filename === 'vue-observed.plugin.mjs')
      const source = await template!.getContents!({ nuxt, app: {} as never, options: {} })
      expect(source).toContain('const hydrate = false')
      expect(source).toContain('const clientOptions = {"gapTimeout":500}')
      const imports: Array<{ name: string; from: string }> = []
      await nuxt.callHook('imports:extend', imports as never)
      expect(imports.filter((i) => i.from === 'vue-observed')).toEqual([])
    } finally {
      await nuxt.close()
    }
  })

  it('a missing driver file fails the setup with a message saying what to create', async () => {
    await expect(nuxtWith(blocks['nuxt-config'], null)).rejects.toThrow(/driver file "~\/observed\.driver".*not found/)
  })
})

/** The runtime plugin as Nuxt would run it, on one side, with a fake nuxtApp (payload, hooks, vueApp). */
async function runPlugin(side: 'server' | 'client', o: { hydrate: boolean; payload?: Record<string, unknown>; driverFile: string }) {
  const dir = exampleDir(`nuxt-plugin-${side}-${dirs.length}`)
  dirs.push(dir)
  dir.write('app-stub.ts', 'export const defineNuxtPlugin = <T>(plugin: T): T => plugin\n')
  const source = pluginSource(o.driverFile, { hydrate: o.hydrate, client: {} })
    .replace("from '#app'", "from './app-stub'")
    .replaceAll('import.meta.client', String(side === 'client'))
    .replaceAll('import.meta.server', String(side === 'server'))
  dir.write('plugin.ts', source)
  const plugin = (await import(/* @vite-ignore */ dir.path('plugin.ts'))).default as {
    setup(app: unknown): { provide: { observer: ObserverClient } }
  }
  const hooks: Record<string, () => void> = {}
  const Card = defineComponent({
    async setup() {
      const taxi = await useObservedDocument<{ driver: string }>('fleet', 'taxi', 'taxi-1')
      return () => h('p', taxi.data.value?._source.driver ?? 'none')
    },
  })
  const nuxtApp = { vueApp: createSSRApp(Card), payload: o.payload ?? {}, hooks: { hook: (name: string, fn: () => void) => (hooks[name] = fn) } }
  const { provide } = plugin.setup(nuxtApp)
  return { nuxtApp, hooks, client: provide.observer }
}

describe('Nuxt runtime plugin: SSR hydration through the payload', () => {
  const driverDir = exampleDir('nuxt-driver')
  dirs.push(driverDir)
  const driverFile = driverDir.write(
    'observed.driver.ts',
    `import { memoryDriver } from 'vue-observed/memory'
export default () => {
  const driver = memoryDriver()
  const source = JSON.parse('{"driver":"Ana </script> \\u2028 Alvarez","__proto__":{"polluted":true}}')
  driver.seed('fleet', 'taxi', [{ _id: 'taxi-1', _source: source }])
  return driver
}
`,
  )

  it('the server puts what it read into nuxtApp.payload after rendering, as plain data devalue accepts', async () => {
    const { nuxtApp, hooks, client } = await runPlugin('server', { hydrate: true, driverFile })
    const html = await renderToString(nuxtApp.vueApp)
    expect(html).toBe('<p>Ana &lt;/script&gt; \u2028 Alvarez</p>')
    expect(nuxtApp.payload[PAYLOAD_KEY]).toBeUndefined()
    hooks['app:rendered']()
    const state = nuxtApp.payload[PAYLOAD_KEY] as { v: number; docs: Array<{ id: string; source: object }> }
    expect(state.v).toBe(1)
    expect(state.docs.map((d) => [d.id, d.source])).toEqual([['taxi-1', { driver: 'Ana </script> \u2028 Alvarez' }]])
    expect(Object.hasOwn(state.docs[0].source, '__proto__')).toBe(false)
    // Nuxt serialises its payload with devalue: this must not throw, and must be inlinable.
    const text = stringify(nuxtApp.payload)
    expect(text).not.toContain('</script>')
    expect(parse(text)[PAYLOAD_KEY]).toEqual(state)
    // The request's client is closed once its page is rendered.
    await expect(client.read('fleet', 'taxi', 'taxi-1')).rejects.toThrow(/closed/)
  })

  it('the browser hydrates from nuxtApp.payload (and not when hydrate is false)', async () => {
    const server = await runPlugin('server', { hydrate: true, driverFile })
    await renderToString(server.nuxtApp.vueApp)
    server.hooks['app:rendered']()
    const payload = parse(stringify(server.nuxtApp.payload)) as Record<string, unknown>

    const hydrated = await runPlugin('client', { hydrate: true, payload, driverFile })
    expect(hydrated.client.hydratedSource('fleet', 'taxi', 'taxi-1')).toEqual({ driver: 'Ana </script> \u2028 Alvarez' })
    expect(hydrated.hooks['app:rendered']).toBeUndefined()

    const notHydrated = await runPlugin('client', { hydrate: false, payload, driverFile })
    expect(notHydrated.client.hydratedSource('fleet', 'taxi', 'taxi-1')).toBeUndefined()
    hydrated.client.close()
    notHydrated.client.close()
  })
})
