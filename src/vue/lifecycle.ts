import { tryOnScopeDispose } from '@vueuse/core'
import { getCurrentInstance, getCurrentScope, inject, onServerPrefetch, shallowRef, ssrContextKey, watch, type Ref, type WatchSource } from 'vue'
import type { ObserverClient } from '../core'
import { trackOwner } from './owners'
import { useObserverClient } from './plugin'

/** Options every composable accepts. */
export interface ObservedOptions {
  /** Start at once (default true). With `false`, call `start()`. */
  immediate?: boolean
  /** Use this client instead of the plugin's (tests, several backends in one app). */
  client?: ObserverClient
}

/** A core object a composable follows: an Observer or an ObserverSearchResult. */
export interface Startable {
  start(): unknown
  stop(): void
}

/**
 * What `attach` returns for the current target: the started core object and the functions that remove its
 * listeners; a promise during server-side rendering (a one-off read); null when paused or refused.
 */
export type Attached<T extends Startable> = { target: T; offs: Array<() => void> } | Promise<unknown> | null

/**
 * The part both composables share, as VueFire's one lifecycle over a binder: resolve the client, follow the reactive
 * target (its key decides when to re-target), attach / detach, read once during server-side rendering, and stop
 * with the owning effect scope (component, effectScope, Pinia setup store).
 *
 * A class, so that a list of thousands of composables shares its methods instead of holding closures each: a
 * composable extends it (or uses {@link useLifecycle}) and calls {@link begin} once its own fields are set.
 */
export abstract class Lifecycle<T extends Startable> {
  client!: ObserverClient
  readonly isActive: Ref<boolean> = shallowRef(false)
  private bound: T | null = null
  private serverRead: Promise<unknown> | null = null
  private ssr = false

  /**
   * Attaches to the current target: the started core object, a promise during server-side rendering (a one-off
   * read), or null when paused or refused.
   */
  protected abstract attach(client: ObserverClient, ssr: boolean): T | Promise<unknown> | null
  /** Removes the listeners `attach` added to `target` (it is stopped next). */
  protected abstract release(target: T): void
  /** Stopped (by `stop()`, `immediate: false` or scope disposal). */
  protected abstract stopped(): void

  /**
   * Starts following: `key` (null when the target cannot change: no ref nor getter among the arguments, so nothing
   * to watch) decides when to re-target. Returns the composable's `start` and `stop` (bound once: callers
   * destructure them; the owner's scope holds `stop`).
   */
  protected begin(name: string, options: ObservedOptions, key: WatchSource<unknown> | null): { start: () => void; stop: () => void } {
    if (!getCurrentScope()) {
      throw new Error(
        `[vue-observed] ${name}() needs an owner to stop with: call it inside a component setup(), an effectScope().run() ` +
          'or a Pinia setup store.',
      )
    }
    this.client = options.client ?? useObserverClient()
    // During SSR a composable reads once and never subscribes.
    this.ssr = getCurrentInstance() ? inject(ssrContextKey, null) !== null : false
    // A change of target detaches the old one first, so a late answer for it can never land.
    if (key !== null) watch(key, () => this.isActive.value && this.retarget(), { flush: 'sync' })
    if (this.ssr) onServerPrefetch(() => this.serverRead ?? undefined)
    const stop = this.stopNow.bind(this)
    tryOnScopeDispose(stop)
    if (options.immediate !== false) this.startNow()
    else this.stopped()
    // Devtools show which component owns which observer; a production build drops this (and owners.ts).
    if (process.env.NODE_ENV !== 'production') trackOwner(name, this.client, () => this.current())
    return { start: this.startNow.bind(this), stop }
  }

  /** The core object followed now, if any. */
  current(): T | null {
    return this.bound
  }

  private detach(): void {
    const bound = this.bound
    if (!bound) return
    this.release(bound)
    bound.stop()
    this.bound = null
  }

  /** Holds `target` as the current one from now (`attach` may, before it starts it, so its events find it). */
  protected hold(target: T): void {
    this.bound = target
  }

  private retarget(): void {
    this.detach()
    const attached = this.attach(this.client, this.ssr)
    if (attached instanceof Promise) this.serverRead = attached
    else this.bound = attached
  }

  private startNow(): void {
    if (this.isActive.value) return
    this.isActive.value = true
    this.retarget()
  }

  private stopNow(): void {
    if (!this.isActive.value) return
    this.isActive.value = false
    this.detach()
    this.stopped()
  }
}

/** A lifecycle over functions (`attach` returning its listeners' removers), for a composable that is not a class. */
class FunctionLifecycle<T extends Startable> extends Lifecycle<T> {
  private offs: Array<() => void> | null = null
  start!: () => void
  stop!: () => void

  constructor(
    private readonly attachTo: (client: ObserverClient, ssr: boolean) => Attached<T>,
    private readonly onStopped: () => void,
  ) {
    super()
  }

  protected attach(client: ObserverClient, ssr: boolean): T | Promise<unknown> | null {
    const attached = this.attachTo(client, ssr)
    if (attached === null || attached instanceof Promise) return attached
    this.offs = attached.offs
    return attached.target
  }

  protected release(): void {
    const offs = this.offs
    this.offs = null
    for (const off of offs ?? []) off()
  }

  protected stopped(): void {
    this.onStopped()
  }

  static use<T extends Startable>(
    name: string,
    options: ObservedOptions,
    key: WatchSource<unknown> | null,
    attach: (client: ObserverClient, ssr: boolean) => Attached<T>,
    stopped: () => void,
  ): FunctionLifecycle<T> {
    const lifecycle = new FunctionLifecycle(attach, stopped)
    Object.assign(lifecycle, lifecycle.begin(name, options, key))
    return lifecycle
  }
}

/** {@link Lifecycle} over functions: `attach` returns the started core object and its listeners' removers. */
export const useLifecycle: <T extends Startable>(
  name: string,
  options: ObservedOptions,
  key: WatchSource<unknown> | null,
  attach: (client: ObserverClient, ssr: boolean) => Attached<T>,
  stopped: () => void,
) => Lifecycle<T> & { start(): void; stop(): void } = FunctionLifecycle.use

/**
 * Adds `then` to a composable's return, so `await` gives the return (without `then`, so awaiting ends) once
 * `settled()` is true: Suspense-friendly, as VueUse's useFetch.
 */
export function makeAwaitable<S extends object>(shell: S, settled: () => boolean): S & PromiseLike<S> {
  const done = () => whenSettled(shell, settled)
  return {
    ...shell,
    then<A = S, B = never>(onFulfilled?: ((value: S) => A | PromiseLike<A>) | null, onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null) {
      return done().then(onFulfilled, onRejected)
    },
  }
}

/** Resolves with `value` once `settled()` is true (watched only while someone waits). */
export function whenSettled<S>(value: S, settled: () => boolean): Promise<S> {
  return new Promise<S>((resolve) => {
    if (settled()) return resolve(value)
    const stopWatch = watch(settled, (ok) => {
      if (!ok) return
      stopWatch()
      resolve(value)
    })
  })
}
