/**
 * `shareAcrossTabs`, as the client sees it: a Driver that loads shared-driver.ts on first use (a separate chunk, so
 * that an app without the option bundles none of it) and, until it is loaded, queues what the core asks. Where the
 * browser lacks BroadcastChannel or the Web Locks API (or outside a browser), the app's own driver is used as it is:
 * one set of connections per tab.
 */
import type { CollectionRef, Driver, DriverSearchSpec, PageRequest, Watch, WatchSink, WatchSpec, WriteRequest } from '../types'
import type { SharedDriver, ShareAcrossTabsOptions, TabRole, TabsEnv } from './shared-driver'

export type { ShareAcrossTabsOptions, TabRole } from './shared-driver'

/** What the client holds while sharing. */
export interface TabSharing {
  readonly driver: Driver
  /** This tab's role now. */
  readonly role: TabRole
  /** The leader's open driver watches in this tab (0 in a follower). */
  readonly hubWatches: number
  close(): void
}

/** The browser's APIs, when both are there. */
function browserEnv(): TabsEnv | null {
  const g = globalThis as { BroadcastChannel?: TabsEnv['BroadcastChannel']; navigator?: { locks?: TabsEnv['locks'] } }
  if (typeof g.BroadcastChannel !== 'function' || typeof g.navigator?.locks?.request !== 'function') return null
  return { BroadcastChannel: g.BroadcastChannel, locks: g.navigator.locks }
}

/** Wraps `driver` for sharing; `env` replaces the browser's APIs (tests). */
export function shareAcrossTabs(driver: Driver, option: true | ShareAcrossTabsOptions, env: TabsEnv | null = browserEnv()): TabSharing {
  const options: ShareAcrossTabsOptions = option === true ? {} : option
  if (!env) {
    // One set per tab: this tab leads itself.
    queueMicrotask(() => {
      options.onRoleChange?.('alone')
      options.onLeader?.()
    })
    return { driver, role: 'alone', hubWatches: 0, close() {} }
  }
  let shared: SharedDriver | null = null
  let closed = false
  const loading = import('./shared-driver').then((m) => {
    if (!closed) shared = new m.SharedDriver(driver, options, env).start()
    return shared
  })
  const whenLoaded = <T>(run: (d: Driver) => Promise<T>): Promise<T> =>
    shared ? run(shared) : loading.then((d) => (d ? run(d) : Promise.reject(new Error('closed'))))
  const lazy: Driver = {
    name: driver.name,
    ...(driver.maxIdsPerWatch !== undefined ? { maxIdsPerWatch: driver.maxIdsPerWatch } : {}),
    ...(driver.maxIdsPerRead !== undefined ? { maxIdsPerRead: driver.maxIdsPerRead } : {}),
    ...(driver.checkId ? { checkId: (id: string) => driver.checkId!(id) } : {}),
    ...(driver.queryKey ? { queryKey: (spec: DriverSearchSpec) => driver.queryKey!(spec) } : {}),
    // Writes go out from the tab that makes them; every tab sees them come back through the leader's watches.
    ...(driver.write ? { write: (c: CollectionRef, w: WriteRequest) => driver.write!(c, w) } : {}),
    // Matching is pure: decided in this tab, by the driver itself.
    ...(driver.matcher ? { matcher: (c: CollectionRef, spec: DriverSearchSpec) => driver.matcher!(c, spec) } : {}),
    get: (c: CollectionRef, id: string) => whenLoaded((d) => d.get(c, id)),
    mGet: (c: CollectionRef, ids: readonly string[]) => whenLoaded((d) => d.mGet(c, ids)),
    search: (c: CollectionRef, spec: DriverSearchSpec, page: PageRequest) => whenLoaded((d) => d.search(c, spec, page)),
    watch(c: CollectionRef, spec: WatchSpec, sink: WatchSink): Watch {
      if (shared) return shared.watch(c, spec, sink)
      let inner: Watch | null = null
      let gone = false
      void loading.then((d) => {
        if (d && !gone) inner = d.watch(c, spec, sink)
      })
      return {
        close() {
          gone = true
          inner?.close()
        },
      }
    },
  }
  return {
    driver: lazy,
    get role() {
      return shared?.tabRole ?? 'starting'
    },
    get hubWatches() {
      return shared?.hubWatches ?? 0
    },
    close() {
      closed = true
      shared?.close()
    },
  }
}
