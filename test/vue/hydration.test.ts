// @vitest-environment happy-dom
/**
 * SSR hydration: a page is rendered on the server (createSSRApp + renderToString), its client dehydrated and the
 * payload carried through devalue, then the same tree is hydrated in a DOM over the server's HTML with Vue's
 * hydration warnings turned into failures. The first render shows the server's data (no mismatch, no flash); the
 * confirmation reads after the watch is up are counted; unchanged rows keep their identity.
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createPinia, defineStore, type Pinia } from 'pinia'
import { createSSRApp, defineComponent, h, nextTick, Suspense, toRaw, type App, type Component } from 'vue'
import { renderToString } from 'vue/server-renderer'
import { createObserver, ObserverClient, useObservedDocument, useObservedSearch, type ObservedDoc, type UseObservedDocumentReturn, type UseObservedSearchReturn } from '../../src'
import { memoryDriver } from '../../src/drivers/memory'
import { parseState, serializeState } from '../../src/ssr'
import { instrument, type InstrumentedDriver } from '../helpers/instrumented-driver'
import { staysEqual, waitFor } from '../helpers/wait-for'

interface Taxi {
  name: string
  fare: number
}

function seeded(): InstrumentedDriver {
  const inner = memoryDriver()
  inner.seed('i', 'c', [
    { _id: 'a', _source: { name: 'Ana', fare: 3 } },
    { _id: 'b', _source: { name: 'Bo', fare: 9 } },
    { _id: 'c', _source: { name: 'Cy', fare: 5 } },
  ])
  // The server's and the browser's drivers: one backend, the same driver name (keys include it).
  return instrument(inner)
}

/** Renders on the server; returns the HTML and the payload as the page would carry it (devalue text). */
async function serverRender(root: Component, driver: InstrumentedDriver, pinia?: Pinia) {
  const plugin = createObserver({ driver })
  const app = createSSRApp(root).use(plugin)
  if (pinia) app.use(pinia)
  const html = await renderToString(app)
  return { html, text: serializeState(plugin.client.dehydrate()), piniaText: pinia ? serializeState(pinia.state.value) : '' }
}

const mounted: App[] = []
afterEach(() => {
  for (const app of mounted.splice(0)) app.unmount()
  document.body.innerHTML = ''
  vi.restoreAllMocks()
})

/** Hydrates `root` over the server's HTML, failing on any Vue warning and on any hydration mismatch message. */
function hydrate(root: Component, html: string, driver: InstrumentedDriver, text: string, pinia?: Pinia) {
  const container = document.createElement('div')
  container.innerHTML = html
  document.body.append(container)
  const plugin = createObserver({ driver, initialState: parseState(text) })
  const app = createSSRApp(root).use(plugin)
  if (pinia) app.use(pinia)
  app.config.warnHandler = (msg) => {
    throw new Error(`Vue warning during hydration: ${msg}`)
  }
  const warn = vi.spyOn(console, 'warn')
  const error = vi.spyOn(console, 'error')
  app.mount(container)
  mounted.push(app)
  const said = [...warn.mock.calls, ...error.mock.calls].map((args) => args.join(' '))
  expect(said.filter((m) => /hydration|mismatch/i.test(m))).toEqual([])
  return { container, client: plugin.client }
}

describe('SSR hydration: core payload', () => {
  it('dehydrates what the server read, with derived keys, revisions and times', async () => {
    const driver = seeded()
    const client = new ObserverClient({ driver })
    await client.read('i', 'c', 'a')
    await client.read('i', 'c', 'zz')
    await client.readSearch('i', 'c', { sort: { fare: 'desc' } }, { size: 2 })
    const state = client.dehydrate()
    expect(state.v).toBe(1)
    expect(state.docs.map((d) => [d.driver, d.index, d.collection, d.id, d.source, typeof d.rev, typeof d.at])).toEqual([
      ['instrumented-memory', 'i', 'c', 'a', { name: 'Ana', fare: 3 }, 'number', 'number'],
      ['instrumented-memory', 'i', 'c', 'zz', null, 'undefined', 'number'],
      ['instrumented-memory', 'i', 'c', 'b', { name: 'Bo', fare: 9 }, 'number', 'number'],
      ['instrumented-memory', 'i', 'c', 'c', { name: 'Cy', fare: 5 }, 'number', 'number'],
    ])
    expect(state.searches).toHaveLength(1)
    expect(state.searches[0]).toMatchObject({ ids: ['b', 'c'], total: 3, size: 2 })
    // The key is derived from what is observed: the same search written differently has the same key.
    const browser = new ObserverClient({ driver, initialState: state })
    expect(browser.hydratedSearch('i', 'c', { sort: [{ fare: { order: 'desc' } }] }, { size: 2 })?.ids).toEqual(['b', 'c'])
    expect(browser.hydratedSearch('i', 'c', { sort: [{ fare: 'asc' }] }, { size: 2 })).toBeUndefined()
    expect(browser.hydratedSearch('i', 'c', { sort: [{ fare: 'desc' }] }, { size: 3 })).toBeUndefined()
    client.close()
    browser.close()
  })

  it('ignores a payload of another version or shape with one warning, never a crash', () => {
    const driver = seeded()
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined)
    const bad: unknown[] = [
      null,
      'x',
      { v: 2, docs: [], searches: [] },
      { v: 1, docs: {}, searches: [] },
      { v: 1, docs: [{ driver: 'instrumented-memory', index: 'i', collection: 'c', id: 'a', source: 'str', at: 1 }], searches: [] },
      { v: 1, docs: [], searches: [{ key: 'k', ids: [1], total: 1, size: 1, at: 1 }] },
    ]
    for (const payload of bad) {
      warn.mockClear()
      const client = new ObserverClient({ driver, initialState: payload })
      expect(warn).toHaveBeenCalledTimes(1)
      expect(String(warn.mock.calls[0][0])).toMatch(/Hydration payload ignored/)
      expect(client.hydrate(payload)).toBe(false)
      client.close()
    }
  })

  it('hydration treats __proto__ keys as plain data: no prototype is polluted', async () => {
    const driver = seeded()
    const payload = JSON.parse(
      '{"v":1,"__proto__":{"polluted":1},"docs":[{"driver":"instrumented-memory","index":"i","collection":"c","id":"a","source":{"name":"Ana","fare":3,"__proto__":{"polluted":2}},"rev":1,"at":1}],"searches":[]}',
    )
    const client = new ObserverClient({ driver, initialState: payload })
    const o = client.get<Taxi>('i', 'c', 'a')
    expect(o._source).toEqual({ name: 'Ana', fare: 3 })
    expect(Object.getPrototypeOf(o._source)).toBe(Object.prototype)
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    client.close()
  })

  it('SSR payload serialisation is safe to inline in HTML: </script>, U+2028/2029, __proto__ and dates survive', () => {
    const nasty = JSON.parse('{"__proto__":{"x":1},"text":"</script><script>alert(1)</script>\u2028\u2029"}')
    const date = new Date('2026-01-02T03:04:05Z')
    const text = serializeState({ v: 1, nasty, date })
    expect(text).not.toMatch(/<\/script/i)
    expect(text).not.toMatch(/[\u2028\u2029]/)
    const back = parseState(text) as { nasty: Record<string, unknown>; date: Date }
    expect(back.date).toBeInstanceOf(Date)
    expect(back.date.getTime()).toBe(date.getTime())
    expect(back.nasty.text).toBe(nasty.text)
    expect(Object.hasOwn(back.nasty, '__proto__')).toBe(true)
    expect(Object.getPrototypeOf(back.nasty)).toBe(Object.prototype)
    expect(({} as Record<string, unknown>).x).toBeUndefined()
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined)
    expect(parseState('not devalue')).toBeUndefined()
    // Crafted text with a raw `__proto__` key is refused by devalue: no pollution, no crash.
    expect(parseState('[{"__proto__":1},{"x":2}]')).toBeUndefined()
    expect(({} as Record<string, unknown>).x).toBeUndefined()
    expect(warn).toHaveBeenCalledTimes(2)
  })
})

describe('SSR hydration in the browser', () => {
  it('a hydrated document shows the server data at first render, stays pending, then confirms with one mGet', async () => {
    const driver = seeded()
    let doc!: ReturnType<typeof useObservedDocument<Taxi>>
    let renders = 0
    const Page = defineComponent({
      setup() {
        doc = useObservedDocument<Taxi>('i', 'c', 'a')
        return () => {
          renders++
          return h('p', doc.data.value ? `${doc.data.value._source.name}:${doc.data.value._source.fare}` : 'none')
        }
      },
    })
    const { html, text } = await serverRender(Page, driver)
    expect(html).toBe('<p>Ana:3</p>')
    driver.reads.length = 0
    renders = 0
    const { container } = hydrate(Page, html, driver, text)
    expect(container.innerHTML).toBe(html)
    expect(doc.status.value).toBe('pending')
    expect(driver.reads).toEqual([])
    const source = doc.data.value!._source
    await waitFor(() => doc.status.value === 'live')
    // Read after the watch is up, once; the unchanged document keeps its object and is not rendered again.
    expect(driver.openWatches().every((w) => w.ready)).toBe(true)
    expect(driver.reads).toEqual([{ op: 'mGet', ids: ['a'] }])
    expect(doc.data.value!._source).toBe(source)
    await nextTick()
    expect(renders).toBe(1)
    expect(container.innerHTML).toBe(html)
    // Live afterwards.
    await driver.inner.update('i', 'c', 'a', { fare: 4 })
    await waitFor(() => container.innerHTML === '<p>Ana:4</p>')
  })

  it('a document changed between render and hydration hydrates without mismatch, then shows the change', async () => {
    const driver = seeded()
    let doc!: ReturnType<typeof useObservedDocument<Taxi>>
    const Page = defineComponent({
      setup() {
        doc = useObservedDocument<Taxi>('i', 'c', 'a')
        return () => h('p', doc.data.value ? `${doc.data.value._source.name}:${doc.data.value._source.fare}` : 'none')
      },
    })
    const { html, text } = await serverRender(Page, driver)
    await driver.inner.update('i', 'c', 'a', { fare: 7 })
    driver.reads.length = 0
    const { container } = hydrate(Page, html, driver, text)
    expect(container.innerHTML).toBe('<p>Ana:3</p>')
    const source = doc.data.value!._source
    await waitFor(() => container.innerHTML === '<p>Ana:7</p>')
    expect(doc.status.value).toBe('live')
    // Replaced in place: the same container, only the changed field written.
    expect(doc.data.value!._source).toBe(source)
    expect(driver.reads).toEqual([{ op: 'mGet', ids: ['a'] }])
  })

  it('a document deleted between render and hydration hydrates without mismatch, then shows it gone', async () => {
    const driver = seeded()
    let doc!: ReturnType<typeof useObservedDocument<Taxi>>
    const Page = defineComponent({
      setup() {
        doc = useObservedDocument<Taxi>('i', 'c', 'a')
        return () => h('p', doc.data.value ? doc.data.value._source.name : 'none')
      },
    })
    const { html, text } = await serverRender(Page, driver)
    await driver.inner.delete('i', 'c', 'a')
    const { container } = hydrate(Page, html, driver, text)
    expect(container.innerHTML).toBe('<p>Ana</p>')
    await waitFor(() => doc.status.value === 'deleted')
    await nextTick()
    expect(container.innerHTML).toBe('<p>none</p>')
  })

  it('a hydrated search whose membership changed before hydration shows the server page, then the new one', async () => {
    const driver = seeded()
    let list!: UseObservedSearchReturn<Taxi>
    let doc!: ReturnType<typeof useObservedDocument<Taxi>>
    const Page = defineComponent({
      setup() {
        // The same document in a document composable (set up first) and in the search: one entry for both (the
        // composable shows its container, the row its frozen content).
        doc = useObservedDocument<Taxi>('i', 'c', 'b')
        list = useObservedSearch<Taxi>('i', 'c', { sort: { fare: 'desc' } }, { size: 2, live: 'query' })
        return () => h('ul', list.hits.value.map((hit) => h('li', { key: hit._id }, `${hit._source.name}:${hit._source.fare}`)))
      },
    })
    const { html, text } = await serverRender(Page, driver)
    expect(html).toBe('<ul><li>Bo:9</li><li>Cy:5</li></ul>')
    await driver.inner.update('i', 'c', 'a', { fare: 20 })
    const { container } = hydrate(Page, html, driver, text)
    expect(container.innerHTML).toBe(html)
    expect(list.hits.value[0]._source).toEqual(doc.data.value!._source)
    await waitFor(() => container.innerHTML === '<ul><li>Ana:20</li><li>Bo:9</li></ul>')
    expect(list.total.value).toBe(3)
    expect(list.hits.value[1]._source).toEqual(doc.data.value!._source)
  })

  it('a hydrated search kept in a Pinia store (as a map) keeps the objects Pinia hydrated', async () => {
    const driver = seeded()
    const useListStore = defineStore('list', { state: () => ({ byId: {} as Record<string, ObservedDoc<Taxi>> }) })
    const Page = defineComponent({
      setup() {
        const store = useListStore()
        useObservedSearch('i', 'c', { sort: 'fare' }, { size: 2, store: { store, key: 'byId', as: 'map' } })
        return () => h('ul', Object.values(store.byId).map((hit) => h('li', { key: hit._id }, hit._source.name)))
      },
    })
    const { html, text, piniaText } = await serverRender(Page, driver, createPinia())
    expect(html).toBe('<ul><li>Ana</li><li>Cy</li></ul>')
    const pinia = createPinia()
    pinia.state.value = parseState(piniaText) as Pinia['state']['value']
    const fromPinia = toRaw(pinia.state.value.list.byId)
    const rows = { a: toRaw(fromPinia.a), c: toRaw(fromPinia.c) }
    const { container } = hydrate(Page, html, driver, text, pinia)
    const store = useListStore(pinia)
    await waitFor(() => driver.reads.length >= 2)
    await staysEqual(() => toRaw(store.byId.a) === rows.a && toRaw(store.byId.c) === rows.c, 10, { what: 'the hydrated rows kept' })
    expect(toRaw(store.byId.a)).toBe(rows.a)
    expect(toRaw(store.byId.c)).toBe(rows.c)
    expect(container.innerHTML).toBe(html)
  })

  for (const live of ['hits', 'query'] as const) {
    it(`a hydrated search (live: '${live}') renders its rows at once and keeps them through confirmation`, async () => {
      const driver = seeded()
      let list!: UseObservedSearchReturn<Taxi>
      let rowRenders = 0
      const Row = defineComponent({
        props: { hit: { type: Object as () => ObservedDoc<Taxi>, required: true } },
        setup(props) {
          return () => {
            rowRenders++
            return h('li', `${props.hit._source.name}:${props.hit._source.fare}`)
          }
        },
      })
      const Page = defineComponent({
        setup() {
          list = useObservedSearch<Taxi>('i', 'c', { sort: { fare: 'desc' } }, { size: 2, live })
          return () => h('div', [h('ul', list.hits.value.map((hit) => h(Row, { key: hit._id, hit }))), h('p', `total ${list.total.value}`)])
        },
      })
      const { html, text } = await serverRender(Page, driver)
      expect(html).toBe('<div><ul><li>Bo:9</li><li>Cy:5</li></ul><p>total 3</p></div>')
      driver.reads.length = 0
      rowRenders = 0
      const { container } = hydrate(Page, html, driver, text)
      expect(container.innerHTML).toBe(html)
      expect(list.status.value).toBe('pending')
      const rows = [...list.hits.value]
      await waitFor(() => list.status.value === 'live')
      // One read per search; with live: 'hits' its rows are watched by id and confirmed by one mGet, which may
      // still be on its way when the search is live.
      const expected = live === 'hits' ? ['mGet', 'search'] : ['search']
      await waitFor(() => driver.reads.length >= expected.length, 2000, { what: 'the reads hydration needs' })
      await staysEqual(() => driver.reads.length, 20, { what: 'reads once live' })
      expect(driver.reads.map((r) => r.op).sort()).toEqual(expected)
      expect(list.hits.value).toHaveLength(2)
      list.hits.value.forEach((hit, i) => expect(hit).toBe(rows[i]))
      await nextTick()
      expect(rowRenders).toBe(2)
      expect(container.innerHTML).toBe(html)
      await driver.inner.update('i', 'c', 'c', { fare: 6 })
      await waitFor(() => container.innerHTML.includes('<li>Cy:6</li>'))
    })
  }

  it('a Pinia store target hydrates consistently with Pinia: one source, the same object before and after', async () => {
    const driver = seeded()
    const useTaxiStore = defineStore('taxi', { state: () => ({ taxi: null as ObservedDoc<Taxi> | null }) })
    const Page = defineComponent({
      setup() {
        const store = useTaxiStore()
        useObservedDocument('i', 'c', 'a', { store: { store, key: 'taxi' } })
        return () => h('p', store.taxi ? `${store.taxi._source.name}:${store.taxi._source.fare}` : 'none')
      },
    })
    const { html, text, piniaText } = await serverRender(Page, driver, createPinia())
    expect(html).toBe('<p>Ana:3</p>')
    const pinia = createPinia()
    pinia.state.value = parseState(piniaText) as Pinia['state']['value']
    const fromPinia = toRaw(pinia.state.value.taxi.taxi)
    expect(fromPinia).toEqual({ _id: 'a', _source: { name: 'Ana', fare: 3 } })
    driver.reads.length = 0
    const { container } = hydrate(Page, html, driver, text, pinia)
    const store = useTaxiStore(pinia)
    // The composable kept Pinia's hydrated object: no second copy, nothing overwritten at first render.
    expect(toRaw(store.taxi)).toBe(fromPinia)
    await waitFor(() => driver.reads.length === 1)
    await staysEqual(() => toRaw(store.taxi) === fromPinia, 10, { what: "Pinia's hydrated object kept" })
    expect(toRaw(store.taxi)).toBe(fromPinia)
    expect(container.innerHTML).toBe(html)
    await driver.inner.update('i', 'c', 'a', { fare: 8 })
    await waitFor(() => container.innerHTML === '<p>Ana:8</p>')
    expect(toRaw(store.taxi)).toBe(fromPinia)
  })

  it('SSR with Suspense: awaited composables resolve at once on hydrated data, without waiting for confirmation', async () => {
    const driver = seeded()
    let doc!: UseObservedDocumentReturn<Taxi>
    let list!: UseObservedSearchReturn<Taxi>
    const Inner = defineComponent({
      async setup() {
        const [d, l] = await Promise.all([
          useObservedDocument<Taxi>('i', 'c', 'a'),
          useObservedSearch<Taxi>('i', 'c', { sort: 'fare' }, { size: 2 }),
        ])
        doc = d
        list = l
        return () => h('p', `${d.data.value?._source.name}|${l.hits.value.map((x) => x._id).join(',')}`)
      },
    })
    const Page = defineComponent({ setup: () => () => h(Suspense, null, { default: () => h(Inner) }) })
    const { html, text } = await serverRender(Page, driver)
    expect(html).toBe('<p>Ana|a,c</p>')
    driver.holdReads = true
    const { container } = hydrate(Page, html, driver, text)
    // The confirmation reads are held: the awaited setup still resolves, from the hydrated data.
    await waitFor(() => doc !== undefined && list !== undefined)
    await waitFor(() => driver.pendingReads === 2)
    expect(doc.status.value).toBe('pending')
    expect(container.innerHTML).toBe(html)
    driver.holdReads = false
    driver.releaseReads()
    await waitFor(() => doc.status.value === 'live' && list.status.value === 'live')
    expect(container.innerHTML).toBe(html)
  })

  it('request count per hydration: a page of documents and searches reads once per collection and once per search', async () => {
    const inner = memoryDriver()
    inner.seed('i', 'c', Array.from({ length: 20 }, (_, n) => ({ _id: `d${n}`, _source: { name: `N${n}`, fare: n } })))
    inner.seed('i', 'other', [{ _id: 'o1', _source: { name: 'O', fare: 1 } }])
    const driver = instrument(inner)
    const Doc = defineComponent({
      props: { col: { type: String, required: true }, id: { type: String, required: true } },
      setup(props) {
        const d = useObservedDocument<Taxi>('i', () => props.col, () => props.id)
        return () => h('i', d.data.value?._source.name ?? '-')
      },
    })
    const Page = defineComponent({
      setup() {
        const top = useObservedSearch<Taxi>('i', 'c', { sort: { fare: 'desc' } }, { size: 3, live: 'query' })
        const low = useObservedSearch<Taxi>('i', 'c', { query: { range: { fare: { lt: 5 } } }, sort: 'fare' }, { size: 2, live: 'query' })
        return () =>
          h('div', [
            ...Array.from({ length: 10 }, (_, n) => h(Doc, { col: 'c', id: `d${n}` })),
            h(Doc, { col: 'other', id: 'o1' }),
            h('p', top.hits.value.map((x) => x._id).join(',')),
            h('p', low.hits.value.map((x) => x._id).join(',')),
          ])
      },
    })
    const { html, text } = await serverRender(Page, driver)
    driver.reads.length = 0
    // Whether each read went out after a ready watch covering it (subscribe before fetch).
    const covered: boolean[] = []
    const { mGet, search } = driver
    driver.mGet = (c, ids) => {
      covered.push(ids.every((id) => driver.openWatches().some((w) => w.ready && 'ids' in w.spec && w.spec.ids.includes(id))))
      return mGet(c, ids)
    }
    driver.search = (c, spec, page) => {
      covered.push(driver.openWatches().some((w) => w.ready && 'query' in w.spec && w.spec.query === spec))
      return search(c, spec, page)
    }
    const { client } = hydrate(Page, html, driver, text)
    expect(driver.reads).toEqual([])
    await waitFor(() => driver.reads.length >= 4)
    await staysEqual(() => driver.reads.length, 50, { what: 'reads' })
    const mGets = driver.reads.filter((r) => r.op === 'mGet')
    expect(mGets).toHaveLength(2)
    expect(mGets.map((r) => r.ids!.length).sort((a, b) => a - b)).toEqual([1, 10])
    expect(driver.reads.filter((r) => r.op === 'search')).toHaveLength(2)
    expect(covered).toEqual([true, true, true, true])
    expect(client.stats().documents).toBeGreaterThan(0)
  })
})
