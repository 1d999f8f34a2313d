// @vitest-environment happy-dom
/**
 * The README's examples, run as code: each block marked `<!-- example: name -->` is written out and executed
 * (Vue blocks mounted as components), so the front door cannot drift from the library.
 */
import { afterAll, describe, expect, it, vi } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { createApp, nextTick, type Component } from 'vue'
import { mount } from '@vue/test-utils'
import { createObserver } from '../../src'
import { memoryDriver } from '../../src/drivers/memory'
import { staysEqual, waitFor } from '../helpers/wait-for'
import { exampleDir, readmeExamples } from './examples'

const blocks = readmeExamples()
const dir = exampleDir('memory')
afterAll(() => dir.remove())

describe('README examples', () => {
  it('has the examples the tests expect', () => {
    expect(Object.keys(blocks).sort()).toEqual(
      [
        'client',
        'destructure',
        'document',
        'kuzzle-document',
        'kuzzle-esm',
        'kuzzle-search',
        'kuzzle-setup',
        'kuzzle-store',
        'kuzzle-store-app',
        'kuzzle-store-main',
        'nuxt-config',
        'nuxt-driver',
        'nuxt-page',
        'pinia',
        'sanity-comments',
        'sanity-local-api',
        'sanity-setup',
        'search',
        'setup',
        'ssr-client',
        'ssr-server',
        'vueuse-debounce',
      ],
    )
  })

  it('setup + document + search: the quick start renders live data and follows a write', async () => {
    dir.write('TaxiCard.vue', blocks.document)
    dir.write('TaxiList.vue', blocks.search)
    dir.write(
      'App.vue',
      `<script setup lang="ts">
import TaxiCard from './TaxiCard.vue'
import TaxiList from './TaxiList.vue'
</script>
<template><div id="card"><TaxiCard id="taxi-1" /></div><div id="list"><TaxiList /></div></template>
`,
    )
    // The setup block as written, plus an export so the test can write through its driver.
    dir.write('main.ts', `${blocks.setup}\nexport { driver }\n`)
    document.body.innerHTML = '<div id="app"></div>'
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined)
    const { driver } = await import(/* @vite-ignore */ dir.path('main.ts'))
    const text = (sel: string) => document.querySelector(sel)?.textContent?.trim() ?? ''
    await waitFor(() => text('#card') === 'Ana Alvarez is available (live)', 2000, { what: 'document example rendered' })
    await waitFor(() => text('#list li') === 'Ana Alvarez: $12.5', 2000, { what: 'search example rendered' })
    expect(text('#list p')).toBe('1 of 1')

    await driver.update('nyc-open-data', 'yellow-taxi', 'taxi-2', { status: 'available' })
    await waitFor(() => document.querySelectorAll('#list li').length === 2, 2000, { what: 'taxi-2 appears' })
    // sort: fare desc
    expect([...document.querySelectorAll('#list li')].map((li) => li.textContent)).toEqual(['Bilal Brown: $31', 'Ana Alvarez: $12.5'])

    await driver.update('nyc-open-data', 'yellow-taxi', 'taxi-1', { status: 'hired' })
    await waitFor(() => text('#card') === 'Ana Alvarez is hired (live)', 2000, { what: 'document follows the write' })
    expect(log).toHaveBeenCalledWith('taxi-1 changed:', ['status'])
    log.mockRestore()
  })

  it('ssr-server + ssr-client: SSR hydration renders on the server, hydrates over its HTML without mismatch, stays live', async () => {
    const ssr = exampleDir('ssr')
    try {
      ssr.write(
        'driver.ts',
        `import { memoryDriver } from 'vue-observed/memory'
const driver = memoryDriver()
driver.seed('nyc-open-data', 'yellow-taxi', [{ _id: 'taxi-1', _source: { driver: 'Ana </script> Alvarez', fare: 12.5 } }])
export const createDriver = () => driver
`,
      )
      ssr.write(
        'App.vue',
        `<script setup lang="ts">
import { useObservedDocument } from 'vue-observed'
const taxi = useObservedDocument<{ driver: string; fare: number }>('nyc-open-data', 'yellow-taxi', 'taxi-1')
</script>
<template><p v-if="taxi.data.value">{{ taxi.data.value._source.driver }}: {{ taxi.data.value._source.fare }}</p><p v-else>none</p></template>
`,
      )
      ssr.write('entry-server.ts', blocks['ssr-server'])
      ssr.write('entry-client.ts', blocks['ssr-client'])
      const { render } = await import(/* @vite-ignore */ ssr.path('entry-server.ts'))
      const { createDriver } = await import(/* @vite-ignore */ ssr.path('driver.ts'))
      const page: string = await render()
      // The document's own "</script>" is escaped in the HTML and in the state: one script element, closed once.
      expect(page.match(/<\/script>/g)).toHaveLength(1)
      const [, html, json] = /^<div id="app">(.*)<\/div><script>window.__OBSERVED__ = (.*)<\/script>$/s.exec(page)!
      expect(html).toBe('<p>Ana &lt;/script&gt; Alvarez: 12.5</p>')
      ;(window as { __OBSERVED__?: string }).__OBSERVED__ = JSON.parse(json)
      document.body.innerHTML = `<div id="app">${html}</div>`
      const warn = vi.spyOn(console, 'warn')
      const error = vi.spyOn(console, 'error')
      await import(/* @vite-ignore */ ssr.path('entry-client.ts'))
      const said = [...warn.mock.calls, ...error.mock.calls].map((args) => args.join(' '))
      expect(said.filter((m) => /hydration|mismatch/i.test(m))).toEqual([])
      expect(document.querySelector('#app')!.innerHTML).toBe(html)
      await createDriver().update('nyc-open-data', 'yellow-taxi', 'taxi-1', { fare: 14 })
      await waitFor(() => document.querySelector('#app p')?.textContent === 'Ana </script> Alvarez: 14', 2000, { what: 'hydrated page follows a write' })
      warn.mockRestore()
      error.mockRestore()
    } finally {
      ssr.remove()
      delete (window as { __OBSERVED__?: string }).__OBSERVED__
    }
  })

  it('pinia: the setup store follows the fleet and stops on $dispose()', async () => {
    dir.write('fleet.ts', blocks.pinia)
    const { useFleetStore } = await import(/* @vite-ignore */ dir.path('fleet.ts'))
    const driver = memoryDriver()
    driver.seed('nyc-open-data', 'yellow-taxi', [
      { _id: 'a', _source: { driver: 'A', status: 'hired', fare: 1 } },
      { _id: 'b', _source: { driver: 'B', status: 'available', fare: 2 } },
    ])
    const app = createApp({ render: () => null })
    const pinia = createPinia()
    app.use(pinia).use(createObserver({ driver }))
    setActivePinia(pinia)
    const store = app.runWithContext(() => useFleetStore())
    await waitFor(() => store.total === 2, 2000, { what: 'store filled' })
    expect(store.hired).toBe(1)
    await driver.update('nyc-open-data', 'yellow-taxi', 'b', { status: 'hired' })
    await waitFor(() => store.hired === 2, 2000, { what: 'store follows a write' })
    expect(driver.activeWatches).toBeGreaterThan(0)
    store.$dispose()
    await nextTick()
    await waitFor(() => driver.activeWatches === 0, 2000, { what: 'watch released on $dispose' })
  })

  it('client: the imperative example runs in plain code and logs the change', async () => {
    dir.write('client.ts', `${blocks.client}\nexport { taxi, result, client }\n`)
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined)
    const mod = await import(/* @vite-ignore */ dir.path('client.ts'))
    await waitFor(() => log.mock.calls.some((c) => c[0] === 'changed'), 2000, { what: 'change logged' })
    const call = log.mock.calls.find((c) => c[0] === 'changed')!
    expect(call[1]).toEqual(['fare'])
    expect(call[2]).toEqual({ driver: 'Ana Alvarez', fare: 14 })
    expect(mod.result.hits.map((h: { _id: string }) => h._id)).toEqual(['taxi-1'])
    mod.taxi.stop()
    mod.result.stop()
    expect(mod.client.stats().documents).toBe(0)
    log.mockRestore()
  })

  it('destructure: destructured refs stay live in the template, and the destructured hook fires', async () => {
    dir.write('Destructured.vue', blocks.destructure)
    const { default: Destructured } = (await import(/* @vite-ignore */ dir.path('Destructured.vue'))) as { default: Component }
    const driver = memoryDriver()
    driver.seed('nyc-open-data', 'yellow-taxi', [{ _id: 'taxi-1', _source: { driver: 'Ana Alvarez', status: 'available', fare: 12.5 } }])
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined)
    const w = mount(Destructured, { props: { id: 'taxi-1' }, global: { plugins: [createObserver({ driver })] } })
    try {
      await waitFor(() => w.text() === 'Ana Alvarez: $12.5 (live)', 2000, { what: 'destructured refs rendered' })
      await driver.update('nyc-open-data', 'yellow-taxi', 'taxi-1', { fare: 14 })
      await waitFor(() => w.text() === 'Ana Alvarez: $14 (live)', 2000, { what: 'destructured data follows a write' })
      expect(log).toHaveBeenCalledWith('fare now 14')
    } finally {
      w.unmount()
      log.mockRestore()
    }
  })

  it('vueuse-debounce: the search re-targets once typing pauses, keeping the previous hits meanwhile', async () => {
    dir.write('Debounced.vue', blocks['vueuse-debounce'])
    const { default: Debounced } = (await import(/* @vite-ignore */ dir.path('Debounced.vue'))) as { default: Component }
    const driver = memoryDriver({ latency: 150 })
    driver.seed('nyc-open-data', 'yellow-taxi', [
      { _id: 'a', _source: { driver: 'Ana', status: 'available', fare: 10 } },
      { _id: 'b', _source: { driver: 'Bilal', status: 'hired', fare: 20 } },
      { _id: 'c', _source: { driver: 'Chen', status: 'available', fare: 30 } },
    ])
    const searches = vi.spyOn(driver, 'search')
    const w = mount(Debounced, { global: { plugins: [createObserver({ driver })] } })
    const rows = () => w.findAll('li').map((li) => li.text()).join(',')
    try {
      await waitFor(() => rows() === 'Ana: $10,Bilal: $20,Chen: $30', 2000, { what: 'all taxis' })
      const before = searches.mock.calls.length
      const input = w.find('input')
      for (const typed of ['1', '15', '25']) await input.setValue(typed)
      // Typing is not a search: nothing re-targets before the pause, and the list stays full.
      await staysEqual(() => `${searches.mock.calls.length} ${rows()}`, 150, { what: 'searches and rows while typing' })
      expect(searches.mock.calls.length).toBe(before)
      expect(rows()).toBe('Ana: $10,Bilal: $20,Chen: $30')
      // Then the previous hits stay, dimmed, until the new ones are read.
      await waitFor(() => (w.find('ul').attributes('style') ?? '').includes('opacity: 0.5'), 3000, { what: 'previous hits dimmed' })
      expect(rows()).toBe('Ana: $10,Bilal: $20,Chen: $30')
      await waitFor(() => rows() === 'Chen: $30', 3000, { what: 'the search follows the last value' })
      expect(w.find('ul').attributes('style') ?? '').toContain('opacity: 1')
      // One search for the three keystrokes (pages and reads of that one search aside, none for '1' or '15').
      const gtes = searches.mock.calls.slice(before).map((c) => JSON.stringify(c[1]))
      expect(gtes.every((q) => q.includes('"gte":25'))).toBe(true)
    } finally {
      w.unmount()
    }
  })
})
