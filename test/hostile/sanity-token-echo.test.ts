/**
 * A proxy that echoes the Authorization header into its error bodies, and a server that asks the client to wait:
 * the real @sanity/client reads through the proxy with a token. No error the driver or the core gives out holds the
 * token, in its message, its cause chain or its printed form (util.inspect, console.error), nor does observer state;
 * status, code and the server's message are kept; a 429 / 503 carries the server's Retry-After in ms.
 */
import { randomUUID } from 'node:crypto'
import { format, inspect } from 'node:util'
import { createClient, type SanityClient } from '@sanity/client'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { ObserverClient } from '../../src/core'
import type { ObservedError } from '../../src/core/types'
import { sanityDriver } from '../../src/drivers/sanity'
import { waitFor } from '../helpers/wait-for'
import { startSanityServer, type SanityTestServer } from '../servers/sanity'
import { startSseProxy, type SseProxy } from './sse-proxy'

const TOKEN = 'skEchoedTokenValue0123456789abcdefXYZ'
const ref = { index: '', collection: 'note' }

let server: SanityTestServer
let proxy: SseProxy
let sanity: SanityClient
const clients: ObserverClient[] = []

beforeAll(async () => {
  server = await startSanityServer({ token: TOKEN, retryMs: 20 })
  proxy = await startSseProxy(server.url)
  sanity = createClient({
    projectId: 'test',
    dataset: 'production',
    apiVersion: '2025-02-19',
    apiHost: proxy.url,
    useProjectHostname: false,
    useCdn: false,
    token: TOKEN,
  })
})
afterEach(() => {
  proxy.intercept(null)
  for (const c of clients.splice(0)) c.close()
  server.documents.wipe()
})
afterAll(async () => {
  await proxy.close()
  await server.stop()
})

/** Every error in the cause chain, and every printed form of it. */
function printed(err: unknown): string[] {
  const out: string[] = [inspect(err, { depth: 10, showHidden: true }), format('%o', err), String(err), JSON.stringify(err) ?? '']
  for (let e: unknown = err, i = 0; e && i < 20; e = (e as { cause?: unknown }).cause, i++) {
    out.push(String((e as Error).message), String((e as Error).stack), inspect(e, { depth: 10 }))
  }
  return out
}

/** The error a read fails with (a read that succeeds fails the test). */
function failure(read: Promise<unknown>): Promise<ObservedError> {
  return read.then(
    () => {
      throw new Error('the read succeeded')
    },
    (e: unknown) => e as ObservedError,
  )
}

function expectNoToken(err: unknown): void {
  for (const text of printed(err)) expect(text).not.toContain(TOKEN)
}

/** 500s whose bodies echo the request's Authorization header, as JSON and as text. */
const echo = (json: boolean) => (req: import('node:http').IncomingMessage) => {
  if (!/\/data\/(doc|query)\//.test(req.url ?? '')) return undefined
  const auth = String(req.headers.authorization)
  return json
    ? { status: 500, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ error: 'Internal', message: `upstream refused ${auth}`, statusCode: 500 }) }
    : { status: 500, headers: { 'content-type': 'text/plain' }, body: `upstream refused: ${auth} (token ${TOKEN})` }
}

describe('a proxy echoing the Authorization header in a 500 body', () => {
  it.each([true, false])('json body %s: get, mGet and search errors keep status and message, never the token', async (json) => {
    server.documents.load([{ _id: 'n1', _type: 'note' }])
    proxy.intercept(echo(json))
    const driver = sanityDriver(sanity)
    const errors = await Promise.all([
      failure(driver.get(ref, 'n1')),
      failure(driver.mGet(ref, ['n1', 'n2'])),
      failure(driver.search(ref, { query: 'defined(_id)', sort: [] }, { from: 0, size: 5 })),
    ])
    for (const err of errors) {
      expect(err).toMatchObject({ name: 'ObservedError', code: 'read_failed', fatal: false })
      expect(err.message).toMatch(/upstream refused/)
      expect(err.message).toContain('[redacted]')
      expect(err.cause).toMatchObject({ status: 500 })
      expectNoToken(err)
    }
  })

  it('through the core: observer state, its error and console.error never show the token', async () => {
    proxy.intercept(echo(true))
    const client = new ObserverClient({ driver: sanityDriver(sanity), backoff: { base: 20, cap: 50 } })
    clients.push(client)
    const observer = client.get('', 'note', 'n1')
    await waitFor(() => observer.error, 3000, { what: 'a read error' })
    const logged: string[] = []
    const original = console.error
    console.error = (...args: unknown[]) => void logged.push(format(...args))
    try {
      console.error(observer.error)
    } finally {
      console.error = original
    }
    expect(logged.join('\n')).toMatch(/upstream refused/)
    expect(logged.join('\n')).not.toContain(TOKEN)
    expectNoToken(observer.error)
    expect(inspect(observer, { depth: 10 })).not.toContain(TOKEN)
  })
})

describe('Retry-After on 429 and 503', () => {
  it('seconds or an HTTP date become retryAfter in ms on read errors', async () => {
    const driver = sanityDriver(sanity)
    proxy.intercept(() => ({ status: 503, headers: { 'content-type': 'application/json', 'retry-after': '7' }, body: '{"error":"Service Unavailable","message":"busy","statusCode":503}' }))
    const seconds = await failure(driver.get(ref, 'n1'))
    expect(seconds).toMatchObject({ code: 'read_failed', fatal: false, retryAfter: 7000 })
    const date = new Date(Date.now() + 30_000).toUTCString()
    proxy.intercept(() => ({ status: 429, headers: { 'content-type': 'application/json', 'retry-after': date }, body: '{"error":"Too Many Requests","message":"slow down","statusCode":429}' }))
    const dated = await failure(driver.mGet(ref, ['n1']))
    expect(dated).toMatchObject({ code: 'read_failed', fatal: false })
    expect(dated.retryAfter).toBeGreaterThan(25_000)
    expect(dated.retryAfter).toBeLessThanOrEqual(30_000)
  })

  it('the client does not retry on its own: one request per read, so the core paces a failing server', async () => {
    let requests = 0
    proxy.intercept(() => {
      requests++
      return { status: 503, headers: { 'retry-after': '1' }, body: 'busy' }
    })
    const driver = sanityDriver(sanity)
    expect(await failure(driver.get(ref, 'n1'))).toMatchObject({ code: 'read_failed', retryAfter: 1000 })
    expect(requests).toBe(1)
    // A full batch of the core's (maxIdsPerRead ids, drafts' UUIDs being the longest usual ids) is one request.
    const ids = Array.from({ length: driver.maxIdsPerRead }, () => `drafts.${randomUUID()}`)
    expect(await failure(driver.mGet(ref, ids))).toMatchObject({ code: 'read_failed', retryAfter: 1000 })
    expect(requests).toBe(2)
    expect(await failure(driver.search(ref, { sort: [] }, { from: 0, size: 5 }))).toMatchObject({ code: 'read_failed', retryAfter: 1000 })
    expect(requests).toBe(3)
  })

  it('a listener refused with 429 or 503 carries Retry-After, non-fatally; an echoed token never shows', async () => {
    const driver = sanityDriver(sanity)
    for (const [status, header, expected] of [[503, '3', 3000], [429, '12', 12_000]] as const) {
      proxy.intercept((req) =>
        req.url?.includes('/data/listen/')
          ? { status, headers: { 'content-type': 'text/plain', 'retry-after': header }, body: `refused ${String(req.headers.authorization)}` }
          : undefined,
      )
      const error = await new Promise<ObservedError>((resolve) => {
        const noop = () => undefined
        driver.watch(ref, { ids: ['n1'] }, { ready: noop, event: noop, reset: noop, offline: noop, error: resolve })
      })
      expect(error).toMatchObject({ code: 'watch_failed', fatal: false, retryAfter: expected })
      expectNoToken(error)
    }
  })
})
