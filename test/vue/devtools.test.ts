// @vitest-environment happy-dom
/**
 * The devtools plugin, against a stand-in of the devtools hook: `setupDevtoolsPlugin` (from @vue/devtools-api,
 * through @vue/devtools-kit) hands the plugin's descriptor and setup function to `__VUE_DEVTOOLS_HOOK`, which the
 * devtools (extension or Vite plugin) installs; here a fake records them, and the test plays the devtools: it calls
 * the setup function with a recording API and asks for the inspector tree and state.
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createApp, defineComponent, getCurrentInstance, h, type App, type ComponentInternalInstance } from 'vue'
import { createObserver, useObservedDocument, useObservedSearch, type ObserverPlugin } from '../../src'
import { memoryDriver, type MemoryDriver } from '../../src/drivers/memory'
import { DEVTOOLS_INSPECTOR_ID, DEVTOOLS_LAYERS } from '../../src/vue/devtools'
import { staysEqual, waitFor } from '../helpers/wait-for'

type Handler = (payload: any) => void
interface Node {
  id: string
  label: string
  tags?: Array<{ label: string }>
  children?: Node[]
}

/**
 * What the devtools hook received: `callHook('devtools-plugin:setup', descriptor, setupFn)`. Hoisted: devtools-kit
 * takes the hook it finds on the global object when it loads (the devtools put it there first).
 */
const setups = vi.hoisted(() => {
  const calls: Array<{ name: string; descriptor: any; setupFn: (api: unknown) => void }> = []
  ;(globalThis as any).__VUE_DEVTOOLS_HOOK = {
    callHook: (name: string, descriptor: unknown, setupFn: (api: unknown) => void) => {
      calls.push({ name, descriptor, setupFn })
      return Promise.resolve()
    },
    hook: () => () => undefined,
  }
  return calls
})

/** A recording stand-in of the devtools' plugin API. */
function fakeApi() {
  const handlers: Record<string, Handler[]> = {}
  const on = new Proxy({} as Record<string, (h: Handler) => void>, {
    get: (_t, key: string) => (h: Handler) => (handlers[key] ??= []).push(h),
  })
  const api = {
    inspectors: [] as any[],
    layers: [] as any[],
    events: [] as Array<{ layerId: string; event: any }>,
    sentTrees: 0,
    on,
    handlers,
    now: () => Date.now(),
    addInspector: (o: any) => api.inspectors.push(o),
    addTimelineLayer: (o: any) => api.layers.push(o),
    addTimelineEvent: (o: any) => api.events.push(o),
    sendInspectorTree: () => api.sentTrees++,
    sendInspectorState: () => undefined,
  }
  return api
}
type FakeApi = ReturnType<typeof fakeApi>

function tree(api: FakeApi, app: App, filter = ''): Node[] {
  const payload = { app, inspectorId: DEVTOOLS_INSPECTOR_ID, filter, rootNodes: [] as Node[] }
  for (const h of api.handlers.getInspectorTree ?? []) h(payload)
  return payload.rootNodes
}

function state(api: FakeApi, app: App, nodeId: string): Record<string, Array<{ key: string; value: any }>> {
  const payload = { app, inspectorId: DEVTOOLS_INSPECTOR_ID, nodeId, state: undefined as any }
  for (const h of api.handlers.getInspectorState ?? []) h(payload)
  return payload.state
}

const field = (s: Record<string, Array<{ key: string; value: any }>>, section: string, key: string) =>
  s[section]?.find((f) => f.key === key)?.value

const group = (nodes: Node[], id: string) => nodes[0].children!.find((n) => n.id === id)!.children!

let mounted: App | null = null
afterEach(() => {
  mounted?.unmount()
  mounted = null
  setups.length = 0
})

/** Mounts an app whose component observes document `a` and searches `i/c`; connects the fake devtools. */
async function setup(driver: MemoryDriver, options: { devtools?: boolean } = { devtools: true }) {
  const plugin: ObserverPlugin = createObserver({ driver, ...options })
  let instance: ComponentInternalInstance | null = null
  const Comp = defineComponent({
    name: 'TaxiBoard',
    setup() {
      instance = getCurrentInstance()
      const doc = useObservedDocument('i', 'c', 'a')
      const list = useObservedSearch('i', 'c', { sort: { n: 'desc' } }, { size: 2, live: 'query' })
      return () => h('div', [String(doc.status.value), String(list.total.value)])
    },
  })
  const app = createApp(Comp)
  app.use(plugin)
  app.mount(document.createElement('div'))
  mounted = app
  return { app, plugin, instance: instance! }
}

async function connect(app: App): Promise<FakeApi> {
  await waitFor(() => setups.length === 1)
  const api = fakeApi()
  setups[0].setupFn(api)
  return api
}

describe('devtools plugin registration', () => {
  it('registers with the devtools hook through setupDevtoolsPlugin when devtools is on', async () => {
    const { app } = await setup(memoryDriver())
    await waitFor(() => setups.length === 1)
    expect(setups[0].name).toBe('devtools-plugin:setup')
    expect(setups[0].descriptor).toMatchObject({ id: 'dev.vue-observed', label: 'vue-observed', packageName: 'vue-observed' })
    expect(setups[0].descriptor.app).toBe(app)
    const api = await connect(app)
    expect(api.inspectors.map((i) => i.id)).toEqual([DEVTOOLS_INSPECTOR_ID])
    expect(api.layers.map((l) => l.id).sort()).toEqual(Object.values(DEVTOOLS_LAYERS).sort())
  })

  it('stays out under NODE_ENV=test unless asked, as Pinia does', async () => {
    await setup(memoryDriver(), {})
    await staysEqual(() => setups.length, 50, { what: 'devtools setups' })
    expect(setups).toHaveLength(0)
  })
})

describe('devtools inspector', () => {
  it('shows the client, its watches, documents and searches, with their state', async () => {
    const driver = memoryDriver()
    driver.seed('i', 'c', [
      { _id: 'a', _source: { n: 1, title: 'A' } },
      { _id: 'b', _source: { n: 2 } },
      { _id: 'c', _source: { n: 3 } },
    ])
    const { app } = await setup(driver)
    const api = await connect(app)
    await waitFor(() => {
      const nodes = tree(api, app)
      return group(nodes, 'searches')[0]?.tags?.[0].label === 'live' && group(nodes, 'documents').some((d) => d.id === 'doc:i/c:a' && d.tags?.[0].label === 'live')
    })
    const nodes = tree(api, app)
    expect(nodes[0]).toMatchObject({ id: 'client', label: 'client · memory' })
    const watches = group(nodes, 'watches')
    expect(watches.map((w) => w.label).sort()).toEqual(['i/c · 1 id', 'i/c · all'])
    expect(group(nodes, 'documents').map((d) => d.id).sort()).toEqual(['doc:i/c:a', 'doc:i/c:b', 'doc:i/c:c'])
    const [search] = group(nodes, 'searches')
    expect(search.tags!.map((t) => t.label)).toEqual(['live', 'live query', '2/3'])

    const doc = state(api, app, 'doc:i/c:a')
    expect(field(doc, 'document', 'status')).toBe('live')
    expect(field(doc, 'document', 'revision')).toBe(1)
    expect(field(doc, 'document', 'provenance')).toBe('read')
    // Its observer, and the search, whose spare row it is (a window of 2 reads 2 more rows: an exit moves one up).
    expect(field(doc, 'document', 'refs')).toBe(2)
    expect(field(doc, 'content', 'title')).toBe('A')

    const s = state(api, app, search.id)
    expect(field(s, 'search', 'collection')).toBe('i/c')
    expect(field(s, 'search', 'live')).toBe('query')
    expect(field(s, 'search', 'total')).toBe(3)
    expect(field(s, 'search', 'hasMore')).toBe(true)
    expect(field(s, 'search', 'size')).toBe(2)
    expect(field(s, 'hits', 'ids')).toEqual(['c', 'b'])

    const idWatch = watches.find((w) => w.id.startsWith('watch:ids:'))!
    const w = state(api, app, idWatch.id)
    expect(field(w, 'watch', 'status')).toBe('live')
    expect(field(w, 'watch', 'ids')).toEqual(['a'])
    expect(typeof field(w, 'watch', 'since')).toBe('string')

    // The filter narrows documents and searches.
    expect(group(tree(api, app, 'i/c/b'), 'documents').map((d) => d.id)).toEqual(['doc:i/c:b'])
    // Another app's request is not ours to answer.
    expect(tree(api, createApp({}))).toEqual([])
  })

  it('shows in the component inspector which observers a component owns, and in a search which components use it', async () => {
    const driver = memoryDriver()
    driver.seed('i', 'c', [{ _id: 'a', _source: { n: 1 } }])
    const { app, plugin, instance } = await setup(driver)
    const api = await connect(app)
    await waitFor(() => plugin.client.inspect().searches[0]?.status === 'live')
    const payload = { app, componentInstance: instance, instanceData: { state: [] as any[] } }
    for (const h of api.handlers.inspectComponent) h(payload)
    expect(payload.instanceData.state).toMatchObject([
      { type: 'vue-observed', key: 'useObservedDocument', value: { collection: 'i/c', id: 'a', status: 'live' } },
      { type: 'vue-observed', key: 'useObservedSearch', value: { collection: 'i/c', live: 'query', status: 'live', hits: 1, total: 1 } },
    ])
    const searchNode = group(tree(api, app), 'searches')[0].id
    expect(payload.instanceData.state[1].value.inspector).toBe(searchNode)
    expect(field(state(api, app, searchNode), 'search', 'components')).toEqual([`<TaxiBoard> #${instance.uid}`])
    // Another component owns nothing here.
    const other = { app, componentInstance: {}, instanceData: { state: [] as any[] } }
    for (const h of api.handlers.inspectComponent) h(other)
    expect(other.instanceData.state).toEqual([])
  })

  it('stops, starts and refreshes a search from the inspector', async () => {
    const driver = memoryDriver()
    driver.seed('i', 'c', [{ _id: 'a', _source: { n: 1 } }])
    const { app, plugin } = await setup(driver)
    const api = await connect(app)
    await waitFor(() => plugin.client.inspect().searches[0]?.status === 'live')
    const id = group(tree(api, app), 'searches')[0].id
    const [refresh, stop, start] = api.inspectors[0].nodeActions
    const reads = api.events.filter((e) => e.event.title === 'search sent').length
    await refresh.action(id)
    expect(api.events.filter((e) => e.event.title === 'search sent').length).toBe(reads + 1)
    await stop.action(id)
    expect(plugin.client.inspect().searches).toHaveLength(0)
    expect(group(tree(api, app), 'searches')).toMatchObject([{ id, tags: [{ label: 'stopped' }] }])
    await start.action(id)
    await waitFor(() => plugin.client.inspect().searches[0]?.status === 'live')
    expect(group(tree(api, app), 'searches')[0].id).toBe(id)
  })

  it('reads a document again from the inspector', async () => {
    const driver = memoryDriver()
    driver.seed('i', 'c', [{ _id: 'a', _source: { n: 1 } }])
    const { app, plugin } = await setup(driver)
    const api = await connect(app)
    await waitFor(() => plugin.client.inspect().documents.some((d) => d.id === 'a' && d.status === 'live'))
    const [refresh] = api.inspectors[0].nodeActions
    // A change the watch never delivers: only a read shows it.
    driver.faults.drop = 1
    await driver.update('i', 'c', 'a', { n: 2 })
    driver.faults.drop = 0
    const reads = api.events.filter((e) => e.event.title === 'read sent').length
    await refresh.action('doc:i/c:a')
    expect(api.events.filter((e) => e.event.title === 'read sent').length).toBe(reads + 1)
    await waitFor(() => plugin.client.inspect().documents.find((d) => d.id === 'a')?.content?.n === 2)
  })

  it('shows an error on the document node, in its state and among the client node\'s recent errors', async () => {
    const driver = memoryDriver()
    driver.seed('i', 'c', [{ _id: 'a', _source: { n: 1 } }])
    driver.faults.failReads = 1_000
    const { app } = await setup(driver)
    const api = await connect(app)
    await waitFor(() => group(tree(api, app), 'documents').find((d) => d.id === 'doc:i/c:a')?.tags?.[0].label === 'error')
    expect(field(state(api, app, 'doc:i/c:a'), 'error', 'code')).toBe('read_failed')
    await waitFor(() => api.events.some((e) => e.layerId === DEVTOOLS_LAYERS.errors))
    const errors = state(api, app, 'client')['recent errors']
    expect(errors.length).toBeGreaterThan(0)
    expect(errors[0].value).toMatchObject({ code: 'read_failed' })
    driver.faults.failReads = 0
  })
})

describe('devtools timeline', () => {
  it('records watches, reads, events received, decisions and errors on their layers', async () => {
    const driver = memoryDriver()
    driver.seed('i', 'c', [{ _id: 'a', _source: { n: 1 } }])
    const { app, plugin } = await setup(driver)
    const api = await connect(app)
    await waitFor(() => plugin.client.inspect().documents.some((d) => d.id === 'a' && d.status === 'live'))
    // Watches opened after the devtools connected (the component's opened before).
    const other = plugin.client.get('i', 'd', 'z')
    const otherSearch = plugin.client.search('i', 'd', {}, { live: 'query' })
    await other.ready()
    await otherSearch.ready()
    await driver.update('i', 'c', 'a', { n: 2 })
    await waitFor(() => api.events.some((e) => e.layerId === DEVTOOLS_LAYERS.decisions && e.event.title === 'applied a'))
    const titles = (layer: string) => api.events.filter((e) => e.layerId === layer).map((e) => e.event.title)
    expect(titles(DEVTOOLS_LAYERS.watches)).toEqual(expect.arrayContaining(['ids watch open', 'ids watch live', 'query watch open', 'query watch live']))
    expect(titles(DEVTOOLS_LAYERS.reads)).toEqual(expect.arrayContaining(['read sent', 'read answered', 'search sent', 'search answered']))
    expect(titles(DEVTOOLS_LAYERS.events)).toContain('upsert a')
    const applied = api.events.find((e) => e.event.title === 'applied a')!
    expect(applied.event.data).toMatchObject({ collection: 'i/c', id: 'a', decision: 'applied', rev: 2 })
    expect(typeof applied.event.time).toBe('number')

    // A search read that fails lands on the reads layer as an error and on the errors layer.
    driver.faults.failReads = 1
    await plugin.client.inspect().searches[0].search.refresh()
    await waitFor(() => titles(DEVTOOLS_LAYERS.errors).length > 0)
    expect(api.events.find((e) => e.event.title === 'search failed')?.event.logType).toBe('error')
    expect(api.events.find((e) => e.layerId === DEVTOOLS_LAYERS.errors)!.event).toMatchObject({ title: 'read_failed', logType: 'error' })
    // The inspector is told to refresh (coalesced).
    await waitFor(() => api.sentTrees > 0)
  })

  it('records local writes on their layer: sent, confirmed at a revision, refused and rolled back', async () => {
    const driver = memoryDriver()
    driver.seed('i', 'c', [{ _id: 'a', _source: { n: 1 } }])
    const { app, plugin } = await setup(driver)
    const api = await connect(app)
    const a = plugin.client.get<{ n: number }>('i', 'c', 'a')
    await a.ready()
    await a.update({ n: 2 })
    await expect(a.update({ n: 3 }, { ifRevision: 999 })).rejects.toMatchObject({ code: 'conflict' })
    const titles = () => api.events.filter((e) => e.layerId === DEVTOOLS_LAYERS.writes).map((e) => e.event.title)
    await waitFor(() => titles().length === 4)
    expect(titles()).toEqual(['update a sent', 'update a confirmed', 'update a sent', 'update a rolled back'])
    const confirmed = api.events.find((e) => e.event.title === 'update a confirmed')!
    expect(confirmed.event.data).toMatchObject({ collection: 'i/c', id: 'a', op: 'update', phase: 'confirmed', rev: expect.any(Number) })
    expect(api.events.find((e) => e.event.title === 'update a rolled back')!.event.logType).toBe('error')
    expect(api.events.some((e) => e.layerId === DEVTOOLS_LAYERS.errors && e.event.title === 'conflict')).toBe(true)
  })

  it('is bounded: a storm of events sends at most 300 timeline events a second and says how many it left out', async () => {
    const driver = memoryDriver()
    driver.seed('i', 'c', [{ _id: 'a', _source: { n: 0 } }])
    const { app, plugin } = await setup(driver)
    const api = await connect(app)
    await waitFor(() => plugin.client.inspect().documents.some((d) => d.id === 'a' && d.status === 'live'))
    const before = api.events.length
    for (let n = 1; n <= 400; n++) await driver.update('i', 'c', 'a', { n })
    await waitFor(() => (plugin.client.inspect().documents.find((d) => d.id === 'a')?.content as { n: number }).n === 400)
    // The 400 updates make ~1,200 trace events (event, decision, membership) in well under a second.
    expect(api.events.length - before).toBeLessThanOrEqual(300)
    // Once the one-second window has passed, the next update brings the summary of what was left out.
    let n = 400
    await waitFor(
      async () => {
        await driver.update('i', 'c', 'a', { n: ++n })
        return api.events.some((e) => /events not shown/.test(e.event.title))
      },
      3000,
      { intervalMs: 50, what: 'the summary of the events not shown' },
    )
  })

  it('stops listening when the app unmounts', async () => {
    const driver = memoryDriver()
    driver.seed('i', 'c', [{ _id: 'a', _source: { n: 0 } }])
    const { app, plugin } = await setup(driver)
    const api = await connect(app)
    await waitFor(() => plugin.client.inspect().documents.some((d) => d.status === 'live'))
    app.unmount()
    mounted = null
    const n = api.events.length
    await driver.update('i', 'c', 'a', { n: 1 })
    await staysEqual(() => api.events.length, 20, { what: 'devtools events after unmount' })
    expect(api.events.length).toBe(n)
  })
})
