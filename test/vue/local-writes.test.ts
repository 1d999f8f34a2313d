// @vitest-environment happy-dom
// Local writes through useObservedDocument (issue 16): optimistic (the DOM shows the write before any request),
// the pending ref, rollback with onError, and a Pinia store target that shows the local write.
import { afterEach, describe, expect, it } from 'vitest'
import { defineComponent, h, nextTick } from 'vue'
import { mount, type VueWrapper } from '@vue/test-utils'
import { createPinia, defineStore } from 'pinia'
import { createObserver, useObservedDocument, useObservedSearch, type ObservedDoc, type ObservedError } from '../../src'
import { memoryDriver, type MemoryDriver } from '../../src/drivers/memory'
import { waitFor } from '../helpers/wait-for'

type Taxi = { n: number; color: string }

const wrappers: VueWrapper[] = []
afterEach(() => {
  for (const w of wrappers.splice(0)) w.unmount()
})

/** A memory driver whose writes reach the backend only when `release()` is called. */
function gatedDriver() {
  const driver = memoryDriver()
  driver.seed<Taxi>('nyc', 'taxi', [{ _id: 'a', _source: { n: 5, color: 'red' } }])
  const releases: Array<() => void> = []
  let writes = 0
  const gated: MemoryDriver = Object.assign(Object.create(driver), {
    write: async (...args: Parameters<MemoryDriver['write']>) => {
      writes++
      await new Promise<void>((resolve) => releases.push(resolve))
      return driver.write(...args)
    },
  })
  return { driver, gated, release: () => releases.shift()?.(), writes: () => writes }
}

function mountTaxi(driver: MemoryDriver, pinia = createPinia(), useStore?: () => { taxi: ObservedDoc<Taxi> | null }) {
  const out: { d?: ReturnType<typeof useObservedDocument<Taxi>>; renders: number } = { renders: 0 }
  const w = mount(
    defineComponent({
      setup() {
        const store = useStore?.()
        const d = (store ? useObservedDocument('nyc', 'taxi', 'a', { store: { store: store as never, key: 'taxi' as never } }) : useObservedDocument<Taxi>('nyc', 'taxi', 'a')) as ReturnType<typeof useObservedDocument<Taxi>>
        out.d = d
        return () => {
          out.renders++
          return h('p', `${d.data.value?._source.n ?? '-'} ${d.pending.value ? 'pending' : 'saved'}`)
        }
      },
    }),
    { global: { plugins: [pinia, createObserver({ driver, releaseDelay: 5 })] } },
  )
  wrappers.push(w)
  return { w, out }
}

describe('local writes in Vue', () => {
  it('an optimistic update is on screen at the next tick, before the request, pending until confirmed, then rendered once more', async () => {
    const { gated, driver, release, writes } = gatedDriver()
    const { w, out } = mountTaxi(gated)
    await waitFor(() => w.text() === '5 saved', 1000)
    const saved = out.d!.update({ n: 6 })
    await nextTick()
    expect(w.text()).toBe('6 pending')
    expect(driver.snapshot('nyc', 'taxi')[0]._source).toEqual({ n: 5, color: 'red' })
    await waitFor(() => writes() === 1, 1000)
    const renders = out.renders
    release()
    await saved
    await waitFor(() => w.text() === '6 saved', 1000)
    // Confirmation re-renders only the pending flag, never the content.
    await waitFor(() => out.renders === renders + 1, 1000)
    expect(driver.snapshot('nyc', 'taxi')[0]._source).toEqual({ n: 6, color: 'red' })
  })

  it('a refused write is rolled back on screen and triggers onError (rollback)', async () => {
    const { gated, release } = gatedDriver()
    const { w, out } = mountTaxi(gated)
    await waitFor(() => w.text() === '5 saved', 1000)
    const errors: ObservedError[] = []
    out.d!.onError((e) => errors.push(e))
    const write = out.d!.update({ n: 7 }, { ifRevision: 'not-the-revision' })
    const outcome = write.then(() => null, (e: ObservedError) => e)
    await nextTick()
    expect(w.text()).toBe('7 pending')
    await waitFor(() => {
      release()
      return errors.length > 0
    }, 1000)
    expect(await outcome).toMatchObject({ code: 'conflict' })
    await waitFor(() => w.text() === '5 saved', 1000)
    expect(errors.map((e) => e.code)).toEqual(['conflict'])
  })

  it('a Pinia store target shows the local write, and the server content again after a rollback', async () => {
    const { gated, release } = gatedDriver()
    const pinia = createPinia()
    const useCurrent = defineStore('current-write', { state: () => ({ taxi: null as ObservedDoc<Taxi> | null }) })
    const { w, out } = mountTaxi(gated, pinia, () => useCurrent())
    const store = useCurrent(pinia)
    await waitFor(() => store.taxi?._source.n === 5, 1000)
    const write = out.d!.update({ n: 8 })
    await nextTick()
    expect(store.taxi?._source.n).toBe(8)
    release()
    await write
    await waitFor(() => w.text() === '8 saved', 1000)
    const refused = out.d!.replace({ n: 9, color: 'blue' }, { ifRevision: 'stale' }).then(() => null, (e: ObservedError) => e)
    await nextTick()
    expect(store.taxi?._source).toEqual({ n: 9, color: 'blue' })
    await waitFor(() => {
      release()
      return store.taxi?._source.n === 8
    }, 1000)
    expect(await refused).toMatchObject({ code: 'conflict' })
    await waitFor(() => store.taxi?._source.n === 8, 1000)
    expect(store.taxi?._source).toEqual({ n: 8, color: 'red' })
  })

  it('a live search shows a local write of its hit at once, in sort order, with the hit pending until confirmed', async () => {
    const { gated, release, driver } = gatedDriver()
    await driver.create('nyc', 'taxi', { n: 7, color: 'red' }, 'b')
    const out: { d?: ReturnType<typeof useObservedDocument<Taxi>>; s?: ReturnType<typeof useObservedSearch<Taxi>> } = {}
    const w = mount(
      defineComponent({
        setup() {
          out.d = useObservedDocument<Taxi>('nyc', 'taxi', 'a')
          out.s = useObservedSearch<Taxi>('nyc', 'taxi', { sort: 'n' }, { live: 'query' })
          return () => h('ul', out.s!.hits.value.map((t) => h('li', `${t._id}:${t._source.n}${out.s!.pending.value.has(t._id) ? '*' : ''}`)))
        },
      }),
      { global: { plugins: [createPinia(), createObserver({ driver: gated, releaseDelay: 5 })] } },
    )
    wrappers.push(w)
    await waitFor(() => w.text() === 'a:5b:7', 1000, { what: 'the list' })
    const write = out.d!.update({ n: 9 })
    await nextTick()
    // Moved past b at once, flagged pending.
    expect(w.text()).toBe('b:7a:9*')
    await waitFor(() => {
      release()
      return w.text() === 'b:7a:9'
    }, 1000, { what: 'confirmed' })
    await write
  })

  it('a local write makes a document enter a filtered live search on screen at once, and another leave it (pending, optimistic)', async () => {
    const { gated, release, driver } = gatedDriver()
    await driver.create('nyc', 'taxi', { n: 7, color: 'blue' }, 'b')
    await driver.create('nyc', 'taxi', { n: 8, color: 'red' }, 'c')
    const out: { a?: ReturnType<typeof useObservedDocument<Taxi>>; d?: ReturnType<typeof useObservedDocument<Taxi>>; s?: ReturnType<typeof useObservedSearch<Taxi>> } = {}
    const w = mount(
      defineComponent({
        setup() {
          out.a = useObservedDocument<Taxi>('nyc', 'taxi', 'a')
          out.d = useObservedDocument<Taxi>('nyc', 'taxi', 'b')
          out.s = useObservedSearch<Taxi>('nyc', 'taxi', { query: { equals: { color: 'red' } }, sort: 'n' }, { live: 'query' })
          return () => h('ul', out.s!.hits.value.map((t) => h('li', `${t._id}:${t._source.n}${out.s!.pending.value.has(t._id) ? '*' : ''}`)))
        },
      }),
      { global: { plugins: [createPinia(), createObserver({ driver: gated, releaseDelay: 5 })] } },
    )
    wrappers.push(w)
    await waitFor(() => w.text() === 'a:5c:8' && out.s!.total.value === 2, 1000, { what: 'the list' })
    // b was not a hit: it enters in sort order, before any request reached the backend.
    const entered = out.d!.update({ color: 'red' })
    await nextTick()
    expect(w.text()).toBe('a:5b:7*c:8')
    expect(out.s!.total.value).toBe(3)
    await waitFor(() => {
      release()
      return w.text() === 'a:5b:7c:8'
    }, 1000, { what: 'the entry confirmed' })
    await entered
    // A hit's write that stops it matching takes it out at once.
    const left = out.a!.update({ color: 'blue' })
    await nextTick()
    expect(w.text()).toBe('b:7c:8')
    expect(out.s!.total.value).toBe(2)
    await waitFor(() => {
      release()
      return !out.a!.pending.value
    }, 1000, { what: 'the exit confirmed' })
    await left
    expect(w.text()).toBe('b:7c:8')
  })

  it('writing to a paused document is refused with bad_argument', async () => {
    const driver = memoryDriver()
    const pinia = createPinia()
    const out: { d?: ReturnType<typeof useObservedDocument<Taxi>> } = {}
    const w = mount(
      defineComponent({
        setup() {
          out.d = useObservedDocument<Taxi>('nyc', 'taxi', null)
          return () => h('p')
        },
      }),
      { global: { plugins: [pinia, createObserver({ driver })] } },
    )
    wrappers.push(w)
    await expect(out.d!.update({ n: 1 })).rejects.toMatchObject({ code: 'bad_argument' })
  })
})
