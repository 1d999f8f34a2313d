import type { EventHookOn } from '@vueuse/core'
import { lazyEventHook } from './lazy-event-hook'
import { shallowRef, toValue, type MaybeRefOrGetter, type Ref, type ShallowRef } from 'vue'
import { asObservedError, ObservedError, type DocSource, type Observer, type ObserverStatus, type WriteOptions } from '../core'
import { makeAwaitable, useLifecycle, type ObservedOptions } from './lifecycle'
import { StoreWriter, type DocumentOf, type DocumentStoreKey, type StoreTarget } from './store-sync'
import type { ObservedDoc } from './types'

/**
 * Options of {@link useObservedDocument}. `S` and `K` are the Pinia state and key of `store`, inferred from it
 * (without a store they are `never`, so `store` is only accepted where its key is checked).
 */
export interface UseObservedDocumentOptions<T extends object, S extends object = never, K extends string = never> extends ObservedOptions {
  /** Write the document into this ref (yours) instead of a new one; `data` is then this ref. */
  target?: Ref<ObservedDoc<T> | null>
  /**
   * Also keep a copy in a Pinia store at `store.$state[key]`, written through `$patch`. `key` must be a state
   * property typed `ObservedDoc<T> | null`; the document type `T` is then the store's.
   */
  store?: StoreTarget<S, K>
  /**
   * While re-targeting (the id changes), keep showing the previous document until the new one is read, with
   * `isPrevious` true meanwhile (TanStack Query's `placeholderData: keepPreviousData`, VueFire's `reset: false`).
   * A null id still clears; an error for the new id replaces it.
   */
  keepPrevious?: boolean
}

/** What {@link useObservedDocument} returns; `await` it to wait for the first data. */
export interface UseObservedDocumentReturn<T extends object> {
  /** The document (`{ _id, _source }`), or null when missing, deleted, paused or not read yet. */
  data: Ref<ObservedDoc<T> | null>
  /**
   * The status of the current target (`pending` while a kept previous document is shown, and while hydrated content
   * from the server is shown until the first read after the watch is up confirms it).
   */
  status: ShallowRef<ObserverStatus>
  error: ShallowRef<ObservedError | null>
  /** With `keepPrevious`: true while `data` is the previous target's, until the new target's first data is there. */
  isPrevious: Readonly<ShallowRef<boolean>>
  /** True while started (not stopped by `stop()`, `immediate: false` or scope disposal). */
  isActive: Ref<boolean>
  start(): void
  stop(): void
  /** Reads the document again; resolves once applied. */
  refresh(): Promise<void>
  /** True while a local write of the document is shown but not confirmed by the server. */
  pending: Readonly<ShallowRef<boolean>>
  /**
   * Merges `patch` into the document (plain objects deeply): `data` shows it in the same tick, `pending` is true
   * until the server confirms it, when the promise resolves. A refused write is rolled back, rejects with an
   * `ObservedError` (`conflict`, `not_found`, `unauthorized`, `write_failed`, …) and triggers `onError`.
   * `ifRevision`: write only if the server's revision is still this one.
   */
  update(patch: Partial<T>, options?: WriteOptions): Promise<void>
  /** Replaces the document's content: as `update`. */
  replace(content: T, options?: WriteOptions): Promise<void>
  /** Deletes the document: as `update`. */
  remove(options?: WriteOptions): Promise<void>
  /** The document changed; `changes` lists the top-level fields that differ. */
  onChange: EventHookOn<[ObservedDoc<T>, string[]]>
  onDelete: EventHookOn<[string]>
  onError: EventHookOn<[ObservedError]>
}

/** Whether an observer in this status has had its first answer (a read, a deletion or an error). */
const answered = (s: ObserverStatus) => s !== 'pending' && s !== 'reconnecting' && s !== 'idle'

const sameDoc = (a: ObservedDoc<object> | null, id: string, source: object) => a !== null && a._id === id && a._source === source

/**
 * Keeps a document live in component state: `useObservedDocument<Taxi>('nyc-open-data', 'yellow-taxi', () => props.id)`.
 * Arguments may be values, refs or getters; a change re-targets (a late answer for the old id is discarded);
 * a null id pauses. Stops with the owning component, effect scope or Pinia setup store.
 */
export function useObservedDocument<S extends object, K extends DocumentStoreKey<S>>(
  index: MaybeRefOrGetter<string>,
  collection: MaybeRefOrGetter<string>,
  id: MaybeRefOrGetter<string | null | undefined>,
  options: UseObservedDocumentOptions<DocumentOf<S[K]>, S, K> & { store: StoreTarget<S, K> },
): UseObservedDocumentReturn<DocumentOf<S[K]>> & PromiseLike<UseObservedDocumentReturn<DocumentOf<S[K]>>>
export function useObservedDocument<T extends object = DocSource>(
  index: MaybeRefOrGetter<string>,
  collection: MaybeRefOrGetter<string>,
  id: MaybeRefOrGetter<string | null | undefined>,
  options?: UseObservedDocumentOptions<T>,
): UseObservedDocumentReturn<T> & PromiseLike<UseObservedDocumentReturn<T>>
export function useObservedDocument<T extends object>(
  index: MaybeRefOrGetter<string>,
  collection: MaybeRefOrGetter<string>,
  id: MaybeRefOrGetter<string | null | undefined>,
  options: UseObservedDocumentOptions<T, any, string> = {},
): UseObservedDocumentReturn<T> & PromiseLike<UseObservedDocumentReturn<T>> {
  const data = options.target ?? shallowRef<ObservedDoc<T> | null>(null)
  const status = shallowRef<ObserverStatus>('idle')
  const error = shallowRef<ObservedError | null>(null)
  const isPrevious = shallowRef(false)
  const pending = shallowRef(false)
  const changeHook = lazyEventHook<[ObservedDoc<T>, string[]]>()
  const deleteHook = lazyEventHook<[string]>()
  const errorHook = lazyEventHook<[ObservedError]>()
  const writer = options.store ? new StoreWriter(options.store) : null
  // Showing the server's content until confirmed: `await` resolves at once, so a Suspense hydration is not held up.
  const hydrated = shallowRef(false)

  const setData = (next: ObservedDoc<T> | null) => {
    isPrevious.value = false
    if (data.value === next) return
    data.value = next
    writer?.writeDocument(next)
  }
  const sync = (o: Observer<T>) => {
    status.value = o.status
    if (o.status !== 'pending') hydrated.value = false
    error.value = o.error
    // The previous target's document stays until the new target has an answer (content, deleted, error).
    if (isPrevious.value && !answered(o.status)) return
    const source = o._source
    if (!source) setData(null)
    else if (!sameDoc(data.value, o._id, source)) setData({ _id: o._id, _source: source })
  }
  const fail = (err: unknown) => {
    const e = asObservedError(err, 'bad_argument')
    setData(null)
    error.value = e
    status.value = 'error'
    errorHook.trigger(e)
  }

  const target = () => [toValue(index), toValue(collection), toValue(id)] as const

  const lifecycle = useLifecycle<Observer<T>>(
    'useObservedDocument',
    options,
    () => JSON.stringify(target()),
    (client, ssr) => {
      const [i, c, d] = target()
      if (d === null || d === undefined) {
        setData(null)
        error.value = null
        status.value = 'idle'
        return null
      }
      if (ssr) {
        status.value = 'pending'
        return client.read(i, c, d).then((doc) => {
          if (!doc) return fail(new ObservedError('not_found', `Document "${d}" not found in ${i}/${c}`))
          setData({ _id: doc._id, _source: doc._source as T })
          status.value = 'live'
        }, fail)
      }
      let o: Observer<T>
      try {
        o = client.observer<T>(i, c, d)
      } catch (err) {
        fail(err)
        return null
      }
      isPrevious.value = options.keepPrevious === true && data.value !== null
      const offs = [
        o.on('status', () => sync(o)),
        o.on('change', (source, changes) => {
          sync(o)
          writer?.patch(o._id, source)
          changeHook.trigger({ _id: o._id, _source: source }, changes)
        }),
        o.on('delete', () => {
          sync(o)
          deleteHook.trigger(o._id)
        }),
        o.on('error', (err) => errorHook.trigger(err)),
        o.on('pending', (p) => void (pending.value = p)),
      ]
      o.start()
      pending.value = o.pending
      sync(o)
      hydrated.value = o.status === 'pending' && data.value !== null && !isPrevious.value
      return { target: o, offs }
    },
    () => {
      status.value = 'stopped'
      pending.value = false
    },
  )

  const write = (run: (o: Observer<T>) => Promise<void>): Promise<void> => {
    const o = lifecycle.current()
    if (!o) return Promise.reject(new ObservedError('bad_argument', 'Nothing to write to: the document is paused, stopped or not on this client'))
    return run(o)
  }

  const shell: UseObservedDocumentReturn<T> = {
    data,
    status,
    error,
    isPrevious,
    isActive: lifecycle.isActive,
    start: lifecycle.start,
    stop: lifecycle.stop,
    refresh: async () => {
      await lifecycle.current()?.refresh()
    },
    pending,
    update: (patch, o) => write((obs) => obs.update(patch, o)),
    replace: (content, o) => write((obs) => obs.replace(content, o)),
    remove: (o) => write((obs) => obs.remove(o)),
    onChange: changeHook.on,
    onDelete: deleteHook.on,
    onError: errorHook.on,
  }
  return makeAwaitable(shell, () => status.value !== 'pending' || hydrated.value)
}
