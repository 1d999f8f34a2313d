/**
 * Kuzzle documents and notifications in the driver contract's terms: revisions from `_kuzzle_info`, notifications
 * as normalized events, SDK errors as ObservedErrors.
 */
import type { CollectionRef, Doc, DocEvent, DocSource, ObservedErrorCode } from '../../core/types'
import { ObservedError } from '../../core/types'

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)
const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v)

/**
 * A document's revision: `_kuzzle_info.updatedAt`, or `createdAt` for a never-updated document (ms). Notifications
 * carry no `_version`, so this is the one revision both reads and notifications share.
 */
export function revisionOf(source: unknown): number | undefined {
  const info = isObject(source) ? source._kuzzle_info : undefined
  if (!isObject(info)) return undefined
  if (finite(info.updatedAt)) return info.updatedAt
  return finite(info.createdAt) ? info.createdAt : undefined
}

/** A document as document:get / mGet / search return it (`_source` kept whole, `_kuzzle_info` included). */
export function toDoc(raw: unknown): Doc | undefined {
  if (!isObject(raw) || typeof raw._id !== 'string' || !isObject(raw._source)) return undefined
  const rev = revisionOf(raw._source)
  return rev === undefined ? { _id: raw._id, _source: raw._source } : { _id: raw._id, _source: raw._source, _rev: rev }
}

/**
 * A document notification as an event, or undefined for anything else (user notifications, realtime messages,
 * malformed frames). Scope in: the full new document; scope out after a write: the document left a query;
 * scope out on delete: gone, ordered by the notification's timestamp. A write that created the document (Kuzzle's
 * notifier says `action: 'create'`, also for a `createOrReplace` or an `upsert` that created it) continues nothing:
 * `previousRev: null`, so that the core never takes it for a change of content it holds (a deletion it did not hear
 * of came between: a silent one, or one still on its way).
 */
export function toEvent(n: unknown, queryWatch: boolean): DocEvent | undefined {
  if (!isObject(n) || n.type !== 'document' || n.event === 'publish' || n.action === 'publish') return undefined
  const result = n.result
  if (!isObject(result) || typeof result._id !== 'string' || !result._id) return undefined
  const id = result._id
  const source = isObject(result._source) ? (result._source as DocSource) : undefined
  const timestamp = finite(n.timestamp) ? n.timestamp : undefined
  if (n.scope === 'out' && (n.action === 'delete' || n.event === 'delete')) {
    // A delete has no revision of its own. Its request time can precede the last write's processing time when
    // requests overlap, so never order it before the revision of the document it removed.
    const last = revisionOf(source)
    const rev = timestamp === undefined ? last : last === undefined ? timestamp : Math.max(timestamp, last)
    return rev === undefined ? { id, kind: 'delete' } : { id, kind: 'delete', rev }
  }
  if (n.scope !== 'in' && n.scope !== 'out') return undefined
  if (!source && n.scope === 'in') return undefined
  const rev = revisionOf(source) ?? timestamp
  const event: { -readonly [K in keyof DocEvent]: DocEvent[K] } = { id, kind: 'upsert' }
  // Older Kuzzle versions send only the _id when a document leaves a room.
  if (source) event.doc = source
  if (rev !== undefined) event.rev = rev
  if (n.action === 'create' && n.scope === 'in') event.previousRev = null
  if (queryWatch) event.inQuery = n.scope === 'in'
  return event
}

/** What the SDK rejects with: a KuzzleError (status, id) or a plain Error for network trouble. */
interface SdkError {
  status?: unknown
  id?: unknown
  message?: unknown
}

/** A JSON Web Token (three base64url segments, the first a JSON header): Kuzzle's authentication tokens. */
const JWT = /eyJ[\w-]*\.[\w-]+\.[\w-]*/g

/** `text` with every JWT in it replaced: a hostile server or proxy may echo the token into an error. */
export function redactJwt(text: string): string {
  return text.replace(JWT, '[redacted]')
}

/**
 * What an error keeps of the SDK's: name, status, id, code and the server's message with tokens redacted, as a plain
 * Error. The SDK's own error is dropped: whatever a hostile server put in it must not reach the app's logs.
 */
function safeCause(err: unknown): unknown {
  if (typeof err !== 'object' || err === null) return typeof err === 'string' ? redactJwt(err) : err
  const e = err as SdkError & { name?: unknown; code?: unknown }
  const message = typeof e.message === 'string' ? e.message : ''
  const cause = new Error(redactJwt(message).slice(0, 1000))
  cause.name = typeof e.name === 'string' ? e.name : 'Error'
  cause.stack = `${cause.name}: ${cause.message}`
  return Object.assign(cause, {
    ...(finite(e.status) ? { status: e.status } : {}),
    ...(typeof e.id === 'string' ? { id: redactJwt(e.id) } : {}),
    ...(typeof e.code === 'number' ? { code: e.code } : {}),
  })
}

/** True when a request failed because the connection is down (the SDK rejects pending and new requests). */
export function isNetworkError(err: unknown): boolean {
  const e = err as SdkError | undefined
  if (e && finite(e.status)) return false
  const message = typeof e?.message === 'string' ? e.message : ''
  return /not connected|Network error|Unable to connect/i.test(message)
}

/** True for document:get's answer on a missing document of an existing collection (404 services.storage.not_found). */
export function isDocumentNotFound(err: unknown): boolean {
  const e = err as SdkError | null | undefined
  return e?.status === 404 && (e.id === undefined || e.id === 'services.storage.not_found')
}

/**
 * Kuzzle's answer to a document action on an index or collection it does not know (412
 * `services.storage.unknown_index` / `unknown_collection`, from its index cache) as a fatal `not_found` naming
 * both: no retry can create a collection, and "no such document" would hide a misnamed one.
 */
export function unknownCollection(err: unknown, ref: CollectionRef): ObservedError | undefined {
  const e = err as SdkError | null | undefined
  if (e?.status !== 412) return undefined
  const where = `collection "${ref.collection}" of index "${ref.index}"`
  if (e.id === 'services.storage.unknown_index') {
    return new ObservedError('not_found', `Kuzzle has no index "${ref.index}", so no ${where} [${e.id}]`, { fatal: true, cause: err })
  }
  if (e.id === 'services.storage.unknown_collection') {
    return new ObservedError('not_found', `Kuzzle has no ${where} [${e.id}]`, { fatal: true, cause: err })
  }
  return undefined
}

/**
 * An SDK error as an ObservedError. Status 400 and 403 are fatal (retrying cannot help), 401 is not.
 * 429 (`api.process.too_many_requests`, `network.websocket.ratelimit_exceeded`) and 503 (`api.process.overloaded`,
 * `shutting_down`, `not_enough_nodes`) are transient. Kuzzle sends no delay with them (lib/kerror/codes, no
 * Retry-After over WebSocket) and the SDK's KuzzleError keeps only status, id, code, props and message: there is no
 * delay to read, so `retryAfter` stays undefined and the core's own backoff applies.
 */
/** A refused write: `conflict` for an id that exists, `not_found` for a missing document, else as any error. */
export function toWriteError(raw: unknown, what: string, ref: CollectionRef): ObservedError {
  if (raw instanceof ObservedError) return raw
  const id = (safeCause(raw) as { id?: unknown } | undefined)?.id
  if (id === 'services.storage.document_already_exists') return new ObservedError('conflict', `${what}: the document already exists`, { cause: safeCause(raw) })
  if (id === 'services.storage.not_found') return new ObservedError('not_found', `${what}: the document does not exist`, { cause: safeCause(raw) })
  return toObservedError(raw, 'write_failed', what, ref)
}

export function toObservedError(raw: unknown, code: ObservedErrorCode, what: string, ref?: CollectionRef): ObservedError {
  if (raw instanceof ObservedError) return raw
  const err = safeCause(raw)
  const missing = ref && unknownCollection(err, ref)
  if (missing) return missing
  const e = (err ?? {}) as SdkError
  const message = typeof e.message === 'string' ? e.message : String(err)
  const status = finite(e.status) ? e.status : undefined
  const id = typeof e.id === 'string' ? ` [${e.id}]` : ''
  if (isNetworkError(err)) return new ObservedError('disconnected', `${what}: not connected to Kuzzle (${message})`, { cause: err })
  if (status === 401) return new ObservedError('unauthorized', `${what}: ${message}${id}`, { cause: err })
  if (status === 403) return new ObservedError('unauthorized', `${what}: ${message}${id}`, { cause: err, fatal: true })
  if (status === 429 || status === 503) {
    return new ObservedError(code, `${what}: Kuzzle is busy (${status}), try again later: ${message}${id}`, { cause: err })
  }
  return new ObservedError(code, `${what}: ${message}${id}`, { cause: err, fatal: status === 400 })
}
