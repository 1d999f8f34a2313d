/** The framework-free observer client, usable without Vue. */
export { ObserverClient } from './client'
export type {
  DocumentInspection,
  ObserverClientInspection,
  ObserverClientOptions,
  ObserverClientStats,
  SearchInspection,
  WatchInspection,
} from './client'
export type { IdWatchInspection } from './pool'
export type { QueryWatchInspection } from './query-pool'
export type { TraceDecision, TraceEvent, TraceListener, TraceRecord } from './trace'
export { Observer } from './observer'
export type { WriteOptions } from './entry'
export type { Origin } from './doc-state'
export type { ObserverEvents, ObserverStatus } from './observer'
export { ObserverSearchResult } from './search-result'
export type { LiveMode, SearchEvents, SearchOptions, SearchStatus } from './search-result'
export { backoffDelay } from './backoff'
export type { BackoffOptions } from './backoff'
export { comparator, normalizeSort, readPath } from './sort'
/** Data helpers the adapters share (as TanStack's query-core exports `hashKey` and `replaceEqualDeep`). */
export { cloneSafe, isPlainObject, replaceInPlace } from './patch'
export { stableKey } from './query-pool'
export { ObservedError, asObservedError } from './types'
export type {
  CollectionRef,
  Doc,
  DocEvent,
  DocSource,
  Driver,
  DriverSearchSpec,
  ObservedErrorCode,
  ObservedErrorOptions,
  Page,
  PageRequest,
  Rev,
  SearchSpec,
  SortInput,
  SortKey,
  Watch,
  WatchSink,
  WatchSpec,
  WriteRequest,
} from './types'
export type { ShareAcrossTabsOptions, TabRole } from './tabs/lazy-shared-driver'
export { docKey, searchKey, validateState } from './hydration'
export type { DehydratedDoc, DehydratedSearch, DehydratedState } from './hydration'
