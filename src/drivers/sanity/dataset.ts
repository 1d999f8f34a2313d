/**
 * A dataset the project does not have. Sanity answers reads with a 404 `Dataset "<name>" not found…` and a listener
 * with a `channelError` of that message (@sanity/client `src/data/eventsource.ts`: channelError causes include
 * "non-existant datasets"). Retrying cannot create a dataset, so either becomes one fatal `not_found` naming it,
 * whichever the core sees first.
 */
import type { SanityClient } from '@sanity/client'
import type { WatchSink } from '../../core/types'
import { ObservedError } from '../../core/types'

const MISSING = /\bDataset\b[^\n]*\bnot found\b/i

/** The `not_found` error for `err` when it says the client's dataset does not exist, else null. */
export function missingDataset(err: unknown, client: SanityClient): ObservedError | null {
  const e = err as { statusCode?: unknown; status?: unknown; name?: unknown; message?: unknown } | null
  if (!e) return null
  // Only the dataset name the app configured goes into the message, never the server's text.
  const dataset = client.config().dataset ?? ''
  // A listen request refused with a bare 404 (the SDK's ConnectionFailedError has no body) can only be the dataset or
  // the project: said so, rather than a nameless "HTTP 404".
  if (e.name === 'ConnectionFailedError' && e.status === 404) {
    return new ObservedError('not_found', `Sanity dataset "${dataset}" not found (listener refused: HTTP 404)`, { fatal: true, cause: err })
  }
  if (typeof e.message !== 'string' || !MISSING.test(e.message)) return null
  if (e.statusCode !== 404 && e.name !== 'ChannelError') return null
  return new ObservedError('not_found', `Sanity dataset "${dataset}" not found`, { fatal: true, cause: err })
}

/** The `not_found` error for a listener's error that says the dataset does not exist, else null. */
function missingListener(err: ObservedError, client: SanityClient): ObservedError | null {
  const cause = err.cause as { name?: unknown; status?: unknown } | undefined
  const dataset = client.config().dataset ?? ''
  if (cause?.name === 'ListenRefused' && cause.status === 404) {
    return new ObservedError('not_found', `Sanity dataset "${dataset}" not found (listener refused: HTTP 404)`, { fatal: true, cause })
  }
  if (err.code === 'channel_error' && MISSING.test(err.message)) {
    return new ObservedError('not_found', `Sanity dataset "${dataset}" not found`, { fatal: true, cause: err })
  }
  return missingDataset(err.cause, client)
}

/** A sink that reports a listener refused for a missing dataset as {@link missingDataset}'s `not_found`. */
export function missingDatasetSink(sink: WatchSink, client: SanityClient): WatchSink {
  return {
    ready: (info) => sink.ready(info),
    event: (e) => sink.event(e),
    reset: () => sink.reset(),
    offline: () => sink.offline(),
    error: (err) => sink.error(missingListener(err, client) ?? err),
  }
}
