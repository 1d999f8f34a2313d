/**
 * Sanity ids `.` and `..` (and every id Sanity refuses) through the real @sanity/client against the Sanity test
 * server: refused with `bad_argument` before any request, so no read ever leaves the dataset path; valid ids read as
 * one path segment each.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { ObserverClient } from '../../src/core'
import { sanityDriver, type SanityDriver } from '../../src/drivers/sanity'
import { waitFor } from '../helpers/wait-for'
import { startSanityServer, type SanityTestServer } from '../servers/sanity'
import { clientFor } from '../servers/sanity/test-client'

let server: SanityTestServer
let driver: SanityDriver
const clients: ObserverClient[] = []
const ref = { index: '', collection: 'note' }

const REFUSED = ['.', '..', '-x', 'a..b', '.a', 'a.', 'a.-b', 'a/b', '..%2F', 'x'.repeat(129)]

beforeAll(async () => {
  server = await startSanityServer({ retryMs: 20 })
  driver = sanityDriver(clientFor(server))
})
afterEach(() => {
  for (const c of clients.splice(0)) c.close()
  server.documents.wipe()
})
afterAll(async () => {
  await server.stop()
})

describe('Sanity ids that Sanity refuses', () => {
  it.each(REFUSED)('%j: get rejects with a fatal bad_argument and sends nothing', async (id) => {
    const before = server.requests.length
    await expect(driver.get(ref, id)).rejects.toMatchObject({ code: 'bad_argument', fatal: true })
    expect(() => driver.checkId!(id)).toThrow(expect.objectContaining({ code: 'bad_argument' }))
    expect(server.requests.length).toBe(before)
  })

  it('an observer of "." or ".." is refused at once; its neighbours read and follow as usual', async () => {
    server.documents.load([{ _id: 'ok', _type: 'note', n: 1 }, { _id: 'a.b-c', _type: 'note', n: 2 }])
    const client = new ObserverClient({ driver, gapTimeout: 50, backoff: { base: 5, cap: 50 } })
    clients.push(client)
    for (const id of ['.', '..']) {
      expect(() => client.get('', 'note', id)).toThrow(expect.objectContaining({ code: 'bad_argument' }))
      expect(() => client.mGet('', 'note', ['ok', id])).toThrow(expect.objectContaining({ code: 'bad_argument' }))
    }
    const [ok, dotted] = client.mGet<{ n: number }>('', 'note', ['ok', 'a.b-c'])
    await waitFor(() => ok.status === 'live' && dotted.status === 'live', 3000)
    expect([ok._source?.n, dotted._source?.n]).toEqual([1, 2])
    for (const r of server.requests) expect(r.url).not.toMatch(/\/data\/doc\/[^/?]*\/\.\.?(?:[/?]|$)/)
  })

  it('mGet and watch leave refused ids out of every URL; a valid dotted id is one path segment', async () => {
    server.documents.load([{ _id: 'a.b', _type: 'note', n: 1 }])
    const before = server.requests.length
    const docs = await driver.mGet(ref, ['..', '.', 'a.b'])
    expect(docs.map((d) => d._id)).toEqual(['a.b'])
    const reads = server.requests.slice(before)
    expect(reads.map((r) => r.url.replace(/^\/v[^/]+/, ''))).toEqual(['/data/doc/production/a.b'])
  })
})
