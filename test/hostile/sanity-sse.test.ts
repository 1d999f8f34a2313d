/**
 * Malformed Server-Sent Events reaching the real @sanity/client: a raw node:http server answers reads with valid
 * JSON but sends garbage on the listen stream. The core ObserverClient over the Sanity driver must keep running,
 * converge on the valid mutation, leave the other observer alone and never touch Object.prototype.
 */
import { createServer, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createClient } from '@sanity/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Observer, ObserverClient } from '../../src/core'
import { sanityDriver } from '../../src/drivers/sanity'
import { waitFor } from '../helpers/wait-for'

type Doc = Record<string, unknown> & { _id: string; _rev: string }

const docs = new Map<string, Doc>()
const streams = new Set<ServerResponse>()
let listenRequests = 0
let server: Server
let port: number

function sendJson(res: ServerResponse, body: unknown): void {
  const text = JSON.stringify(body)
  res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text) })
  res.end(text)
}

/** Writes a raw chunk to every open listen stream. */
function broadcast(chunk: string): void {
  for (const res of streams) res.write(chunk)
}

function mutationData(doc: Doc, previousRev: string | null, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    eventId: `${doc._rev}#${doc._id}`,
    documentId: doc._id,
    transactionId: doc._rev,
    transition: 'update',
    identity: 'p-test',
    result: doc,
    ...(previousRev ? { previousRev } : {}),
    resultRev: doc._rev,
    timestamp: new Date().toISOString(),
    visibility: 'query',
    ...extra,
  })
}

beforeAll(async () => {
  server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1')
    const doc = /^\/v[^/]+\/data\/doc\/[^/]+\/(.+)$/.exec(url.pathname)
    if (doc) {
      const ids = doc[1].split(',').map(decodeURIComponent)
      const found = ids.map((id) => docs.get(id)).filter((d): d is Doc => d !== undefined)
      return sendJson(res, { documents: found, omitted: ids.filter((id) => !docs.has(id)).map((id) => ({ id, reason: 'existence' })) })
    }
    if (/^\/v[^/]+\/data\/query\//.test(url.pathname)) return sendJson(res, { result: [...docs.values()], ms: 1, query: '' })
    if (/^\/v[^/]+\/data\/listen\//.test(url.pathname)) {
      listenRequests++
      res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-cache', Connection: 'keep-alive' })
      res.write(`event: welcome\ndata: {"listenerName":"hostile-${listenRequests}"}\n\n`)
      streams.add(res)
      res.on('close', () => streams.delete(res))
      return
    }
    res.writeHead(404).end()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  port = (server.address() as AddressInfo).port
})

afterAll(async () => {
  for (const res of streams) res.destroy()
  server.closeAllConnections()
  await new Promise((resolve) => server.close(resolve))
})

const probe = () => ({}) as Record<string, unknown>

function sanityClient() {
  return createClient({
    projectId: 'test',
    dataset: 'production',
    apiVersion: '2025-02-19',
    apiHost: `http://127.0.0.1:${port}`,
    useProjectHostname: false,
    useCdn: false,
  })
}

/** Runs `body` with two live observers on `a` (rev r1) and `b` (rev b1), catching unhandled rejections. */
async function withObservers(
  body: (a: Observer, b: Observer, opened: number) => Promise<void>,
): Promise<void> {
  for (const res of streams) res.destroy()
  docs.clear()
  docs.set('a', { _id: 'a', _type: 'note', _rev: 'r1', n: 1 })
  docs.set('b', { _id: 'b', _type: 'note', _rev: 'b1', n: 100 })
  const client = new ObserverClient({ driver: sanityDriver(sanityClient()), gapTimeout: 100, backoff: { base: 20, cap: 100 } })
  const unhandled: unknown[] = []
  const onUnhandled = (reason: unknown) => unhandled.push(reason)
  process.on('unhandledRejection', onUnhandled)
  try {
    const a = client.get('', 'note', 'a')
    const b = client.get('', 'note', 'b')
    await a.ready()
    await b.ready()
    await waitFor(() => a.status === 'live' && b.status === 'live' && streams.size === 1, 3000, { what: 'both live on one listener' })
    expect(a._source).toEqual({ _type: 'note', _rev: 'r1', n: 1 })
    await body(a, b, listenRequests)
    expect(probe().polluted).toBeUndefined()
    expect(Object.getOwnPropertyNames(Object.prototype)).not.toContain('polluted')
    expect(unhandled).toEqual([])
  } finally {
    process.off('unhandledRejection', onUnhandled)
    client.close()
  }
}

/** Sends the valid mutation r2 -> r3 on `a` and waits for it. */
async function finishWithValidMutation(a: Observer): Promise<void> {
  const final: Doc = { _id: 'a', _type: 'note', _rev: 'r3', n: 3 }
  docs.set('a', final)
  broadcast(`event: mutation\ndata: ${mutationData(final, 'r2')}\n\n`)
  await waitFor(() => (a._source as { n?: number } | null)?.n === 3, 8000, { what: 'a converged on the valid mutation' })
  expect(a._source).toEqual({ _type: 'note', _rev: 'r3', n: 3 })
  expect(a.status).toBe('live')
  expect(a.error).toBeNull()
}

describe('malformed SSE on the listen stream', () => {
  it('non-JSON lines, unknown event types, unknown ids and prototype keys are dropped on a live stream', { timeout: 15_000 }, async () => {
    await withObservers(async (a, b, opened) => {
      broadcast('this is not json\n{"nor":"this"\n\n')
      broadcast('data: not json at all\n\n')
      broadcast('event: bogus\ndata: {"documentId":"a"}\n\n')
      broadcast(`event: mutation\ndata: ${mutationData({ _id: 'ghost', _type: 'note', _rev: 'g1', n: 666 }, null)}\n\n`)
      const hostile = JSON.parse(
        '{"_id":"a","_type":"note","_rev":"r2","n":2,"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}},"prototype":{"polluted":"yes"}}',
      ) as Doc
      docs.set('a', hostile)
      broadcast(`event: mutation\ndata: ${mutationData(hostile, 'r1')}\n\n`)
      // The result with prototype keys continues the chain: applied, `__proto__` dropped, the rest kept as data.
      await waitFor(() => (a._source as { n?: number } | null)?.n === 2, 5000, { what: 'hostile result applied' })
      const s = a._source as Record<string, unknown>
      expect(Object.hasOwn(s, '__proto__')).toBe(false)
      expect(Object.getPrototypeOf(s)).toBe(Object.prototype)
      expect(JSON.parse(JSON.stringify(s))).toEqual({
        _type: 'note',
        _rev: 'r2',
        n: 2,
        constructor: { prototype: { polluted: 'yes' } },
        prototype: { polluted: 'yes' },
      })
      expect(probe().polluted).toBeUndefined()
      await finishWithValidMutation(a)
      expect(b._source).toEqual({ _type: 'note', _rev: 'b1', n: 100 })
      expect(b.status).toBe('live')
      // None of it cost the listener: no reconnect.
      expect(listenRequests - opened).toBe(0)
    })
  })

  it('a mutation with broken JSON ends the listener; the core reopens once, rereads and converges', { timeout: 15_000 }, async () => {
    await withObservers(async (a, b, opened) => {
      broadcast('event: mutation\ndata: {"documentId":"a","result":{"_id":"a"\n\n')
      docs.set('a', { _id: 'a', _type: 'note', _rev: 'r2', n: 2 })
      await finishWithValidMutation(a)
      // The SDK's listen observable errors on the unparsable frame; the driver reports it, the core reopens exactly
      // one listener (both ids share it) before rereading, which is how `a` reached r3.
      expect(listenRequests - opened).toBe(1)
      expect(b._source).toEqual({ _type: 'note', _rev: 'b1', n: 100 })
      expect(b.status).toBe('live')
      // Still live afterwards: a later valid mutation on b is observed.
      const nextB: Doc = { _id: 'b', _type: 'note', _rev: 'b2', n: 101 }
      docs.set('b', nextB)
      broadcast(`event: mutation\ndata: ${mutationData(nextB, 'b1')}\n\n`)
      await waitFor(() => (b._source as { n?: number } | null)?.n === 101, 5000, { what: 'b updated after the garbage' })
      expect(a._source).toEqual({ _type: 'note', _rev: 'r3', n: 3 })
    })
  })
})
