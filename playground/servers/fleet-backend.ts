/**
 * The dev server's handle on one shared backend (Kuzzle or Sanity): what the traffic simulator and the dev-only
 * endpoints need, whether the backend is the embedded protocol test server or a real host.
 */
import type { Taxi } from '../taxis'

/** A taxi as the dev server reads it. */
export interface FleetDoc {
  _id: string
  _source: Taxi
}

/** One shared backend, seen from the dev server (Node). */
export interface FleetBackend {
  readonly name: 'kuzzle' | 'sanity'
  /** True for the embedded protocol test server (then `outage` and `reset` are available). */
  readonly embedded: boolean
  /** Every taxi, as stored now. */
  list(): Promise<FleetDoc[]>
  /** A partial update, made as another client would: every subscriber is notified. Rejects if `id` is gone. */
  update(id: string, change: Partial<Taxi>): Promise<void>
  /** Puts the seed fleet back (embedded: silently, for tests; real backends: never called). */
  reset(): Promise<void>
  /** Embedded only: stops the server (every connection drops) and listens again on the same port after `downMs`. */
  outage?(downMs: number): Promise<void>
  close(): Promise<void>
}
