/**
 * An SSE line that never ends: a proxy writes 64 MB with no newline into a listen stream. The real @sanity/client
 * reads through the driver's size-capped stream reader: memory stays bounded, the observer shows a clear non-fatal
 * `bad_event`, and the core reopens the listener with backoff; the observer is live again and follows changes.
 */
import { createClient } from '@sanity/client'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { ObserverClient } from '../../src/core/client'
import type { ObservedError } from '../../src/core/types'
import { DEFAULT_MAX_EVENT_SIZE, sanityDriver } from '../../src/drivers/sanity'
import { waitFor } from '../helpers/wait-for'
import { startSanityServer, type SanityTestServer } from '../servers/sanity'
import { startSseProxy, type SseProxy } from './sse-proxy'

const MB = 1024 * 1024

let server: SanityTestServer
let proxy: SseProxy
let client: ObserverClient

beforeAll(async () => {
  server = await startSanityServer({ retryMs: 20, keepAliveMs: 0 })
  proxy = await startSseProxy(server.url)
})
afterAll(async () => {
  await proxy?.close()
  await server?.stop()
})
afterEach(async () => {
  client?.close()
  await waitFor(() => server.openListeners === 0 && proxy.streams === 0, 3000, { what: 'every listener closed' })
  server.documents.wipe()
})

/** Heap and buffers in use now. */
const used = () => {
  const m = process.memoryUsage()
  return m.heapUsed + m.arrayBuffers
}

describe('an SSE line that never ends', () => {
  it('the default cap is documented and above any real event', () => {
    expect(DEFAULT_MAX_EVENT_SIZE).toBe(32 * MB)
    expect(() => sanityDriver(createClient({ projectId: 'p', dataset: 'd', apiVersion: '2025-02-19', useCdn: false }), { maxEventSize: 0 })).toThrow(
      expect.objectContaining({ code: 'bad_argument' }),
    )
  })

  it('64 MB with no newline: bounded memory, a clear bad_event, then a reconnect that follows changes', { timeout: 60_000 }, async () => {
    const sanity = createClient({ projectId: 'test', dataset: 'production', apiVersion: '2025-02-19', apiHost: proxy.url, useProjectHostname: false, useCdn: false })
    const cap = 4 * MB
    client = new ObserverClient({ driver: sanityDriver(sanity, { maxEventSize: cap }), gapTimeout: 50, backoff: { base: 20, cap: 200 } })
    server.documents.create({ _id: 'n1', _type: 'note', n: 1 })
    const note = client.get<{ n: number }>('', 'note', 'n1')
    const errors: ObservedError[] = []
    note.on('error', (err) => void errors.push(err))
    await waitFor(() => note.status === 'live' && proxy.streams === 1, 5000)
    const listensBefore = server.listenRequests

    const baseline = used()
    let peak = baseline
    const sampler = setInterval(() => {
      peak = Math.max(peak, used())
    }, 5)
    try {
      await proxy.flood(64 * MB, '%24__types=%5B%22note%22%5D')
      await waitFor(() => errors.length > 0, 30_000, { what: 'the oversized event refused' })
    } finally {
      clearInterval(sampler)
    }
    expect(errors[0]).toMatchObject({ code: 'bad_event', fatal: false })
    expect(errors[0].message).toMatch(/over 4194304 characters \(maxEventSize\)/)
    // What the line could hold (the cap, 1 or 2 bytes a character) and slack for the proxy and GC, far below 64 MB.
    expect(peak - baseline).toBeLessThan(40 * MB)

    await waitFor(() => note.status === 'live' && proxy.streams === 1, 10_000, { what: 'the listener reopened' })
    expect(server.listenRequests).toBeGreaterThan(listensBefore)
    server.documents.patch('n1', { set: { n: 2 } })
    await waitFor(() => note._source?.n === 2, 5000)
  })
})
