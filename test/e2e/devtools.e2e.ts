/**
 * The devtools plugin in Chromium: the playground served in development mode registers it with the devtools hook.
 * The page gets a stand-in of the hook the devtools install (`__VUE_DEVTOOLS_HOOK`, which @vue/devtools-api's
 * setupDevtoolsPlugin calls) before any script runs; the test then plays the devtools: it runs the plugin's setup
 * with a recording API and asks for the inspector tree and the timeline.
 */
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startPlayground, WAIT_MS, type Playground } from './playground'

let pg: Playground

// Vitest runs with NODE_ENV=test, which Vite writes into the modules it serves (read as each is transformed), and
// under which the plugin (like Pinia's) stays out by default: serve the playground as `npm run dev` does.
const savedNodeEnv = process.env.NODE_ENV

beforeAll(async () => {
  process.env.NODE_ENV = 'development'
  pg = await startPlayground()
})

afterAll(async () => {
  await pg?.close()
  process.env.NODE_ENV = savedNodeEnv
})

/** Installed before the page's scripts: records every plugin setup; `__connect(id)` runs one with a fake API. */
function stubHook(): void {
  const w = window as unknown as Record<string, any>
  const setups: Array<{ id: string; descriptor: any; setupFn: (api: unknown) => void }> = []
  w.__setups = setups
  w.__VUE_DEVTOOLS_HOOK = {
    callHook: (name: string, descriptor: any, setupFn: (api: unknown) => void) => {
      if (name === 'devtools-plugin:setup') setups.push({ id: descriptor.id, descriptor, setupFn })
      return Promise.resolve()
    },
    hook: () => () => undefined,
  }
  w.__connect = (id: string) => {
    const setup = setups.find((s) => s.id === id)!
    const handlers: Record<string, Array<(p: any) => void>> = {}
    const api = {
      events: [] as any[],
      on: new Proxy({}, { get: (_t, key: string) => (h: (p: any) => void) => (handlers[key] ??= []).push(h) }),
      now: () => Date.now(),
      addInspector: () => undefined,
      addTimelineLayer: () => undefined,
      addTimelineEvent: (e: any) => api.events.push({ layerId: e.layerId, title: e.event.title }),
      sendInspectorTree: () => undefined,
      sendInspectorState: () => undefined,
    }
    setup.setupFn(api)
    w.__devtools = {
      api,
      tree: (inspectorId: string) => {
        const payload = { app: setup.descriptor.app, inspectorId, filter: '', rootNodes: [] as any[] }
        for (const h of handlers.getInspectorTree ?? []) h(payload)
        return JSON.parse(JSON.stringify(payload.rootNodes))
      },
    }
  }
}

const setupIds = (page: Page) => page.evaluate(() => ((window as any).__setups as Array<{ id: string }>).map((s) => s.id))

describe('devtools in the playground (development mode, Chromium)', () => {
  it('registers the vue-observed plugin with the devtools hook; its inspector lists watches, documents and searches', async () => {
    // The stub goes into the browser context; the next page opened gets it before its own scripts.
    const context = (await pg.open('memory')).context()
    await context.addInitScript(stubHook)
    const page = await pg.open('memory')
    await page.waitForFunction(() => ((window as any).__setups ?? []).some((s: { id: string }) => s.id === 'dev.vue-observed'), null, { timeout: WAIT_MS })
    expect(await setupIds(page)).toContain('dev.vue-observed')

    await page.evaluate(() => (window as any).__connect('dev.vue-observed'))
    const tree = await page.evaluate(() => (window as any).__devtools.tree('vue-observed:inspector'))
    expect(tree[0].label).toBe('client · memory')
    const group = (id: string) => tree[0].children.find((n: { id: string }) => n.id === id).children as Array<{ id: string; label: string }>
    expect(group('watches').length).toBeGreaterThan(0)
    expect(group('documents').length).toBeGreaterThan(0)
    expect(group('searches').length).toBeGreaterThan(0)

    // The timeline hears what the page does next: "load more" reads a page.
    await page.click('[data-test=more]')
    await page.waitForFunction(() => (window as any).__devtools.api.events.some((e: { title: string }) => e.title === 'search answered'), null, { timeout: WAIT_MS })
  })
})
