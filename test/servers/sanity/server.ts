/**
 * A Sanity-protocol HTTP server for tests and the playground: the doc, query, mutate and listen endpoints of
 * `shared/protocols/sanity.md` on 127.0.0.1, close enough to the real API that an unmodified `@sanity/client` reads,
 * writes and listens against it; plus a documents API that writes as another client would, and fault knobs.
 */
import { listenOnLoopback } from '../listen'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { Delivery, type EventMatcher } from './delivery'
import { ResumePoints } from './resume'
import { listenerPredicate, QueryError, runQuery } from './groq'
import { Listener, readListenOptions } from './listener'
import { DocumentStore, MutationError, type DocumentInput, type Mutation, type MutationResult, type SanityDocument, type Transaction } from './store'
import type { PatchOperations } from './patch'

/** The data endpoints the server speaks. */
export type SanityEndpoint = 'doc' | 'query' | 'mutate' | 'listen'

/** Options of `startSanityServer`. */
export interface SanityServerOptions {
  /** Port to listen on; 0 or absent picks a free one. */
  port?: number
  /** When set, every data request must carry `Authorization: Bearer <token>`, or gets a 401. */
  token?: string
  /** Interval of the `:` keep-alive comments on listen streams, in ms. Default 15000; 0 turns them off. */
  keepAliveMs?: number
  /**
   * Sends `retry: <ms>` at the start of each listen stream, which sets how long the client's EventSource waits
   * before reconnecting by itself after the stream drops. Absent: not sent (EventSource's default, 1 s).
   */
  retryMs?: number
  /** How many transactions per dataset are kept for `enableResume`. Default 1000. */
  historySize?: number
  /**
   * The datasets that exist. Default `['production']`. A dataset written through `documents` exists from then on;
   * requests for any other get the real API's "not found" (Sanity creates datasets by management API only).
   */
  datasets?: readonly string[]
}

/** One request as the server saw it (never a header value: the token must not leak into test output). */
export interface RequestRecord {
  readonly method: string
  /** Path and query string, exactly as received. */
  readonly url: string
  readonly endpoint: SanityEndpoint | null
  readonly status: number
  /** Whether an `Authorization` header was present. */
  readonly hasAuthorization: boolean
  /** The `Last-Event-ID` header of a listen request. */
  readonly lastEventId?: string
  /** When it was received (`Date.now()`). */
  readonly at: number
}

/** Writes as another client would: every change goes through a transaction and reaches listeners. */
export interface SanityDocumentsApi {
  /** A copy of one document, or null. */
  get(id: string, dataset?: string): SanityDocument | null
  /** Copies of every document of the dataset, by id. */
  all(dataset?: string): SanityDocument[]
  /** Commits mutations as one transaction (throws `MutationError` on refusal) and notifies listeners. */
  mutate(mutations: readonly Mutation[], options?: { dataset?: string; transactionId?: string }): { transaction: Transaction; results: MutationResult[] }
  create(doc: DocumentInput, dataset?: string): SanityDocument
  createOrReplace(doc: DocumentInput & { _id: string }, dataset?: string): SanityDocument
  patch(id: string, operations: Omit<PatchOperations, 'id'>, dataset?: string): SanityDocument
  delete(id: string, dataset?: string): void
  /** Seeds documents with no transaction and no listener event (for set-up before anyone listens). */
  load(docs: readonly DocumentInput[], dataset?: string): SanityDocument[]
  /** Removes everything with no listener event. */
  wipe(dataset?: string): void
  /**
   * Deletes a dataset, as the management API would: its documents are gone, its listeners get `disconnect` (the
   * client's DisconnectError: "eg in the case of a deleted dataset", @sanity/client src/data/eventsource.ts), and
   * requests for it are refused as for any dataset that does not exist.
   */
  deleteDataset(dataset: string): void
}

/** What to answer when a listener asks to resume (`enableResume` and a `Last-Event-ID`). */
export type ResumeMode = 'resume' | 'reset' | 'welcome'

/** Fault knobs. Delivery knobs count down over the mutation events sent to any listener, in order. */
export interface SanityFaults {
  /** Holds the next `count` matching mutation events, then sends them in reverse order. */
  reorder(count: number, match?: EventMatcher): void
  /** Sends what `reorder` holds now, reversed, and stops holding. */
  flush(): void
  /** Sends each of the next `count` matching mutation events twice. */
  duplicate(count: number, match?: EventMatcher): void
  /** Loses the next `count` matching mutation events (they stay in the resume history). */
  drop(count: number, match?: EventMatcher): void
  /** Delays every mutation event by `ms` (order kept); 0 turns it off. */
  delay(ms: number): void
  /**
   * Ends every open listen stream, or only those listening to `query` (`abrupt`: destroys the sockets instead).
   * Clients reconnect by themselves.
   */
  closeStreams(options?: { abrupt?: boolean; query?: string }): void
  /** Sends `channelError` to every open listener and ends its stream. */
  channelError(message?: string): void
  /** Sends `disconnect` to every open listener and ends its stream. */
  disconnect(reason?: string): void
  /** Sends `reset` to every open listener (the stream stays open). */
  reset(): void
  /** Answers `status` (default 401) to the next `count` requests, of one endpoint or of any. */
  rejectNext(count: number, options?: { status?: number; endpoint?: SanityEndpoint }): void
  /** Shorthand for `rejectNext(count, { status: 401 })`. */
  unauthorized(count: number): void
  /**
   * An outage: answers `status` (default 503) to every request, of one endpoint or of any, for `ms`; with
   * `retryAfter` (seconds) the answers carry a `Retry-After` header, as Sanity's rate limiter does.
   */
  refuseFor(ms: number, options?: { status?: number; endpoint?: SanityEndpoint; retryAfter?: number }): void
  /**
   * Holds every listen request from now on unanswered (no status, no headers), as a saturated connection pool or a
   * proxy that queues requests looks to the client, until `releaseListens()`.
   */
  stallListens(): void
  /** Answers the listen requests held by `stallListens` (those the client has not given up on) and stops holding. */
  releaseListens(): void
  /** Listen requests held now by `stallListens` (the client has not given up on them). */
  readonly stalledListens: number
  /**
   * Holds the answers of the next `count` requests of one endpoint (or of any but `listen`): each is handled when it
   * arrives, so its answer is what the server stored then, but that answer is sent only at `releaseResponses()`, as a
   * response still in transit on a slow path reaches the client late. A test orders a read's answer against events
   * with it (the events written meanwhile reach listeners first).
   */
  holdResponses(count: number, options?: { endpoint?: Exclude<SanityEndpoint, 'listen'> }): void
  /** Sends the answers `holdResponses` holds now, in the order they were held (those the client has not given up on). */
  releaseResponses(): void
  /** Answers held now by `holdResponses`. */
  readonly heldResponses: number
  /** How a resume request is answered. Default 'resume' (welcomeback and the missed events, or reset if too old). */
  resumeMode: ResumeMode
  /** Forgets the resume history, so the next resume gets `reset`. */
  forgetHistory(): void
  /** Turns every knob off. */
  clear(): void
}

/** A running Sanity-protocol server. */
export interface SanityTestServer {
  readonly port: number
  /** `http://127.0.0.1:<port>`: the client's `apiHost`. */
  readonly url: string
  readonly documents: SanityDocumentsApi
  readonly faults: SanityFaults
  /** Listen streams open now. */
  readonly openListeners: number
  /** Listen requests received since start, refused ones included. */
  readonly listenRequests: number
  /** Every request received since start (or since `clearRequests()`). */
  readonly requests: readonly RequestRecord[]
  clearRequests(): void
  /** Closes every connection and stops listening. Documents are kept. */
  stop(): Promise<void>
  /** Listens again on the same port, with the same documents. */
  restart(): Promise<void>
}

/** The project id the client names (`X-Sanity-Project-ID`, or the `<projectId>.api…` host), for error messages. */
function projectIdOf(req: IncomingMessage): string | undefined {
  const header = req.headers['x-sanity-project-id']
  if (typeof header === 'string' && header) return header
  const host = /^([a-z0-9-]+)\.api(?:cdn)?\./.exec(req.headers.host ?? '')
  return host?.[1]
}

const ROUTE = /^(?:\/v[^/]+)?\/data\/(doc|query|mutate|listen)\/([^/?]+)(?:\/([^?]*))?$/
const MAX_BODY = 10 * 1024 * 1024

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {
    super(typeof body === 'string' ? body : JSON.stringify(body))
  }
}

function cors(req: IncomingMessage, res: ServerResponse): void {
  const origin = req.headers.origin
  res.setHeader('Access-Control-Allow-Origin', origin ?? '*')
  if (origin) res.setHeader('Access-Control-Allow-Credentials', 'true')
  res.setHeader('Access-Control-Allow-Methods', 'GET, POST, OPTIONS')
  res.setHeader('Access-Control-Allow-Headers', 'Authorization, Content-Type, Last-Event-ID, Cache-Control, Accept, X-Sanity-Project-ID')
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body)
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text) })
  res.end(text)
}

function readBody(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (c: Buffer) => {
      size += c.length
      if (size > MAX_BODY) reject(new HttpError(413, { error: 'Payload Too Large', message: 'Body too large', statusCode: 413 }))
      else chunks.push(c)
    })
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8')
      try {
        resolve(text ? JSON.parse(text) : {})
      } catch {
        reject(new HttpError(400, { error: 'Bad Request', message: 'Body is not valid JSON', statusCode: 400 }))
      }
    })
    req.on('error', reject)
  })
}

/** `$name=<JSON>` query-string entries as GROQ parameters. */
function readParams(search: URLSearchParams): Record<string, unknown> {
  const params: Record<string, unknown> = {}
  for (const [key, value] of search) {
    if (!key.startsWith('$')) continue
    try {
      params[key.slice(1)] = JSON.parse(value)
    } catch {
      throw new HttpError(400, { error: { description: `Parameter "${key}" is not valid JSON`, type: 'queryError' } })
    }
  }
  return params
}

function queryErrorBody(err: QueryError): { error: Record<string, unknown> } {
  return { error: { description: err.message, type: err.type, query: err.query, start: err.start, end: err.end } }
}

/** The message of the real API for a dataset the project does not have. */
function datasetNotFound(dataset: string, projectId: string | undefined): string {
  return `Dataset "${dataset}" not found${projectId ? ` for project ID "${projectId}"` : ''}`
}

/** API versions from 2025-02-19 (and `X`) read the `published` perspective by default, older ones `raw`. */
function defaultPerspective(version: string | undefined): 'raw' | 'published' {
  if (!version) return 'raw'
  if (version === 'X') return 'published'
  return version >= '2025-02-19' ? 'published' : 'raw'
}

/**
 * The documents a perspective shows: `raw` all of them; `published` no draft or version; `drafts` each draft in place
 * of its published document, under the published id with `_originalId` naming the draft (Sanity's "Perspectives"
 * page: drafts "treat all drafts as published"). `previewDrafts` is the old name of `drafts`.
 */
function inPerspective(perspective: string, docs: readonly SanityDocument[]): Record<string, unknown>[] {
  if (perspective === 'raw') return [...docs]
  const published = docs.filter((d) => !d._id.startsWith('drafts.') && !d._id.startsWith('versions.'))
  if (perspective === 'published') return published
  const drafts = new Map(docs.filter((d) => d._id.startsWith('drafts.')).map((d) => [d._id.slice('drafts.'.length), d]))
  const shown: Record<string, unknown>[] = published.filter((d) => !drafts.has(d._id))
  for (const [id, draft] of drafts) shown.push({ ...draft, _id: id, _originalId: draft._id })
  return shown
}

const PERSPECTIVES = new Set(['raw', 'published', 'drafts', 'previewDrafts'])

/** Starts a Sanity-protocol server on 127.0.0.1. */
export async function startSanityServer(options: SanityServerOptions = {}): Promise<SanityTestServer> {
  const store = new DocumentStore()
  const datasets = new Set(options.datasets ?? ['production'])
  const delivery = new Delivery()
  const listeners = new Set<Listener>()
  /** The GROQ query each listener was opened with. */
  const listenerQueries = new WeakMap<Listener, string>()
  const history = new Map<string, Transaction[]>()
  const historySize = options.historySize ?? 1000
  const resumePoints = new ResumePoints(historySize * 10)
  const keepAliveMs = options.keepAliveMs ?? 15_000
  const requests: RequestRecord[] = []
  const sockets = new Set<Socket>()
  let rejecting: { remaining: number; status: number; endpoint?: SanityEndpoint } | null = null
  let outage: { until: number; status: number; endpoint?: SanityEndpoint; retryAfter?: number } | null = null
  let listenRequests = 0
  /** Listen requests held by `stallListens`, each with what answers it; null when not stalling. */
  let stalled: Array<{ res: ServerResponse; answer: () => void }> | null = null
  /** What `holdResponses` still holds back, and the answers it holds. */
  let holding: { remaining: number; endpoint?: SanityEndpoint } | null = null
  const heldAnswers: Array<{ res: ServerResponse; send: () => void }> = []
  let resumeMode: ResumeMode = 'resume'
  let port = options.port ?? 0
  let server: Server | null = null

  const open = () => [...listeners].filter((l) => l.isOpen)

  function publish(tx: Transaction): void {
    if (tx.changes.length === 0) return
    const log = history.get(tx.dataset) ?? []
    log.push(tx)
    if (log.length > historySize) log.splice(0, log.length - historySize)
    history.set(tx.dataset, log)
    for (const l of open()) if (l.dataset === tx.dataset) emit(l, tx, 0)
  }

  /** Sends a listener its events of one transaction, for the changes from index `from` on. */
  function emit(l: Listener, tx: Transaction, from: number): void {
    for (const frame of l.framesFor(tx)) {
      if (frame.changeIndex < from) continue
      const flight = resumePoints.start(l, frame)
      delivery.deliver({
        documentId: frame.documentId,
        transactionId: frame.transactionId,
        send: () => {
          flight.gone(l.isOpen ? frame.id : undefined)
          l.sendMutation(frame)
        },
        lost: () => flight.gone(),
      })
    }
  }

  /** Refuses a request for a dataset that does not exist, as the real API does (404 on doc, query and mutate). */
  function requireDataset(req: IncomingMessage, dataset: string): void {
    if (datasets.has(dataset)) return
    throw new HttpError(404, { error: 'Not Found', message: datasetNotFound(dataset, projectIdOf(req)), statusCode: 404 })
  }

  function commit(dataset: string, mutations: readonly Mutation[], transactionId?: string) {
    const out = store.commit(dataset, mutations, transactionId)
    publish(out.transaction)
    return out
  }

  function handleDoc(res: ServerResponse, dataset: string, rest: string | undefined, url: URL): void {
    // The doc endpoint reads by exact id (@sanity/client's getDocument never sends a perspective); one asked for
    // anyway is refused rather than ignored.
    const perspective = url.searchParams.get('perspective')
    if (perspective !== null && perspective !== 'raw') {
      throw new HttpError(400, { error: { description: `Perspective "${perspective}" is not supported on the doc endpoint by the test server`, type: 'validationError' } })
    }
    const ids = (rest ?? '').split(',').map((s) => decodeURIComponent(s)).filter(Boolean)
    const documents: SanityDocument[] = []
    const omitted: { id: string; reason: string }[] = []
    for (const id of ids) {
      const doc = store.get(dataset, id)
      if (doc) documents.push(doc)
      else omitted.push({ id, reason: 'existence' })
    }
    sendJson(res, 200, { documents, omitted })
  }

  async function handleQuery(req: IncomingMessage, res: ServerResponse, dataset: string, url: URL, version?: string) {
    let query = url.searchParams.get('query')
    let params = readParams(url.searchParams)
    if (req.method === 'POST') {
      const body = (await readBody(req)) as { query?: unknown; params?: unknown }
      if (typeof body.query === 'string') query = body.query
      if (body.params && typeof body.params === 'object') params = { ...params, ...(body.params as Record<string, unknown>) }
    }
    if (query === null) throw new HttpError(400, { error: { description: 'Missing query', type: 'queryError' } })
    const perspective = url.searchParams.get('perspective') ?? defaultPerspective(version)
    if (!PERSPECTIVES.has(perspective)) {
      // Release stacks (`rABC,drafts`) need content releases, which the test server does not have.
      throw new HttpError(400, { error: { description: `Perspective "${perspective}" is not supported by the test server`, type: 'queryError' } })
    }
    const started = performance.now()
    const docs = inPerspective(perspective, [...store.dataset(dataset).values()])
    let result: unknown
    try {
      result = runQuery(query, params, docs)
    } catch (err) {
      if (err instanceof QueryError) throw new HttpError(400, queryErrorBody(err))
      throw err
    }
    const body: Record<string, unknown> = { ms: Math.round(performance.now() - started), result }
    if (url.searchParams.get('returnQuery') !== 'false') body.query = query
    sendJson(res, 200, body)
  }

  async function handleMutate(req: IncomingMessage, res: ServerResponse, dataset: string, url: URL) {
    if (req.method !== 'POST') throw new HttpError(405, { error: 'Method Not Allowed', message: 'Use POST', statusCode: 405 })
    const body = (await readBody(req)) as { mutations?: unknown; transactionId?: unknown }
    const mutations = body.mutations
    if (!Array.isArray(mutations)) throw new HttpError(400, { error: { description: 'Missing mutations', type: 'mutationError' } })
    let out
    try {
      out = commit(dataset, mutations as Mutation[], typeof body.transactionId === 'string' ? body.transactionId : undefined)
    } catch (err) {
      if (!(err instanceof MutationError)) throw err
      throw new HttpError(err.status, {
        error: {
          description: err.message,
          type: 'mutationError',
          items: [{ error: { description: err.message, id: err.documentId, type: 'documentError' }, index: err.index }],
        },
      })
    }
    const returnDocuments = url.searchParams.get('returnDocuments') === 'true'
    const after = new Map(out.transaction.changes.map((c) => [c.id, c.after]))
    sendJson(res, 200, {
      transactionId: out.transaction.id,
      results: out.results.map((r) =>
        returnDocuments ? { ...r, document: after.get(r.id) ?? store.get(dataset, r.id) ?? undefined } : r,
      ),
    })
  }

  function handleListen(req: IncomingMessage, res: ServerResponse, dataset: string, url: URL): void {
    const effectFormat = url.searchParams.get('effectFormat')
    if (effectFormat !== null && effectFormat !== 'mendoza') {
      throw new HttpError(400, { error: { description: `effectFormat must be "mendoza", got "${effectFormat}"`, type: 'validationError' } })
    }
    const listenOptions = readListenOptions(url.searchParams)
    res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-cache', Connection: 'keep-alive' })
    res.flushHeaders()
    if (options.retryMs !== undefined) res.write(`retry: ${options.retryMs}\n\n`)
    // A listener the API cannot serve is refused on the stream with `channelError` ("malformed filters, non-existant
    // datasets or similar": @sanity/client src/data/eventsource.ts), which the client turns into a ChannelError.
    const refuse = (data: unknown): void => {
      res.end(`event: channelError\ndata: ${JSON.stringify(data)}\n\n`)
    }
    if (!datasets.has(dataset)) return refuse({ message: datasetNotFound(dataset, projectIdOf(req)) })
    let predicate
    try {
      predicate = listenerPredicate(url.searchParams.get('query') ?? '', readParams(url.searchParams))
    } catch (err) {
      // A GROQ error goes out as `{error: {type: 'queryParseError', description, query, start, end}}`, from which the
      // client builds "GROQ query parse error" and a code frame (its test/listen.test.ts).
      if (err instanceof QueryError) return refuse(queryErrorBody(err))
      return refuse({ message: err instanceof HttpError ? err.message : String(err) })
    }
    const listener = new Listener(dataset, predicate, listenOptions, res, keepAliveMs, (l) => listeners.delete(l))
    listeners.add(listener)
    listenerQueries.set(listener, url.searchParams.get('query') ?? '')

    const lastEventId = req.headers['last-event-id']
    if (!listenOptions.enableResume || typeof lastEventId !== 'string' || !lastEventId || resumeMode === 'welcome') {
      listener.send('welcome', { listenerName: listener.name })
      return
    }
    // Right after the event, or from an earlier one still on its way when it went out (resume.ts).
    const [txId, docId] = lastEventId.split('#')
    const log = history.get(dataset) ?? []
    const point = resumePoints.resumePoint(lastEventId)
    const at = log.findIndex((tx) => tx.id === (point?.transactionId ?? txId))
    if (resumeMode === 'reset' || at < 0) {
      listener.send('reset', {})
      return
    }
    listener.send('welcomeback', { listenerName: listener.name })
    emit(listener, log[at], point ? point.changeIndex : log[at].changes.findIndex((c) => c.id === docId) + 1)
    for (const tx of log.slice(at + 1)) emit(listener, tx, 0)
  }

  /**
   * The answer written to `res` from now on (status, headers, body) is recorded instead of sent, and goes out at
   * `releaseResponses()`: the handler runs now, against what the store holds now.
   */
  function holdAnswer(res: ServerResponse): void {
    const { writeHead, end } = res
    const calls: Array<() => void> = []
    res.writeHead = ((...args: Parameters<typeof writeHead>) => {
      calls.push(() => writeHead.apply(res, args))
      return res
    }) as typeof writeHead
    res.end = ((...args: Parameters<typeof end>) => {
      calls.push(() => end.apply(res, args))
      return res
    }) as typeof end
    heldAnswers.push({
      res,
      send: () => {
        res.writeHead = writeHead
        res.end = end
        for (const call of calls) call()
      },
    })
  }

  async function handle(req: IncomingMessage, res: ServerResponse, released = false): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1')
    const route = ROUTE.exec(url.pathname)
    const endpoint = (route?.[1] as SanityEndpoint | undefined) ?? null
    cors(req, res)
    if (req.method === 'OPTIONS') {
      res.writeHead(204).end()
      return
    }
    if (endpoint === 'listen' && !released) listenRequests++
    if (endpoint !== null && endpoint !== 'listen' && holding && holding.remaining > 0 && (!holding.endpoint || holding.endpoint === endpoint)) {
      holding.remaining--
      holdAnswer(res)
    }
    const at = Date.now()
    let status = 200
    try {
      if (!route) throw new HttpError(404, { error: 'Not Found', message: `No endpoint at ${url.pathname}`, statusCode: 404 })
      if (outage && Date.now() < outage.until && (!outage.endpoint || outage.endpoint === endpoint)) {
        if (outage.retryAfter !== undefined) res.setHeader('Retry-After', String(outage.retryAfter))
        throw new HttpError(outage.status, { error: 'Service Unavailable', message: `Injected HTTP ${outage.status}`, statusCode: outage.status })
      }
      if (rejecting && rejecting.remaining > 0 && (!rejecting.endpoint || rejecting.endpoint === endpoint)) {
        rejecting.remaining--
        const injected = rejecting.status
        throw new HttpError(injected, {
          error: injected === 401 ? 'Unauthorized' : 'Error',
          message: `Injected HTTP ${injected}`,
          statusCode: injected,
        })
      }
      if (options.token !== undefined && req.headers.authorization !== `Bearer ${options.token}`) {
        throw new HttpError(401, { error: 'Unauthorized', message: 'Session does not match project host', statusCode: 401 })
      }
      const dataset = decodeURIComponent(route[2])
      const version = /^\/v([^/]+)\//.exec(url.pathname)?.[1]
      if (endpoint === 'listen' && stalled) {
        stalled.push({ res, answer: () => void handle(req, res, true) })
        return
      }
      if (endpoint !== 'listen') requireDataset(req, dataset)
      if (endpoint === 'doc') handleDoc(res, dataset, route[3], url)
      else if (endpoint === 'query') await handleQuery(req, res, dataset, url, version)
      else if (endpoint === 'mutate') await handleMutate(req, res, dataset, url)
      else handleListen(req, res, dataset, url)
    } catch (err) {
      status = err instanceof HttpError ? err.status : 500
      if (res.headersSent) res.end()
      else sendJson(res, status, err instanceof HttpError ? err.body : { error: 'Internal Server Error', message: String(err), statusCode: 500 })
    } finally {
      if (!released) requests.push({
        method: req.method ?? 'GET',
        url: req.url ?? '/',
        endpoint,
        status,
        hasAuthorization: req.headers.authorization !== undefined,
        at,
        ...(typeof req.headers['last-event-id'] === 'string' ? { lastEventId: req.headers['last-event-id'] } : {}),
      })
    }
  }

  async function listen(): Promise<void> {
    const s = createServer((req, res) => {
      void handle(req, res)
    })
    s.on('connection', (socket) => {
      sockets.add(socket)
      socket.on('close', () => sockets.delete(socket))
    })
    await listenOnLoopback(s, port)
    port = (s.address() as AddressInfo).port
    server = s
  }

  async function stop(): Promise<void> {
    const s = server
    server = null
    delivery.clear()
    for (const l of open()) l.close(true)
    if (!s) return
    const closed = new Promise<void>((resolve) => s.close(() => resolve()))
    s.closeAllConnections()
    for (const socket of sockets) socket.destroy()
    await closed
  }

  await listen()

  /** A dataset tests write to exists from then on (as if created in the project's management console). */
  function writable(dataset: string): string {
    datasets.add(dataset)
    return dataset
  }

  const documents: SanityDocumentsApi = {
    get: (id, dataset = 'production') => store.get(dataset, id),
    all: (dataset = 'production') => store.all(dataset),
    mutate: (mutations, o = {}) => commit(writable(o.dataset ?? 'production'), mutations, o.transactionId),
    create(doc, dataset = 'production') {
      const { results } = commit(writable(dataset), [{ create: doc }])
      return store.get(dataset, results[0].id)!
    },
    createOrReplace(doc, dataset = 'production') {
      commit(writable(dataset), [{ createOrReplace: doc }])
      return store.get(dataset, doc._id)!
    },
    patch(id, operations, dataset = 'production') {
      commit(writable(dataset), [{ patch: { ...operations, id } }])
      return store.get(dataset, id)!
    },
    delete(id, dataset = 'production') {
      commit(writable(dataset), [{ delete: { id } }])
    },
    load: (docs, dataset = 'production') => store.load(writable(dataset), docs),
    wipe: (dataset) => store.wipe(dataset),
    deleteDataset(dataset) {
      datasets.delete(dataset)
      store.wipe(dataset)
      history.delete(dataset)
      for (const l of open()) {
        if (l.dataset !== dataset) continue
        l.send('disconnect', { reason: `Dataset "${dataset}" was deleted` })
        l.close()
      }
    },
  }

  const faults: SanityFaults = {
    reorder: (count, match) => delivery.reorder(count, match),
    flush: () => delivery.flush(),
    duplicate: (count, match) => delivery.duplicate(count, match),
    drop: (count, match) => delivery.drop(count, match),
    delay: (ms) => delivery.delay(ms),
    closeStreams: (o = {}) => {
      for (const l of open()) if (o.query === undefined || listenerQueries.get(l) === o.query) l.close(o.abrupt ?? false)
    },
    channelError: (message = 'Injected channel error') => {
      for (const l of open()) {
        l.send('channelError', { message })
        l.close()
      }
    },
    disconnect: (reason = 'Injected disconnect') => {
      for (const l of open()) {
        l.send('disconnect', { reason })
        l.close()
      }
    },
    reset: () => {
      for (const l of open()) l.send('reset', {})
    },
    rejectNext: (count, o = {}) => {
      rejecting = { remaining: count, status: o.status ?? 401, endpoint: o.endpoint }
    },
    unauthorized: (count) => {
      rejecting = { remaining: count, status: 401 }
    },
    refuseFor: (ms, o = {}) => {
      outage = { until: Date.now() + ms, status: o.status ?? 503, endpoint: o.endpoint, retryAfter: o.retryAfter }
    },
    stallListens: () => {
      stalled ??= []
    },
    releaseListens: () => {
      const held = stalled ?? []
      stalled = null
      for (const h of held) if (!h.res.destroyed && !h.res.writableEnded && !h.res.socket?.destroyed) h.answer()
    },
    get stalledListens() {
      return (stalled ?? []).filter((h) => !h.res.socket?.destroyed).length
    },
    holdResponses: (count, o = {}) => {
      holding = { remaining: count, endpoint: o.endpoint }
    },
    releaseResponses: () => {
      holding = null
      for (const h of heldAnswers.splice(0)) if (!h.res.destroyed && !h.res.socket?.destroyed) h.send()
    },
    get heldResponses() {
      return heldAnswers.filter((h) => !h.res.socket?.destroyed).length
    },
    get resumeMode() {
      return resumeMode
    },
    set resumeMode(mode: ResumeMode) {
      resumeMode = mode
    },
    forgetHistory: () => {
      history.clear()
      resumePoints.clear()
    },
    clear: () => {
      faults.releaseListens()
      faults.releaseResponses()
      delivery.clear()
      rejecting = null
      outage = null
      resumeMode = 'resume'
    },
  }

  return {
    get port() {
      return port
    },
    get url() {
      return `http://127.0.0.1:${port}`
    },
    documents,
    faults,
    get openListeners() {
      return open().length
    },
    get listenRequests() {
      return listenRequests
    },
    get requests() {
      return requests
    },
    clearRequests: () => {
      requests.length = 0
    },
    stop,
    restart: async () => {
      await stop()
      await listen()
    },
  }
}

