/**
 * Test glue between the Sanity-protocol server and the real `@sanity/client`: a client pointed at the server, and a
 * recorder for `client.listen()` streams.
 */
import { createClient, type SanityClient } from '@sanity/client'
import type { Subscription } from 'rxjs'
import { waitFor } from '../../helpers/wait-for'
import type { SanityTestServer } from './server'

/** A real @sanity/client talking to the test server over HTTP. */
export function clientFor(server: SanityTestServer, options: { token?: string; dataset?: string } = {}): SanityClient {
  return createClient({
    projectId: 'test',
    dataset: options.dataset ?? 'production',
    apiVersion: '2025-02-19',
    apiHost: server.url,
    useProjectHostname: false,
    useCdn: false,
    ...(options.token === undefined ? {} : { token: options.token }),
  })
}

/** Everything a listen subscription emitted, in order. */
export interface Recording {
  readonly events: Array<Record<string, unknown> & { type: string }>
  error: unknown
  completed: boolean
  /** Event types in order. */
  types(): string[]
  /** Mutation events only. */
  mutations(): Array<Record<string, unknown>>
  stop(): void
}

/** Subscribes to an observable of listen events and records them. */
export function record(source: { subscribe(observer: object): Subscription }): Recording {
  const rec: Recording = {
    events: [],
    error: undefined,
    completed: false,
    types: () => rec.events.map((e) => e.type),
    mutations: () => rec.events.filter((e) => e.type === 'mutation'),
    stop: () => sub.unsubscribe(),
  }
  const sub = source.subscribe({
    next: (e: Record<string, unknown> & { type: string }) => rec.events.push(e),
    error: (err: unknown) => {
      rec.error = err
    },
    complete: () => {
      rec.completed = true
    },
  })
  return rec
}

const PROBE_QUERY = '*[_type == "sdk-retry-probe"]'

/** Whether a request was a retry probe's (see `afterSdkRetry`). */
const isProbe = (url: string) => new URL(url, 'http://probe').searchParams.get('query') === PROBE_QUERY

/** Listen requests the server received, a retry probe's left out. */
export function listenRequests(server: SanityTestServer): number {
  return server.requests.filter((r) => r.endpoint === 'listen' && !isProbe(r.url)).length
}

/**
 * Resolves once the client's own reconnection delay has passed since the call, measured rather than slept: a probe
 * listener is opened, its stream is ended, and the client's EventSource is waited for until it reconnects by itself.
 * A listener dropped before the call that the client was going to retry on the same timer has been retried by then,
 * so "never reconnected" can be asserted without guessing a window.
 */
export async function afterSdkRetry(server: SanityTestServer, client: SanityClient, timeoutMs = 5000): Promise<void> {
  const probe = record(client.listen(PROBE_QUERY, {}, { events: ['welcome', 'reconnect'] }))
  const welcomes = () => probe.types().filter((t) => t === 'welcome').length
  try {
    await waitFor(() => welcomes() === 1, timeoutMs, { what: 'the retry probe listening' })
    server.faults.closeStreams({ query: PROBE_QUERY })
    await waitFor(() => welcomes() === 2, timeoutMs, { what: 'the retry probe reconnected by the client' })
  } finally {
    probe.stop()
  }
}
