import { createEventHook, type EventHook, type EventHookOn } from '@vueuse/core'
import { isRef, shallowRef, toRef, toValue, type MaybeRefOrGetter, type Ref, type ShallowRef } from 'vue'
import {
  asObservedError,
  ObservedError,
  type DocSource,
  type Observer,
  type ObserverClient,
  type ObserverEvents,
  type ObserverStatus,
  type WriteOptions,
} from '../core'
import { Lifecycle, whenSettled, type ObservedOptions } from './lifecycle'
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

/** A value that cannot change: nothing to watch for it. */
const isConstant = (v: unknown) => !isRef(v) && typeof v !== 'function'

/** `isPrevious` without `keepPrevious`: always false, one ref for all. */
const NEVER_PREVIOUS = toRef(() => false) as Readonly<ShallowRef<boolean>>

/** The observer events a document composable follows. */
const EVENTS: ReadonlyArray<keyof ObserverEvents<object>> = ['status', 'change', 'delete', 'error', 'pending']

/**
 * One `useObservedDocument`: its refs, its lifecycle and its observer's events, as one object whose methods are
 * shared by every instance (a list may mount thousands). It is the sink of its observer's events: the methods
 * `status`, `change`, `delete`, `error` and `pending` below.
 */
class ObservedDocument<T extends object> extends Lifecycle<Observer<T>> {
  readonly data: Ref<ObservedDoc<T> | null>
  readonly state = shallowRef<ObserverStatus>('idle')
  readonly failure = shallowRef<ObservedError | null>(null)
  /** Null without `keepPrevious` (then the previous document is never kept: NEVER_PREVIOUS says so). */
  readonly isPrevious: ShallowRef<boolean> | null
  readonly writing = shallowRef(false)
  private readonly writer: StoreWriter | null
  /** Showing the server's content until confirmed: `await` resolves at once, so a Suspense hydration is not held up. */
  private hydrated = false
  /** `hydrated` as a ref, made for the first `await` that has to wait (only a watch needs it reactive). */
  private hydratedRef: ShallowRef<boolean> | null = null
  /** VueUse event hooks, each made by its first listener: most callers never listen. */
  private hooks: {
    change?: EventHook<[ObservedDoc<T>, string[]]>
    delete?: EventHook<[string]>
    error?: EventHook<[ObservedError]>
  } | null = null
  /** What `use` returned; what `await` gives is it without `then` (made by the first `await`). */
  private returned: UseObservedDocumentReturn<T> & PromiseLike<UseObservedDocumentReturn<T>> | null = null
  private awaited: UseObservedDocumentReturn<T> | null = null

  constructor(
    private readonly index: MaybeRefOrGetter<string>,
    private readonly collection: MaybeRefOrGetter<string>,
    private readonly id: MaybeRefOrGetter<string | null | undefined>,
    private readonly options: UseObservedDocumentOptions<T, any, string>,
  ) {
    super()
    this.data = options.target ?? shallowRef<ObservedDoc<T> | null>(null)
    this.writer = options.store ? new StoreWriter(options.store) : null
    this.isPrevious = options.keepPrevious === true ? shallowRef(false) : null
  }

  /** Starts (unless `immediate: false`) and returns the composable's API. */
  use(): UseObservedDocumentReturn<T> & PromiseLike<UseObservedDocumentReturn<T>> {
    const { index, collection, id } = this
    // Plain values cannot re-target: no watcher for them.
    const constant = isConstant(index) && isConstant(collection) && isConstant(id)
    const { start, stop } = this.begin('useObservedDocument', this.options, constant ? null : () => JSON.stringify(this.target()))
    // Bound methods: shared code, and a bound function is smaller than a closure.
    return (this.returned = {
      data: this.data,
      status: this.state,
      error: this.failure,
      isPrevious: this.isPrevious ?? NEVER_PREVIOUS,
      isActive: this.isActive,
      start,
      stop,
      refresh: this.refresh.bind(this),
      pending: this.writing,
      update: this.update.bind(this),
      replace: this.replace.bind(this),
      remove: this.remove.bind(this),
      onChange: this.onChange.bind(this) as EventHookOn<[ObservedDoc<T>, string[]]>,
      onDelete: this.onDelete.bind(this) as EventHookOn<[string]>,
      onError: this.onError.bind(this) as EventHookOn<[ObservedError]>,
      then: this.then.bind(this) as PromiseLike<UseObservedDocumentReturn<T>>['then'],
    })
  }

  private target() {
    return [toValue(this.index), toValue(this.collection), toValue(this.id)] as const
  }

  private setHydrated(value: boolean): void {
    this.hydrated = value
    if (this.hydratedRef) this.hydratedRef.value = value
  }

  private setData(next: ObservedDoc<T> | null): void {
    if (this.isPrevious) this.isPrevious.value = false
    if (this.data.value === next) return
    this.data.value = next
    this.writer?.writeDocument(next)
  }

  private sync(o: Observer<T>): void {
    this.state.value = o.status
    if (o.status !== 'pending') this.setHydrated(false)
    this.failure.value = o.error
    // The previous target's document stays until the new target has an answer (content, deleted, error).
    if (this.isPrevious?.value && !answered(o.status)) return
    const source = o._source
    if (!source) this.setData(null)
    else if (!sameDoc(this.data.value, o._id, source)) this.setData({ _id: o._id, _source: source })
  }

  private fail(err: unknown): void {
    const e = asObservedError(err, 'bad_argument')
    this.setData(null)
    this.failure.value = e
    this.state.value = 'error'
    this.hooks?.error?.trigger(e)
  }

  protected attach(client: ObserverClient, ssr: boolean): Observer<T> | Promise<unknown> | null {
    const [i, c, d] = this.target()
    if (d === null || d === undefined) {
      this.setData(null)
      this.failure.value = null
      this.state.value = 'idle'
      return null
    }
    if (ssr) {
      this.state.value = 'pending'
      return client.read(i, c, d).then(
        (doc) => {
          if (!doc) return this.fail(new ObservedError('not_found', `Document "${d}" not found in ${i}/${c}`))
          this.setData({ _id: doc._id, _source: doc._source as T })
          this.state.value = 'live'
        },
        (err: unknown) => this.fail(err),
      )
    }
    let o: Observer<T>
    try {
      o = client.observer<T>(i, c, d)
    } catch (err) {
      this.fail(err)
      return null
    }
    if (this.isPrevious) this.isPrevious.value = this.data.value !== null
    this.hold(o)
    o.subscribe(this, EVENTS)
    o.start()
    this.writing.value = o.pending
    this.sync(o)
    this.setHydrated(o.status === 'pending' && this.data.value !== null && !this.isPrevious?.value)
    return o
  }

  protected release(o: Observer<T>): void {
    o.unsubscribe(this, EVENTS)
  }

  protected stopped(): void {
    this.state.value = 'stopped'
    this.writing.value = false
  }

  // The observer's events (this object is its sink).
  status(): void {
    this.sync(this.current()!)
  }

  change(source: T, changes: string[]): void {
    const o = this.current()!
    this.sync(o)
    this.writer?.patch(o._id, source)
    // The document as `data` shows it (its reactive `_source`), not the observer's frozen copy.
    this.hooks?.change?.trigger(this.data.value ?? { _id: o._id, _source: source }, changes)
  }

  delete(): void {
    const o = this.current()!
    this.sync(o)
    this.hooks?.delete?.trigger(o._id)
  }

  error(err: ObservedError): void {
    this.hooks?.error?.trigger(err)
  }

  pending(p: boolean): void {
    this.writing.value = p
  }

  // The API's methods (bound in `use`).
  private async refresh(): Promise<void> {
    await this.current()?.refresh()
  }

  private write(run: (o: Observer<T>) => Promise<void>): Promise<void> {
    const o = this.current()
    if (!o) return Promise.reject(new ObservedError('bad_argument', 'Nothing to write to: the document is paused, stopped or not on this client'))
    return run(o)
  }

  private update(patch: Partial<T>, options?: WriteOptions): Promise<void> {
    return this.write((o) => o.update(patch, options))
  }

  private replace(content: T, options?: WriteOptions): Promise<void> {
    return this.write((o) => o.replace(content, options))
  }

  private remove(options?: WriteOptions): Promise<void> {
    return this.write((o) => o.remove(options))
  }

  private onChange(fn: (doc: ObservedDoc<T>, changes: string[]) => void) {
    return ((this.hooks ??= {}).change ??= createEventHook()).on(fn)
  }

  private onDelete(fn: (id: string) => void) {
    return ((this.hooks ??= {}).delete ??= createEventHook()).on(fn)
  }

  private onError(fn: (err: ObservedError) => void) {
    return ((this.hooks ??= {}).error ??= createEventHook()).on(fn)
  }

  /** `await`: the return (without `then`, so awaiting ends) once the first data is there, or hydrated content shown. */
  private then<A = UseObservedDocumentReturn<T>, B = never>(
    onFulfilled?: ((value: UseObservedDocumentReturn<T>) => A | PromiseLike<A>) | null,
    onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null,
  ): PromiseLike<A | B> {
    return whenSettled(this.awaitedValue(), () => this.state.value !== 'pending' || (this.hydratedRef ??= shallowRef(this.hydrated)).value).then(
      onFulfilled,
      onRejected,
    )
  }

  private awaitedValue(): UseObservedDocumentReturn<T> {
    if (this.awaited) return this.awaited
    const { then: _then, ...rest } = this.returned!
    return (this.awaited = rest)
  }
}

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
  return new ObservedDocument<T>(index, collection, id, options).use()
}
