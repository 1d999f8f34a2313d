// @vitest-environment happy-dom
// keepPrevious: across a re-target (filter, sort or id change) a mounted component keeps rendering the previous
// content, with isPrevious true, until the new target's first data is there; without it the list empties meanwhile.
import { afterEach, describe, expect, it } from 'vitest'
import { defineComponent, h, ref } from 'vue'
import { mount, type VueWrapper } from '@vue/test-utils'
import { createObserver, useObservedDocument, useObservedSearch } from '../../src'
import type { SearchSpec } from '../../src/core'
import { memoryDriver, type MemoryDriver } from '../../src/drivers/memory'
import { waitFor } from '../helpers/wait-for'

type Taxi = { n: number; color: string }

const wrappers: VueWrapper[] = []
afterEach(() => {
  for (const w of wrappers.splice(0)) w.unmount()
})
/** Reads and watches answer after 60 ms, so the time between re-target and first data is visible. */
function seeded(): MemoryDriver {
  const driver = memoryDriver({ latency: 60 })
  driver.seed<Taxi>('nyc', 'taxi', [
    { _id: 'a', _source: { n: 5, color: 'red' } },
    { _id: 'b', _source: { n: 3, color: 'red' } },
    { _id: 'c', _source: { n: 9, color: 'blue' } },
    { _id: 'd', _source: { n: 1, color: 'blue' } },
  ])
  return driver
}
const byColor = (color: string): SearchSpec => ({ query: { equals: { color } }, sort: 'n' })

/** A list component filtered by `color`; every render is recorded as `ids|isPrevious|status`. */
function mountList(driver: MemoryDriver, keepPrevious: boolean) {
  const color = ref('red')
  const renders: string[] = []
  const Comp = defineComponent({
    setup() {
      const taxis = useObservedSearch<Taxi>('nyc', 'taxi', () => byColor(color.value), { live: 'query', keepPrevious })
      return () => {
        const text = `${taxis.hits.value.map((t) => t._id).join(',')}|${taxis.isPrevious.value}|${taxis.status.value}|${taxis.total.value}`
        renders.push(text)
        return h('ul', { 'data-previous': String(taxis.isPrevious.value) }, taxis.hits.value.map((t) => h('li', { key: t._id }, t._id)))
      }
    },
  })
  const w = mount(Comp, { global: { plugins: [createObserver({ driver, releaseDelay: 5 })] } })
  wrappers.push(w)
  return { w, color, renders }
}

describe('keepPrevious', () => {
  it('useObservedSearch: the list never goes empty across a filter change, and isPrevious flips', async () => {
    const { w, color, renders } = mountList(seeded(), true)
    await waitFor(() => w.findAll('li').length === 2, 2000, { what: 'red taxis' })
    expect(w.find('ul').attributes('data-previous')).toBe('false')
    const from = renders.length

    color.value = 'blue'
    await waitFor(() => w.find('ul').attributes('data-previous') === 'true', 2000, { what: 'previous hits kept' })
    expect(w.findAll('li').map((li) => li.text())).toEqual(['b', 'a'])
    await waitFor(() => w.findAll('li').map((li) => li.text()).join(',') === 'd,c', 2000, { what: 'blue taxis' })
    expect(w.find('ul').attributes('data-previous')).toBe('false')

    const during = renders.slice(from)
    // Never an empty list; the previous hits shown as previous while pending, then the new ones as current.
    expect(during.filter((r) => r.startsWith('|'))).toEqual([])
    expect(during).toContain('b,a|true|pending|2')
    expect(during.at(-1)).toBe('d,c|false|live|2')
    expect(during.filter((r) => r.startsWith('d,c')).every((r) => r.includes('|false|'))).toBe(true)
  })

  it('useObservedSearch without keepPrevious empties the list while re-targeting (the flash keepPrevious removes)', async () => {
    const { w, color, renders } = mountList(seeded(), false)
    await waitFor(() => w.findAll('li').length === 2, 2000, { what: 'red taxis' })
    const from = renders.length
    color.value = 'blue'
    await waitFor(() => w.findAll('li').map((li) => li.text()).join(',') === 'd,c', 2000, { what: 'blue taxis' })
    expect(renders.slice(from)).toContain('|false|pending|0')
  })

  it('useObservedDocument: data stays the previous document until the new one is read, with isPrevious true meanwhile', async () => {
    const driver = seeded()
    const id = ref('a')
    const renders: string[] = []
    const w = mount(
      defineComponent({
        setup() {
          const taxi = useObservedDocument<Taxi>('nyc', 'taxi', id, { keepPrevious: true })
          return () => {
            renders.push(`${taxi.data.value?._id ?? '-'}|${taxi.isPrevious.value}|${taxi.status.value}`)
            return h('p', taxi.data.value?._id ?? '-')
          }
        },
      }),
      { global: { plugins: [createObserver({ driver, releaseDelay: 5 })] } },
    )
    wrappers.push(w)
    await waitFor(() => w.text() === 'a', 2000)
    const from = renders.length
    id.value = 'c'
    await waitFor(() => w.text() === 'c', 2000)
    const during = renders.slice(from)
    expect(during).not.toContain('-|false|pending')
    expect(during).toContain('a|true|pending')
    expect(during.at(-1)).toBe('c|false|live')

    // A missing document is an answer: the previous one goes, and isPrevious with it.
    id.value = 'nope'
    await waitFor(() => w.text() === '-', 2000)
    expect(renders.at(-1)).toMatch(/^-\|false\|/)
  })
})
