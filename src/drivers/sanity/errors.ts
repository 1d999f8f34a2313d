/**
 * Sanity client errors as ObservedErrors. Errors are recognised by name and shape, not `instanceof`: the app's
 * @sanity/client may be another copy of the module than the one this package was built against.
 */
import { ObservedError } from '../../core/types'

interface ErrorLike {
  name?: unknown
  message?: unknown
  status?: unknown
  statusCode?: unknown
  reason?: unknown
}

function messageOf(err: unknown): string {
  const m = (err as ErrorLike)?.message
  return typeof m === 'string' && m ? m : String(err)
}

/** Replaces every occurrence of `secret` with a placeholder, so a token can never reach a message. */
export function redact(text: string, secret: string | undefined): string {
  return secret ? text.split(secret).join('[redacted]') : text
}

/** An error of a read (get, mGet, search). 401/403 are fatal: retrying cannot fix credentials. */
export function readError(err: unknown, what: string, token: string | undefined): ObservedError {
  if (err instanceof ObservedError) return err
  const status = (err as ErrorLike)?.statusCode
  const message = redact(`Sanity ${what} failed: ${messageOf(err)}`, token)
  if (status === 401 || status === 403) return new ObservedError('unauthorized', message, { fatal: true, cause: err })
  return new ObservedError('read_failed', message, { cause: err })
}

/**
 * An error a `client.listen()` observable ended with:
 * - ChannelError (the server refused the listener, e.g. a GROQ error): fatal, with the server's message;
 * - DisconnectError (the server says "go away"): fatal, never reconnect;
 * - ConnectionFailedError with a 4xx status: fatal (401/403 as `unauthorized`), the server will keep refusing;
 * - anything else (5xx, network, a server `error` event): non-fatal, the core reopens with its backoff.
 */
export function listenError(err: unknown, token: string | undefined): ObservedError {
  const e = err as ErrorLike
  const name = typeof e?.name === 'string' ? e.name : ''
  const msg = redact(messageOf(err), token)
  switch (name) {
    case 'ChannelError':
      return new ObservedError('channel_error', msg, { fatal: true, cause: err })
    case 'DisconnectError': {
      const reason = typeof e.reason === 'string' && e.reason ? redact(e.reason, token) : msg.replace(/^Server disconnected client: /, '')
      return new ObservedError('disconnected', reason, { fatal: true, cause: err })
    }
    case 'ConnectionFailedError': {
      const status = typeof e.status === 'number' ? e.status : undefined
      if (status === 401 || status === 403) {
        return new ObservedError('unauthorized', `Sanity listener refused: HTTP ${status}`, { fatal: true, cause: err })
      }
      if (status !== undefined && status >= 400 && status < 500 && status !== 408 && status !== 429) {
        return new ObservedError('watch_failed', `Sanity listener refused: HTTP ${status}`, { fatal: true, cause: err })
      }
      return new ObservedError('watch_failed', `Sanity listener connection failed${status ? `: HTTP ${status}` : ''}`, { cause: err })
    }
    case 'MessageParseError':
      return new ObservedError('bad_event', `Sanity listener sent an unreadable event: ${msg}`, { cause: err })
    default:
      if (msg === 'Query too large for listener') {
        return new ObservedError('unsupported_query', `${msg}: use fewer ids per watch or a shorter filter`, { fatal: true, cause: err })
      }
      return new ObservedError('watch_failed', `Sanity listener failed: ${msg}`, { cause: err })
  }
}
