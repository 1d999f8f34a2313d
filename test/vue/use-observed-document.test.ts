// @vitest-environment happy-dom
// useObservedDocument mounted in real components: state refs, controls, hooks, Suspense, re-targeting with a stale
// answer guard, pausing, immediate: false, scope disposal, target ref, and the errors a misuse gets.
import { afterEach, describe, expect, it } from 'vitest'
import { defineComponent, effectScope, h, isReactive, nextTick, ref, shallowRef, Suspense, type Ref } from 'vue'
import { mount, type VueWrapper } from '@vue/test-utils'
import { createObserver, useObservedDocument, type ObservedDoc, type UseObservedDocumentReturn } from '../../src'
import { ObserverClient } from '../../src/core'
import { memoryDriver, type MemoryDriver } from '../../src/drivers/memory'
import { waitFor } from '../helpers/wait-for'

type Taxi = { plate: string; seats?: number }

const wrappers: VueWrapper[] = []
afterEach(() => {
  for (const w of wrappers.splice(0)) w.unmount()
})
function seeded(latency = 0): MemoryDriver {
  const driver = memoryDriver({ latency })
  driver.seed<Taxi>('nyc', 'taxi', [
    { _id: 't1', _source: { plate: 'A-1', seats: 4 } },
    { _id: 't2', _source: { plate: 'B-2', seats: 6 } },
  ])
  return driver
}

/** Mounts a component that calls `use` in setup and renders `render` of its result. */
function mountWith<R>(driver: MemoryDriver, use: () => R, render: (r: R) => string = () => '', options: { backoff?: { base: number; cap: number } } = {}) {
  const out: { r?: R } = {}
  const Comp = defineComponent({
    setup() {
      const r = use()
      out.r = r
      return () => h('p', render(r))
    },
  })
  const w = mount(Comp, { global: { plugins: [createObserver({ driver, releaseDelay: 5, ...options })] } })
  wrappers.push(w)
  return { w, r: out.r as R }
}
const show = (d: UseObservedDocumentReturn<Taxi>) => `${d.status.value}:${d.data.value?._id ?? '-'}:${d.data.value?._source.plate ?? '-'}`

describe('useObservedDocument', () => {
  it('data, status, error and isActive follow the document; stop() and start() work; refresh() reads again', async () => {
    const driver = seeded()
    const { w, r } = mountWith(driver, () => useObservedDocument<Taxi>('nyc', 'taxi', 't1'), show)
    expect(r.status.value).toBe('pending')
    expect(r.isActive.value).toBe(true)
    await waitFor(() => w.text() === 'live:t1:A-1', 1000)
    expect(r.data.value).toEqual({ _id: 't1', _source: { plate: 'A-1', seats: 4 } })
    expect(r.error.value).toBeNull()
    await driver.update('nyc', 'taxi', 't1', { plate: 'A-9' })
    await waitFor(() => w.text() === 'live:t1:A-9', 1000)
    r.stop()
    expect(r.isActive.value).toBe(false)
    expect(r.status.value).toBe('stopped')
    await waitFor(() => driver.activeWatches === 0, 1000)
    r.start()
    await waitFor(() => r.status.value === 'live', 1000)
    expect(r.isActive.value).toBe(true)
    // refresh() picks up a write the channel never delivered.
    driver.faults.drop = 1
    await driver.update('nyc', 'taxi', 't1', { seats: 2 })
    driver.faults.drop = 0
    await r.refresh()
    expect(r.data.value?._source.seats).toBe(2)
  })

  it('onChange, onDelete and onError hooks fire with the right arguments', async () => {
    const driver = seeded()
    const log: string[] = []
    const { r } = mountWith(driver, () => {
      const d = useObservedDocument<Taxi>('nyc', 'taxi', 't1')
      d.onChange((doc, changes) => {
        log.push(`change:${doc._id}:${doc._source.plate}:${changes.join('+')}`)
        // The document as `data` shows it: its reactive `_source`, per field.
        if (doc !== d.data.value || !isReactive(doc._source)) log.push('not the document data shows')
      })
      d.onDelete((id) => log.push(`delete:${id}`))
      d.onError((err) => log.push(`error:${err.code}`))
      return d
    })
    await waitFor(() => r.status.value === 'live', 1000)
    // The first read is not a change: onChange fires for changes after it.
    expect(log).toEqual([])
    await driver.update('nyc', 'taxi', 't1', { plate: 'Z' })
    await waitFor(() => log.length === 1, 1000)
    await driver.delete('nyc', 'taxi', 't1')
    await waitFor(() => r.status.value === 'deleted', 1000)
    expect(r.data.value).toBeNull()
    driver.faults.failWatches('gone', { fatal: true })
    await waitFor(() => r.status.value === 'error', 1000)
    expect(r.error.value?.message).toBe('gone')
    expect(log).toEqual(['change:t1:Z:plate', 'delete:t1', 'error:watch_failed'])
  })

  it('await in an async setup under <Suspense> renders with the data there', async () => {
    const driver = seeded(20)
    let renderedStatus = ''
    const Child = defineComponent({
      async setup() {
        const d = await useObservedDocument<Taxi>('nyc', 'taxi', 't2')
        renderedStatus = d.status.value
        return () => h('p', { id: 'child' }, d.data.value?._source.plate)
      },
    })
    const App = defineComponent({
      setup: () => () => h(Suspense, null, { default: () => h(Child), fallback: () => h('p', { id: 'fallback' }, 'loading') }),
    })
    const w = mount(App, { global: { plugins: [createObserver({ driver })] } })
    wrappers.push(w)
    expect(w.find('#fallback').exists()).toBe(true)
    await waitFor(() => w.find('#child').exists(), 1000, { what: 'child rendered' })
    expect(w.find('#child').text()).toBe('B-2')
    expect(renderedStatus).toBe('live')
    // Still live after Suspense resolved.
    await driver.update('nyc', 'taxi', 't2', { plate: 'B-3' })
    await waitFor(() => w.find('#child').text() === 'B-3', 1000)
  })

  it('a reactive id ref re-targets, and so does a getter', async () => {
    const driver = seeded()
    const id = ref('t1')
    const { w, r } = mountWith(driver, () => useObservedDocument<Taxi>('nyc', 'taxi', id), show)
    await waitFor(() => w.text() === 'live:t1:A-1', 1000)
    id.value = 't2'
    await waitFor(() => w.text() === 'live:t2:B-2', 1000)
    await driver.update('nyc', 'taxi', 't1', { plate: 'old' })
    await driver.update('nyc', 'taxi', 't2', { plate: 'new' })
    await waitFor(() => w.text() === 'live:t2:new', 1000)
    expect(r.data.value?._id).toBe('t2')

    const props = shallowRef({ taxiId: 't1' })
    const g = mountWith(driver, () => useObservedDocument<Taxi>('nyc', 'taxi', () => props.value.taxiId), show)
    await waitFor(() => g.w.text() === 'live:t1:old', 1000)
    props.value = { taxiId: 't2' }
    await waitFor(() => g.w.text() === 'live:t2:new', 1000)
  })

  it('changing the id while the old read is in flight never shows the old document', async () => {
    const driver = seeded(80) // slow reads
    const id = ref('t1')
    const seen: string[] = []
    const { r } = mountWith(driver, () => {
      const d = useObservedDocument<Taxi>('nyc', 'taxi', id)
      return d
    }, (d) => {
      const s = `${d.data.value?._id ?? '-'}:${d.data.value?._source.plate ?? '-'}`
      seen.push(s)
      return s
    })
    // t1's watch is live and its read is in flight: switch now.
    await waitFor(() => driver.watchStats()['nyc/taxi']?.[0]?.live, 1000, { what: 't1 watch live' })
    expect(r.status.value).toBe('pending')
    id.value = 't2'
    await nextTick()
    await waitFor(() => r.data.value?._id === 't2', 2000, { what: 't2 shown' })
    // Past the old read's answer.
    const deadline = Date.now() + 150
    await waitFor(() => Date.now() >= deadline, 1000)
    expect(r.data.value).toEqual({ _id: 't2', _source: { plate: 'B-2', seats: 6 } })
    expect(seen.filter((s) => s.startsWith('t1'))).toEqual([])
    expect(seen.at(-1)).toBe('t2:B-2')
  })

  it('a null id pauses with status idle and no watch; a value resumes', async () => {
    const driver = seeded()
    const id = ref<string | null>('t1')
    const { r } = mountWith(driver, () => useObservedDocument<Taxi>('nyc', 'taxi', id))
    await waitFor(() => r.status.value === 'live', 1000)
    id.value = null
    await nextTick()
    expect(r.status.value).toBe('idle')
    expect(r.data.value).toBeNull()
    expect(r.error.value).toBeNull()
    await waitFor(() => driver.activeWatches === 0, 1000)
    id.value = 't2'
    await waitFor(() => r.status.value === 'live', 1000)
    expect(r.data.value?._source.plate).toBe('B-2')
  })

  it('immediate: false starts stopped; start() starts', async () => {
    const driver = seeded()
    const { r } = mountWith(driver, () => useObservedDocument<Taxi>('nyc', 'taxi', 't1', { immediate: false }))
    expect(r.status.value).toBe('stopped')
    expect(r.isActive.value).toBe(false)
    expect(driver.activeWatches).toBe(0)
    r.start()
    await waitFor(() => r.status.value === 'live', 1000)
    expect(r.data.value?._source.plate).toBe('A-1')
  })

  it('unmount releases the driver watch', async () => {
    const driver = seeded()
    const { w, r } = mountWith(driver, () => useObservedDocument<Taxi>('nyc', 'taxi', 't1'))
    await waitFor(() => r.status.value === 'live', 1000)
    expect(driver.activeWatches).toBe(1)
    w.unmount()
    wrappers.splice(wrappers.indexOf(w), 1)
    await waitFor(() => driver.activeWatches === 0, 1000, { what: '0 active watches' })
    expect(r.status.value).toBe('stopped')
  })

  it('1,000 mounted components observing 1,000 ids share one pooled watch; unmount leaves none', async () => {
    const driver = memoryDriver()
    const ids = Array.from({ length: 1000 }, (_, k) => `t${k}`)
    driver.seed<Taxi>('nyc', 'taxi', ids.map((id, k) => ({ _id: id, _source: { plate: `P${k}` } })))
    const Item = defineComponent({
      props: { id: { type: String, required: true } },
      setup(props) {
        const d = useObservedDocument<Taxi>('nyc', 'taxi', () => props.id)
        return () => h('li', { id: props.id }, d.data.value?._source.plate ?? '')
      },
    })
    const List = defineComponent({ setup: () => () => h('ul', ids.map((id) => h(Item, { key: id, id }))) })
    const w = mount(List, { global: { plugins: [createObserver({ driver, releaseDelay: 5 })] } })
    await waitFor(() => w.findAll('li').every((li) => li.text() !== ''), 5000, { what: 'all rows filled' })
    expect(w.find('#t999').text()).toBe('P999')
    expect(driver.activeWatches).toBe(1)
    expect(driver.watchStats()['nyc/taxi'].map((x) => x.ids)).toEqual([1000])
    await driver.update('nyc', 'taxi', 't500', { plate: 'moved' })
    await waitFor(() => w.find('#t500').text() === 'moved', 1000)
    w.unmount()
    await waitFor(() => driver.activeWatches === 0, 1000, { what: '0 active watches' })
  })

  it('disposal follows an effectScope', async () => {
    const driver = seeded()
    const client = new ObserverClient({ driver, releaseDelay: 5 })
    const scope = effectScope()
    const d = scope.run(() => useObservedDocument<Taxi>('nyc', 'taxi', 't1', { client }))!
    await waitFor(() => d.status.value === 'live', 1000)
    expect(driver.activeWatches).toBe(1)
    scope.stop()
    expect(d.status.value).toBe('stopped')
    expect(d.isActive.value).toBe(false)
    await waitFor(() => driver.activeWatches === 0, 1000)
    client.close()
  })

  it('target: writes into a ref the caller owns', async () => {
    const driver = seeded()
    const mine: Ref<ObservedDoc<Taxi> | null> = ref(null)
    const { r } = mountWith(driver, () => useObservedDocument<Taxi>('nyc', 'taxi', 't1', { target: mine }))
    expect(r.data).toBe(mine)
    await waitFor(() => mine.value?._source.plate === 'A-1', 1000)
    await driver.update('nyc', 'taxi', 't1', { plate: 'Q' })
    await waitFor(() => mine.value?._source.plate === 'Q', 1000)
    expect(mine.value).toEqual({ _id: 't1', _source: { plate: 'Q', seats: 4 } })
  })

  it('a bad id gives status error with a bad_argument error, without throwing', async () => {
    const driver = seeded()
    const { r } = mountWith(driver, () => useObservedDocument<Taxi>('nyc', 'taxi', ''))
    expect(r.status.value).toBe('error')
    expect(r.error.value?.code).toBe('bad_argument')
    expect(r.error.value?.message).toMatch(/document id must be a non-empty string/)
  })

  it('a failed read shows status error, then recovers', async () => {
    const driver = seeded()
    driver.faults.failReads = 1
    const { r } = mountWith(driver, () => useObservedDocument<Taxi>('nyc', 'taxi', 't1'), () => '', { backoff: { base: 5, cap: 50 } })
    await waitFor(() => r.status.value === 'error', 1000)
    expect(r.error.value?.code).toBe('read_failed')
    await waitFor(() => r.status.value === 'live', 1000)
    expect(r.error.value).toBeNull()
    expect(r.data.value?._source.plate).toBe('A-1')
  })
})

describe('misuse gets a clear error', () => {
  it('outside setup or a scope', () => {
    expect(() => useObservedDocument('nyc', 'taxi', 't1')).toThrow(/needs an owner to stop with: call it inside a component setup\(\)/)
  })

  it('in a component without the plugin', () => {
    const Comp = defineComponent({
      setup() {
        useObservedDocument('nyc', 'taxi', 't1')
        return () => h('p')
      },
    })
    let error: Error | undefined
    try {
      wrappers.push(mount(Comp))
    } catch (err) {
      error = err as Error
    }
    expect(error?.message).toMatch(/No observer client: install the plugin first/)
    expect(error?.message).toMatch(/createObserver\(\{ driver: memoryDriver\(\) \}\)/)
  })

  it('in an effectScope outside any app, without { client }', () => {
    const scope = effectScope()
    expect(() => scope.run(() => useObservedDocument('nyc', 'taxi', 't1'))).toThrow(/outside setup\(\).*pass \{ client \} explicitly/s)
    scope.stop()
  })
})

describe('useObservedDocument: its return as an API object', () => {
  it('works destructured and spread, awaits to the same refs without `then`, and re-targets only through refs or getters', async () => {
    const driver = seeded()
    const id = ref('t1')
    const { r } = mountWith(driver, () => ({ fixed: useObservedDocument<Taxi>('nyc', 'taxi', 't2'), moving: useObservedDocument<Taxi>('nyc', 'taxi', id) }))
    const { data, status, isPrevious, stop, start, update, onChange } = r.moving
    const spread = { ...r.fixed }
    const awaited = await r.fixed
    expect('then' in awaited).toBe(false)
    expect(awaited.data).toBe(r.fixed.data)
    expect(awaited.update).toBe(r.fixed.update)
    expect(Object.keys(spread).sort()).toEqual(Object.keys(r.fixed).sort())
    expect(spread.data.value?._source.plate).toBe('B-2')
    await waitFor(() => status.value === 'live')
    expect(data.value?._source.plate).toBe('A-1')
    expect(isPrevious.value).toBe(false)
    const changes: string[][] = []
    onChange((_doc, c) => changes.push(c))
    await update({ seats: 5 })
    await waitFor(() => changes.length > 0)
    expect(changes[0]).toEqual(['seats'])
    id.value = 't2'
    await waitFor(() => data.value?._id === 't2' && status.value === 'live')
    stop()
    expect(status.value).toBe('stopped')
    start()
    await waitFor(() => status.value === 'live')
    expect(data.value?._source.plate).toBe('B-2')
  })
})
