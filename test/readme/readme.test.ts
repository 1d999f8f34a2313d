// @vitest-environment happy-dom
/**
 * The README's examples, run as code: each block marked `<!-- example: name -->` is written out and executed
 * (Vue blocks mounted as components), so the front door cannot drift from the library.
 */
import { afterAll, describe, expect, it, vi } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { createApp, nextTick } from 'vue'
import { createObserver } from '../../src'
import { memoryDriver } from '../../src/drivers/memory'
import { waitFor } from '../helpers/wait-for'
import { exampleDir, readmeExamples } from './examples'

const blocks = readmeExamples()
const dir = exampleDir('memory')
afterAll(() => dir.remove())

describe('README examples', () => {
  it('has the examples the tests expect', () => {
    expect(Object.keys(blocks).sort()).toEqual(
      ['client', 'document', 'kuzzle-document', 'kuzzle-search', 'kuzzle-setup', 'kuzzle-store', 'pinia', 'sanity-comments', 'sanity-setup', 'search', 'setup'],
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
})
