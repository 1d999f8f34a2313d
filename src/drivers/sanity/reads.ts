/**
 * The driver's reads, through the client's own `request()` (so its configuration, token, perspective and request
 * tags apply) with the client's retries off: the client would retry each 429/502/503 up to 5 times on its own
 * timer, ignoring Retry-After, and the core already retries failed reads as batches with backoff and the server's
 * Retry-After. Responses are returned raw; the driver checks them against what it asked.
 */
import type { RawRequestOptions, SanityClient } from '@sanity/client'
import { ObservedError } from '../../core/types'
import { idSegment } from './ids'
import type { GroqParams } from './groq'

/** `maxRetries` is read per request by the client's requester, though its request type does not list it. */
function request<R>(client: SanityClient, options: RawRequestOptions): Promise<R> {
  return client.request<R>({ ...options, maxRetries: 0 } as RawRequestOptions)
}

function unexpected(what: string): ObservedError {
  return new ObservedError('read_failed', `Sanity ${what} returned an unexpected shape`)
}

/** The documents endpoint (`/data/doc/<dataset>/<id>,<id>…`): the documents found, in no particular order. */
export async function readDocuments(client: SanityClient, ids: readonly string[], tag: string | undefined): Promise<unknown[]> {
  const body = await request<{ documents?: unknown }>(client, {
    uri: client.getDataUrl('doc', ids.map(idSegment).join(',')),
    ...(tag ? { tag } : {}),
  })
  if (!Array.isArray(body?.documents)) throw unexpected('document read')
  return body.documents
}

/** The query endpoint, by POST (the query and params in the body, however long): the query's `result`. */
export async function readQuery(client: SanityClient, query: string, params: GroqParams, tag: string | undefined): Promise<unknown> {
  const body = await request<{ result?: unknown }>(client, {
    uri: client.getDataUrl('query'),
    method: 'POST',
    body: { query, params },
    ...(tag ? { tag } : {}),
  })
  if (typeof body !== 'object' || body === null || !('result' in body)) throw unexpected('query')
  return body.result
}
