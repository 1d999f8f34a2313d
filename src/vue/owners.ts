import { tryOnScopeDispose } from '@vueuse/core'
import { getCurrentInstance, type ComponentInternalInstance } from 'vue'
import type { ObserverClient } from '../core'

/** A live composable, for devtools: the component that owns it and the core object it follows now. */
export interface OwnedObserver {
  /** `useObservedDocument` or `useObservedSearch`. */
  readonly composable: string
  /** The owning component; null in an effectScope or a Pinia store. */
  readonly instance: ComponentInternalInstance | null
  readonly client: ObserverClient
  /** The Observer or ObserverSearchResult followed now (null while paused or stopped). */
  current(): object | null
}

/**
 * Every live composable. Filled in development builds only (lifecycle.ts registers behind a NODE_ENV check, so a
 * production bundle drops this module); each entry leaves with its owner's scope.
 */
export const ownedObservers = new Set<OwnedObserver>()

/** Registers the calling composable (inside its owner's setup or scope). */
export function trackOwner(composable: string, client: ObserverClient, current: () => object | null): void {
  const entry: OwnedObserver = { composable, instance: getCurrentInstance(), client, current }
  ownedObservers.add(entry)
  tryOnScopeDispose(() => ownedObservers.delete(entry))
}
