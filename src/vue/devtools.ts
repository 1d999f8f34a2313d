/**
 * The Vue Devtools plugin: an inspector of the client's watches, documents and searches, and timeline layers of
 * the core's decisions. Development builds only: plugin.ts imports this module dynamically behind a
 * `process.env.NODE_ENV !== 'production'` check, so a production bundle contains none of it.
 */
import { setupDevtoolsPlugin } from '@vue/devtools-api'
import type { App } from 'vue'
// Types only: a value imported from the library would make the bundler split the main entry into a shared chunk.
import type { Observer, ObserverClient, ObserverClientInspection, ObserverSearchResult, TraceRecord } from '../core'
import type { OwnedObserver } from './owners'

/** The inspector's id (also how tests and the production-build check recognise this module). */
export const DEVTOOLS_INSPECTOR_ID = 'vue-observed:inspector'

/** Timeline layers, one per kind of decision. */
export const DEVTOOLS_LAYERS = {
  events: 'vue-observed:events',
  reads: 'vue-observed:reads',
  decisions: 'vue-observed:decisions',
  watches: 'vue-observed:watches',
  errors: 'vue-observed:errors',
  writes: 'vue-observed:writes',
} as const

/** Timeline events sent per second at most; past it they are counted and reported as one summary event. */
const TIMELINE_PER_SECOND = 300
/** Errors remembered for the client node's state. */
const RECENT_ERRORS = 50
/** Searches stopped from the inspector, kept so that they can be started again from it. */
const STOPPED_KEPT = 50
/** Inspector refreshes are coalesced over this many ms (a burst of events refreshes once). */
const REFRESH_MS = 200

type Api = Parameters<Parameters<typeof setupDevtoolsPlugin>[1]>[0]
type Search = ObserverSearchResult<object>
type StateField = { key: string; value: unknown; editable?: boolean }

const STATUS_COLORS: Record<string, number> = {
  live: 0x42b883,
  pending: 0x3b82f6,
  opening: 0x3b82f6,
  idle: 0x94a3b8,
  stopped: 0x94a3b8,
  reconnecting: 0xf59e0b,
  offline: 0xf59e0b,
  waiting: 0xf59e0b,
  deleted: 0x64748b,
  error: 0xef4444,
  dead: 0xef4444,
}

function tag(label: string, tooltip?: string) {
  return { label, textColor: 0xffffff, backgroundColor: STATUS_COLORS[label] ?? 0x64748b, tooltip }
}

/** A short, printable form of a query for node labels. */
function short(value: unknown, max = 60): string {
  let text: string
  try {
    text = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value))
  } catch {
    text = String(value)
  }
  return text.length > max ? `${text.slice(0, max - 1)}…` : text
}

/**
 * Registers the devtools plugin for `app` and `client`. Called by the Vue plugin's `install()` in development
 * builds; safe to call where no devtools is present (the setup then never runs, and nothing is traced).
 */
export function setupObserverDevtools(app: App, client: ObserverClient, ownedObservers: ReadonlySet<OwnedObserver> = new Set()): void {
  setupDevtoolsPlugin(
    {
      id: 'dev.vue-observed',
      label: 'vue-observed',
      packageName: 'vue-observed',
      componentStateTypes: ['vue-observed'],
      app: app as never,
    },
    (api) => connect(api as Api, app, client, ownedObservers),
  )
}

function connect(api: Api, app: App, client: ObserverClient, ownedObservers: ReadonlySet<OwnedObserver>): void {
  const searchIds = new WeakMap<Search, number>()
  let nextSearchId = 0
  const searchId = (s: Search) => {
    let id = searchIds.get(s)
    if (id === undefined) searchIds.set(s, (id = ++nextSearchId))
    return `search:${id}`
  }
  /** Searches stopped from the inspector, by node id: they left the client's started set. */
  const stoppedHere = new Map<string, Search>()
  const recentErrors: Array<{ at: string; what: string; code: string; message: string }> = []

  api.addInspector({
    id: DEVTOOLS_INSPECTOR_ID,
    label: 'vue-observed',
    icon: 'sync',
    treeFilterPlaceholder: 'Filter by collection, id or query',
    noSelectionText: 'Select a watch, a document or a search',
    nodeActions: [
      {
        icon: 'refresh',
        tooltip: 'Read this search or document again',
        action: (nodeId) => {
          if (nodeId.startsWith('doc:')) void client.inspect().documents.find((d) => nodeId === `doc:${d.collection}:${d.id}`)?.refresh()
          else void findSearch(nodeId)?.refresh()
        },
      },
      {
        icon: 'stop',
        tooltip: 'Stop this search',
        action: (nodeId) => {
          const search = findSearch(nodeId)
          if (!search?.isActive) return
          search.stop()
          stoppedHere.set(nodeId, search)
          if (stoppedHere.size > STOPPED_KEPT) stoppedHere.delete(stoppedHere.keys().next().value!)
          refreshNow()
        },
      },
      {
        icon: 'play_arrow',
        tooltip: 'Start this search again',
        action: (nodeId) => {
          const search = stoppedHere.get(nodeId)
          if (!search || client.isClosed) return
          stoppedHere.delete(nodeId)
          search.start()
          refreshNow()
        },
      },
    ],
  })
  for (const [key, id] of Object.entries(DEVTOOLS_LAYERS)) {
    api.addTimelineLayer({
      id,
      label: `Observed ${key}`,
      color: key === 'errors' ? 0xef4444 : key === 'decisions' ? 0xf59e0b : 0x42b883,
    })
  }

  function findSearch(nodeId: string): Search | undefined {
    if (!nodeId.startsWith('search:')) return undefined
    return stoppedHere.get(nodeId) ?? client.inspect().searches.find((s) => searchId(s.search) === nodeId)?.search
  }

  // The component inspector: what each component observes.
  api.on.inspectComponent((payload) => {
    if (payload.app !== app) return
    for (const owned of ownedObservers) {
      if (owned.client !== client || owned.instance !== payload.componentInstance) continue
      payload.instanceData.state.push({ type: 'vue-observed', key: owned.composable, value: describeOwned(owned), editable: false })
    }
  })

  api.on.getInspectorTree((payload) => {
    if (payload.app !== app || payload.inspectorId !== DEVTOOLS_INSPECTOR_ID) return
    payload.rootNodes = tree(client.inspect(), payload.filter ?? '')
  })

  api.on.getInspectorState((payload) => {
    if (payload.app !== app || payload.inspectorId !== DEVTOOLS_INSPECTOR_ID) return
    const state = nodeState(client.inspect(), payload.nodeId)
    if (state) payload.state = state as never
  })

  function tree(view: ObserverClientInspection, filter: string) {
    const f = filter.toLowerCase()
    const keep = (...texts: string[]) => !f || texts.some((t) => t.toLowerCase().includes(f))
    const watches = view.watches
      .map((w) =>
        w.target === 'ids'
          ? { id: `watch:ids:${w.collection}:${w.shard}`, label: `${w.collection} · ${w.ids.length} id${w.ids.length === 1 ? '' : 's'}`, tags: [tag(w.status)], text: w.ids.join(' ') }
          : { id: `watch:query:${w.collection}:${short([w.query, w.params, w.filters], 500)}`, label: `${w.collection} · ${short(w.query ?? w.filters ?? 'all')}`, tags: [tag(w.status), tag(`${w.searches} search${w.searches === 1 ? '' : 'es'}`)], text: '' },
      )
      .filter((n) => keep(n.label, n.text))
      .map(({ text: _text, ...node }) => node)
    const documents = view.documents
      .filter((d) => keep(`${d.collection}/${d.id}`))
      .map((d) => ({ id: `doc:${d.collection}:${d.id}`, label: `${d.collection}/${d.id}`, tags: [tag(d.status, d.error?.message)] }))
    const searches = [
      ...view.searches.map((s) => ({
        id: searchId(s.search),
        label: `${s.collection} · ${short(s.query ?? s.filters ?? 'all')}`,
        tags: [tag(s.status, s.error?.message), tag(s.live === 'query' ? 'live query' : 'live hits'), tag(`${s.hits.length}/${s.total}`)],
      })),
      ...[...stoppedHere].map(([id, s]) => ({ id, label: `${s.ref.index}/${s.ref.collection} · ${short(s.spec.query ?? 'all')}`, tags: [tag('stopped')] })),
    ].filter((n) => keep(n.label))
    return [
      {
        id: 'client',
        label: `client · ${view.driver}`,
        tags: view.closed ? [tag('stopped', 'closed')] : [],
        children: [
          { id: 'watches', label: `Watches (${watches.length})`, children: watches },
          { id: 'documents', label: `Documents (${documents.length})`, children: documents },
          { id: 'searches', label: `Searches (${searches.length})`, children: searches },
        ],
      },
    ]
  }

  function describeOwned(owned: OwnedObserver): Record<string, unknown> {
    // Told apart by shape: devtools.ts imports no value from the library (see the imports).
    const target = owned.current()
    if (target && 'hits' in target) {
      const search = target as Search
      return {
        collection: `${search.ref.index}/${search.ref.collection}`,
        query: search.spec.query ?? null,
        live: search.live,
        status: search.status,
        hits: search.hits.length,
        total: search.total,
        inspector: searchId(search),
      }
    }
    if (target && '_id' in target) {
      const observer = target as Observer
      return { collection: `${observer.index}/${observer.collection}`, id: observer._id, status: observer.status, error: observer.error?.message ?? null }
    }
    return { status: 'paused or stopped' }
  }

  function componentName(owned: OwnedObserver): string {
    const type = owned.instance?.type as { name?: string; __name?: string } | undefined
    if (!owned.instance) return `${owned.composable} (no component: a store or an effect scope)`
    return `<${type?.name ?? type?.__name ?? 'Anonymous'}> #${owned.instance.uid}`
  }

  function fields(obj: Record<string, unknown>): StateField[] {
    return Object.entries(obj).map(([key, value]) => ({ key, value }))
  }

  function nodeState(view: ObserverClientInspection, nodeId: string): Record<string, StateField[]> | null {
    if (nodeId === 'client' || nodeId === 'watches' || nodeId === 'documents' || nodeId === 'searches') {
      return {
        client: fields({ driver: view.driver, closed: view.closed, ...client.stats(), searches: view.searches.length }),
        'recent errors': recentErrors.map((e, i) => ({ key: String(i), value: e })),
      }
    }
    if (nodeId.startsWith('watch:')) {
      const w = view.watches.find((w) =>
        w.target === 'ids' ? nodeId === `watch:ids:${w.collection}:${w.shard}` : nodeId === `watch:query:${w.collection}:${short([w.query, w.params, w.filters], 500)}`,
      )
      if (!w) return null
      const { error, since, ...rest } = w
      return {
        watch: fields({ ...rest, since: new Date(since).toISOString() }),
        ...(error ? { error: fields({ code: error.code, message: error.message, fatal: error.fatal }) } : {}),
      }
    }
    if (nodeId.startsWith('doc:')) {
      const d = view.documents.find((d) => nodeId === `doc:${d.collection}:${d.id}`)
      if (!d) return null
      return {
        document: fields({ collection: d.collection, id: d.id, status: d.status, revision: d.rev, provenance: d.provenance, pendingWrites: d.pendingWrites, refs: d.refs }),
        content: d.content ? fields(d.content as Record<string, unknown>) : [{ key: 'content', value: null }],
        ...(d.error ? { error: fields({ code: d.error.code, message: d.error.message, fatal: d.error.fatal }) } : {}),
      }
    }
    if (nodeId.startsWith('search:')) {
      const s = view.searches.find((s) => searchId(s.search) === nodeId)
      if (!s) return stoppedHere.has(nodeId) ? { search: fields({ status: 'stopped (from devtools)' }) } : null
      const { search, hits, error, ...rest } = s
      const components = [...ownedObservers].filter((o) => o.current() === search).map((o) => componentName(o))
      return {
        search: fields({ ...rest, components }),
        hits: [{ key: 'ids', value: hits }],
        ...(error ? { error: fields({ code: error.code, message: error.message, fatal: error.fatal }) } : {}),
      }
    }
    return null
  }

  // Timeline, within a per-second budget: a storm of events costs devtools a bounded amount of memory.
  let budgetStart = 0
  let sent = 0
  let dropped = 0
  function timeline(layerId: string, title: string, subtitle: string, data: Record<string, unknown>, logType: 'default' | 'warning' | 'error' = 'default') {
    const now = Date.now()
    if (now - budgetStart >= 1000) {
      if (dropped) {
        api.addTimelineEvent({
          layerId: DEVTOOLS_LAYERS.decisions,
          event: { time: api.now(), title: `${dropped} events not shown`, subtitle: `over ${TIMELINE_PER_SECOND}/s`, data: { dropped }, logType: 'warning' },
        })
      }
      budgetStart = now
      sent = 0
      dropped = 0
    }
    if (sent >= TIMELINE_PER_SECOND) {
      dropped++
      return
    }
    sent++
    api.addTimelineEvent({ layerId, event: { time: api.now(), title, subtitle, data, logType } })
  }

  function error(what: string, err: { code: string; message: string } | undefined, at: number) {
    if (!err) return
    recentErrors.push({ at: new Date(at).toISOString(), what, code: err.code, message: err.message })
    if (recentErrors.length > RECENT_ERRORS) recentErrors.shift()
    timeline(DEVTOOLS_LAYERS.errors, `${err.code}`, what, { what, code: err.code, message: err.message }, 'error')
  }

  function onTrace(e: TraceRecord): void {
    switch (e.type) {
      case 'event':
        timeline(DEVTOOLS_LAYERS.events, `${e.kind} ${e.id}`, `${e.collection}${e.rev !== undefined ? ` @${String(e.rev)}` : ''} (${e.via} watch)`, { ...e })
        break
      case 'decision':
        timeline(
          DEVTOOLS_LAYERS.decisions,
          `${e.decision} ${e.id}`,
          `${e.collection}${e.rev !== undefined ? ` @${String(e.rev)}` : ''}`,
          { ...e },
          e.decision === 'held' || e.decision === 'stale' ? 'warning' : 'default',
        )
        break
      case 'read':
        timeline(DEVTOOLS_LAYERS.reads, `read ${e.phase}`, `${e.collection}: ${e.ids.length} document${e.ids.length === 1 ? '' : 's'}`, { ...e, error: e.error?.message }, e.phase === 'failed' ? 'error' : 'default')
        if (e.phase === 'failed') error(`read of ${e.ids.length} in ${e.collection}`, e.error, e.at)
        break
      case 'search':
        timeline(DEVTOOLS_LAYERS.reads, `search ${e.phase}`, `${e.collection}: from ${e.from}, size ${e.size}`, { ...e, error: e.error?.message }, e.phase === 'failed' ? 'error' : 'default')
        if (e.phase === 'failed') error(`search in ${e.collection}`, e.error, e.at)
        break
      case 'watch':
        timeline(DEVTOOLS_LAYERS.watches, `${e.target} watch ${e.phase}`, e.collection, { ...e, error: e.error?.message }, e.phase === 'failed' ? 'error' : e.phase === 'offline' ? 'warning' : 'default')
        if (e.phase === 'failed') error(`${e.target} watch on ${e.collection}`, e.error, e.at)
        break
      case 'resync':
        timeline(DEVTOOLS_LAYERS.decisions, 'read again', `${e.collection}: ${e.reason}`, { ...e }, 'warning')
        break
      case 'write':
        // A local write: sent (shown at once), confirmed at a revision, or refused and rolled back.
        timeline(
          DEVTOOLS_LAYERS.writes,
          `${e.op} ${e.id} ${e.phase === 'refused' ? 'rolled back' : e.phase}`,
          `${e.collection}${e.rev !== undefined ? ` @${String(e.rev)}` : ''}`,
          { ...e, error: e.error?.message },
          e.phase === 'refused' ? 'error' : 'default',
        )
        if (e.phase === 'refused' && e.error) error(`${e.op} of ${e.id} in ${e.collection}`, e.error, e.at)
        break
    }
    refreshSoon()
  }

  let refreshTimer: ReturnType<typeof setTimeout> | undefined
  function refreshNow(): void {
    clearTimeout(refreshTimer)
    refreshTimer = undefined
    api.sendInspectorTree(DEVTOOLS_INSPECTOR_ID)
    api.sendInspectorState(DEVTOOLS_INSPECTOR_ID)
  }
  function refreshSoon(): void {
    refreshTimer ??= setTimeout(refreshNow, REFRESH_MS)
  }

  const off = client.onTrace(onTrace)
  app.onUnmount?.(() => {
    off()
    clearTimeout(refreshTimer)
    stoppedHere.clear()
  })
}
