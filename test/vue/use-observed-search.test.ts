// @vitest-environment happy-dom
// useObservedSearch mounted in real components: hits / total / hasMore / next, live 'query' appear and disappear in
// sort order, hooks, re-targeting, pausing, immediate: false, disposal, target ref.
import { afterEach, describe, expect, it } from 'vitest'
import { defineComponent, effectScope, h, nextTick, ref, type Ref } from 'vue'
import { mount, type VueWrapper } from '@vue/test-utils'
import { createObserver, useObservedSearch, type ObservedDoc, type UseObservedSearchReturn } from '../../src'
import { ObserverClient, type SearchSpec } from '../../src/core'
import { memoryDriver, type MemoryDriver } from '../../src/drivers/memory'
import { waitFor } from '../helpers/wait-for'

type Taxi = { n: number; color: string }

const wrappers: VueWrapper[] = []
afterEach(() => {
  for (const w of wrappers.splice(0)) w.unmount()
})
function seeded(): MemoryDriver {
  const driver = memoryDriver()
  driver.seed<Taxi>('nyc', 'taxi', [
    { _id: 'a', _source: { n: 5, color: 'red' } },
    { _id: 'b', _source: { n: 3, color: 'red' } },
    { _id: 'c', _source: { n: 9, color: 'blue' } },
    { _id: 'd', _source: { n: 1, color: 'red' } },
    { _id: 'e', _source: { n: 7, color: 'red' } },
  ])
  return driver
}
const RED: SearchSpec = { query: { equals: { color: 'red' } }, sort: 'n' }

function mountWith<R>(driver: MemoryDriver, use: () => R, render: (r: R) => string = () => '') {
  const out: { r?: R } = {}
  const Comp = defineComponent({
    setup() {
      out.r = use()
      return () => h('p', render(out.r as R))
    },
  })
  const w = mount(Comp, { global: { plugins: [createObserver({ driver, releaseDelay: 5 })] } })
  wrappers.push(w)
  return { w, r: out.r as R }
}
const list = (s: UseObservedSearchReturn<Taxi>) => s.hits.value.map((h) => `${h._id}${h._source.n}`).join(',')

describe('useObservedSearch', () => {
  it('hits, total, hasMore and next() in a component', async () => {
    const driver = seeded()
    const { w, r } = mountWith(driver, () => useObservedSearch<Taxi>('nyc', 'taxi', RED, { size: 2 }), list)
    expect(r.status.value).toBe('pending')
    await waitFor(() => w.text() === 'd1,b3', 1000)
    expect(r.status.value).toBe('live')
    expect(r.total.value).toBe(4)
    expect(r.hasMore.value).toBe(true)
    await waitFor(async () => {
      await r.next()
      return r.hits.value.length === 4
    }, 1000)
    await nextTick()
    expect(w.text()).toBe('d1,b3,a5,e7')
    expect(r.hasMore.value).toBe(false)
  })

  it("live: 'query': documents appear and disappear in sort order, with hooks", async () => {
    const driver = seeded()
    const log: string[] = []
    const { w, r } = mountWith(driver, () => {
      const s = useObservedSearch<Taxi>('nyc', 'taxi', RED, { live: 'query', size: 10 })
      s.onAppear((doc) => log.push(`+${doc._id}:${doc._source.n}`))
      s.onDisappear((id) => log.push(`-${id}`))
      s.onChange((id, doc, changes) => log.push(`~${id}:${doc._source.n}:${changes.join('+')}`))
      s.onDelete((id) => log.push(`x${id}`))
      return s
    }, list)
    await waitFor(() => w.text() === 'd1,b3,a5,e7', 1000)
    log.length = 0 // the first page's hits are reported as changes too; count from here
    await driver.update('nyc', 'taxi', 'c', { color: 'red', n: 4 })
    await waitFor(() => w.text() === 'd1,b3,c4,a5,e7', 1000)
    await driver.update('nyc', 'taxi', 'b', { color: 'blue' })
    await waitFor(() => w.text() === 'd1,c4,a5,e7', 1000)
    await driver.update('nyc', 'taxi', 'd', { n: 6 })
    await waitFor(() => w.text() === 'c4,a5,d6,e7', 1000)
    await driver.delete('nyc', 'taxi', 'a')
    await waitFor(() => w.text() === 'c4,d6,e7', 1000)
    expect(r.total.value).toBe(3)
    expect(log.filter((l) => !l.startsWith('~'))).toEqual(['+c:4', '-b', 'xa'])
    expect(log).toContain('~d:6:n')
    expect(log.indexOf('~d:6:n')).toBeGreaterThan(log.indexOf('-b'))
  })

  it('unchanged rows keep their identity across membership changes', async () => {
    const driver = seeded()
    const { r } = mountWith(driver, () => useObservedSearch<Taxi>('nyc', 'taxi', RED, { live: 'query' }))
    await waitFor(() => r.hits.value.length === 4, 1000)
    const before = new Map(r.hits.value.map((h) => [h._id, h]))
    await driver.create('nyc', 'taxi', { n: 0, color: 'red' }, 'z')
    await waitFor(() => r.hits.value.length === 5, 1000)
    for (const h of r.hits.value) if (h._id !== 'z') expect(h).toBe(before.get(h._id))
  })

  it('a reactive search re-targets; null pauses with status idle', async () => {
    const driver = seeded()
    const color = ref<string | null>('red')
    const { w, r } = mountWith(
      driver,
      () => useObservedSearch<Taxi>('nyc', 'taxi', () => (color.value ? { query: { equals: { color: color.value } }, sort: 'n' } : null), { live: 'query' }),
      list,
    )
    await waitFor(() => w.text() === 'd1,b3,a5,e7', 1000)
    color.value = 'blue'
    await waitFor(() => w.text() === 'c9', 1000)
    expect(r.total.value).toBe(1)
    color.value = null
    await nextTick()
    expect(r.status.value).toBe('idle')
    expect(r.hits.value).toEqual([])
    expect(r.total.value).toBe(0)
    await waitFor(() => driver.activeWatches === 0, 1000)
    color.value = 'red'
    await waitFor(() => w.text() === 'd1,b3,a5,e7', 1000)
  })

  it('immediate: false, then start(); stop(); unmount releases every watch', async () => {
    const driver = seeded()
    const { w, r } = mountWith(driver, () => useObservedSearch<Taxi>('nyc', 'taxi', RED, { immediate: false }))
    expect(r.status.value).toBe('stopped')
    expect(r.isActive.value).toBe(false)
    expect(driver.activeWatches).toBe(0)
    r.start()
    await waitFor(() => r.status.value === 'live' && driver.activeWatches === 1, 1000)
    expect(r.hits.value.map((h) => h._id)).toEqual(['d', 'b', 'a', 'e'])
    r.stop()
    expect(r.status.value).toBe('stopped')
    await waitFor(() => driver.activeWatches === 0, 1000)
    r.start()
    await waitFor(() => driver.activeWatches === 1, 1000)
    w.unmount()
    wrappers.splice(wrappers.indexOf(w), 1)
    await waitFor(() => driver.activeWatches === 0, 1000, { what: '0 active watches' })
  })

  it('target: hits go into a ref the caller owns', async () => {
    const driver = seeded()
    const mine: Ref<ObservedDoc<Taxi>[]> = ref([])
    const { r } = mountWith(driver, () => useObservedSearch<Taxi>('nyc', 'taxi', RED, { target: mine }))
    expect(r.hits).toBe(mine)
    await waitFor(() => mine.value.length === 4, 1000)
    expect(mine.value.map((h) => h._id)).toEqual(['d', 'b', 'a', 'e'])
  })

  it('effectScope disposal and an explicit client', async () => {
    const driver = seeded()
    const client = new ObserverClient({ driver, releaseDelay: 5 })
    const scope = effectScope()
    const s = scope.run(() => useObservedSearch<Taxi>('nyc', 'taxi', RED, { client, live: 'query' }))!
    await s
    expect(s.status.value).toBe('live')
    expect(s.hits.value).toHaveLength(4)
    scope.stop()
    expect(s.status.value).toBe('stopped')
    await waitFor(() => driver.activeWatches === 0, 1000)
    client.close()
  })

  it('a bad size gives status error, not a throw', () => {
    const driver = seeded()
    const { r } = mountWith(driver, () => useObservedSearch<Taxi>('nyc', 'taxi', RED, { size: -1 }))
    expect(r.status.value).toBe('error')
    expect(r.error.value?.code).toBe('bad_argument')
  })
})
