/**
 * Writes and searches as Kuzzle 2.56 answers them (lib/api/controllers/documentController.js,
 * lib/service/storage/8/elasticsearch.ts, lib/kerror/codes/*.json), through the real kuzzle-sdk: create of an
 * existing _id, the m* result and error shapes and `strict`, delete with `source`, update without `source`, mGet
 * with `strict`, scroll cursors, index and collection on hits, the fetch limit, and the numeric error codes.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { kuzzleFixture } from './kuzzle/fixtures'
import { waitFor } from '../helpers/wait-for'
import type { KuzzleFixture } from './kuzzle/fixtures'

const I = 'writes-index'
const C = 'writes'

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

interface ApiError {
  status: number
  id: string
  code: number
  message: string
  props?: string[]
}

async function rejection(promise: Promise<unknown>): Promise<ApiError> {
  try {
    await promise
  } catch (e) {
    return e as ApiError
  }
  throw new Error('expected a rejection')
}

const info = expect.objectContaining({ author: '-1' })

describe('create of an existing _id (esWrapper: version conflict → services.storage.document_already_exists)', () => {
  it('answers 400 "Document already exists." with code 0x01010011 and leaves the document alone', async () => {
    const kuzzle = await fx.client()
    await kuzzle.document.create(I, C, { n: 1 }, 'a')
    const e = await rejection(kuzzle.document.create(I, C, { n: 2 }, 'a'))
    expect(e).toMatchObject({ status: 400, id: 'services.storage.document_already_exists', code: 0x01010011, message: 'Document already exists.' })
    expect(fx.server.documents.get(I, C, 'a')?._source).toMatchObject({ n: 1 })
  })
})

describe('m* actions (documentController._mChanges, elasticsearch.ts m* and _mExecute)', () => {
  it('mCreate: successes are bulk items with created/result/status, an existing _id is { document: { _id, body }, reason: "document already exists", status: 400 }', async () => {
    const kuzzle = await fx.client()
    fx.server.documents.create(I, C, 'taken', { n: 0 })
    const result = await kuzzle.document.mCreate(I, C, [
      { _id: 'a', body: { n: 1 } },
      { _id: 'taken', body: { n: 2 } },
    ])
    expect(result.successes).toEqual([
      { _id: 'a', _source: { n: 1, _kuzzle_info: info }, _version: 1, created: true, result: 'created', status: 201 },
    ])
    expect(result.errors).toEqual([{ document: { _id: 'taken', body: { n: 2 } }, reason: 'document already exists', status: 400 }])
    expect(fx.server.documents.get(I, C, 'taken')?._source).toMatchObject({ n: 0 })
  })

  it('mCreate: a body that is not an object is { document (as sent), reason: "document body must be an object", status: 400 }', async () => {
    const kuzzle = await fx.client()
    const raw = await kuzzle.query({ controller: 'document', action: 'mCreate', index: I, collection: C, body: { documents: [{ _id: 'x', body: 'nope' }] } })
    expect(raw.result).toEqual({ successes: [], errors: [{ document: { _id: 'x', body: 'nope' }, reason: 'document body must be an object', status: 400 }] })
  })

  it('mCreateOrReplace: created true then false (result "created" / "updated", status 201 / 200)', async () => {
    const kuzzle = await fx.client()
    fx.server.documents.create(I, C, 'b', { n: 0 })
    const result = await kuzzle.document.mCreateOrReplace(I, C, [{ _id: 'a', body: { n: 1 } }, { _id: 'b', body: { n: 2 } }])
    expect(result.successes).toMatchObject([
      { _id: 'a', _version: 1, created: true, result: 'created', status: 201 },
      { _id: 'b', _version: 2, created: false, result: 'updated', status: 200 },
    ])
    expect(result.errors).toEqual([])
  })

  it('mReplace: a missing document is { document: { _id, body }, reason: "document not found", status: 404 }', async () => {
    const kuzzle = await fx.client()
    fx.server.documents.create(I, C, 'a', { n: 0, old: true })
    const result = await kuzzle.document.mReplace(I, C, [{ _id: 'a', body: { n: 1 } }, { _id: 'ghost', body: { n: 2 } }])
    expect(result.successes).toMatchObject([{ _id: 'a', _source: { n: 1 }, _version: 2, status: 200 }])
    expect((result.successes[0] as { _source: object })._source).not.toHaveProperty('old')
    expect(result.errors).toEqual([{ document: { _id: 'ghost', body: { n: 2 } }, reason: 'document not found', status: 404 }])
  })

  it('mUpdate: successes carry the whole updated document and status; a missing document is a 404 "document not found"', async () => {
    const kuzzle = await fx.client()
    fx.server.documents.create(I, C, 'a', { n: 0, keep: 'yes' })
    const result = await kuzzle.document.mUpdate(I, C, [{ _id: 'a', body: { n: 1 } }, { _id: 'ghost', body: { n: 2 } }])
    expect(result.successes).toEqual([{ _id: 'a', _source: { n: 1, keep: 'yes', _kuzzle_info: info }, _version: 2, status: 200 }])
    expect(result.errors).toEqual([
      { document: { _id: 'ghost', body: { n: 2, _kuzzle_info: { updatedAt: expect.any(Number), updater: '-1' } } }, reason: 'document not found', status: 404 },
    ])
  })

  it('mDelete: successes are ids, a missing id is { _id, reason: "document not found", status: 404 }', async () => {
    const kuzzle = await fx.client()
    fx.server.documents.create(I, C, 'a', { n: 0 })
    const raw = await kuzzle.query({ controller: 'document', action: 'mDelete', index: I, collection: C, body: { ids: ['a', 'ghost'] } })
    expect(raw.result).toEqual({ successes: ['a'], errors: [{ _id: 'ghost', reason: 'document not found', status: 404 }] })
  })

  it('strict: any failure is 400 api.process.incomplete_multiple_request (0x0202000a) listing the failures; the other writes stand', async () => {
    const kuzzle = await fx.client()
    fx.server.documents.create(I, C, 'taken', { n: 0 })
    const e = await rejection(kuzzle.document.mCreate(I, C, [{ _id: 'new', body: { n: 1 } }, { _id: 'taken', body: { n: 2 } }], { strict: true }))
    expect(e).toMatchObject({ status: 400, id: 'api.process.incomplete_multiple_request', code: 0x0202000a, message: 'At least one of the mCreate actions failed.' })
    expect(fx.server.documents.get(I, C, 'new')).not.toBeNull()
    const del = await rejection(kuzzle.document.mDelete(I, C, ['new', 'ghost'], { strict: true }))
    expect(del).toMatchObject({ status: 400, id: 'api.process.incomplete_multiple_request', message: 'At least one of the delete actions failed.' })
  })

  it('more than documentsWriteCount (200) documents is 413 services.storage.write_limit_exceeded, nothing written', async () => {
    const kuzzle = await fx.client()
    const documents = Array.from({ length: 201 }, (_, i) => ({ _id: `d${i}`, body: { i } }))
    const e = await rejection(kuzzle.document.mCreate(I, C, documents))
    expect(e).toMatchObject({ status: 413, id: 'services.storage.write_limit_exceeded', code: 0x01010004 })
    expect(fx.server.documents.list(I, C)).toHaveLength(0)
  })
})

describe('delete and update results (documentController.delete / update)', () => {
  it('delete answers { _id }, and with source: true the deleted document { _id, _source, _version }', async () => {
    const kuzzle = await fx.client()
    fx.server.documents.create(I, C, 'a', { n: 1 })
    fx.server.documents.create(I, C, 'b', { n: 2 })
    const plain = await kuzzle.query({ controller: 'document', action: 'delete', index: I, collection: C, _id: 'a' })
    expect(plain.result).toEqual({ _id: 'a' })
    const withSource = await kuzzle.query({ controller: 'document', action: 'delete', index: I, collection: C, _id: 'b', source: true })
    expect(withSource.result).toEqual({ _id: 'b', _source: { n: 2, _kuzzle_info: info }, _version: 1 })
  })

  it('update without source answers the changes plus the new _kuzzle_info; with source: true the whole document', async () => {
    const kuzzle = await fx.client()
    fx.server.documents.create(I, C, 'a', { n: 1, keep: 'yes' })
    const partial = await kuzzle.document.update(I, C, 'a', { n: 2 })
    expect(partial).toEqual({ _id: 'a', _version: 2, _source: { n: 2, _kuzzle_info: expect.objectContaining({ updater: '-1', updatedAt: expect.any(Number) }) } })
    const full = await kuzzle.document.update(I, C, 'a', { n: 3 }, { source: true })
    expect(full._source).toMatchObject({ n: 3, keep: 'yes' })
  })
})

describe('mGet with strict (documentController.mGet)', () => {
  it('without strict missing ids are listed in errors; with strict they fail the request with incomplete_multiple_request', async () => {
    const kuzzle = await fx.client()
    fx.server.documents.create(I, C, 'a', { n: 1 })
    expect((await kuzzle.document.mGet(I, C, ['a', 'ghost'])).errors).toEqual(['ghost'])
    const raw = await rejection(kuzzle.query({ controller: 'document', action: 'mGet', index: I, collection: C, strict: true, body: { ids: ['a', 'ghost'] } }))
    expect(raw).toMatchObject({ status: 400, id: 'api.process.incomplete_multiple_request', message: 'At least one of the get actions failed.' })
    expect((await kuzzle.query({ controller: 'document', action: 'mGet', index: I, collection: C, strict: true, body: { ids: ['a'] } })).result.successes).toHaveLength(1)
  })
})

describe('search (elasticsearch.ts search / _formatSearchResult, documentController.search)', () => {
  it('hits carry the index and collection searched', async () => {
    const kuzzle = await fx.client()
    fx.server.documents.create(I, C, 'a', { n: 1 })
    const result = await kuzzle.document.search(I, C, {})
    expect(result.hits).toEqual([{ _id: 'a', _score: 1, _source: { n: 1, _kuzzle_info: info }, index: I, collection: C }])
  })

  it('size - from over documentsFetchCount (10,000) is 413 services.storage.get_limit_exceeded (0x01010003)', async () => {
    const kuzzle = await fx.client()
    const e = await rejection(kuzzle.document.search(I, C, {}, { size: 10_001 }))
    expect(e).toMatchObject({ status: 413, id: 'services.storage.get_limit_exceeded', code: 0x01010003 })
    // The check is on size - from, as documentController.search does it.
    await expect(kuzzle.document.search(I, C, {}, { from: 5, size: 10_004 })).resolves.toMatchObject({ total: 0 })
  })

  it('scroll: the first page gives a scrollId and remaining; document:scroll pages through a snapshot; SearchResult.next() follows it', async () => {
    const kuzzle = await fx.client()
    for (let i = 0; i < 5; i++) fx.server.documents.create(I, C, `d${i}`, { i })
    const first = await kuzzle.document.search(I, C, { sort: { i: 'asc' } }, { scroll: '10s', size: 2 })
    expect(first.hits.map((h) => h._id)).toEqual(['d0', 'd1'])
    expect(first.total).toBe(5)
    // A document created after the search is not in the scroll: Elasticsearch scrolls a point-in-time snapshot.
    fx.server.documents.create(I, C, 'late', { i: -1 })
    const ids = first.hits.map((h) => h._id)
    let page = await first.next()
    while (page) {
      ids.push(...page.hits.map((h) => h._id))
      page = await page.next()
    }
    expect(ids).toEqual(['d0', 'd1', 'd2', 'd3', 'd4'])
    const scrolls = fx.server.requests().filter((r) => r.action === 'scroll')
    expect(scrolls).toHaveLength(2)
    expect(scrolls[0]).toMatchObject({ scroll: '10s', scrollId: expect.any(String) })
  })

  it('document:scroll answers { hits, remaining, scrollId, total }; once the last page is fetched the id is unknown (404 unknown_scroll_id)', async () => {
    const kuzzle = await fx.client()
    for (let i = 0; i < 3; i++) fx.server.documents.create(I, C, `d${i}`, { i })
    const first = await kuzzle.query({ controller: 'document', action: 'search', index: I, collection: C, scroll: '5s', size: 2, body: { sort: ['i'] } })
    expect(first.result).toMatchObject({ total: 3, remaining: 1, scrollId: expect.any(String) })
    const scrollId = first.result.scrollId as string
    const next = await kuzzle.query({ controller: 'document', action: 'scroll', scrollId, scroll: '5s' })
    expect(next.result).toEqual({ hits: [expect.objectContaining({ _id: 'd2', index: I, collection: C })], remaining: 0, scrollId, total: 3 })
    const gone = await rejection(kuzzle.query({ controller: 'document', action: 'scroll', scrollId }))
    expect(gone).toMatchObject({ status: 404, id: 'services.storage.unknown_scroll_id', code: 0x0101000e, message: 'Non-existing or expired scroll identifier.' })
    const missing = await rejection(kuzzle.query({ controller: 'document', action: 'scroll' }))
    expect(missing).toMatchObject({ status: 400, id: 'api.assert.missing_argument' })
  })

  it('refuses what it does not implement (targets, aggregations) with 400 rather than dropping it', async () => {
    const kuzzle = await fx.client()
    const aggs = await rejection(kuzzle.document.search(I, C, { aggregations: { n: { terms: { field: 'n' } } } }))
    expect(aggs).toMatchObject({ status: 400, id: 'api.assert.invalid_argument' })
    const targets = await rejection(kuzzle.query({ controller: 'document', action: 'search', index: I, collection: C, targets: [{ index: I, collections: [C] }], body: {} }))
    expect(targets).toMatchObject({ status: 400, id: 'api.assert.invalid_argument' })
  })

  it('a scroll TTL over maxScrollDuration (1m) is 400 services.storage.scroll_duration_too_great', async () => {
    const kuzzle = await fx.client()
    const e = await rejection(kuzzle.document.search(I, C, {}, { scroll: '2m' }))
    expect(e).toMatchObject({ status: 400, id: 'services.storage.scroll_duration_too_great', code: 0x0101002c, message: 'Scroll duration "2m" is too great.' })
  })

  describe("lang: 'koncorde' (getLangParam; baseController.translateKoncorde; commons/queryTranslator.ts)", () => {
    function seed(): void {
      fx.server.documents.create(I, C, 'a', { n: 1, tag: 'x', color: 'red' })
      fx.server.documents.create(I, C, 'b', { n: 2, tag: 'y' })
      fx.server.documents.create(I, C, 'c', { n: 3, tag: 'x', color: 'blue' })
    }
    const ids = (r: { hits: Array<{ _id: string }> }) => r.hits.map((h) => h._id).sort()

    it('translates equals, in, range, ids, exists, missing, and, or, not into the Elasticsearch query it runs', async () => {
      seed()
      const kuzzle = await fx.client()
      const search = (query: object) => kuzzle.document.search(I, C, { query }, { lang: 'koncorde' })
      expect(ids(await search({ equals: { tag: 'x' } }))).toEqual(['a', 'c'])
      expect(ids(await search({ in: { n: [1, 2] } }))).toEqual(['a', 'b'])
      expect(ids(await search({ range: { n: { gt: 1 } } }))).toEqual(['b', 'c'])
      expect(ids(await search({ ids: { values: ['b'] } }))).toEqual(['b'])
      expect(ids(await search({ exists: 'color' }))).toEqual(['a', 'c'])
      expect(ids(await search({ exists: { field: 'color' } }))).toEqual(['a', 'c'])
      expect(ids(await search({ exists: 'color["blue"]' }))).toEqual(['c'])
      expect(ids(await search({ missing: 'color' }))).toEqual(['b'])
      expect(ids(await search({ and: [{ equals: { tag: 'x' } }, { range: { n: { lt: 3 } } }] }))).toEqual(['a'])
      expect(ids(await search({ or: [{ equals: { n: 1 } }, { equals: { n: 2 } }] }))).toEqual(['a', 'b'])
      expect(ids(await search({ not: { equals: { tag: 'x' } } }))).toEqual(['b'])
      expect(ids(await search({}))).toEqual(['a', 'b', 'c'])
      expect(await kuzzle.document.count(I, C, { query: { equals: { tag: 'x' } } }, { lang: 'koncorde' })).toBe(2)
    })

    it('bool is 400 api.assert.koncorde_restricted_keyword; an unknown lang is 400 invalid_argument', async () => {
      const kuzzle = await fx.client()
      const bool = await rejection(kuzzle.document.search(I, C, { query: { bool: { must: [] } } }, { lang: 'koncorde' }))
      expect(bool).toMatchObject({
        status: 400,
        id: 'api.assert.koncorde_restricted_keyword',
        code: 0x0201000d,
        message: 'The operator "bool" of Koncorde DSL is not supported for search queries.',
      })
      const lang = await rejection(kuzzle.query({ controller: 'document', action: 'search', index: I, collection: C, lang: 'sql', body: {} }))
      expect(lang).toMatchObject({ status: 400, id: 'api.assert.invalid_argument', message: 'Invalid argument "lang". Expected: "elasticsearch" or "koncorde"' })
    })
  })
})

describe('realtime:list (realtimeController.list → hotelClerk.list, cluster state listRealtimeRooms)', () => {
  it('answers { index: { collection: { roomId: subscribers } } }, rooms disappearing with their last subscriber', async () => {
    const a = await fx.client()
    const b = await fx.client()
    const room = await a.realtime.subscribe(I, C, { equals: { n: 1 } }, () => undefined)
    await b.realtime.subscribe(I, C, { equals: { n: 1 } }, () => undefined)
    const other = await b.realtime.subscribe('elsewhere', 'things', {}, () => undefined)
    const list = await a.query({ controller: 'realtime', action: 'list' })
    expect(list.result).toEqual({ [I]: { [C]: { [room]: 2 } }, elsewhere: { things: { [other]: 1 } } })
    await b.realtime.unsubscribe(other)
    await waitFor(() => fx.server.subscriptionCount() === 2)
    expect((await a.query({ controller: 'realtime', action: 'list' })).result).toEqual({ [I]: { [C]: { [room]: 2 } } })
  })
})

describe("Kuzzle's error table (kerror/codes/*.json: code = domain << 24 | subdomain << 16 | error)", () => {
  it('answers the ids, numeric codes and messages of the table', async () => {
    const kuzzle = await fx.client()
    const scope = await rejection(kuzzle.realtime.subscribe(I, C, {}, () => undefined, { scope: 'sideways' as never }))
    expect(scope).toMatchObject({ id: 'core.realtime.invalid_scope', code: 0x00010004, status: 400, message: 'Invalid value for the "scope" parameter (allowed: "all", "in", "out", "none").' })
    const users = await rejection(kuzzle.realtime.subscribe(I, C, {}, () => undefined, { users: 'some' as never }))
    expect(users).toMatchObject({ id: 'core.realtime.invalid_users', code: 0x00010005, status: 400 })
    const missing = await rejection(kuzzle.document.get(I, C, 'ghost'))
    expect(missing).toMatchObject({ id: 'services.storage.not_found', code: 0x0101000b, status: 404, message: `Document "ghost" not found in "${I}":"${C}".` })
    const index = await rejection(kuzzle.document.get('no-such-index', C, 'x'))
    expect(index).toMatchObject({ id: 'services.storage.unknown_index', code: 0x01010001, status: 412 })
    const body = await rejection(kuzzle.query({ controller: 'document', action: 'create', index: I, collection: C }))
    expect(body).toMatchObject({ id: 'api.assert.body_required', code: 0x02010008, status: 400 })
  })
})
