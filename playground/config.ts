/**
 * What the page needs to reach the Kuzzle and Sanity backends, as the dev server's playground plugin serves it at
 * `GET /__playground/config`: the embedded protocol test servers by default, or a real host / project when the
 * environment names one (see the README's "Try it").
 */

/** The backends the playground can switch between. */
export type BackendName = 'memory' | 'kuzzle' | 'sanity'
export const BACKENDS: readonly BackendName[] = ['memory', 'kuzzle', 'sanity']

/** Where the Kuzzle backend is. */
export interface KuzzleTarget {
  host: string
  port: number
  ssl: boolean
  /** True when it is the Kuzzle-protocol test server the dev server runs (it can be restarted on demand). */
  embedded: boolean
}

/** Where the Sanity backend is. */
export interface SanityTarget {
  /** Absent for the test server, which serves any project (the client then sends no project header). */
  projectId?: string
  dataset: string
  /** Full API origin, e.g. `http://127.0.0.1:7513`; absent for a real project (`https://<projectId>.api.sanity.io`). */
  apiHost?: string
  apiVersion: string
  /** A token with write rights, for the buttons (a real project only; keep it to a development dataset). */
  token?: string
  /** True when it is the Sanity-protocol test server the dev server runs. */
  embedded: boolean
}

/** The answer of `GET /__playground/config`. */
export interface PlaygroundConfig {
  kuzzle: KuzzleTarget
  sanity: SanityTarget
  /** Server-side simulated traffic, in updates per second (0: off). */
  traffic: Record<Exclude<BackendName, 'memory'>, number>
}

/** Where the dev-only endpoints of the playground plugin live. */
export const DEV_API = '/__playground'
