/**
 * What the fault runner needs from a backend: a driver for the core, writers, fault knobs, and an oracle (the stored
 * documents and the backend's own search) to compare observers with once everything is quiet.
 */
import type { ObserverClientOptions } from '../../src/core/client'
import type { CollectionRef, Doc, DocSource, Driver, SearchSpec, SortInput } from '../../src/core/types'
import type { Rng } from './prng'
import type { Body, FaultStep, Schedule, ScheduleProfile, TargetName, WriteOp } from './schedule'

/** A query every target can express in its backend's language. */
export interface AbstractQuery {
  readonly where: 'all' | { readonly g: string } | { readonly nGte: number } | { readonly gIn: readonly string[] }
  readonly sort?: SortInput
}

/** The queries schedules search with (`search.q` indexes this list). */
export const QUERIES: readonly AbstractQuery[] = [
  { where: 'all', sort: [{ n: 'asc' }] },
  { where: { g: 'a' }, sort: [{ n: 'desc' }] },
  { where: { nGte: 5 }, sort: [{ g: 'asc' }, { n: 'asc' }] },
  { where: { gIn: ['a', 'b'] }, sort: [{ 'nested.x': 'desc' }] },
  { where: 'all' },
]

/** A backend under test, set up for one schedule. */
export interface Target {
  readonly name: TargetName
  readonly ref: CollectionRef
  readonly driver: Driver
  /** Core options for this target (gap timeout, backoff, release delay). */
  readonly clientOptions: Omit<ObserverClientOptions, 'driver'>
  /** The search spec of a query, in the backend's language. */
  spec(query: AbstractQuery): SearchSpec
  /** A write by writer `by`; may reject (a missing document, a dropped connection): the oracle decides. */
  write(by: number, w: WriteOp, silent: boolean): Promise<unknown>
  fault(step: FaultStep): Promise<void>
  /** Every fault off, the backend reachable, every client connected. */
  heal(): Promise<void>
  /**
   * Documents whose last event may have been lost with nothing to reveal it (a dropped event with no later one, a
   * silent write): the runner writes them once more after healing, which is the "gap that never fills" the core
   * must detect. A lost event that is followed by a reconnect or another write needs nothing.
   */
  readonly unrevealed: Set<string>
  /** The stored documents, as observers show them (`_source`), by id. */
  stored(): Promise<Map<string, DocSource>>
  /** The backend's own result of a query, in its order (every match). */
  search(query: AbstractQuery): Promise<Doc[]>
  /** Driver- and backend-side leftovers once every observer stopped (watches, subscriptions, listeners). */
  leaks(): Promise<string[]>
  close(): Promise<void>
}

/** Builds a target for a schedule. */
export interface TargetFactory {
  readonly name: TargetName
  readonly profile: ScheduleProfile
  /** Bounds of the waits after the schedule (ms): for convergence, quiet time that proves it, and for leaks. */
  readonly timing: { readonly converge: number; readonly settle: number; readonly leak: number }
  create(schedule: Schedule, rng: Rng): Promise<Target>
}

/** The writes a body needs: a full body, without `undefined` fields. */
export function plain(body: Body | Partial<Body>): DocSource {
  return JSON.parse(JSON.stringify(body)) as DocSource
}

/** Steps of a pair write, flattened (targets without transactions write them back to back). */
export function flatten(w: WriteOp): WriteOp[] {
  return w.op === 'pair' ? [...flatten(w.a), ...flatten(w.b)] : [w]
}

/** Ids a write touches. */
export function touched(w: WriteOp): string[] {
  return flatten(w).map((x) => (x as { id: string }).id)
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))
