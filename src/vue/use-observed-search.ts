import type { EventHookOn } from '@vueuse/core'
import { lazyEventHook } from './lazy-event-hook'
import { computed, shallowRef, toValue, type ComputedRef, type MaybeRefOrGetter, type Ref, type ShallowRef } from 'vue'
import { asObservedError, type ObservedError, type ObserverClient, type DocSource, type LiveMode, type Observer, type ObserverSearchResult, type SearchSpec, type SearchStatus, stableKey } from '../core'
import { makeAwaitable, useLifecycle, type ObservedOptions } from './lifecycle'
import { StoreWriter, type HitOf, type SearchStoreKey, type SearchStoreTarget } from './store-sync'
import type { ObservedDoc } from './types'

/**
 * Options of {@link useObservedSearch}. `S`, `K` and `A` are the Pinia state, key and `as` of `store`, inferred from
 * it (without a store they are `never`, so `store` is only accepted where its key is checked).
 */
export interface UseObservedSearchOptions<
  T extends object,
  S extends object = never,
  K extends string = never,
  A extends 'array' | 'map' = 'array' | 'map',
> extends ObservedOptions {
  /** Page size (default 20); `next()` fetches one more page. */
  size?: number
  /** `'hits'` (default): the hits stay live. `'query'`: documents also appear and disappear as they start or stop matching. */
  live?: LiveMode
  /** Write the hits into this ref (yours) instead of a new one; `hits` is then this ref. */
  target?: Ref<ObservedDoc<T>[]>
  /**
   * Also keep copies in a Pinia store at `store.$state[key]`, written through `$patch`; `as: 'map'` keys them by
   * `_id`. `key` must be a state property typed `ObservedDoc<T>[]` (or `Record<string, ObservedDoc<T>>` with
   * `as: 'map'`); the hit type `T` is then the store's.
   */
  store?: SearchStoreTarget<S, K, A>
  /**
   * While re-targeting (query, sort, size or collection change), keep showing the previous hits and total until
   * the new search's first page is there, with `isPrevious` true meanwhile, so a filter change never flashes an
   * empty list (TanStack Query's `placeholderData: keepPreviousData`, VueFire's `reset: false`). A null search
   * still clears; an error for the new search replaces them.
   */
  keepPrevious?: boolean
}

/** What {@link useObservedSearch} returns; `await` it to wait for the first page. */
export interface UseObservedSearchReturn<T extends object> {
  /** The hits fetched so far, in the query's sort order. A new array on membership or order changes only. */
  hits: Ref<ObservedDoc<T>[]>
  /** Number of matching documents. */
  total: ShallowRef<number>
  /** Ids of the hits with a local write shown but not confirmed yet (a new set when it changes). */
  pending: Readonly<ShallowRef<ReadonlySet<string>>>
  /** True when `next()` would fetch more. */
  hasMore: ComputedRef<boolean>
  /** Fetches the next page. */
  next(): Promise<void>
  /**
   * The status of the current search (`pending` while kept previous hits are shown, and while hydrated hits from the
   * server's page are shown until this search's own first read confirms them).
   */
  status: ShallowRef<SearchStatus>
  error: ShallowRef<ObservedError | null>
  /** With `keepPrevious`: true while `hits` and `total` are the previous search's, until the new first page is there. */
  isPrevious: Readonly<ShallowRef<boolean>>
  isActive: Ref<boolean>
  start(): void
  stop(): void
  /** Runs the search again and reconciles. */
  refresh(): Promise<void>
  onChange: EventHookOn<[string, ObservedDoc<T>, string[]]>
  onDelete: EventHookOn<[string]>
  onError: EventHookOn<[ObservedError, string | null]>
  /** `live: 'query'`: a document started matching. */
  onAppear: EventHookOn<[ObservedDoc<T>]>
  /** `live: 'query'`: a document stopped matching. */
  onDisappear: EventHookOn<[string]>
}

/** Whether a search in this status has had its first answer (a page or an error). */
const answered = (s: SearchStatus) => s !== 'pending' && s !== 'reconnecting' && s !== 'idle'

/** Where a row keeps its content: a shallow ref, read by the row's `_source` (a string key: a row stays a plain object). */
const CONTENT = '__content'

type Row<T extends object> = ObservedDoc<T> & { readonly [CONTENT]: ShallowRef<T> }

function readContent<T extends object>(this: Row<T>): T {
  return this[CONTENT].value
}

/**
 * A row of the hits: `_source` is the document's content as a frozen value, replaced on every change (a shallow ref
 * per row: a change re-renders what reads that row, and nothing else). No reactive container per row: with per-field
 * reactivity a row cost about 600 B more (Vue's proxy, its map of keys and a dep per field read), issue 23.
 * `markRaw`ed: the row itself is never made reactive. The flags are declared in the literal, then made
 * non-enumerable, so every row has the same compact shape; `_source` is an own enumerable accessor, so that JSON,
 * spreads and devalue see a plain `{ _id, _source }`.
 */
function rowView<T extends object>(_id: string, content: T): Row<T> {
  const view = { _id, __v_skip: true, [CONTENT]: shallowRef(content) }
  Object.defineProperty(view, '__v_skip', { enumerable: false })
  Object.defineProperty(view, CONTENT, { enumerable: false })
  Object.defineProperty(view, '_source', { get: readContent, enumerable: true, configurable: true })
  return view as unknown as Row<T>
}

/**
 * Keeps a search live in component state:
 * `useObservedSearch<Taxi>('nyc-open-data', 'yellow-taxi', () => ({ query, sort }), { size: 20, live: 'query' })`.
 * A change of any argument re-targets; a null search pauses. Stops with the owning scope.
 */
export function useObservedSearch<S extends object, K extends SearchStoreKey<S, A>, A extends 'array' | 'map' = 'array'>(
  index: MaybeRefOrGetter<string>,
  collection: MaybeRefOrGetter<string>,
  search: MaybeRefOrGetter<SearchSpec | null | undefined>,
  options: UseObservedSearchOptions<HitOf<S[K], A>, S, K, A> & { store: SearchStoreTarget<S, K, A> },
): UseObservedSearchReturn<HitOf<S[K], A>> & PromiseLike<UseObservedSearchReturn<HitOf<S[K], A>>>
export function useObservedSearch<T extends object = DocSource>(
  index: MaybeRefOrGetter<string>,
  collection: MaybeRefOrGetter<string>,
  search: MaybeRefOrGetter<SearchSpec | null | undefined>,
  options?: UseObservedSearchOptions<T>,
): UseObservedSearchReturn<T> & PromiseLike<UseObservedSearchReturn<T>>
export function useObservedSearch<T extends object>(
  index: MaybeRefOrGetter<string>,
  collection: MaybeRefOrGetter<string>,
  search: MaybeRefOrGetter<SearchSpec | null | undefined>,
  options: UseObservedSearchOptions<T, any, string> = {},
): UseObservedSearchReturn<T> & PromiseLike<UseObservedSearchReturn<T>> {
  const hits = options.target ?? shallowRef<ObservedDoc<T>[]>([])
  const total = shallowRef(0)
  // The core's: a hostile total (Infinity, NaN) or a short page decides it, not `hits < total`.
  const more = shallowRef(false)
  const pending = shallowRef<ReadonlySet<string>>(new Set())
  const syncPending = (r: ObserverSearchResult<T> | null) => {
    // Called on every change of the hits: nothing pending before or now (the usual case) allocates nothing.
    if (pending.value.size === 0 && !r?.hits.some((h) => h.pending)) return
    const ids = new Set(r ? r.hits.filter((h) => h.pending).map((h) => h._id) : [])
    if (ids.size !== pending.value.size || [...ids].some((id) => !pending.value.has(id))) pending.value = ids
  }
  const status = shallowRef<SearchStatus>('idle')
  const error = shallowRef<ObservedError | null>(null)
  const isPrevious = shallowRef(false)
  const changeHook = lazyEventHook<[string, ObservedDoc<T>, string[]]>()
  const deleteHook = lazyEventHook<[string]>()
  const errorHook = lazyEventHook<[ObservedError, string | null]>()
  const appearHook = lazyEventHook<[ObservedDoc<T>]>()
  const disappearHook = lazyEventHook<[string]>()
  const writer = options.store ? new StoreWriter(options.store) : null
  // One row per hit, kept while it stays a hit, so that rows keep their identity.
  let views = new Map<string, Row<T>>()
  /** The key of the server's first page shown until this search's own first read confirms it (hydration). */
  let hydrating: { key: string; client: ObserverClient } | null = null
  // Showing the server's page until confirmed: `await` resolves at once, so a Suspense hydration is not held up.
  const hydrated = shallowRef(false)

  const viewOf = (hit: Observer<T>): Row<T> => {
    const content = hit.content as T
    const view = views.get(hit._id)
    if (!view) return rowView(hit._id, content)
    view[CONTENT].value = content
    return view
  }
  const setHits = (list: ObservedDoc<T>[]) => {
    isPrevious.value = false
    // The same rows in the same order (a hydrated page confirmed): nothing to render.
    const current = hits.value
    if (list.length === current.length && list.length > 0 && list.every((v, i) => v === current[i])) return
    hits.value = list
    writer?.writeHits(list, options.store?.as)
  }
  const syncHits = (r: ObserverSearchResult<T>) => {
    // The previous search's hits stay until the new one has an answer (its first page, or an error).
    if ((isPrevious.value || hydrating !== null) && !answered(r.status)) return
    if (hydrating !== null) {
      // The first read has answered: later searches of this key read afresh.
      if (r.status !== 'error') hydrating.client.confirmHydratedSearch(hydrating.key)
      hydrating = null
      hydrated.value = false
    }
    const next = new Map<string, Row<T>>()
    const list = r.hits.map((hit) => {
      const view = viewOf(hit)
      next.set(view._id, view)
      return view
    })
    views = next
    total.value = r.total
    more.value = r.hasMore
    setHits(list)
  }
  const fail = (err: unknown) => {
    const e = asObservedError(err, 'bad_argument')
    views = new Map()
    setHits([])
    total.value = 0
    more.value = false
    error.value = e
    status.value = 'error'
    errorHook.trigger(e, null)
  }

  /**
   * Hydration: shows the page the server rendered, during the first render, with the very containers the hits'
   * documents will hold, so that a first read that confirms it changes nothing. Status stays `pending` until then.
   */
  const showHydrated = (client: ObserverClient, i: string, c: string, spec: SearchSpec, size: number | undefined): boolean => {
    const page = client.hydratedSearch(i, c, spec, { size })
    if (!page) return false
    const next = new Map<string, Row<T>>()
    for (const id of page.ids) {
      const content = client.hydratedSource(i, c, id, false)
      if (content) next.set(id, rowView(id, content as T))
    }
    hydrating = { key: page.key, client }
    hydrated.value = true
    views = next
    total.value = page.total
    setHits([...next.values()])
    return true
  }

  const target = () => [toValue(index), toValue(collection), toValue(search), options.size, options.live] as const
  let identity = 0
  const specIds = new WeakMap<object, number>()
  // Searches holding functions (memory predicates) cannot be compared by content: compare them by identity.
  const key = () => {
    const t = target()
    const spec = t[2]
    const json = stableKey(t)
    if (json !== undefined) return json
    if (!specIds.has(spec as object)) specIds.set(spec as object, ++identity)
    return `#${specIds.get(spec as object)}`
  }

  const lifecycle = useLifecycle<ObserverSearchResult<T>>(
    'useObservedSearch',
    options,
    key,
    (client, ssr) => {
      const [i, c, spec, size, live] = target()
      hydrating = null
      hydrated.value = false
      if (spec === null || spec === undefined) {
        views = new Map()
        setHits([])
        total.value = 0
        more.value = false
        error.value = null
        status.value = 'idle'
        return null
      }
      if (ssr) {
        status.value = 'pending'
        return client.readSearch(i, c, spec, { size }).then((page) => {
          setHits(page.hits.map((d) => ({ _id: d._id, _source: d._source as T })))
          total.value = page.total
          more.value = page.hasMore
          status.value = 'live'
        }, fail)
      }
      let r: ObserverSearchResult<T>
      try {
        r = client.searchResult<T>(i, c, spec, { size, live })
      } catch (err) {
        fail(err)
        return null
      }
      views = new Map()
      isPrevious.value = options.keepPrevious === true && hits.value.length > 0
      const offs = [
        r.on('hits', () => {
          syncHits(r)
          syncPending(r)
        }),
        r.on('pending', () => syncPending(r)),
        r.on('status', (s) => {
          status.value = s
          error.value = r.error
          if ((isPrevious.value || hydrating !== null) && answered(s)) syncHits(r)
        }),
        r.on('change', (id, source, changes) => {
          const view = views.get(id)
          if (view) view[CONTENT].value = source
          writer?.patch(id, source)
          changeHook.trigger(id, view ?? { _id: id, _source: source }, changes)
        }),
        r.on('delete', (id) => deleteHook.trigger(id)),
        r.on('error', (id, err) => {
          if (id === null) error.value = err
          errorHook.trigger(err, id)
        }),
        r.on('appear', (id, source) => appearHook.trigger(views.get(id) ?? { _id: id, _source: source })),
        r.on('disappear', (id) => disappearHook.trigger(id)),
      ]
      r.start()
      status.value = r.status
      if (!showHydrated(client, i, c, spec, size)) syncHits(r)
      return { target: r, offs }
    },
    () => {
      status.value = 'stopped'
    },
  )


  const shell: UseObservedSearchReturn<T> = {
    hits,
    total,
    hasMore: computed(() => more.value),
    next: async () => {
      await lifecycle.current()?.next()
    },
    status,
    error,
    isPrevious,
    isActive: lifecycle.isActive,
    start: lifecycle.start,
    stop: lifecycle.stop,
    refresh: async () => {
      await lifecycle.current()?.refresh()
    },
    onChange: changeHook.on,
    onDelete: deleteHook.on,
    onError: errorHook.on,
    onAppear: appearHook.on,
    onDisappear: disappearHook.on,
    pending,
  }
  return makeAwaitable(shell, () => status.value !== 'pending' || hydrated.value)
}
