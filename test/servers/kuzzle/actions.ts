/**
 * The API actions the test server answers (controller:action → handler), with Kuzzle's argument checks and result
 * shapes. Handlers run synchronously, so requests on one connection are processed in the order they arrive.
 */
import { errors } from './errors'
import { koncordeToEs } from './koncorde-query'
import { compileQuery, compileSort, searchAfter, sortHits } from './es-query'
import type { Hit } from './es-query'
import type { Source, StoredDocument, WriteResult } from './store'
import type { ServerCore } from './server'

/** A request frame, as the SDK sends it. */
export interface RequestFrame {
  readonly controller?: unknown
  readonly action?: unknown
  readonly index?: unknown
  readonly collection?: unknown
  readonly _id?: unknown
  readonly body?: unknown
  readonly requestId?: unknown
  readonly jwt?: unknown
  readonly volatile?: unknown
  readonly [option: string]: unknown
}

/** What a handler knows about the request beyond its frame. */
export interface RequestContext {
  readonly connectionId: string
  /** Authenticated user id, `-1` for anonymous. */
  readonly kuid: string
  /** Sends the write's notifications, unless the request is silent. */
  notify(write: WriteResult): void
  /** Remembers the token a login issued for this connection. */
  setToken(jwt: string | undefined): void
}

type Handler = (req: RequestFrame, ctx: RequestContext, server: ServerCore) => unknown

const isObject = (v: unknown): v is Source => typeof v === 'object' && v !== null && !Array.isArray(v)

/** Maximum documents per read, as Kuzzle's `limits.documentsFetchCount`. */
const FETCH_LIMIT = 10_000
/** Maximum documents per write, as Kuzzle's `limits.documentsWriteCount` (checked by the *ByQuery actions). */
const WRITE_LIMIT = 200

/**
 * The documents a *ByQuery action edits, as Kuzzle's `_getAllDocumentsFromQuery` collects them (services/storage
 * elasticsearch.ts): every match, refused with 413 `write_limit_exceeded` past `documentsWriteCount`.
 */
function byQuery(server: ServerCore, index: string, collection: string, query: unknown): StoredDocument[] {
  const match = compileQuery(query)
  const docs = server.store.list(index, collection).filter(match)
  if (docs.length > WRITE_LIMIT) throw errors.writeLimitExceeded()
  return docs
}

function str(req: RequestFrame, name: '_id' | 'index' | 'collection'): string {
  const value = req[name]
  if (value === undefined || value === null || value === '') throw errors.missingArgument(name)
  if (typeof value !== 'string') throw errors.invalidType(name, 'string')
  return value
}

function optionalId(req: RequestFrame): string | undefined {
  return req._id === undefined || req._id === null ? undefined : str(req, '_id')
}

function body(req: RequestFrame): Source {
  if (req.body === undefined || req.body === null) throw errors.bodyRequired()
  if (!isObject(req.body)) throw errors.invalidType('body', 'object')
  return req.body
}

function target(req: RequestFrame): [string, string] {
  return [str(req, 'index'), str(req, 'collection')]
}

/**
 * The query of a search, count or *ByQuery in Elasticsearch form: with `lang: 'koncorde'` the Koncorde filter
 * translated as Kuzzle translates it (KuzzleRequest.getLangParam, baseController.translateKoncorde).
 */
function esQuery(req: RequestFrame, query: unknown): unknown {
  const lang = req.lang ?? 'elasticsearch'
  if (typeof lang !== 'string') throw errors.invalidType('lang', 'string')
  if (lang === 'elasticsearch') return query
  if (lang !== 'koncorde') throw errors.invalidArgument('lang', '"elasticsearch" or "koncorde"')
  return koncordeToEs(query)
}

/** Parses a scroll TTL the way the `ms` package Kuzzle uses does ("500ms", "15s", "1m", "1h", "2d", bare ms). */
function duration(ttl: string): number | undefined {
  const m = /^(-?(?:\d+)?\.?\d+) *(ms|s|m|h|d)?$/i.exec(ttl.trim())
  if (!m) return undefined
  const unit = (m[2] ?? 'ms').toLowerCase()
  return Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[unit as 'ms' | 's' | 'm' | 'h' | 'd']
}

/** `services.storageEngine.maxScrollDuration` and `defaults.scrollTTL` of .kuzzlerc.sample.jsonc. */
const MAX_SCROLL_MS = 60_000
const DEFAULT_SCROLL_TTL = '15s'

/** The scroll TTL of a request (KuzzleRequest.getScrollTTLParam), refused past maxScrollDuration (elasticsearch.ts). */
function scrollTtl(req: RequestFrame): string | undefined {
  const ttl = req.scroll
  if (ttl === undefined || ttl === null || ttl === '') return undefined
  if (typeof ttl !== 'string') throw errors.invalidType('scroll', 'string')
  const ms = duration(ttl)
  if (ms !== undefined && ms > MAX_SCROLL_MS) throw errors.scrollDurationTooGreat(ttl)
  return ttl
}

/** The target of a document action, which Kuzzle refuses on an unknown index or collection (412). */
function stored(req: RequestFrame, server: ServerCore): [string, string] {
  const [index, collection] = target(req)
  server.store.assertCollection(index, collection)
  return [index, collection]
}

const view = (doc: StoredDocument) => ({ _id: doc._id, _source: doc._source, _version: doc._version })

/**
 * A hit as elasticsearch.ts `_formatSearchResult` returns it: with the index and collection searched (`highlight`
 * and `inner_hits` are undefined without those features, so absent from the frame).
 */
const formatHit = (index: string, collection: string) => (h: Hit) => ({ _id: h._id, _score: 1, _source: h._source, index, collection })

function search(req: RequestFrame, server: ServerCore) {
  const [index, collection] = stored(req, server)
  const b = req.body === undefined || req.body === null ? {} : body(req)
  // Kuzzle has these; this server would otherwise drop them silently (a multi-collection search, aggregations...).
  if (req.targets !== undefined && req.targets !== null) throw errors.unsupported('targets', 'no targets (search one index and collection)')
  for (const key of ['aggregations', 'aggs', 'highlight', 'suggest', 'collapse']) {
    if (b[key] !== undefined) throw errors.unsupported(`body.${key}`, 'no ' + key)
  }
  const from = Number(req.from ?? b.from ?? 0)
  const size = Number(req.size ?? b.size ?? 10)
  if (!Number.isInteger(from) || from < 0) throw errors.invalidArgument('from', 'a positive integer')
  if (!Number.isInteger(size) || size < 0) throw errors.invalidArgument('size', 'a positive integer')
  // documentController.search: assertNotExceedMaxFetch(size - from).
  if (size - from > FETCH_LIMIT) throw errors.getLimitExceeded()
  const ttl = scrollTtl(req)
  const match = compileQuery(esQuery(req, b.query))
  const keys = compileSort(b.sort)
  let hits: Hit[] = sortHits(server.store.list(index, collection).filter(match), keys)
  const total = hits.length
  if (b.search_after !== undefined) hits = searchAfter(hits, keys, b.search_after)
  const page = hits.slice(from, from + size).map(formatHit(index, collection))
  if (ttl === undefined) return { hits: page, total }
  // Elasticsearch refuses `from` in a scroll context; esWrapper passes its message on as unexpected_bad_request.
  if (from > 0) throw errors.unexpectedBadRequest('Validation Failed: 1: using [from] is not allowed in a scroll context;')
  // A scroll is a snapshot of the matches at search time, paged by `size`; the cursor lives for its TTL from each call.
  const scrollId = server.scrolls.open({ index, collection, hits, size, fetched: page.length }, duration(ttl) ?? 0)
  return { hits: page, total, scrollId, remaining: total - page.length }
}

/** document:scroll (documentController.scroll, elasticsearch.ts scroll): the next page of a scroll cursor. */
function scroll(req: RequestFrame, server: ServerCore) {
  const id = req.scrollId
  if (id === undefined || id === null || id === '') throw errors.missingArgument('scrollId')
  if (typeof id !== 'string') throw errors.invalidType('scrollId', 'string')
  const ttl = scrollTtl(req) ?? DEFAULT_SCROLL_TTL
  const cursor = server.scrolls.get(id)
  if (!cursor) throw errors.unknownScrollId()
  const page = cursor.hits.slice(cursor.fetched, cursor.fetched + cursor.size)
  cursor.fetched += page.length
  const total = cursor.hits.length
  // The last page deletes the cursor (elasticsearch.ts: fetched >= total → cache del + clearScroll).
  if (cursor.fetched >= total) server.scrolls.close(id)
  else server.scrolls.touch(id, duration(ttl) ?? 0)
  return { hits: page.map(formatHit(cursor.index, cursor.collection)), remaining: total - cursor.fetched, scrollId: id, total }
}

type Write = (server: ServerCore, index: string, collection: string, id: string | undefined, source: Source, author: string) => WriteResult

const writers: Record<'create' | 'createOrReplace' | 'replace' | 'update', Write> = {
  create: (s, i, c, id, src, a) => s.store.create(i, c, id, src, a),
  createOrReplace: (s, i, c, id, src, a) => s.store.createOrReplace(i, c, requireId(id), src, a),
  replace: (s, i, c, id, src, a) => s.store.replace(i, c, requireId(id), src, a),
  update: (s, i, c, id, src, a) => s.store.update(i, c, requireId(id), src, a),
}

function requireId(id: string | undefined): string {
  if (id === undefined) throw errors.missingArgument('_id')
  return id
}

function writeResult(action: keyof typeof writers, write: WriteResult, changes: Source, wantSource: boolean) {
  const after = write.after as StoredDocument
  // documentController.update: without `source`, the changes sent plus the document's new _kuzzle_info.
  if (action === 'update') {
    if (wantSource) return view(after)
    return { _id: after._id, _source: { ...changes, _kuzzle_info: after._source._kuzzle_info }, _version: after._version }
  }
  if (action === 'createOrReplace') return { ...view(after), created: write.before === undefined }
  return view(after)
}

function single(action: keyof typeof writers): Handler {
  return (req, ctx, server) => {
    const [index, collection] = stored(req, server)
    const changes = body(req)
    const write = writers[action](server, index, collection, optionalId(req), changes, ctx.kuid)
    ctx.notify(write)
    return writeResult(action, write, changes, req.source === true)
  }
}

/** The `strict` option of the m* actions: any failure fails the whole request (documentController). */
function strictly(req: RequestFrame, action: string, failures: unknown[]): void {
  if (req.strict === true && failures.length > 0) throw errors.incompleteMultipleRequest(action, failures)
}

/** A body without `_kuzzle_info`, as the m* errors echo it (elasticsearch.ts sets it to undefined). */
const bare = (source: Source): Source => {
  const { _kuzzle_info: _ignored, ...rest } = source
  return rest
}

/**
 * mCreate / mCreateOrReplace / mReplace / mUpdate as documentController._mChanges and elasticsearch.ts m* do them:
 * every document is tried (failures are `{ document, reason, status }`, never thrown), `strict` turns any failure
 * into 400 `api.process.incomplete_multiple_request`, more than documentsWriteCount documents is 413. A success is
 * the bulk item: `{ _id, _source, _version, created, result, status }`; mUpdate's is `{ _id, _source (the whole
 * document), _version, status }`.
 */
function multiple(action: keyof typeof writers, name: string): Handler {
  return (req, ctx, server) => {
    const [index, collection] = stored(req, server)
    const b = body(req)
    if (b.documents === undefined) throw errors.missingArgument('body.documents')
    const documents = b.documents
    if (!Array.isArray(documents)) throw errors.invalidType('body.documents', 'array')
    if (documents.length > WRITE_LIMIT) throw errors.writeLimitExceeded()
    documents.forEach((document, i) => {
      if (isObject(document) && document._source !== undefined) {
        throw errors.unexpectedArgument(`documents[${i}]._source`, `documents[${i}].body`)
      }
    })
    const successes: unknown[] = []
    const failures: unknown[] = []
    const reject = (document: unknown, reason: string, status: number) => failures.push({ document, reason, status })
    const pending: Array<{ id: string | undefined; source: Source }> = []
    const writes: WriteResult[] = []
    for (const document of documents) {
      if (!isObject(document) || !isObject(document.body)) reject(document, 'document body must be an object', 400)
      else if (action !== 'create' && typeof document._id !== 'string') reject(document, 'document _id must be a string', 400)
      else pending.push({ id: typeof document._id === 'string' && document._id !== '' ? document._id : undefined, source: bare(document.body) })
    }
    for (const { id, source } of pending) {
      const exists = id !== undefined && server.store.get(index, collection, id) !== undefined
      if (action === 'create' && exists) {
        reject({ _id: id, body: source }, 'document already exists', 400)
        continue
      }
      if ((action === 'replace' || action === 'update') && !exists) {
        // mUpdate's bulk 404 echoes the extracted source, metadata included; mReplace's mget check drops it.
        const echoed = action === 'update' ? { ...source, _kuzzle_info: { updatedAt: server.store.now(), updater: ctx.kuid } } : source
        reject({ _id: id, body: echoed }, 'document not found', 404)
        continue
      }
      const write = writers[action](server, index, collection, id, source, ctx.kuid)
      writes.push(write)
      const after = write.after as StoredDocument
      if (action === 'update') {
        successes.push({ _id: after._id, _source: after._source, _version: after._version, status: 200 })
      } else {
        const created = write.before === undefined
        successes.push({ _id: after._id, _source: after._source, _version: after._version, created, result: created ? 'created' : 'updated', status: created ? 201 : 200 })
      }
    }
    // The writes stand even when `strict` then fails the request, which notifies nothing (documentController._mChanges).
    strictly(req, name, failures)
    for (const write of writes) ctx.notify(write)
    return { errors: failures, successes }
  }
}

/** controller:action → handler. */
export const actions: Record<string, Handler> = {
  'server:now': () => ({ now: Date.now() }),

  'auth:checkToken': (req, _ctx, server) => {
    const token = isObject(req.body) ? req.body.token : undefined
    if (token === undefined || token === null) return { valid: false, state: 'No token provided', expiresAt: null }
    const info = server.tokens.verify(token)
    if (info === 'invalid') return { valid: false, state: 'Invalid token', expiresAt: null }
    if (info === 'expired') return { valid: false, state: 'Token expired', expiresAt: null }
    return { valid: true, state: 'Token valid', expiresAt: info.expiresAt, kuid: info.kuid }
  },
  'auth:login': (req, ctx, server) => {
    // Any credentials of any strategy are accepted: tests need a token, not an identity provider.
    const credentials = isObject(req.body) ? req.body : {}
    const kuid = typeof credentials.username === 'string' && credentials.username ? credentials.username : 'test-user'
    const ttl = typeof req.expiresIn === 'number' && req.expiresIn > 0 ? req.expiresIn : server.tokenTtlMs
    const { jwt, expiresAt } = server.tokens.issue(kuid, ttl)
    ctx.setToken(jwt)
    return { _id: kuid, jwt, expiresAt, ttl }
  },
  'auth:logout': (req, ctx, server) => {
    if (typeof req.jwt === 'string') server.tokens.revoke(req.jwt)
    ctx.setToken(undefined)
    return {}
  },
  'auth:getCurrentUser': (_req, ctx) => ({ _id: ctx.kuid, _source: { profileIds: ctx.kuid === '-1' ? ['anonymous'] : ['default'] } }),

  'index:create': (req, _ctx, server) => {
    const index = str(req, 'index')
    server.store.createIndex(index)
    return { acknowledged: true, index }
  },
  'index:exists': (req, _ctx, server) => server.store.hasIndex(str(req, 'index')),
  'collection:create': (req, _ctx, server) => {
    const [index, collection] = target(req)
    server.store.ensure(index, collection)
    return { acknowledged: true }
  },
  'collection:exists': (req, _ctx, server) => server.store.hasCollection(...target(req)),

  'document:get': (req, _ctx, server) => {
    const [index, collection] = stored(req, server)
    const id = str(req, '_id')
    const doc = server.store.get(index, collection, id)
    if (!doc) throw errors.notFound(id, index, collection)
    return view(doc)
  },
  'document:mGet': (req, _ctx, server) => {
    const [index, collection] = stored(req, server)
    const ids = body(req).ids
    if (!Array.isArray(ids) || !ids.every((id) => typeof id === 'string')) throw errors.invalidType('body.ids', 'string[]')
    if (ids.length > FETCH_LIMIT) throw errors.getLimitExceeded()
    const successes: unknown[] = []
    const missing: string[] = []
    for (const id of ids) {
      const doc = server.store.get(index, collection, id)
      if (doc) successes.push(view(doc))
      else missing.push(id)
    }
    // documentController.mGet: with `strict`, a missing id fails the request; the error lists the missing ids.
    strictly(req, 'get', missing)
    return { successes, errors: missing }
  },
  'document:exists': (req, _ctx, server) => {
    const [index, collection] = stored(req, server)
    return server.store.get(index, collection, str(req, '_id')) !== undefined
  },
  'document:search': (req, _ctx, server) => search(req, server),
  'document:scroll': (req, _ctx, server) => scroll(req, server),
  'document:count': (req, _ctx, server) => {
      const [index, collection] = stored(req, server)
    const match = compileQuery(esQuery(req, isObject(req.body) ? req.body.query : undefined))
    return { count: server.store.list(index, collection).filter(match).length }
  },
  'document:create': single('create'),
  'document:createOrReplace': single('createOrReplace'),
  'document:replace': single('replace'),
  'document:update': single('update'),
  'document:upsert': (req, ctx, server) => {
    const [index, collection] = stored(req, server)
    const id = str(req, '_id')
    const b = body(req)
    const changes = isObject(b.changes) ? b.changes : {}
    const defaults = isObject(b.default) ? b.default : {}
    const existed = server.store.get(index, collection, id) !== undefined
    const write = existed
      ? server.store.update(index, collection, id, changes, ctx.kuid)
      : server.store.create(index, collection, id, { ...defaults, ...changes }, ctx.kuid, true)
    ctx.notify(write)
    const after = write.after as StoredDocument
    return { _id: id, _version: after._version, created: !existed, ...(req.source === true ? { _source: after._source } : {}) }
  },
  'document:delete': (req, ctx, server) => {
    const [index, collection] = stored(req, server)
    const write = server.store.delete(index, collection, str(req, '_id'))
    ctx.notify(write)
    // documentController.delete: the document as it was (get before delete) with `source: true`.
    return req.source === true ? view(write.before as StoredDocument) : { _id: write.id }
  },
  'document:mCreate': multiple('create', 'mCreate'),
  'document:mCreateOrReplace': multiple('createOrReplace', 'mCreateOrReplace'),
  'document:mReplace': multiple('replace', 'mReplace'),
  'document:mUpdate': multiple('update', 'mUpdate'),
  // documentController.mDelete, elasticsearch.ts mDelete: failures are { _id, reason, status }; successes are ids.
  'document:mDelete': (req, ctx, server) => {
    const [index, collection] = stored(req, server)
    const b = body(req)
    if (b.ids === undefined) throw errors.missingArgument('body.ids')
    const ids = b.ids
    if (!Array.isArray(ids)) throw errors.invalidType('body.ids', 'array')
    const successes: string[] = []
    const failures: unknown[] = []
    const writes: WriteResult[] = []
    for (const id of ids) {
      if (typeof id !== 'string') failures.push({ _id: id, reason: 'document _id must be a string', status: 400 })
      else if (!server.store.get(index, collection, id)) failures.push({ _id: id, reason: 'document not found', status: 404 })
      else {
        writes.push(server.store.delete(index, collection, id))
        successes.push(id)
      }
    }
    strictly(req, 'delete', failures)
    for (const write of writes) ctx.notify(write)
    return { errors: failures, successes }
  },
  // documentController.deleteByQuery: body.query defaults to {}; one delete notification per document; the result
  // lists the documents (their _source only with `source: true`) and their ids.
  'document:deleteByQuery': (req, ctx, server) => {
      const [index, collection] = stored(req, server)
    const b = req.body === undefined || req.body === null ? {} : body(req)
    const documents: Array<{ _id: string; _source?: Source }> = []
    for (const doc of byQuery(server, index, collection, esQuery(req, b.query ?? {}))) {
      ctx.notify(server.store.delete(index, collection, doc._id))
      documents.push(req.source === true ? { _id: doc._id, _source: doc._source } : { _id: doc._id })
    }
    return { documents, ids: documents.map((d) => d._id) }
  },
  // documentController.updateByQuery: body.query and body.changes required; each match updated as by mUpdate, with
  // one update notification per document; `_source` in the successes only with `source: true`.
  'document:updateByQuery': (req, ctx, server) => {
      const [index, collection] = stored(req, server)
    const b = body(req)
    if (!isObject(b.query)) throw b.query === undefined ? errors.missingArgument('body.query') : errors.invalidType('body.query', 'object')
    if (!isObject(b.changes)) throw b.changes === undefined ? errors.missingArgument('body.changes') : errors.invalidType('body.changes', 'object')
    const successes: unknown[] = []
    for (const doc of byQuery(server, index, collection, esQuery(req, b.query))) {
      const write = server.store.update(index, collection, doc._id, b.changes, ctx.kuid)
      ctx.notify(write)
      const after = write.after as StoredDocument
      successes.push({ _id: after._id, _version: after._version, status: 200, ...(req.source === true ? { _source: after._source } : {}) })
    }
    return { successes, errors: [] }
  },

  'realtime:subscribe': (req, ctx, server) => {
    const [index, collection] = target(req)
    const volatile = isObject(req.volatile) ? req.volatile : {}
    return server.realtime.subscribe(ctx.connectionId, index, collection, req.body, req.scope ?? 'all', req.users ?? 'none', volatile)
  },
  'realtime:unsubscribe': (req, ctx, server) =>
    server.realtime.unsubscribe(ctx.connectionId, isObject(req.body) ? req.body.roomId : undefined),
  'realtime:list': (_req, _ctx, server) => server.realtime.list(),
  'realtime:count': (req, _ctx, server) => ({ count: server.realtime.count(isObject(req.body) ? req.body.roomId : undefined) }),
  'realtime:publish': (req, ctx, server) => {
    const [index, collection] = target(req)
    // realtimeController.publish stamps the message as a write would be (author and creation time only).
    const message = { ...body(req), _kuzzle_info: { author: ctx.kuid, createdAt: Date.now() } }
    server.publish(index, collection, req._id === undefined ? null : String(req._id), message, req)
    return { published: true }
  },
}
