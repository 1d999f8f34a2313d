import type { CollectionRef } from './types'
import { ObservedError } from './types'

/** How long a watch may take to go live before it counts as failed (ms): `ObserverClientOptions.watchTimeout`. */
export const DEFAULT_WATCH_TIMEOUT = 10_000

/** What a watch or first read that did not answer in time was waiting for, and what to check. */
function timeoutMessage(what: 'watch' | 'read', driver: string, ref: CollectionRef, ms: number): string {
  const where = `The ${driver} watch on ${ref.index || '(default)'}/${ref.collection}`
  return what === 'watch'
    ? `${where} was not live after ${ms} ms; retrying with backoff. ` +
        'Check the backend URL, CORS, and the connection limit (browsers open at most 6 HTTP/1.1 connections per host: ' +
        'many listeners or tabs can exhaust it).'
    : `${where} is live but its first read has not answered after ${ms} ms; still waiting. ` +
        'Check the connection limit (browsers open at most 6 HTTP/1.1 connections per host, and open listeners hold them: ' +
        'many listeners or tabs can leave none for reads; shareAcrossTabs shares one set between tabs), the backend URL and CORS.'
}

function startClock(what: 'watch' | 'read', ms: number, driver: string, ref: CollectionRef, expired: (err: ObservedError) => void) {
  if (!(ms > 0) || !Number.isFinite(ms)) return undefined
  return setTimeout(() => expired(new ObservedError('watch_timeout', timeoutMessage(what, driver, ref, ms))), ms)
}

/**
 * Starts the clock of a watch being opened: past `ms` without `ready`, `expired` gets a non-fatal `watch_timeout`
 * error saying what to check, so that a watch that never answers is retried with backoff instead of leaving its
 * observers `pending` for ever. Returns the timer to clear once the watch is live, failed or closed (0: no clock).
 */
export function startWatchClock(
  ms: number,
  driver: string,
  ref: CollectionRef,
  expired: (err: ObservedError) => void,
): ReturnType<typeof setTimeout> | undefined {
  return startClock('watch', ms, driver, ref, expired)
}

/**
 * The clock of a first read: a watch live, its read sent, no answer past `ms` (a browser queues requests past its
 * connection limit behind open listeners, so a tab whose listeners got connections can wait for its reads for
 * ever). `expired` gets the same non-fatal `watch_timeout` error, so that the observers say `reconnecting` and what
 * to check instead of staying `pending`; the read stays in flight, and its answer makes them live.
 */
export function startReadClock(
  ms: number,
  driver: string,
  ref: CollectionRef,
  expired: (err: ObservedError) => void,
): ReturnType<typeof setTimeout> | undefined {
  return startClock('read', ms, driver, ref, expired)
}
