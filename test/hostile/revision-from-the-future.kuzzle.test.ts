/**
 * Attack (issue 13, finding 5) through the real kuzzle-sdk: a proxy between the SDK and the Kuzzle test server
 * injects a document notification whose `_kuzzle_info.updatedAt` lies 1e12 ms in the future. A real change follows;
 * `refresh()` (of an observer, of a live search) must end showing what the server stores, and changes after it apply.
 */
import { describe, expect, it } from 'vitest'
import { waitFor } from '../helpers/wait-for'
import { useKuzzleProxyFixture } from './kuzzle-proxy-fixture'

const I = 'hostile'
const C = 'future'

const fx = useKuzzleProxyFixture()

const stored = (id: string) => fx.server.documents.get(I, C, id)?._source
const n = (o: { _source: unknown }) => (o._source as { n?: number } | null)?.n

/** Every notification frame the server sent for `id`, as the SDK received them (one per room). */
function notifications(id: string): Array<Record<string, unknown>> {
  return fx.proxy.received
    .map((f) => JSON.parse(f) as Record<string, unknown>)
    .filter((f) => f.type === 'document' && (f.result as { _id?: string } | undefined)?._id === id)
}

/** Replays each room's last real notification for `id` with `n: 666` and an updatedAt 1e12 ms ahead. */
function injectFromTheFuture(id: string): void {
  const byRoom = new Map<unknown, Record<string, unknown>>()
  for (const f of notifications(id)) byRoom.set(f.room, f)
  expect(byRoom.size).toBeGreaterThan(0)
  for (const real of byRoom.values()) {
    const result = real.result as { _id: string; _source: Record<string, unknown> }
    const info = result._source._kuzzle_info as Record<string, unknown>
    const _source = { ...result._source, n: 666, _kuzzle_info: { ...info, updatedAt: Date.now() + 1e12 } }
    fx.proxy.inject(JSON.stringify({ ...real, scope: 'in', result: { ...result, _source } }))
  }
}

describe('a notification with updatedAt far in the future', () => {
  it('does not pin an observed document: refresh() shows the stored document, later changes apply', async () => {
    fx.server.documents.create(I, C, 'a', { n: 1 })
    const a = fx.client.get(I, C, 'a')
    await waitFor(() => a.status === 'live', 3000)
    fx.server.documents.update(I, C, 'a', { n: 2 })
    await waitFor(() => n(a) === 2, 3000, { what: 'a real change' })

    injectFromTheFuture('a')
    await waitFor(() => n(a) === 666, 3000, { what: 'the injected notification' })
    fx.server.documents.update(I, C, 'a', { n: 3 })
    await a.refresh()
    expect(a._source).toEqual(stored('a'))
    expect(n(a)).toBe(3)
    expect(a.status).toBe('live')

    fx.server.documents.update(I, C, 'a', { n: 4 })
    await waitFor(() => n(a) === 4, 3000, { what: 'a change after the refresh' })
    expect(a._source).toEqual(stored('a'))
  })

  it("does not pin a live search's hit: the search's refresh() shows the stored document", async () => {
    fx.server.documents.create(I, C, 'a', { n: 1 })
    fx.server.documents.create(I, C, 'b', { n: 10 })
    const search = fx.client.search(I, C, { sort: [{ n: 'asc' }] }, { size: 10, live: 'query' })
    await waitFor(() => search.status === 'live' && search.hits.length === 2, 3000)
    fx.server.documents.update(I, C, 'a', { n: 2 })
    await waitFor(() => search.hits.some((h) => n(h) === 2), 3000, { what: 'a real change' })

    injectFromTheFuture('a')
    await waitFor(() => search.hits.some((h) => n(h) === 666), 3000, { what: 'the injected notification' })
    fx.server.documents.update(I, C, 'a', { n: 3 })
    await search.refresh()
    await waitFor(() => search.hits.map((h) => `${h._id}:${n(h)}`).join() === 'a:3,b:10', 3000, { what: 'the stored documents' })
    expect(search.hits[0]._source).toEqual(stored('a'))

    fx.server.documents.update(I, C, 'a', { n: 4 })
    await waitFor(() => n(search.hits[0]) === 4, 3000, { what: 'a change after the refresh' })
  })

  it('the next real change shows the stored document, without refresh()', async () => {
    fx.server.documents.create(I, C, 'a', { n: 1 })
    const a = fx.client.get(I, C, 'a')
    await waitFor(() => a.status === 'live', 3000)
    fx.server.documents.update(I, C, 'a', { n: 2 })
    await waitFor(() => n(a) === 2, 3000, { what: 'a real change' })
    injectFromTheFuture('a')
    await waitFor(() => n(a) === 666, 3000, { what: 'the injected notification' })
    fx.server.documents.update(I, C, 'a', { n: 3 })
    await waitFor(() => n(a) === 3, 3000, { what: 'the stored document' })
    expect(a._source).toEqual(stored('a'))
  })
})
