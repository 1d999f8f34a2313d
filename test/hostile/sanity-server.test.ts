/**
 * Hostile documents through the Sanity-protocol test server, the real @sanity/client and the core ObserverClient:
 * prototype keys arrive by read and by listener event, and a 10 MB document travels as one SSE line.
 */
import type { SanityClient } from '@sanity/client'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { ObserverClient } from '../../src/core'
import { sanityDriver } from '../../src/drivers/sanity'
import { waitFor } from '../helpers/wait-for'
import { startSanityServer, type SanityTestServer } from '../servers/sanity'
import { clientFor } from '../servers/sanity/test-client'

type Source = Record<string, unknown>

let server: SanityTestServer
let sanity: SanityClient
const clients: ObserverClient[] = []

beforeAll(async () => {
  server = await startSanityServer({ retryMs: 20 })
  sanity = clientFor(server)
})
afterEach(() => {
  for (const c of clients.splice(0)) c.close()
  server.documents.wipe()
})
afterAll(async () => {
  await server.stop()
})

function observerClient(): ObserverClient {
  const client = new ObserverClient({ driver: sanityDriver(sanity), gapTimeout: 150, backoff: { base: 50, cap: 200 } })
  clients.push(client)
  return client
}

const probe = () => ({}) as Record<string, unknown>
const HOSTILE =
  '"n":1,"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}},"prototype":{"polluted":"yes"},"nested":{"__proto__":{"deep":"yes"},"constructor":"c"}'
const EXPECTED_DATA = { n: 1, constructor: { prototype: { polluted: 'yes' } }, prototype: { polluted: 'yes' }, nested: { constructor: 'c' } }

function expectSafe(s: Source): void {
  expect(Object.getPrototypeOf(s)).toBe(Object.prototype)
  expect(Object.hasOwn(s, '__proto__')).toBe(false)
  expect(Object.hasOwn(s.nested as object, '__proto__')).toBe(false)
  expect(Object.hasOwn(s, 'constructor')).toBe(true)
  expect(Object.hasOwn(s, 'prototype')).toBe(true)
  expect(probe().polluted).toBeUndefined()
  expect(probe().deep).toBeUndefined()
  expect(Object.getOwnPropertyNames(Object.prototype)).not.toContain('polluted')
}

describe('prototype keys through the Sanity test server', () => {
  it('by read and by listener event: __proto__ dropped, constructor / prototype kept as data', { timeout: 10_000 }, async () => {
    server.documents.create(JSON.parse(`{"_id":"read","_type":"note",${HOSTILE}}`))
    server.documents.create({ _id: 'live', _type: 'note', n: 0 })
    server.documents.create({ _id: 'other', _type: 'note', n: 100 })
    const client = observerClient()
    const read = client.get<Source>('', 'note', 'read')
    const live = client.get<Source>('', 'note', 'live')
    const other = client.get<Source>('', 'note', 'other')
    await Promise.all([read.ready(), live.ready(), other.ready()])

    expect(read.status).toBe('live')
    const { _rev: readRev, _createdAt: _c1, _updatedAt: _u1, ...readData } = JSON.parse(JSON.stringify(read._source)) as Source
    expect(readRev).toBe(server.documents.get('read')?._rev)
    expect(readData).toEqual({ _type: 'note', ...EXPECTED_DATA })
    expectSafe(read._source!)

    server.documents.createOrReplace(JSON.parse(`{"_id":"live","_type":"note",${HOSTILE}}`))
    await waitFor(() => live._source?.n === 1, 5000, { what: 'hostile event observed' })
    expect(live.status).toBe('live')
    const { _rev: liveRev, _createdAt: _c2, _updatedAt: _u2, ...liveData } = JSON.parse(JSON.stringify(live._source)) as Source
    expect(liveRev).toBe(server.documents.get('live')?._rev)
    expect(liveData).toEqual({ _type: 'note', ...EXPECTED_DATA })
    expectSafe(live._source!)

    const { _id: _o, ...stored } = server.documents.get('other')!
    expect(other._source).toEqual(stored)
    expect(other._source!.n).toBe(100)
    expect(other.status).toBe('live')
  })
})

describe('a 10 MB document through the Sanity test server', () => {
  it('arrives whole by listener event and by read; another observer is unaffected', { timeout: 20_000 }, async () => {
    const SIZE = 10 * 1024 * 1024
    server.documents.create({ _id: 'big', _type: 'note', n: 0 })
    server.documents.create({ _id: 'small', _type: 'note', n: 0 })
    const client = observerClient()
    const big = client.get<{ n: number; blob?: string }>('', 'note', 'big')
    const small = client.get<{ n: number }>('', 'note', 'small')
    await Promise.all([big.ready(), small.ready()])

    server.documents.createOrReplace({ _id: 'big', _type: 'note', n: 1, blob: 'x'.repeat(SIZE) })
    await waitFor(() => big._source?.blob?.length === SIZE, 15_000, { intervalMs: 10, what: '10 MB document by event' })
    expect(big.status).toBe('live')
    expect(big._source!.n).toBe(1)
    expect(big._source!.blob).toBe('x'.repeat(SIZE))

    server.documents.patch('small', { set: { n: 1 } })
    await waitFor(() => small._source?.n === 1, 5000, { what: 'small observer still live' })
    expect(small.status).toBe('live')

    // A second client reads it cold (document endpoint, 10 MB JSON body).
    const cold = observerClient().get<{ n: number; blob?: string; _rev?: string }>('', 'note', 'big')
    await cold.ready()
    expect(cold.status).toBe('live')
    expect(cold._source!.blob!.length).toBe(SIZE)
    expect(cold._source!._rev).toBe(server.documents.get('big')?._rev)
  })
})
