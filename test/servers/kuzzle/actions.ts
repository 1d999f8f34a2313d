/**
 * The API actions the test server answers (controller:action → handler), with Kuzzle's argument checks and result
 * shapes. Handlers run synchronously, so requests on one connection are processed in the order they arrive.
 */
import { errors } from './errors'
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

/** Refuses the query options Kuzzle has and this server lacks (scroll cursors, Koncorde queries), instead of ignoring them. */
function refuseUnsupported(req: RequestFrame): void {
  if (req.scroll !== undefined && req.scroll !== null) throw errors.unsupported('scroll', 'no scroll (use from/size or search_after)')
  if (req.lang !== undefined && req.lang !== null && req.lang !== 'elasticsearch') throw errors.unsupported('lang', '"elasticsearch"')
}

/** The target of a document action, which Kuzzle refuses on an unknown index or collection (412). */
function stored(req: RequestFrame, server: ServerCore): [string, string] {
  const [index, collection] = target(req)
  server.store.assertCollection(index, collection)
  return [index, collection]
}

const view = (doc: StoredDocument) => ({ _id: doc._id, _source: doc._source, _version: doc._version })

function search(req: RequestFrame, server: ServerCore) {
  refuseUnsupported(req)
  const [index, collection] = stored(req, server)
  const b = req.body === undefined || req.body === null ? {} : body(req)
  const from = Number(req.from ?? b.from ?? 0)
  const size = Number(req.size ?? b.size ?? 10)
  if (!Number.isInteger(from) || from < 0) throw errors.invalidArgument('from', 'a positive integer')
  if (!Number.isInteger(size) || size < 0) throw errors.invalidArgument('size', 'a positive integer')
  if (size > FETCH_LIMIT) throw errors.getLimitExceeded()
  const match = compileQuery(b.query)
  const keys = compileSort(b.sort)
  let hits: Hit[] = sortHits(server.store.list(index, collection).filter(match), keys)
  const total = hits.length
  if (b.search_after !== undefined) hits = searchAfter(hits, keys, b.search_after)
  return {
    hits: hits.slice(from, from + size).map((h) => ({ _id: h._id, _score: 1, _source: h._source })),
    total,
  }
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
  if (action === 'update') return { _id: after._id, _version: after._version, _source: wantSource ? after._source : changes }
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

function multiple(action: keyof typeof writers): Handler {
  return (req, ctx, server) => {
    const [index, collection] = stored(req, server)
    const documents = body(req).documents
    if (!Array.isArray(documents)) throw errors.invalidType('body.documents', 'array')
    const successes: unknown[] = []
    const errs: unknown[] = []
    for (const document of documents) {
      try {
        if (!isObject(document) || !isObject(document.body)) throw errors.invalidType('body.documents[].body', 'object')
        const id = document._id === undefined ? undefined : String(document._id)
        const write = writers[action](server, index, collection, id, document.body, ctx.kuid)
        ctx.notify(write)
        successes.push({ ...writeResult(action, write, document.body, req.source === true), status: write.before ? 200 : 201 })
      } catch (e) {
        errs.push({ document, status: (e as { status?: number }).status ?? 500, reason: (e as Error).message })
      }
    }
    return { successes, errors: errs }
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
    return { successes, errors: missing }
  },
  'document:exists': (req, _ctx, server) => {
    const [index, collection] = stored(req, server)
    return server.store.get(index, collection, str(req, '_id')) !== undefined
  },
  'document:search': (req, _ctx, server) => search(req, server),
  'document:count': (req, _ctx, server) => {
    refuseUnsupported(req)
    const [index, collection] = stored(req, server)
    const match = compileQuery(isObject(req.body) ? req.body.query : undefined)
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
      : server.store.create(index, collection, id, { ...defaults, ...changes }, ctx.kuid)
    ctx.notify(write)
    const after = write.after as StoredDocument
    return { _id: id, _version: after._version, created: !existed, ...(req.source === true ? { _source: after._source } : {}) }
  },
  'document:delete': (req, ctx, server) => {
    const [index, collection] = stored(req, server)
    const write = server.store.delete(index, collection, str(req, '_id'))
    ctx.notify(write)
    return { _id: write.id }
  },
  'document:mCreate': multiple('create'),
  'document:mCreateOrReplace': multiple('createOrReplace'),
  'document:mReplace': multiple('replace'),
  'document:mUpdate': multiple('update'),
  'document:mDelete': (req, ctx, server) => {
    const [index, collection] = stored(req, server)
    const ids = body(req).ids
    if (!Array.isArray(ids)) throw errors.invalidType('body.ids', 'array')
    const successes: string[] = []
    const errs: unknown[] = []
    for (const id of ids) {
      try {
        const write = server.store.delete(index, collection, String(id))
        ctx.notify(write)
        successes.push(write.id)
      } catch (e) {
        errs.push({ id, reason: (e as Error).message })
      }
    }
    return { successes, errors: errs }
  },
  // documentController.deleteByQuery: body.query defaults to {}; one delete notification per document; the result
  // lists the documents (their _source only with `source: true`) and their ids.
  'document:deleteByQuery': (req, ctx, server) => {
    refuseUnsupported(req)
    const [index, collection] = stored(req, server)
    const b = req.body === undefined || req.body === null ? {} : body(req)
    const documents: Array<{ _id: string; _source?: Source }> = []
    for (const doc of byQuery(server, index, collection, b.query ?? {})) {
      ctx.notify(server.store.delete(index, collection, doc._id))
      documents.push(req.source === true ? { _id: doc._id, _source: doc._source } : { _id: doc._id })
    }
    return { documents, ids: documents.map((d) => d._id) }
  },
  // documentController.updateByQuery: body.query and body.changes required; each match updated as by mUpdate, with
  // one update notification per document; `_source` in the successes only with `source: true`.
  'document:updateByQuery': (req, ctx, server) => {
    refuseUnsupported(req)
    const [index, collection] = stored(req, server)
    const b = body(req)
    if (!isObject(b.query)) throw b.query === undefined ? errors.missingArgument('body.query') : errors.invalidType('body.query', 'object')
    if (!isObject(b.changes)) throw b.changes === undefined ? errors.missingArgument('body.changes') : errors.invalidType('body.changes', 'object')
    const successes: unknown[] = []
    for (const doc of byQuery(server, index, collection, b.query)) {
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
  'realtime:count': (req, _ctx, server) => ({ count: server.realtime.count(isObject(req.body) ? req.body.roomId : undefined) }),
  'realtime:publish': (req, ctx, server) => {
    const [index, collection] = target(req)
    // realtimeController.publish stamps the message as a write would be (author and creation time only).
    const message = { ...body(req), _kuzzle_info: { author: ctx.kuid, createdAt: Date.now() } }
    server.publish(index, collection, req._id === undefined ? null : String(req._id), message, req)
    return { published: true }
  },
}
