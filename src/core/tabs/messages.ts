/**
 * What tabs sharing one set of connections say to each other over their BroadcastChannel: typed, versioned, and
 * validated on arrival. Another tab of the origin, an extension or an older version of this library can post
 * anything on the channel: a message that is not exactly one of these shapes is ignored, never thrown on.
 */
import type { CollectionRef, DocEvent, ObservedErrorCode, WatchSpec } from '../types'

/** Bumped when a shape changes: tabs running another version ignore each other (each then holds its own set). */
export const PROTOCOL_VERSION = 1

/** An ObservedError as it crosses the channel. */
export interface WireError {
  code: ObservedErrorCode
  message: string
  fatal: boolean
  retryAfter?: number
}

/** A read a follower asks the leader to make. */
export type ReadOp =
  | { op: 'get'; ref: CollectionRef; id: string }
  | { op: 'mGet'; ref: CollectionRef; ids: string[] }
  | { op: 'search'; ref: CollectionRef; spec: unknown; page: unknown }

/** What a watch's sink was told, relayed from the leader to the follower that holds the watch. */
export type SinkCall =
  | { kind: 'ready'; resumed: boolean }
  | { kind: 'event'; e: DocEvent }
  | { kind: 'reset' }
  | { kind: 'offline' }
  | { kind: 'error'; err: WireError }

interface Base {
  v: typeof PROTOCOL_VERSION
  /** The sending tab's id. */
  from: string
}

/** A tab's heartbeat; `leader` when it holds the lock. Also the leader's announcement after it takes over. */
export interface Beat extends Base {
  t: 'beat'
  leader: boolean
  /** A leader's: when it took the lock (ms since the epoch). A tab follows the newest leader, never an older one. */
  since?: number
  /** A leader's, to one follower (`to`) it forgot: send every watch again. */
  to?: string
  resend?: boolean
}
/** Follower → leader: follow `spec` on `ref` for my watch `wid`. */
export interface WatchMsg extends Base {
  t: 'watch'
  to: string
  wid: number
  ref: CollectionRef
  spec: WatchSpec
}
/** Follower → leader: my watch `wid` is closed. */
export interface UnwatchMsg extends Base {
  t: 'unwatch'
  to: string
  wid: number
}
/** Follower → leader: read this for me. */
export interface ReadMsg extends Base {
  t: 'read'
  to: string
  rid: number
  read: ReadOp
}
/** A tab leaves (its page is hidden for good, or its client closed). */
export interface ByeMsg extends Base {
  t: 'bye'
}
/** Leader → follower: a sink call for its watch `wid`. */
export interface SinkMsg extends Base {
  t: 'sink'
  to: string
  wid: number
  call: SinkCall
}
/** Leader → follower: the answer to its read `rid`. */
export interface AnswerMsg extends Base {
  t: 'answer'
  to: string
  rid: number
  ok: boolean
  value?: unknown
  err?: WireError
}

export type TabMessage = Beat | WatchMsg | UnwatchMsg | ReadMsg | ByeMsg | SinkMsg | AnswerMsg

const ERROR_CODES: ReadonlySet<string> = new Set<ObservedErrorCode>([
  'bad_argument', 'not_found', 'read_failed', 'watch_failed', 'bad_event', 'unsupported_query', 'token_expired',
  'unauthorized', 'channel_error', 'disconnected', 'no_plugin', 'closed', 'watch_timeout',
])
const MAX_ID = 200

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)
const isId = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= MAX_ID
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0
const isRef = (v: unknown): v is CollectionRef => isObj(v) && typeof v.index === 'string' && typeof v.collection === 'string'

function isWireError(v: unknown): v is WireError {
  return (
    isObj(v) &&
    typeof v.code === 'string' &&
    ERROR_CODES.has(v.code) &&
    typeof v.message === 'string' &&
    typeof v.fatal === 'boolean' &&
    (v.retryAfter === undefined || (typeof v.retryAfter === 'number' && v.retryAfter >= 0))
  )
}

function isSpec(v: unknown): v is WatchSpec {
  if (!isObj(v)) return false
  if ('ids' in v) return Array.isArray(v.ids) && v.ids.every((id) => typeof id === 'string')
  return isObj(v.query) && Array.isArray(v.query.sort)
}

function isReadOp(v: unknown): v is ReadOp {
  if (!isObj(v) || !isRef(v.ref)) return false
  switch (v.op) {
    case 'get':
      return typeof v.id === 'string'
    case 'mGet':
      return Array.isArray(v.ids) && v.ids.every((id) => typeof id === 'string')
    case 'search':
      return isObj(v.spec) && Array.isArray(v.spec.sort) && isObj(v.page)
    default:
      return false
  }
}

function isSinkCall(v: unknown): v is SinkCall {
  if (!isObj(v)) return false
  switch (v.kind) {
    case 'ready':
      return typeof v.resumed === 'boolean'
    case 'event':
      // The core checks the event itself (isDocEvent, revisions, content) as it does any driver's.
      return isObj(v.e)
    case 'reset':
    case 'offline':
      return true
    case 'error':
      return isWireError(v.err)
    default:
      return false
  }
}

/** The message, when `data` is exactly one of this version's shapes; otherwise null (ignored). */
export function parseMessage(data: unknown): TabMessage | null {
  if (!isObj(data) || data.v !== PROTOCOL_VERSION || !isId(data.from)) return null
  const to = data.to
  switch (data.t) {
    case 'beat':
      if (data.leader === false) return data as unknown as Beat
      return data.leader === true && typeof data.since === 'number' && Number.isFinite(data.since) ? (data as unknown as Beat) : null
    case 'bye':
      return data as unknown as ByeMsg
    case 'watch':
      return isId(to) && isNum(data.wid) && isRef(data.ref) && isSpec(data.spec) ? (data as unknown as WatchMsg) : null
    case 'unwatch':
      return isId(to) && isNum(data.wid) ? (data as unknown as UnwatchMsg) : null
    case 'read':
      return isId(to) && isNum(data.rid) && isReadOp(data.read) ? (data as unknown as ReadMsg) : null
    case 'sink':
      return isId(to) && isNum(data.wid) && isSinkCall(data.call) ? (data as unknown as SinkMsg) : null
    case 'answer':
      return isId(to) && isNum(data.rid) && typeof data.ok === 'boolean' && (data.ok || isWireError(data.err))
        ? (data as unknown as AnswerMsg)
        : null
    default:
      return null
  }
}

/** An error as it crosses the channel (message, code, fatal, retryAfter; never its cause). */
export function toWire(err: { code?: unknown; message?: unknown; fatal?: unknown; retryAfter?: unknown }): WireError {
  const code = typeof err?.code === 'string' && ERROR_CODES.has(err.code) ? (err.code as ObservedErrorCode) : 'read_failed'
  const wire: WireError = { code, message: String(err?.message ?? err), fatal: err?.fatal === true }
  if (typeof err?.retryAfter === 'number') wire.retryAfter = err.retryAfter
  return wire
}
