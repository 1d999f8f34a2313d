/**
 * document:deleteByQuery and document:updateByQuery as Kuzzle 2.56 does them (lib/api/controllers/documentController.js,
 * lib/service/storage/8/elasticsearch.ts): every match is edited (413 `services.storage.write_limit_exceeded` past
 * `limits.documentsWriteCount`, 200), each edited document is notified on its own through `core:realtime:document:mNotify`
 * (delete: scope out, event delete; update: the full document with `_updatedFields`, scope in, or out when it
 * stops matching), `silent` notifies nothing, and an unknown collection is 412 like every document action.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { Kuzzle } from 'kuzzle-sdk'
import { kuzzleFixture } from './kuzzle/fixtures'
import type { KuzzleFixture } from './kuzzle/fixtures'
import { waitFor } from '../helpers/wait-for'

const I = 'bulk-index'
const C = 'bulk'

let fx: KuzzleFixture

beforeAll(async () => {
  fx = await kuzzleFixture()
  fx.server.documents.createCollection(I, C)
})

afterEach(() => {
  fx.disconnectClients()
  fx.server.documents.clear()
})

afterAll(async () => {
  await fx?.close()
})

interface Seen {
  id: string
  scope: string
  event: string
  action: string
  source?: Record<string, unknown>
  updatedFields?: string[]
}

async function listen(kuzzle: Kuzzle, filter: object): Promise<Seen[]> {
  const seen: Seen[] = []
  await kuzzle.realtime.subscribe(I, C, filter, (n) => {
    const r = (n as { result: { _id: string; _source?: Record<string, unknown>; _updatedFields?: string[] } }).result
    const d = n as unknown as { scope: string; event: string; action: string }
    seen.push({ id: r._id, scope: d.scope, event: d.event, action: d.action, source: r._source, updatedFields: r._updatedFields })
  })
  return seen
}

function seed(): void {
  for (const [id, n] of [['a', 1], ['b', 2], ['c', 3], ['d', 4]] as const) fx.server.documents.create(I, C, id, { n, tag: 'x' })
}

describe('document:deleteByQuery', () => {
  it('deletes every match, answers { documents, ids } and notifies each document with a delete', async () => {
    seed()
    const writer = await fx.client()
    const watcher = await fx.client()
    const seen = await listen(watcher, {})
    const ids = await writer.document.deleteByQuery(I, C, { query: { range: { n: { gte: 2 } } } })
    expect([...ids].sort()).toEqual(['b', 'c', 'd'])
    expect(fx.server.documents.list(I, C).map((d) => d._id)).toEqual(['a'])
    await waitFor(() => seen.length === 3, 2000)
    expect(seen.map((s) => s.id).sort()).toEqual(['b', 'c', 'd'])
    for (const s of seen) {
      expect(s).toMatchObject({ scope: 'out', event: 'delete', action: 'delete' })
      expect(s.source).toMatchObject({ tag: 'x' })
    }
  })

  it('the raw result lists documents without _source unless source: true', async () => {
    seed()
    const writer = await fx.client()
    const plain = await writer.query({ controller: 'document', action: 'deleteByQuery', index: I, collection: C, body: { query: { term: { n: 1 } } } })
    expect(plain.result).toEqual({ documents: [{ _id: 'a' }], ids: ['a'] })
    const withSource = await writer.query({ controller: 'document', action: 'deleteByQuery', index: I, collection: C, source: true, body: { query: { term: { n: 2 } } } })
    expect(withSource.result.documents).toEqual([{ _id: 'b', _source: expect.objectContaining({ n: 2, tag: 'x' }) }])
  })

  it('silent: no notification; unknown collection: 412; more matches than documentsWriteCount: 413', async () => {
    seed()
    const writer = await fx.client()
    const watcher = await fx.client()
    const seen = await listen(watcher, {})
    await writer.document.deleteByQuery(I, C, { query: { term: { n: 1 } } }, { silent: true })
    await writer.document.deleteByQuery(I, C, { query: { term: { n: 2 } } })
    await waitFor(() => seen.length === 1, 2000)
    expect(seen[0].id).toBe('b')
    await expect(writer.document.deleteByQuery(I, 'nope', {})).rejects.toMatchObject({ status: 412, id: 'services.storage.unknown_collection' })
    for (let i = 0; i < 201; i++) fx.server.documents.create(I, C, `many-${i}`, { n: 100 }, { silent: true })
    await expect(writer.document.deleteByQuery(I, C, { query: { term: { n: 100 } } })).rejects.toMatchObject({
      status: 413,
      id: 'services.storage.write_limit_exceeded',
      code: 0x01010004,
    })
    expect(fx.server.documents.list(I, C)).toHaveLength(203)
  })
})

describe('document:updateByQuery', () => {
  it('updates every match, answers { successes, errors } and notifies each full document with _updatedFields', async () => {
    seed()
    const writer = await fx.client()
    const watcher = await fx.client()
    const all = await listen(watcher, {})
    const low = await listen(watcher, { range: { n: { lt: 3 } } })
    const result = await writer.document.updateByQuery(I, C, { range: { n: { lt: 3 } } }, { n: 10, extra: { deep: true } })
    expect(result.errors).toEqual([])
    expect(result.successes.map((s: { _id: string }) => s._id).sort()).toEqual(['a', 'b'])
    for (const s of result.successes as unknown as Array<Record<string, unknown>>) {
      expect(s).toMatchObject({ status: 200, _version: 2 })
      expect(s._source).toBeUndefined()
    }
    await waitFor(() => all.length === 2 && low.length === 2, 2000)
    for (const s of all) {
      expect(s).toMatchObject({ scope: 'in', event: 'write', action: 'update' })
      expect(s.source).toMatchObject({ n: 10, tag: 'x', extra: { deep: true } })
      expect(s.updatedFields?.sort()).toEqual(['extra.deep', 'n'])
    }
    // Both left the `n < 3` room: scope out there.
    expect(low.map((s) => s.scope)).toEqual(['out', 'out'])
    expect(fx.server.documents.get(I, C, 'c')?._version).toBe(1)
  })

  it('source: true returns the updated documents; query and changes are required', async () => {
    seed()
    const writer = await fx.client()
    const result = await writer.document.updateByQuery(I, C, { term: { n: 4 } }, { n: 5 }, { source: true })
    expect(result.successes).toEqual([{ _id: 'd', _version: 2, status: 200, _source: expect.objectContaining({ n: 5, tag: 'x' }) }])
    await expect(writer.query({ controller: 'document', action: 'updateByQuery', index: I, collection: C, body: { changes: { n: 1 } } })).rejects.toMatchObject({
      status: 400,
      id: 'api.assert.missing_argument',
    })
    await expect(writer.query({ controller: 'document', action: 'updateByQuery', index: I, collection: C, body: { query: {} } })).rejects.toMatchObject({
      status: 400,
      id: 'api.assert.missing_argument',
    })
  })
})

describe("lang: 'koncorde' on *ByQuery (documentController.deleteByQuery / updateByQuery → translateKoncorde)", () => {
  it('deletes and updates the documents the translated Koncorde filter matches', async () => {
    seed()
    const kuzzle = await fx.client()
    const deleted = await kuzzle.document.deleteByQuery(I, C, { query: { equals: { n: 1 } } }, { lang: 'koncorde' })
    expect(deleted).toEqual(['a'])
    const updated = await kuzzle.document.updateByQuery(I, C, { range: { n: { gte: 3 } } }, { tag: 'y' }, { lang: 'koncorde' })
    expect(updated.successes.map((d) => d._id).sort()).toEqual(['c', 'd'])
    expect(fx.server.documents.list(I, C).map((d) => [d._id, d._source.tag])).toEqual([['b', 'x'], ['c', 'y'], ['d', 'y']])
  })
})
