import { tryOnScopeDispose } from '@vueuse/core'
import { getCurrentScope, shallowRef, watch, type Ref, type WatchSource } from 'vue'
import type { ObserverClient } from '../core'
import { useObserverClient } from './plugin'

/** Options every composable accepts. */
export interface ObservedOptions {
  /** Start at once (default true). With `false`, call `start()`. */
  immediate?: boolean
  /** Use this client instead of the plugin's (tests, several backends in one app). */
  client?: ObserverClient
}

/** What a binding does for its current target; `detach` must leave no listener behind. */
export interface Binding {
  detach(): void
}

export interface Lifecycle {
  client: ObserverClient
  isActive: Ref<boolean>
  start(): void
  stop(): void
}

/**
 * The part both composables share: resolve the client, follow the reactive target (its key decides when to
 * re-target), attach / detach a binding, and stop with the owning effect scope (component, effectScope, Pinia
 * setup store).
 */
export function useLifecycle(
  name: string,
  options: ObservedOptions,
  key: WatchSource<unknown>,
  attach: () => Binding | null,
  stopped: () => void,
): Lifecycle {
  if (!getCurrentScope()) {
    throw new Error(
      `[vue-observed] ${name}() needs an owner to stop with: call it inside a component setup(), an effectScope().run() ` +
        'or a Pinia setup store.',
    )
  }
  const client = options.client ?? useObserverClient()
  const isActive = shallowRef(false)
  let binding: Binding | null = null

  const retarget = () => {
    binding?.detach()
    binding = null
    binding = attach()
  }
  // A change of target detaches the old binding first, so a late answer for it can never land.
  watch(key, () => isActive.value && retarget(), { flush: 'sync' })

  const start = () => {
    if (isActive.value) return
    isActive.value = true
    retarget()
  }
  const stop = () => {
    if (!isActive.value) return
    isActive.value = false
    binding?.detach()
    binding = null
    stopped()
  }
  tryOnScopeDispose(stop)
  return { client, isActive, start, stop }
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
