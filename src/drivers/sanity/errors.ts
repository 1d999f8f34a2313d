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
  response?: { headers?: unknown }
}

/** A server message longer than this is cut: it is for people, and a hostile server may send megabytes. */
const MAX_MESSAGE = 1000

/** A credential after `Bearer`, in any text (a proxy may echo the header in its body). */
const BEARER = /\b(Bearer\s+)[^\s"'`,;\\]+/gi

/** Replaces every occurrence of `secret`, and any bearer credential, with a placeholder. */
function redact(text: string, secret: string | undefined): string {
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

/** A `Retry-After` value in ms, from seconds or an HTTP date; undefined when absent or unreadable. */
function parseRetryAfter(raw: unknown, now = Date.now()): number | undefined {
  if (typeof raw !== 'string') return undefined
  const value = raw.trim()
  if (/^\d+$/.test(value)) return Number(value) * 1000
  const at = Date.parse(value)
  return Number.isNaN(at) ? undefined : Math.max(0, at - now)
}

/** The server's wait for a 429 or 503, when it said one. */
function retryAfterFor(status: number | undefined, header: unknown): { retryAfter?: number } {
  const retryAfter = status === 429 || status === 503 ? parseRetryAfter(header) : undefined
  return retryAfter === undefined ? {} : { retryAfter }
}

/** The `Retry-After` header of a client HTTP error (`err.response.headers`, lower-cased names). */
function retryAfterHeader(err: unknown): unknown {
  const headers = (err as ErrorLike)?.response?.headers
  if (typeof headers !== 'object' || headers === null) return undefined
  return Object.entries(headers).find(([name]) => name.toLowerCase() === 'retry-after')?.[1]
}

/** An error of a read (get, mGet, search). 401/403 are fatal: retrying cannot fix credentials. */
export function readError(err: unknown, what: string, token: string | undefined): ObservedError {
  if (err instanceof ObservedError) return err
  const status = statusOf(err)
  const message = `Sanity ${what} failed: ${messageOf(err, token)}`
  const cause = safeCause(err, token)
  if (status === 401 || status === 403) return new ObservedError('unauthorized', message, { fatal: true, cause })
  return new ObservedError('read_failed', message, { cause, ...retryAfterFor(status, retryAfterHeader(err)) })
}

/** An error of a write: 409 is a `conflict` (revision or existing id), 404 `not_found`, 401/403 `unauthorized`. */
export function writeError(err: unknown, what: string, token: string | undefined): ObservedError {
  if (err instanceof ObservedError) return err
  const status = statusOf(err)
  const message = `Sanity ${what} failed: ${messageOf(err, token)}`
  const cause = safeCause(err, token)
  if (status === 409) return new ObservedError('conflict', message, { cause })
  if (status === 404) return new ObservedError('not_found', message, { cause })
  if (status === 401 || status === 403) return new ObservedError('unauthorized', message, { fatal: true, cause })
  return new ObservedError('write_failed', message, { cause, fatal: status === 400, ...retryAfterFor(status, retryAfterHeader(err)) })
}

/**
 * A listen request answered with a status other than 200: 401/403 are fatal (`unauthorized`), as is any other 4xx
 * but 408 and 429 (the server will keep refusing); the rest is non-fatal, with the server's Retry-After on a 429 or
 * 503, and the core reopens the listener with its backoff.
 */
export function listenRefused(status: number, headers: Headers): ObservedError {
  const cause = Object.assign(new Error(`HTTP ${status}`), { name: 'ListenRefused', status })
  if (status === 401 || status === 403) {
    return new ObservedError('unauthorized', `Sanity listener refused: HTTP ${status}`, { fatal: true, cause })
  }
  if (status >= 400 && status < 500 && status !== 408 && status !== 429) {
    return new ObservedError('watch_failed', `Sanity listener refused: HTTP ${status}`, { fatal: true, cause })
  }
  return new ObservedError('watch_failed', `Sanity listener connection failed: HTTP ${status}`, {
    cause,
    ...retryAfterFor(status, headers.get('retry-after') ?? undefined),
  })
}

/** The message of a listener's `channelError`, `disconnect` or `error` event, redacted and shortened. */
export function listenerMessage(data: unknown, fallback: string, token: string | undefined): string {
  const d = (typeof data === 'object' && data !== null ? data : {}) as { message?: unknown; reason?: unknown; error?: unknown }
  const error = d.error as { description?: unknown } | string | undefined
  const text =
    [d.reason, d.message, typeof error === 'object' && error !== null ? error.description : error].find(
      (m): m is string => typeof m === 'string' && m !== '',
    ) ?? fallback
  return messageOf(new Error(text), token)
}
