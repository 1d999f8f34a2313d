/**
 * Test glue between the Sanity-protocol server and the real `@sanity/client`: a client pointed at the server, and a
 * recorder for `client.listen()` streams.
 */
import { createClient, type SanityClient } from '@sanity/client'
import type { Subscription } from 'rxjs'
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
