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

export interface Lifecycle<T extends Startable> {
  client: ObserverClient
  isActive: Ref<boolean>
  /** The core object followed now, if any. */
  current(): T | null
  start(): void
  stop(): void
}

/**
 * The part both composables share, as VueFire's one lifecycle over a binder: resolve the client, follow the reactive
 * target (its key decides when to re-target), attach / detach, read once during server-side rendering, and stop
 * with the owning effect scope (component, effectScope, Pinia setup store).
 */
export function useLifecycle<T extends Startable>(
  name: string,
  options: ObservedOptions,
  key: WatchSource<unknown>,
  attach: (client: ObserverClient, ssr: boolean) => Attached<T>,
  stopped: () => void,
): Lifecycle<T> {
  if (!getCurrentScope()) {
    throw new Error(
      `[vue-observed] ${name}() needs an owner to stop with: call it inside a component setup(), an effectScope().run() ` +
        'or a Pinia setup store.',
    )
  }
  const client = options.client ?? useObserverClient()
  // During SSR a composable reads once and never subscribes.
  const ssr = getCurrentInstance() ? inject(ssrContextKey, null) !== null : false
  const isActive = shallowRef(false)
  let bound: { target: T; offs: Array<() => void> } | null = null
  let serverRead: Promise<unknown> | null = null

  const detach = () => {
    if (!bound) return
    for (const off of bound.offs) off()
    bound.target.stop()
    bound = null
  }
  const retarget = () => {
    detach()
    const attached = attach(client, ssr)
    if (attached instanceof Promise) serverRead = attached
    else bound = attached
  }
  // A change of target detaches the old one first, so a late answer for it can never land.
  watch(key, () => isActive.value && retarget(), { flush: 'sync' })
  if (ssr) onServerPrefetch(() => serverRead ?? undefined)

  const start = () => {
    if (isActive.value) return
    isActive.value = true
    retarget()
  }
  const stop = () => {
    if (!isActive.value) return
    isActive.value = false
    detach()
    stopped()
  }
  tryOnScopeDispose(stop)
  if (options.immediate !== false) start()
  else stopped()
  const current = () => bound?.target ?? null
  // Devtools show which component owns which observer; a production build drops this (and owners.ts).
  if (process.env.NODE_ENV !== 'production') trackOwner(name, client, current)
  return { client, isActive, current, start, stop }
}

/**
 * Adds `then` to a composable's return, so `await` gives the return (without `then`, so awaiting ends) once
 * `settled()` is true: Suspense-friendly, as VueUse's useFetch.
 */
export function makeAwaitable<S extends object>(shell: S, settled: () => boolean): S & PromiseLike<S> {
  const done = () =>
    new Promise<S>((resolve) => {
      if (settled()) return resolve(shell)
      const stopWatch = watch(settled, (ok) => {
        if (!ok) return
        stopWatch()
        resolve(shell)
      })
    })
  return {
    ...shell,
    then<A = S, B = never>(onFulfilled?: ((value: S) => A | PromiseLike<A>) | null, onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null) {
      return done().then(onFulfilled, onRejected)
    },
  }
}
