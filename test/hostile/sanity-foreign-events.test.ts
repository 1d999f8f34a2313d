/**
 * A hostile server or proxy answers with documents that were not asked for: a listener for `_type == "note"` gets
 * an event whose result is a `secret`, a draft on a published listener, reads return other types, other ids and
 * drafts. Through the real @sanity/client, a proxy and the core: none of it is ever shown; a listener event out of
 * its request is reported as a non-fatal `bad_event` (the watch is reopened, the observer recovers), a read drops it.
 */
import { createClient, type SanityClient } from '@sanity/client'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { ObserverClient } from '../../src/core/client'
import type { ObservedError } from '../../src/core/types'
import { sanityDriver } from '../../src/drivers/sanity'
import { waitFor } from '../helpers/wait-for'
import { startSanityServer, type SanityTestServer } from '../servers/sanity'
import { startSseProxy, type SseProxy } from './sse-proxy'

let server: SanityTestServer
let proxy: SseProxy
let sanity: SanityClient
let client: ObserverClient

/** Listen URLs carry the dataset's watched types as `$__types=["<type>"]`, URL-encoded. */
const stream = (type: string) => `%24__types=%5B%22${type}%22%5D`
const mutation = (data: object) => `event: mutation\ndata: ${JSON.stringify(data)}\n\n`

beforeAll(async () => {
  server = await startSanityServer({ retryMs: 20, keepAliveMs: 0 })
  proxy = await startSseProxy(server.url)
  sanity = createClient({ projectId: 'test', dataset: 'production', apiVersion: '2025-02-19', apiHost: proxy.url, useProjectHostname: false, useCdn: false })
})
afterAll(async () => {
  await proxy?.close()
  await server?.stop()
})
afterEach(async () => {
  proxy.intercept(null)
  client?.close()
  await waitFor(() => server.openListeners === 0 && proxy.streams === 0, 3000, { what: 'every listener closed' })
  server.documents.wipe()
})

function observerClient(): ObserverClient {
  client = new ObserverClient({ driver: sanityDriver(sanity), gapTimeout: 50, releaseDelay: 5, backoff: { base: 5, cap: 100 } })
  return client
}

function errorsOf(o: { on(event: 'error', cb: (err: ObservedError) => void): unknown }): ObservedError[] {
  const errors: ObservedError[] = []
  o.on('error', (err) => void errors.push(err))
  return errors
}

describe('listener events that were not asked for', () => {
  it('a secret in a note listener (by id) is never shown; bad_event, then the observer recovers', async () => {
    server.documents.create({ _id: 'n1', _type: 'note', n: 1 })
    const note = observerClient().get<{ n?: number; secret?: string; _type?: string }>('', 'note', 'n1')
    const errors = errorsOf(note)
    const shown: unknown[] = []
    note.on('change', () => shown.push(JSON.parse(JSON.stringify(note._source))))
    await waitFor(() => note.status === 'live' && proxy.streams === 1, 3000)
    const rev = server.documents.get('n1')!._rev
    expect(proxy.inject(mutation({ documentId: 'n1', transition: 'update', previousRev: rev, resultRev: 'evil', result: { _id: 'n1', _type: 'secret', secret: 'x' } }), stream('note'))).toBe(1)
    await waitFor(() => errors.length > 0, 3000, { what: 'a bad_event' })
    expect(errors[0]).toMatchObject({ code: 'bad_event', fatal: false })
    expect(errors[0].message).toMatch(/_type "secret"/)
    await waitFor(() => note.status === 'live' && proxy.streams === 1, 3000, { what: 'recovery' })
    server.documents.patch('n1', { set: { n: 2 } })
    await waitFor(() => note._source?.n === 2, 3000)
    expect(note._source).toMatchObject({ _type: 'note', n: 2 })
    for (const s of [...shown, note._source]) expect(JSON.stringify(s)).not.toMatch(/secret/)
  })

  it('a live query search never lists a secret or, reading published, a draft', async () => {
    server.documents.create({ _id: 'n1', _type: 'note', n: 1 })
    const search = observerClient().search<{ n: number }>('', 'note', { query: 'n > 0', sort: 'n' }, { live: 'query' })
    const errors: ObservedError[] = []
    search.on('error', (_id, err) => void errors.push(err))
    const listed = new Set<string>()
    search.on('change', () => search.hits.forEach((h) => listed.add(h._id)))
    await waitFor(() => search.status === 'live' && proxy.streams === 1, 3000)
    proxy.inject(mutation({ documentId: 's1', transition: 'appear', resultRev: 'r1', result: { _id: 's1', _type: 'secret', n: 5 } }), stream('note'))
    proxy.inject(mutation({ documentId: 'drafts.n9', transition: 'appear', resultRev: 'r2', result: { _id: 'drafts.n9', _type: 'note', n: 6 } }), stream('note'))
    await waitFor(() => errors.length >= 1, 3000, { what: 'bad_event errors' })
    expect(errors.every((e) => e.code === 'bad_event' && !e.fatal)).toBe(true)
    await waitFor(() => search.status === 'live' && proxy.streams === 1, 3000, { what: 'recovery' })
    server.documents.create({ _id: 'n2', _type: 'note', n: 2 })
    await waitFor(() => search.hits.length === 2, 3000)
    expect(search.hits.map((h) => h._id)).toEqual(['n1', 'n2'])
    expect([...listed]).not.toContain('s1')
    expect([...listed]).not.toContain('drafts.n9')
  })
})

describe('read results that were not asked for', () => {
  it('get, mGet and search drop other types, other ids and drafts', async () => {
    proxy.intercept((req) => {
      const url = req.url ?? ''
      const json = (body: unknown) => ({ status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
      if (url.includes('/data/doc/')) {
        return json({ documents: [{ _id: 'n1', _type: 'secret', s: 1 }, { _id: 'x9', _type: 'note' }, { _id: 'n2', _type: 'note', ok: true }, { _id: 'n2', _type: 'note', dup: true }] })
      }
      if (url.includes('/data/query/')) {
        return json({ result: { hits: [{ _id: 's1', _type: 'secret' }, { _id: 'drafts.n3', _type: 'note' }, { _id: 'n3', _type: 'note' }], total: 1 } })
      }
      return undefined
    })
    const driver = sanityDriver(sanity)
    const ref = { index: '', collection: 'note' }
    expect(await driver.get(ref, 'n1')).toBeNull()
    expect(await driver.mGet(ref, ['n1', 'n2'])).toEqual([{ _id: 'n2', _source: { _type: 'note', ok: true } }])
    const page = await driver.search(ref, { query: 'true', sort: [] }, { from: 0, size: 10 })
    expect(page.hits.map((h) => h._id)).toEqual(['n3'])
  })
})
