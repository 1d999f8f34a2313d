/** The public types of a live search and what it needs from its client (`search-result.ts` is the search). */
import type { BackoffOptions } from './backoff'
import type { Origin } from './doc-state'
import type { Observer } from './observer'
import type { JoinedQuery, QueryListener } from './query-pool'
import type { RetryGate } from './retry-gate'
import type { CollectionRef, Doc, DocEvent, DocSource, Driver, DriverSearchSpec, ObservedError } from './types'

/**
 * How a search stays live. `hits`: the documents returned are observed by id (Kuzzle SDK's behaviour).
 * `query`: documents that start matching appear and those that stop matching disappear, in the query's sort.
 */
export type LiveMode = 'hits' | 'query'

export type SearchStatus = 'idle' | 'pending' | 'live' | 'reconnecting' | 'stopped' | 'error'

/** Options of a search. */
export interface SearchOptions {
  /** Page size (default 20). */
  size?: number
  /** See {@link LiveMode}; default `hits`. */
  live?: LiveMode
}

/** Events of an {@link ObserverSearchResult}. */
export interface SearchEvents<T extends object> {
  /** A hit's content changed: `source` is its new content, a frozen value. */
  change: (id: string, source: T, changes: string[]) => void
  /** A hit was deleted (and removed from `hits`). */
  delete: (id: string) => void
  /** An error on one hit (`id`) or on the search itself (`id` null). */
  error: (id: string | null, err: ObservedError) => void
  /** `live: 'query'`: a document started matching and entered `hits` (`source`: its content, a frozen value). */
  appear: (id: string, source: T) => void
  /** `live: 'query'`: a document stopped matching and left `hits`. */
  disappear: (id: string) => void
  /** `hits` (a new array), `total` or their order changed. */
  hits: (hits: Observer<T>[]) => void
  /** A hit's `pending` changed: a local write of it started, or its last one was confirmed or refused. */
  pending: (id: string, pending: boolean) => void
  status: (status: SearchStatus) => void
}

/** A document with local writes, as a search places it: by what it shows, against what the server stores. */
export interface LocalDoc {
  readonly id: string
  /** A local write of it is not confirmed yet. */
  readonly pending: boolean
  /** The server's content with the pending writes on top (null: removed). */
  readonly visible: DocSource | null
  /** What the server stores as far as known: its last word with the writes it answered (null: missing or unknown). */
  readonly remote: DocSource | null
}

/** What a search needs from its client. */
export interface SearchHost {
  readonly driver: Driver
  readonly backoff: BackoffOptions
  /** How long a first page may take before the search says `reconnecting` (watch_timeout); 0: no limit. */
  readonly readTimeout?: number
  /** Counts the search as started, so that closing the client stops it; throws a `closed` error once closed. */
  started(search: { stop(): void }): void
  /** The search stopped. */
  stopped(search: { stop(): void }): void
  /** The backoff shared by the failing search reads of a collection: one probe per step, not one per search. */
  readGate(ref: CollectionRef): RetryGate
  /** Sequence number of the last event received, to order reads against events. */
  currentSeq(): number
  /** A started observer for a hit; `watch` false when the search's own query watch follows it. */
  observe<T extends object>(ref: CollectionRef, id: string, watch: boolean): Observer<T>
  /** Gives a hit the content a search read (or `event` carried), unless something newer arrived since `seq` (then true). */
  offer(observer: { readonly ref: CollectionRef; readonly _id: string }, doc: Doc, seq: number, event?: DocEvent): boolean | undefined
  /**
   * Where a held document's content comes from (`read`: its own read, which no query watch vouched for); `none`
   * before any, `forgotten` when an entry of it was disposed lately.
   */
  provenance(observer: { readonly ref: CollectionRef; readonly _id: string }): Origin | 'none' | 'forgotten' | undefined
  joinQuery(ref: CollectionRef, spec: DriverSearchSpec, listener: QueryListener): JoinedQuery
  /**
   * Tells `listener` of local writes in `ref`'s collection (what a write or its rollback changed a document's content
   * from and to; `before === after` when its last pending write was confirmed); returns the unsubscribe.
   */
  onLocal(ref: CollectionRef, listener: (doc: LocalDoc, before: DocSource | null, after: DocSource | null) => void): () => void
  /**
   * The documents of `ref`'s collection with local writes the server had not answered by stream point `at` (default:
   * not answered yet); `remote` is what it stored by then as far as known.
   */
  pendingIn(ref: CollectionRef, at?: number): Iterable<LocalDoc>
  /** `id`'s local state while it has pending writes (answered or not), else undefined. */
  pendingOf(ref: CollectionRef, id: string): LocalDoc | undefined
  /** Traces a decision to read again (devtools), when someone listens. */
  readAgain?(ref: CollectionRef, reason: string): void
  /** Passes an event to a held document, which orders it and calls `applied` once it is applied. */
  applyEvent(
    observer: { readonly ref: CollectionRef; readonly _id: string },
    e: DocEvent,
    applied: (e: DocEvent, superseded?: boolean) => void,
  ): void
}
