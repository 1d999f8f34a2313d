/**
 * What the page needs from the selected backend: the driver, where the taxis are, the query language of the
 * filters, and the writes the buttons make (through the backend's own API: the memory driver, kuzzle-sdk or
 * @sanity/client).
 */
import { inject, type InjectionKey, type Ref } from 'vue'
import type { Driver, SearchSpec, TabRole } from 'vue-observed'
import type { BackendName } from './config'
import type { Taxi } from './taxis'

/** The list's filters, in the page's terms. */
export interface TaxiFilter {
  status: '' | Taxi['status']
  borough: '' | Taxi['borough']
  /** Lowest fare shown (0: any). */
  minFare: number
}

/** One backend, as the page uses it. */
export interface Backend {
  readonly name: BackendName
  readonly driver: Driver
  /** Kuzzle index, Sanity dataset (`''`: the client's own), or the memory driver's index. */
  readonly index: string
  /** Kuzzle collection, Sanity `_type`. */
  readonly collection: string
  /** Whether other tabs see the same data (false for the memory driver: one store per tab). */
  readonly shared: boolean
  /**
   * Opens the backend's connection when it is one the driver does not open itself (Kuzzle's socket). With tabs
   * sharing connections, only the leader tab calls it (`shareAcrossTabs.onLeader`).
   */
  connect?(): void
  /** Whether the dev server can stop and restart it on demand (the embedded test servers). */
  readonly canRestart: boolean
  /** Where it is, for the header. */
  readonly location: string
  /** The filters in the backend's own query language (memory filter, Elasticsearch DSL, GROQ with params). */
  query(filter: TaxiFilter): Pick<SearchSpec, 'query' | 'params'>
  /** Adds a taxi; resolves with its id. */
  create(): Promise<string>
  /** Moves one taxi (and sometimes changes its status or fare). */
  update(id: string): Promise<void>
  remove(id: string): Promise<void>
  /** Simulated traffic: N updates per second (0 stops), written server-side for shared backends. */
  setTraffic(rate: number): Promise<number>
  /** The traffic rate now. */
  trafficRate(): Promise<number>
  /** Stops the server for `ms` then restarts it on the same port (only when `canRestart`). */
  outage(ms: number): Promise<void>
}

/** This tab's part in sharing connections (`shareAcrossTabs`): leader, follower, or alone (sharing off). */
export const tabRoleKey: InjectionKey<Readonly<Ref<TabRole>>> = Symbol('playground tab role')

/** Whether tabs share one set of connections: on for shared backends, unless the URL says `?share=0`. */
export function shareTabs(backend: Pick<Backend, 'shared'>): boolean {
  return backend.shared && new URLSearchParams(location.search).get('share') !== '0'
}

/** Where App provides the backend. */
export const backendKey: InjectionKey<Backend> = Symbol('playground backend')

/** The selected backend, from a component's setup() or a Pinia setup store. */
export function useBackend(): Backend {
  const backend = inject(backendKey, null)
  if (!backend) throw new Error('No playground backend provided')
  return backend
}

/** A fresh taxi id: random, so that two tabs adding taxis at once never collide. */
export function newTaxiId(): string {
  return `taxi-${crypto.randomUUID().slice(0, 8)}`
}
