/**
 * Shared types of the observer core and the driver contract (the seam between the core and a backend).
 * Nothing here imports Vue or a backend SDK.
 */

/** Where documents live: Kuzzle's index/collection, Sanity's dataset/_type, the memory driver's own pair. */
export interface CollectionRef {
  readonly index: string
  readonly collection: string
}

/** A document body. Backends hold JSON, so a source is a plain JSON object. */
export type DocSource = Record<string, unknown>

/** A revision: a number (memory driver, Kuzzle `_version` / `updatedAt`) or an opaque string (Sanity `_rev`). */
export type Rev = string | number

/** A document as a backend returns it, in Kuzzle's shape. */
export interface Doc<T = DocSource> {
  _id: string
  _source: T
  /** Revision of this content, when the backend has one. */
  _rev?: Rev
}

/** One sort key, normalized: a dotted field path and a direction. Ties are broken by `_id` ascending. */
export interface SortKey {
  readonly field: string
  readonly order: 'asc' | 'desc'
}

/**
 * Sort as callers write it: `'field'`, `{ field: 'desc' }`, `{ field: { order: 'desc' } }` (Elasticsearch style),
 * or an array of those.
 */
export type SortInput =
  | string
  | Record<string, 'asc' | 'desc' | { order: 'asc' | 'desc' }>
  | Array<string | Record<string, 'asc' | 'desc' | { order: 'asc' | 'desc' }>>

/**
 * What a search asks for. `query` is the backend's own language (memory: a JSON filter or a predicate;
 * Kuzzle: Elasticsearch DSL; Sanity: a GROQ filter expression), `params` its parameters (Sanity),
 * `filters` an explicit realtime filter (Kuzzle's Koncorde DSL) when the query cannot be translated.
 */
export interface SearchSpec<Q = unknown> {
  query?: Q
  sort?: SortInput
  params?: Record<string, unknown>
  filters?: unknown
}

/** The search as drivers receive it: sort already normalized. */
export interface DriverSearchSpec {
  readonly query?: unknown
  readonly sort: readonly SortKey[]
  readonly params?: Record<string, unknown>
  readonly filters?: unknown
}

/** A page request: skip `from` results, return at most `size`; `after` is the cursor a previous page returned. */
export interface PageRequest {
  readonly from: number
  readonly size: number
  readonly after?: unknown
}

/** A page of results, in the query's sort order. */
export interface Page {
  hits: Doc[]
  total: number
  /** Opaque cursor for the following page (search_after); absent when the driver pages by `from`. */
  after?: unknown
}

/**
 * A change to one document, normalized by the driver.
 * `rev` / `previousRev` order events (promise 2):
 * - `previousRev` given (a string or number, or `null` for "did not exist"): the event continues a chain and is
 *   applied only on top of that revision; gaps are waited for, then refetched.
 * - only a numeric `rev`: newer wins, older is dropped.
 * - neither: applied in arrival order.
 */
export interface DocEvent {
  readonly id: string
  readonly kind: 'upsert' | 'delete'
  /** Full content after the change (replace, never merge); absent on delete. */
  readonly doc?: DocSource
  readonly rev?: Rev
  readonly previousRev?: Rev | null
  /** For query watches: whether the document matches the watched query after this change. */
  readonly inQuery?: boolean
  /**
   * For query watches, when the backend says: whether the document matched the query before this change. With
   * `inQuery` it tells how the change moved the number of matches (none when both agree), so no count is needed.
   */
  readonly matchedBefore?: boolean
}

/** Error codes the core and drivers use. */
export type ObservedErrorCode =
  | 'bad_argument'
  | 'not_found'
  | 'read_failed'
  | 'watch_failed'
  | 'bad_event'
  | 'unsupported_query'
  | 'token_expired'
  | 'unauthorized'
  | 'channel_error'
  | 'disconnected'
  | 'no_plugin'
  | 'closed'
  | 'watch_timeout'
  | 'write_failed'
  | 'conflict'

/** Options of {@link ObservedError}. */
export interface ObservedErrorOptions {
  /** The error stops the observer for good (retrying cannot help). */
  fatal?: boolean
  /** The underlying error. Drivers pass a redacted copy, never an object holding credentials. */
  cause?: unknown
  /** The server's `Retry-After`, in ms. */
  retryAfter?: number
}

/** What callbacks, `error` refs and `onError` receive. `fatal` errors stop the observer for good. */
export class ObservedError extends Error {
  override readonly name = 'ObservedError'
  readonly code: ObservedErrorCode
  readonly fatal: boolean
  /**
   * How long the server asked the client to wait before trying again (ms), from `Retry-After` or a 429/503 the SDK
   * surfaced; the core waits at least this long before its next request of that kind.
   */
  readonly retryAfter?: number
  constructor(code: ObservedErrorCode, message: string, options: ObservedErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.code = code
    this.fatal = options.fatal ?? false
    if (options.retryAfter !== undefined && Number.isFinite(options.retryAfter) && options.retryAfter >= 0) {
      this.retryAfter = options.retryAfter
    }
  }
}

/** `err` itself when it is an ObservedError, else one with `code` and its message (the original as `cause`). */
export function asObservedError(err: unknown, code: ObservedErrorCode): ObservedError {
  if (err instanceof ObservedError) return err
  return new ObservedError(code, String((err as Error)?.message ?? err), { cause: err })
}

/** What a watch is asked to follow: documents by id, or every document a query matches (before or after a change). */
export type WatchSpec = { readonly ids: readonly string[] } | { readonly query: DriverSearchSpec }

/** Where a driver reports what happens on a watch. */
export interface WatchSink {
  /**
   * The watch is live (Kuzzle: subscribe acknowledged; Sanity: welcome / welcomeback). Called once at first, and
   * again after each reconnection; `resumed: true` says no event was missed in between (Sanity `welcomeback`),
   * otherwise the core resyncs.
   */
  ready(info?: { resumed?: boolean }): void
  /** A document changed. */
  event(e: DocEvent): void
  /** Events may have been missed (Sanity `reset`, a reconnect without resume): the core refetches. */
  reset(): void
  /** The connection behind this watch is down; the driver or its SDK is reconnecting, `ready` follows. */
  offline(): void
  /**
   * Something went wrong. A non-fatal error closes nothing by itself: the core closes the watch and opens a new one
   * with backoff. A fatal one (Sanity `disconnect`, 401/403, Kuzzle TokenExpired) stops its observers.
   */
  error(err: ObservedError): void
}

/** A live subscription opened by a driver. */
export interface Watch {
  /**
   * Change the followed ids without a gap: resolves once the new set is live. The core never calls it twice at once
   * and never with an unchanged set. When absent, the core opens a new watch and closes the old one once it is ready.
   */
  update?(spec: WatchSpec): Promise<void>
  close(): void
}

/** The contract between the core and a backend. A driver does I/O and translation only. */
export interface Driver {
  /** A short name for messages and devtools ("memory", "kuzzle", "sanity"). */
  readonly name: string
  /** How many ids one watch may follow (the backend's per-filter limit). Default: unbounded. */
  readonly maxIdsPerWatch?: number
  /** How many ids one `mGet` may ask for (the backend's read-size limit). Default: 500. */
  readonly maxIdsPerRead?: number
  /**
   * Optional: throws a `bad_argument` ObservedError for an id the backend refuses (e.g. Sanity's `.` and `..`), so
   * that the core refuses it when an observer is created, before it joins a shared read or watch.
   */
  checkId?(id: string): void
  get(c: CollectionRef, id: string): Promise<Doc | null>
  /** Missing ids are simply absent from the result. */
  mGet(c: CollectionRef, ids: readonly string[]): Promise<Doc[]>
  search(c: CollectionRef, spec: DriverSearchSpec, page: PageRequest): Promise<Page>
  watch(c: CollectionRef, spec: WatchSpec, sink: WatchSink): Watch
  /** Optional: stable key for a query, for pooling query watches. Default: JSON of query, params and filters. */
  queryKey?(spec: DriverSearchSpec): string | undefined
  /**
   * Optional: whether a document's content matches a search's query, decided in the client (a live `query` search
   * places a local write by it before the server's news). Returns undefined when this driver cannot decide this
   * query exactly in the client (the search then waits for the server's news): never a guess.
   */
  matcher?(c: CollectionRef, spec: DriverSearchSpec): ((source: DocSource, id: string) => boolean) | undefined
  /**
   * Optional: writes one document (local writes). Resolves with the revision the backend gave it, when it gives one
   * (the core recognises the write's echo by it). Rejects with an ObservedError: `conflict` when `ifRevision` is
   * not the stored revision (or `create` finds the document), `not_found`, `unauthorized`, `bad_argument`, or
   * `write_failed`.
   */
  write?(c: CollectionRef, w: WriteRequest): Promise<{ rev?: Rev }>
  /**
   * Optional: whether a document's content matches a search's query, decided in the client (a live `query` search
   * places a local write by it before the server's news). Returns undefined when this driver cannot decide this
   * query exactly in the client (the search then waits for the server's news): never a guess.
   */
  matcher?(c: CollectionRef, spec: DriverSearchSpec): ((source: DocSource, id: string) => boolean) | undefined
}

/**
 * A write as the core sends it. `update` merges `content` into the stored document (plain objects deeply, as
 * Kuzzle's `document:update`); `replace` sets it whole; `create` fails with `conflict` when the id exists.
 */
export interface WriteRequest {
  readonly op: 'create' | 'update' | 'replace' | 'remove'
  readonly id: string
  readonly content?: DocSource
  /** Write only if the stored revision is still this one. */
  readonly ifRevision?: Rev
}
