/**
 * The Sanity driver: turns the app's own `@sanity/client` into the driver contract. Index = dataset (`''` for the
 * client's own), collection = document `_type`, id = `_id`; a search query is a GROQ filter expression with params,
 * and every watch of a dataset is routed from one listener per (client, dataset) (the listen endpoint, Server-Sent
 * Events, read by the driver with a size cap; `sanity/connection.ts`).
 *
 * @example
 * ```ts
 * import { createClient } from '@sanity/client'
 * import { sanityDriver } from 'vue-observed/sanity'
 *
 * const client = createClient({ projectId, dataset: 'production', apiVersion: '2025-02-19', useCdn: false })
 * app.use(createObserver({ driver: sanityDriver(client) }))
 * const comments = useObservedSearch('', 'comment', () => ({ query: 'authorId != $ownerId', params: { ownerId } }))
 * ```
 *
 * @module
 */
import type { SanityClient } from '@sanity/client'
import type {
  CollectionRef,
  Doc,
  Driver,
  DriverSearchSpec,
  Page,
  PageRequest,
  Watch,
  WatchSink,
  WatchSpec,
} from '../core/types'
import { ObservedError } from '../core/types'
import { missingDataset, missingDatasetSink } from './sanity/dataset'
import { readError, writeError } from './sanity/errors'
import { mismatch, type Expected } from './sanity/expected'
import { checkedCondition, compileCondition } from './sanity/filter-check'
import { readFilter, readParams, searchQuery, stableJson } from './sanity/groq'
import { checkSanityId, isSanityId } from './sanity/ids'
import { readDocuments, readQuery } from './sanity/reads'
import { Connection, type ConnectionStats } from './sanity/connection'
import { isDraftOrVersion } from './sanity/expected'
import type { ListenSettings } from './sanity/listener'
import { sanityMatcher, type MatchablePerspective } from './sanity/matcher'
import { toSource, type Route } from './sanity/router'
import { Subscription } from './sanity/subscription'

export type { ConnectionStats } from './sanity/connection'

/**
 * Default ids per watch (the core shards above it). Every watch of a dataset is routed from one listener that
 * follows the watched types, so this no longer bounds a URL: it sizes the core's shards and its read batches.
 */
export const DEFAULT_MAX_IDS_PER_WATCH = 250

/** How long a listener keeps following what no watch needs any more before it is narrowed (ms). */
export const DEFAULT_NARROW_DELAY = 10_000

/**
 * Ids per `mGet` (the core splits larger reads, and retries failed ones per batch of this size): one watch shard, so
 * the documents a shard makes live are read together. Ids go in the `doc` endpoint's path, comma-separated, and a
 * batch whose ids take more than MAX_ID_CHARS_PER_READ is split further (250 UUIDs take 9.3 KB: two requests).
 */
export const MAX_IDS_PER_READ = DEFAULT_MAX_IDS_PER_WATCH

/** Characters of ids per `doc` request: only ids far longer than UUIDs split a batch over several requests. */
const MAX_ID_CHARS_PER_READ = 8000

/**
 * Default cap on one listener event: 32 Mi characters (32 to 64 MB of memory). An event carries the document after
 * the change and, once a live query is followed, the document before it: twice Sanity's own document size limit
 * fits, so that no real event reaches it.
 */
export const DEFAULT_MAX_EVENT_SIZE = 32 * 1024 * 1024

/** Options of {@link sanityDriver}. */
export interface SanityDriverOptions {
  /**
   * How many ids one watch follows (the core shards above it). Default {@link DEFAULT_MAX_IDS_PER_WATCH}. Whatever
   * the count, every watch of a dataset shares one listener.
   */
  maxIdsPerWatch?: number
  /**
   * How long the dataset's listener keeps following a document type no watch needs any more before it is replaced
   * by a narrower one (ms). Default {@link DEFAULT_NARROW_DELAY}: watches that come and go do not reopen it.
   */
  narrowDelay?: number
  /**
   * Ask listeners to resume after a dropped connection (`enableResume`): the server replays what was missed
   * (`welcomeback`) instead of the core refetching everything. Default true.
   */
  enableResume?: boolean
  /** Request tag for reads and listeners, shown in Sanity's request logs. Default none. */
  tag?: string
  /**
   * The most characters one listener event may hold (its data and its longest line). A bigger event, or a line that
   * never ends, drops the listener with a non-fatal `bad_event` and the core reopens it with backoff; memory stays
   * bounded whatever a server or proxy sends. Default {@link DEFAULT_MAX_EVENT_SIZE}.
   */
  maxEventSize?: number
}

/** The Sanity driver: a {@link Driver} over the app's client. */
export interface SanityDriver extends Driver {
  readonly name: 'sanity'
  readonly maxIdsPerWatch: number
  readonly maxIdsPerRead: number
  /** Listeners open now, over every dataset (one per dataset in use, two or three while one is replaced). */
  readonly openListeners: number
  /** Counters of the dataset listeners (events received, events no watch heard, listeners opened), summed. */
  listenerStats(): ConnectionStats
}

/**
 * Whether the client reads the `published` perspective (explicitly, or by default from API version 2025-02-19):
 * then searches never return drafts, and listeners must leave them out too.
 */
function readsPublished(client: SanityClient): boolean {
  const { perspective, apiVersion } = client.config()
  if (perspective === undefined) {
    const version = String(apiVersion ?? '').replace(/^v/, '')
    return version === 'X' || version >= '2025-02-19'
  }
  return perspective === 'published' || (Array.isArray(perspective) && perspective.length === 1 && perspective[0] === 'published')
}

/**
 * The perspective a client's searches read, when they evaluate the filter on stored documents (`raw`, the default
 * before API version 2025-02-19, or `published`); undefined for the others (drafts overlaid, a release stack).
 */
function matchablePerspective(client: SanityClient): MatchablePerspective | undefined {
  if (readsPublished(client)) return 'published'
  const { perspective } = client.config()
  return perspective === undefined || perspective === 'raw' ? 'raw' : undefined
}

/** A document of a read, or null when it is not one the read asked for (dropped: never shown). */
function toDoc(raw: unknown, expected: Expected): Doc | null {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return null
  const doc = raw as Record<string, unknown>
  if (mismatch(doc, expected) !== undefined) return null
  return { _id: doc._id as string, _source: toSource(doc), ...(typeof doc._rev === 'string' ? { _rev: doc._rev } : {}) }
}

/** Splits ids into runs of at most `budget` characters, each id costing its length plus `overhead`. */
function chunkIds(ids: readonly string[], budget: number, overhead: number): string[][] {
  const chunks: string[][] = []
  let current: string[] = []
  let length = 0
  for (const id of ids) {
    if (current.length > 0 && length + id.length + overhead > budget) {
      chunks.push(current)
      current = []
      length = 0
    }
    current.push(id)
    length += id.length + overhead
  }
  if (current.length > 0 || chunks.length === 0) chunks.push(current)
  return chunks
}

/**
 * Creates the Sanity driver over the app's own client (the driver never creates one, so the app keeps its
 * configuration: token, perspective, API version). Reads bypass the CDN only if the client does (`useCdn: false`
 * is advised: a live view must not read stale data after `welcome`).
 */
export function sanityDriver(client: SanityClient, options: SanityDriverOptions = {}): SanityDriver {
  const maxIdsPerWatch = options.maxIdsPerWatch ?? DEFAULT_MAX_IDS_PER_WATCH
  if (!Number.isInteger(maxIdsPerWatch) || maxIdsPerWatch < 1) {
    throw new ObservedError('bad_argument', `maxIdsPerWatch must be a positive integer, got ${maxIdsPerWatch}`)
  }
  const maxEventSize = options.maxEventSize ?? DEFAULT_MAX_EVENT_SIZE
  if (!Number.isInteger(maxEventSize) || maxEventSize < 1) {
    throw new ObservedError('bad_argument', `maxEventSize must be a positive integer, got ${maxEventSize}`)
  }
  const enableResume = options.enableResume ?? true
  const tag = options.tag
  const narrowDelay = options.narrowDelay ?? DEFAULT_NARROW_DELAY
  const clients = new Map<string, SanityClient>()
  const token = () => client.config().token
  /** One listener (connection) per client of a dataset. */
  const connections = new Map<SanityClient, Connection>()

  function connectionOf(sanity: SanityClient): Connection {
    let connection = connections.get(sanity)
    if (!connection) {
      const settings: ListenSettings = { enableResume, tag, token: token(), maxEventSize }
      connections.set(sanity, (connection = new Connection(sanity, settings, narrowDelay)))
    }
    return connection
  }

  /** The client for a dataset: the app's own for `''` or its dataset, a derived one (cached) otherwise. */
  function clientOf(c: CollectionRef): SanityClient {
    if (typeof c.collection !== 'string' || !c.collection) {
      throw new ObservedError('bad_argument', 'A Sanity collection is a document _type (a non-empty string)')
    }
    if (!c.index || c.index === client.config().dataset) return client
    let derived = clients.get(c.index)
    if (!derived) {
      try {
        derived = client.withConfig({ dataset: c.index })
      } catch (err) {
        throw new ObservedError('bad_argument', `Invalid Sanity dataset "${c.index}": ${(err as Error).message}`)
      }
      clients.set(c.index, derived)
    }
    return derived
  }

  const driver: SanityDriver = {
    name: 'sanity',
    maxIdsPerWatch,
    maxIdsPerRead: MAX_IDS_PER_READ,

    checkId: checkSanityId,

    /**
     * Mutations: `create` (409 when the id exists), `update` as a patch setting each leaf of the content (objects
     * merge, as the contract says) with `ifRevisionID`, `replace` as `createOrReplace` (it creates a missing
     * document; no `ifRevision`: Sanity checks revisions on patches only), `remove` as `delete` (no `ifRevision`
     * either). System fields (`_id`, `_type`, `_rev`, `_createdAt`, `_updatedAt`) are the server's, never written.
     */
    async write(c, w) {
      const sanity = clientOf(c)
      checkSanityId(w.id)
      if (w.ifRevision !== undefined && (w.op !== 'update' || typeof w.ifRevision !== 'string')) {
        throw new ObservedError('bad_argument', `Sanity checks a revision on an update only (a string _rev), not on ${w.op}`)
      }
      const content = userFields(w.content ?? {})
      try {
        if (w.op === 'remove') {
          await sanity.delete(w.id, { tag })
          return {}
        }
        const doc =
          w.op === 'update'
            ? await (w.ifRevision === undefined ? sanity.patch(w.id) : sanity.patch(w.id).ifRevisionId(w.ifRevision as string))
                .setIfMissing(objectParents(content))
                .set(leafPaths(content))
                .commit({ tag, returnDocuments: true })
            : w.op === 'create'
              ? await sanity.create({ ...content, _id: w.id, _type: c.collection }, { tag, returnDocuments: true })
              : await sanity.createOrReplace({ ...content, _id: w.id, _type: c.collection }, { tag, returnDocuments: true })
        const rev = (doc as { _rev?: unknown } | undefined)?._rev
        return typeof rev === 'string' ? { rev } : {}
      } catch (err) {
        throw missingDataset(err, sanity) ?? writeError(err, `${w.op} of "${w.id}"`, token())
      }
    },

    async get(c, id) {
      const sanity = clientOf(c)
      checkSanityId(id)
      try {
        const [raw] = await readDocuments(sanity, [id], tag)
        return toDoc(raw, { type: c.collection, ids: new Set([id]), excludeDrafts: false })
      } catch (err) {
        throw missingDataset(err, sanity) ?? readError(err, `get of "${id}"`, token())
      }
    },

    async mGet(c, ids) {
      const sanity = clientOf(c)
      // Ids Sanity refuses cannot exist: absent, and never in a URL (the core refuses them earlier with checkId).
      const wanted = [...new Set(ids)].filter(isSanityId)
      const expected: Expected = { type: c.collection, ids: new Set(wanted), excludeDrafts: false }
      const docs = new Map<string, Doc>()
      try {
        for (const chunk of chunkIds(wanted, MAX_ID_CHARS_PER_READ, 1)) {
          if (chunk.length === 0) continue
          for (const raw of await readDocuments(sanity, chunk, tag)) {
            const doc = toDoc(raw, expected)
            if (doc && !docs.has(doc._id)) docs.set(doc._id, doc)
          }
        }
      } catch (err) {
        throw missingDataset(err, sanity) ?? readError(err, `mGet of ${wanted.length} documents`, token())
      }
      return [...docs.values()]
    },

    async search(c: CollectionRef, spec: DriverSearchSpec, page: PageRequest): Promise<Page> {
      const sanity = clientOf(c)
      const expected: Expected = { type: c.collection, excludeDrafts: readsPublished(sanity) }
      const params = { ...readParams(spec.params), __type: c.collection }
      const query = searchQuery(await checkedCondition(readFilter(spec.query), expected.excludeDrafts, whereOf(sanity, c)), spec.sort, page.from, page.size)
      let response: unknown
      try {
        response = await readQuery(sanity, query, params, tag)
      } catch (err) {
        throw missingDataset(err, sanity) ?? readError(err, 'search', token())
      }
      const { hits, total } = (response ?? {}) as { hits?: unknown; total?: unknown }
      if (!Array.isArray(hits) || typeof total !== 'number') {
        throw new ObservedError('read_failed', 'Sanity search returned an unexpected shape')
      }
      return { hits: hits.map((h) => toDoc(h, expected)).filter((d): d is Doc => d !== null), total }
    },

    get openListeners() {
      let n = 0
      for (const c of connections.values()) n += c.openListeners
      return n
    },

    listenerStats() {
      const total: ConnectionStats = { events: 0, unwatched: 0, listeners: 0 }
      for (const c of connections.values()) {
        total.events += c.stats.events
        total.unwatched += c.stats.unwatched
        total.listeners += c.stats.listeners
      }
      return total
    },

    watch(c: CollectionRef, spec: WatchSpec, appSink: WatchSink): Watch {
      const sanity = clientOf(c)
      const sink = missingDatasetSink(appSink, sanity)
      const connection = connectionOf(sanity)
      const type = c.collection
      if ('ids' in spec) {
        // Ids are explicit: drafts asked for by id are followed whatever the perspective.
        const route: Route = {
          kind: 'ids',
          need: { type, previous: false },
          expected: { type, excludeDrafts: false },
          matches: (doc) => doc._type === type,
        }
        return new Subscription(connection, route, sink, spec.ids)
      }
      const excludeDrafts = readsPublished(sanity)
      const filter = readFilter(spec.query.query)
      const params = { ...readParams(spec.query.params), __type: type }
      const expected: Expected = { type, excludeDrafts }
      const need = { type, previous: true }
      // No filter: the collection's own condition, in plain code. A filter is checked, then evaluated by groq-js
      // (loaded on first use); a refusal is a fatal sink error.
      if (filter === undefined) {
        const matches = (doc: Record<string, unknown>) => doc._type === type && !(excludeDrafts && typeof doc._id === 'string' && isDraftOrVersion(doc._id))
        return new Subscription(connection, { kind: 'query', need, expected, matches }, sink)
      }
      const route = checkedCondition(filter, excludeDrafts, whereOf(sanity, c))
        .then((condition) => compileCondition(condition, params))
        .then((matches): Route => ({ kind: 'query', need, expected, matches }))
      return new Subscription(connection, route, sink)
    },

    /**
     * The search's condition evaluated in the client by groq-js, synchronously (see sanity/matcher.ts): undefined
     * until groq-js is loaded (a search or live query with a filter loads it), and for what only the server knows.
     */
    matcher(c, spec) {
      return sanityMatcher(c, spec.query, spec.params, matchablePerspective(clientOf(c)))
    },

    /** Filter and params only: the sort does not change what a listener follows, so searches share it. */
    queryKey(spec) {
      try {
        return stableJson([readFilter(spec.query) ?? null, spec.params ?? {}])
      } catch {
        return undefined // not poolable; watch() reports the bad query
      }
    },
  }
  return driver
}

/** ` (dataset "x", type "y")`, for messages: the dataset the client really uses when the index is its own (`''`). */
function whereOf(sanity: SanityClient, c: CollectionRef): string {
  return ` (dataset "${sanity.config().dataset ?? c.index}", type "${c.collection}")`
}

const SYSTEM_FIELDS = new Set(['_id', '_type', '_rev', '_createdAt', '_updatedAt', '__proto__'])

/** The content without the fields the server owns. */
function userFields(content: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(content).filter(([key]) => !SYSTEM_FIELDS.has(key)))
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v)
/** A path segment in GROQ's syntax: `.name`, or `["any key"]` for a key that is no identifier. */
const segment = (prefix: string, key: string) =>
  /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? (prefix ? `${prefix}.${key}` : key) : `${prefix}[${JSON.stringify(key)}]`

/** `{ a: { b: 1 }, c: [2] }` as `{ 'a.b': 1, c: [2] }`: a patch that merges plain objects instead of replacing them. */
function leafPaths(content: Record<string, unknown>, prefix = '', out: Record<string, unknown> = {}): Record<string, unknown> {
  for (const [key, value] of Object.entries(content)) {
    const path = segment(prefix, key)
    if (isObject(value) && Object.keys(value).length > 0) leafPaths(value, path, out)
    else out[path] = value
  }
  return out
}

/** Every object the leaf paths go through, set to `{}` where missing (so that setting `a.b` can create `a`). */
function objectParents(content: Record<string, unknown>, prefix = '', out: Record<string, unknown> = {}): Record<string, unknown> {
  for (const [key, value] of Object.entries(content)) {
    if (!isObject(value) || Object.keys(value).length === 0) continue
    const path = segment(prefix, key)
    out[path] = {}
    objectParents(value, path, out)
  }
  return out
}
