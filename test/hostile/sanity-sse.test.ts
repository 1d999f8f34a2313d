/**
 * Hostile input over Server-Sent Events: the real @sanity/client listens to the Sanity test server through a proxy
 * that injects lines no server should send (malformed lines, events that are not JSON, unknown event types, events
 * for unknown ids, prototype keys) into one listener's stream, and relays a 10 MB document. The process keeps
 * running, the affected observer shows `error` with a clear message (then recovers) or the line is dropped, and
 * observers on other listeners are unaffected.
 */
import { createClient } from '@sanity/client'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { ObserverClient } from '../../src/core/client'
import type { Observer } from '../../src/core/observer'
import type { ObservedError } from '../../src/core/types'
import { sanityDriver } from '../../src/drivers/sanity'
import { waitFor } from '../helpers/wait-for'
import { startSanityServer, type SanityTestServer } from '../servers/sanity'
import { startSseProxy, type SseProxy } from './sse-proxy'

let server: SanityTestServer
let proxy: SseProxy
let client: ObserverClient

/** Listen URLs carry the dataset's watched types as `$__types=["<type>"]`, URL-encoded. */
const stream = (type: string) => `%24__types=%5B%22${type}%22%5D`
const n = (o: Observer) => (o._source as { n?: number } | null)?.n

function errorsOf(o: Observer): ObservedError[] {
  const errors: ObservedError[] = []
  o.on('error', (err) => errors.push(err))
  return errors
}

beforeAll(async () => {
  server = await startSanityServer({ retryMs: 20, keepAliveMs: 0 })
  proxy = await startSseProxy(server.url)
})

afterAll(async () => {
  await proxy?.close()
  await server?.stop()
})

beforeEach(() => {
  const sanity = createClient({
    projectId: 'test',
    dataset: 'production',
    apiVersion: '2025-02-19',
    apiHost: proxy.url,
    useProjectHostname: false,
    useCdn: false,
  })
  client = new ObserverClient({ driver: sanityDriver(sanity), gapTimeout: 50, releaseDelay: 5, backoff: { base: 5, cap: 100 } })
})

afterEach(async () => {
  client.close()
  await waitFor(() => server.openListeners === 0 && proxy.streams === 0, 3000, { what: 'every listener closed' })
  server.faults.clear()
  server.documents.wipe()
})

/**
 * A note observer and an observer of another type in another dataset (another listener: a dataset's observers share
 * one), both live.
 */
async function twoListeners(): Promise<{ note: Observer; other: Observer; noteErrors: ObservedError[]; otherErrors: ObservedError[] }> {
  server.documents.create({ _id: 'n1', _type: 'note', n: 1 })
  server.documents.create({ _id: 'o1', _type: 'other', n: 1 }, 'staging')
  const note = client.get('', 'note', 'n1')
  const other = client.get('staging', 'other', 'o1')
  const noteErrors = errorsOf(note)
  const otherErrors = errorsOf(other)
  await waitFor(() => note.status === 'live' && other.status === 'live' && proxy.streams === 2, 3000)
  return { note, other, noteErrors, otherErrors }
}

describe('listen streams a Sanity server should never send', () => {
  it('malformed lines, unknown event types and events for unknown ids are dropped', async () => {
    const { note, other, noteErrors, otherErrors } = await twoListeners()
    const garbage = [
      ': a comment line\n\n',
      'a line without a colon\n\n',
      'event: bogus\ndata: {"documentId":"n1"}\n\n',
      'retry: not-a-number\n\n',
      'id: \n\n',
      'data: {"no":"event name"}\n\n',
      `data: ${'y'.repeat(1024 * 1024)}\n\n`,
      'event: mutation\ndata: {"documentId":"ghost","transition":"appear","result":{"_id":"ghost","_type":"note","n":5},"resultRev":"r1"}\n\n',
      'event: mutation\ndata: {"documentId":"n1","transition":"update","result":{"_id":"someone-else","_type":"note"},"resultRev":"r2"}\n\n',
      'event: mutation\ndata: {"documentId":42}\n\n',
      'event: mutation\ndata: {}\n\n',
      'event: welcome\ndata: {"listenerName":"fake"}\n\n',
    ]
    for (const line of garbage) expect(proxy.inject(line, stream('note'))).toBe(1)
    server.documents.patch('n1', { set: { n: 2 } })
    server.documents.patch('o1', { set: { n: 2 } }, 'staging')
    await waitFor(() => n(note) === 2 && n(other) === 2, 3000, { what: 'changes after the garbage' })
    expect(note.status).toBe('live')
    expect(note._source).toEqual(expect.objectContaining({ n: 2, _rev: server.documents.get('n1')?._rev }))
    expect(client.stats().documents).toBe(2) // nothing for the ghost
    expect(noteErrors).toEqual([])
    expect(otherErrors).toEqual([])
  })

  it('an event that is not JSON: the observers of its dataset show a clear bad_event error, then recover; others are unaffected', async () => {
    const { note, other, noteErrors, otherErrors } = await twoListeners()
    proxy.inject('event: mutation\ndata: {"documentId": "n1", not json\n\n', stream('note'))
    await waitFor(() => noteErrors.length > 0, 3000, { what: 'an error on the note observer' })
    expect(noteErrors[0]).toMatchObject({ code: 'bad_event', fatal: false })
    expect(noteErrors[0].message).toMatch(/Sanity listener sent an unreadable event/)
    // The core reopens the listener with its backoff, reads again, and the observer is live.
    await waitFor(() => note.status === 'live' && proxy.streams === 2, 3000, { what: 'recovery' })
    server.documents.patch('n1', { set: { n: 3 } })
    await waitFor(() => n(note) === 3, 3000)
    expect(other.status).toBe('live')
    expect(otherErrors).toEqual([])
  })

  it('__proto__, constructor and prototype keys, read or received, stay inside the document', async () => {
    // An own "__proto__" key, as JSON.parse makes one: the server stores and sends it as a plain key.
    const hostile = JSON.parse('{"_id":"p1","_type":"note","n":1,"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}},"prototype":{"polluted":"yes"}}')
    server.documents.create(hostile)
    const p1 = client.get('', 'note', 'p1')
    const search = client.search('', 'note', { sort: 'n' }, { live: 'query' })
    await waitFor(() => p1.status === 'live' && search.status === 'live', 3000)
    const rev = server.documents.get('p1')!._rev
    const event = `{"documentId":"p1","transition":"update","previousRev":"${rev}","resultRev":"hostile-rev","result":{"__proto__":{"polluted":"yes"},"_id":"p1","_type":"note","n":2,"constructor":{"prototype":{"polluted":"yes"}}}}`
    proxy.inject(`event: mutation\ndata: ${event}\n\n`, stream('note'))
    await waitFor(() => n(p1) === 2, 3000)
    expect(Object.prototype).not.toHaveProperty('polluted')
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    for (const shown of [p1._source, search.hits[0]?._source] as Array<Record<string, unknown>>) {
      expect(Object.getPrototypeOf(shown)).toBe(Object.prototype)
      expect(Object.keys(shown)).not.toContain('__proto__')
      expect(shown.constructor).toEqual({ prototype: { polluted: 'yes' } })
    }
  })

  it('a 10 MB document is read and followed; other observers are unaffected', async () => {
    const blob = 'x'.repeat(10 * 1024 * 1024)
    server.documents.create({ _id: 'big', _type: 'note', blob, n: 1 })
    server.documents.create({ _id: 'small', _type: 'note', n: 1 })
    const big = client.get('', 'note', 'big')
    const small = client.get('', 'note', 'small')
    await waitFor(() => big.status === 'live' && small.status === 'live', 10_000)
    expect((big._source as { blob: string }).blob.length).toBe(blob.length)
    server.documents.patch('big', { set: { n: 2 } })
    server.documents.patch('small', { set: { n: 2 } })
    await waitFor(() => n(big) === 2 && n(small) === 2, 10_000)
    expect(big._source).toEqual(expect.objectContaining({ n: 2, _rev: server.documents.get('big')?._rev }))
  })
})
