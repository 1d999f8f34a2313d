/**
 * Sanity client errors as ObservedErrors. Errors are recognised by name and shape, not `instanceof`: the app's
 * @sanity/client may be another copy of the module than the one this package was built against.
 *
 * The client's own error never travels on: its `response` holds the request (with the Authorization header) and the
 * body, which a proxy may have filled with that header. An ObservedError carries a redacted copy instead
 * ({@link safeCause}): name, HTTP status and the server's message, redacted and shortened.
 */
import { ObservedError } from '../../core/types'

interface ErrorLike {
  name?: unknown
  message?: unknown
  status?: unknown
  statusCode?: unknown
  reason?: unknown
  response?: { headers?: unknown }
}

/** A server message longer than this is cut: it is for people, and a hostile server may send megabytes. */
const MAX_MESSAGE = 1000

/** A credential after `Bearer`, in any text (a proxy may echo the header in its body). */
const BEARER = /\b(Bearer\s+)[^\s"'`,;\\]+/gi

/** Replaces every occurrence of `secret`, and any bearer credential, with a placeholder. */
export function redact(text: string, secret: string | undefined): string {
  const withoutSecret = secret ? text.split(secret).join('[redacted]') : text
  return withoutSecret.replace(BEARER, '$1[redacted]')
}

function messageOf(err: unknown, token: string | undefined): string {
  const m = (err as ErrorLike)?.message
  const text = redact(typeof m === 'string' && m ? m : String(err), token)
  return text.length > MAX_MESSAGE ? `${text.slice(0, MAX_MESSAGE)}…` : text
}

function statusOf(err: unknown): number | undefined {
  const { status, statusCode } = (err ?? {}) as ErrorLike
  const s = typeof statusCode === 'number' ? statusCode : status
  return typeof s === 'number' && Number.isInteger(s) ? s : undefined
}

/** A plain Error with the client error's name, status and redacted message: safe to keep, log and inspect. */
function safeCause(err: unknown, token: string | undefined): Error {
  const name = (err as ErrorLike)?.name
  const cause = new Error(messageOf(err, token))
  if (typeof name === 'string' && name) cause.name = name
  const status = statusOf(err)
  if (status !== undefined) Object.assign(cause, { status })
  return cause
}

/**
 * `Retry-After` in ms, from seconds or an HTTP date; undefined when absent or unreadable. The client exposes the
 * response headers on its HTTP errors (`err.response.headers`, lower-cased names).
 */
export function retryAfterOf(err: unknown, now = Date.now()): number | undefined {
  const headers = (err as ErrorLike)?.response?.headers
  if (typeof headers !== 'object' || headers === null) return undefined
  const raw = Object.entries(headers).find(([name]) => name.toLowerCase() === 'retry-after')?.[1]
  if (typeof raw !== 'string') return undefined
  const value = raw.trim()
  if (/^\d+$/.test(value)) return Number(value) * 1000
  const at = Date.parse(value)
  return Number.isNaN(at) ? undefined : Math.max(0, at - now)
}

/** The server's wait for a 429 or 503, when it said one. */
function retryAfterFor(err: unknown): { retryAfter?: number } {
  const status = statusOf(err)
  const retryAfter = status === 429 || status === 503 ? retryAfterOf(err) : undefined
  return retryAfter === undefined ? {} : { retryAfter }
}

/** An error of a read (get, mGet, search). 401/403 are fatal: retrying cannot fix credentials. */
export function readError(err: unknown, what: string, token: string | undefined): ObservedError {
  if (err instanceof ObservedError) return err
  const status = statusOf(err)
  const message = `Sanity ${what} failed: ${messageOf(err, token)}`
  const cause = safeCause(err, token)
  if (status === 401 || status === 403) return new ObservedError('unauthorized', message, { fatal: true, cause })
  return new ObservedError('read_failed', message, { cause, ...retryAfterFor(err) })
}

/**
 * An error a listener ended with:
 * - ChannelError (the server refused the listener, e.g. a GROQ error): fatal, with the server's message;
 * - DisconnectError (the server says "go away"): fatal, never reconnect;
 * - ConnectionFailedError with a 4xx status: fatal (401/403 as `unauthorized`), the server will keep refusing;
 *   408 and 429 are retried, with the server's `Retry-After` when it gave one;
 * - anything else (5xx, network, a server `error` event): non-fatal, the core reopens with its backoff.
 */
export function listenError(err: unknown, token: string | undefined): ObservedError {
  if (err instanceof ObservedError) return err
  const e = err as ErrorLike
  const name = typeof e?.name === 'string' ? e.name : ''
  const msg = messageOf(err, token)
  const cause = safeCause(err, token)
  switch (name) {
    case 'ChannelError':
      return new ObservedError('channel_error', msg, { fatal: true, cause })
    case 'DisconnectError': {
      const reason = typeof e.reason === 'string' && e.reason ? redact(e.reason, token) : msg.replace(/^Server disconnected client: /, '')
      return new ObservedError('disconnected', reason, { fatal: true, cause })
    }
    case 'ConnectionFailedError': {
      const status = statusOf(err)
      if (status === 401 || status === 403) {
        return new ObservedError('unauthorized', `Sanity listener refused: HTTP ${status}`, { fatal: true, cause })
      }
      if (status !== undefined && status >= 400 && status < 500 && status !== 408 && status !== 429) {
        return new ObservedError('watch_failed', `Sanity listener refused: HTTP ${status}`, { fatal: true, cause })
      }
      return new ObservedError('watch_failed', `Sanity listener connection failed${status ? `: HTTP ${status}` : ''}`, {
        cause,
        ...retryAfterFor(err),
      })
    }
    case 'MessageParseError':
      return new ObservedError('bad_event', `Sanity listener sent an unreadable event: ${msg}`, { cause })
    default:
      if (msg === 'Query too large for listener') {
        return new ObservedError('unsupported_query', `${msg}: use fewer ids per watch or a shorter filter`, { fatal: true, cause })
      }
      return new ObservedError('watch_failed', `Sanity listener failed: ${msg}`, { cause })
  }
}
