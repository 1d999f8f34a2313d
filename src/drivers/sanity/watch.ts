/**
 * One Sanity listener (the listen endpoint, Server-Sent Events) behind one watch: listener events translated into the
 * WatchSink calls of the driver contract. Translation only: the core orders events by revision, drops duplicates,
 * waits for gaps and reopens failed watches with its own backoff.
 *
 * The listener speaks the protocol `client.listen()` speaks (same URL, query string, headers and events), over the
 * driver's own size-capped stream reader (`event-stream.ts`) instead of the client's EventSource, which bounds no
 * event: a line that never ends would grow memory without limit.
 */
import type { SanityClient } from '@sanity/client'
import type { DocEvent, DocSource, Watch, WatchSink } from '../../core/types'
import { ObservedError } from '../../core/types'
import { listenerMessage, listenRefused } from './errors'
import { openEventStream, type EventStream } from './event-stream'
import { mismatch, type Expected } from './expected'
import type { GroqParams } from './groq'

/** What one listener follows. */
export interface ListenTarget {
  /** The listen query (`*[<filter>]`). */
  readonly query: string
  readonly params: GroqParams
  /**
   * `ids`: a document leaving the filter left the collection (its `_type` changed) and is reported as deleted.
   * `query`: it is reported with `inQuery: false`.
   */
  readonly kind: 'ids' | 'query'
  /** What the listener asked for: every event is checked against it. */
  readonly expected: Expected
}

/** Listener settings the driver fixes. */
export interface ListenSettings {
  readonly enableResume: boolean
  readonly tag?: string
  /** The client's token, only to keep it out of error messages. */
  readonly token?: string
  /** The most characters one event may hold; a bigger one drops the listener (non-fatal `bad_event`). */
  readonly maxEventSize: number
}

type ListenEvent = { type?: unknown } & Record<string, unknown>

/** Sanity takes at most 16 KB per request, headers included; @sanity/client refuses listen URLs over this. */
const MAX_LISTEN_URL = 16_000 - 1200

/** EventSource's reconnection delay until the server sets one (`retry:`), and the most the driver accepts from it. */
const DEFAULT_RETRY_MS = 1000
const MAX_RETRY_MS = 30_000

/** The events the listener acts on; others (`message`, unknown names) are ignored unread, as the client does. */
const HANDLED = new Set(['welcome', 'mutation', 'welcomeback', 'reset', 'channelError', 'disconnect', 'error'])

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** A document as Sanity returns it, split into the driver contract's shape (`_id` out, everything else kept). */
export function toSource(raw: Record<string, unknown>): DocSource {
  const { _id, ...source } = raw
  void _id
  return source
}

/**
 * A listener `mutation` event as a DocEvent: no `result` means deleted. Null when malformed or for an id the listener
 * was not asked for (dropped, as the core drops events for unknown ids; the core's gap handling refetches when a
 * later event does not continue the chain). A `bad_event` error when the document is not one the listener asked for
 * (another `_type`, or a draft left out): dropped, never shown, and reported.
 *
 * A document that leaves the listener's filter by changing `_type` has left the collection: deleted. One that leaves
 * a query watch otherwise is reported with `inQuery: false`; an id watch follows no filter of its own.
 */
export function toDocEvent(e: ListenEvent, target: Pick<ListenTarget, 'kind' | 'expected'>): DocEvent | ObservedError | null {
  const id = e.documentId
  if (typeof id !== 'string' || !id) return null
  const result = e.result
  if (result !== undefined && (!isObject(result) || result._id !== id)) return null
  if (target.expected.ids && !target.expected.ids.has(id)) return null
  const left = e.transition === 'disappear'
  const revs =
    typeof e.resultRev === 'string' && e.resultRev
      ? { rev: e.resultRev, previousRev: typeof e.previousRev === 'string' && e.previousRev ? e.previousRev : null }
      : {}
  const leftCollection = left && result !== undefined && result._type !== target.expected.type
  if (!result || leftCollection || (left && target.kind === 'ids')) {
    const refused = mismatch({ _id: id, _type: target.expected.type }, target.expected)
    return refused ? new ObservedError('bad_event', `Sanity listener sent an event it was not asked for: ${refused}`) : { id, kind: 'delete', ...revs }
  }
  const refused = mismatch(result, target.expected)
  if (refused) return new ObservedError('bad_event', `Sanity listener sent an event it was not asked for: ${refused}`)
  return { id, kind: 'upsert', doc: toSource(result), ...revs, ...(target.kind === 'query' ? { inQuery: !left } : {}) }
}

/**
 * The listen URL for a target, as `client.listen()` builds it (same query string, in the same order), so that the
 * driver can also keep listeners under its URL budget.
 */
export function listenUrl(client: SanityClient, target: Pick<ListenTarget, 'query' | 'params'>, settings: ListenSettings): string {
  const { url, requestTagPrefix } = client.config()
  const tag = settings.tag && requestTagPrefix ? `${requestTagPrefix}.${settings.tag}` : settings.tag
  const qs = new URLSearchParams()
  if (tag) qs.append('tag', tag)
  qs.append('query', target.query)
  for (const [name, value] of Object.entries(target.params)) if (value !== undefined) qs.append(`$${name}`, JSON.stringify(value))
  qs.append('includeResult', 'true')
  qs.append('visibility', 'query')
  if (settings.enableResume) qs.append('enableResume', 'true')
  qs.append('includeMutations', 'false')
  return `${url ?? ''}${client.getDataUrl('listen', `?${qs}`)}`
}

/**
 * A watch on one listener.
 *
 * Reconnection: after the listener has been live, a dropped stream is retried once (`sink.offline()`), after the
 * server's `retry:` delay and with `Last-Event-ID`, so the server may resume (`welcomeback`, nothing missed). A failure
 * before the first `welcome`, or a second drop before the listener is back, closes the listener and reports a
 * non-fatal `watch_failed`: the core then reopens with backoff and jitter instead of EventSource's fixed delay.
 */
export class SanityWatch implements Watch {
  private stream: EventStream | null = null
  private timer: ReturnType<typeof setTimeout> | undefined
  private closed = false
  private live = false
  private reconnecting = false
  private lastEventId = ''
  private retryMs = DEFAULT_RETRY_MS
  /** Set once the listener opens (a query target is checked first). */
  private target: ListenTarget | null = null

  /** A target still to be checked (a promise) opens the listener once it is, or fails the watch. */
  constructor(
    private readonly client: SanityClient,
    target: ListenTarget | Promise<ListenTarget>,
    private readonly sink: WatchSink,
    private readonly settings: ListenSettings,
  ) {
    if (!(target instanceof Promise)) {
      this.open(target)
      return
    }
    target.then(
      (checked) => {
        if (!this.closed) this.open(checked)
      },
      (err: unknown) =>
        this.fail(err instanceof ObservedError ? err : new ObservedError('watch_failed', `Sanity listener failed: ${String(err)}`)),
    )
  }

  close(): void {
    this.closed = true
    clearTimeout(this.timer)
    const s = this.stream
    this.stream = null
    s?.close()
  }

  private open(target: ListenTarget): void {
    this.target = target
    if (listenUrl(this.client, target, this.settings).length > MAX_LISTEN_URL) {
      return this.fail(new ObservedError('unsupported_query', 'Query too large for listener: use fewer ids per watch or a shorter filter', { fatal: true }))
    }
    this.connect()
  }

  private connect(): void {
    const target = this.target
    if (this.closed || !target) return
    const { token, withCredentials, headers } = this.client.config()
    this.stream = openEventStream(
      listenUrl(this.client, target, this.settings),
      {
        headers: {
          ...headers,
          ...(token ? { Authorization: `Bearer ${token}` } : {}),
          ...(this.lastEventId ? { 'Last-Event-ID': this.lastEventId } : {}),
        },
        withCredentials: withCredentials === true,
        maxEventSize: this.settings.maxEventSize,
      },
      {
        event: (type, data, id) => this.onEvent(type, data, id),
        retry: (ms) => {
          this.retryMs = Math.min(ms, MAX_RETRY_MS)
        },
        refused: (status, responseHeaders) => this.fail(listenRefused(status, responseHeaders)),
        lost: () => this.onLost(),
        tooLarge: () =>
          this.fail(
            new ObservedError('bad_event', `Sanity listener sent an event over ${this.settings.maxEventSize} characters (maxEventSize); the listener was dropped`),
          ),
      },
    )
  }

  private onEvent(type: string, data: string, id: string): void {
    if (this.closed || !HANDLED.has(type)) return
    this.lastEventId = id
    let payload: unknown
    try {
      payload = JSON.parse(data)
    } catch {
      return this.fail(new ObservedError('bad_event', 'Sanity listener sent an unreadable event: Unable to parse EventSource message'))
    }
    const token = this.settings.token
    switch (type) {
      case 'mutation': {
        const event = isObject(payload) && this.target ? toDocEvent(payload, this.target) : null
        if (event instanceof ObservedError) this.sink.error(event)
        else if (event) this.sink.event(event)
        return
      }
      case 'welcome':
        if (!this.live || this.reconnecting) return this.becomeLive(false)
        // A welcome without a reconnect we saw: a new connection all the same, events may be lost.
        return this.sink.reset()
      case 'welcomeback':
        if (!this.live || this.reconnecting) return this.becomeLive(this.live)
        return
      case 'reset':
        // After a reconnect, `reset` stands for the welcome: live again, and the core resyncs.
        if (!this.live || this.reconnecting) return this.becomeLive(false)
        return this.sink.reset()
      case 'channelError':
        return this.fail(new ObservedError('channel_error', listenerMessage(payload, 'Unknown listener error', token), { fatal: true }))
      case 'disconnect':
        return this.fail(new ObservedError('disconnected', listenerMessage(payload, 'unknown error', token), { fatal: true }))
      default: // 'error': the server reports a failure of its own
        return this.fail(new ObservedError('watch_failed', `Sanity listener failed: ${listenerMessage(payload, 'unknown error', token)}`))
    }
  }

  /** The stream dropped or could not connect. */
  private onLost(): void {
    this.stream = null
    if (this.closed) return
    if (!this.live || this.reconnecting) {
      return this.fail(new ObservedError('watch_failed', 'Sanity listener connection failed'))
    }
    this.reconnecting = true
    this.sink.offline()
    this.timer = setTimeout(() => this.connect(), this.retryMs)
  }

  private becomeLive(resumed: boolean): void {
    this.live = true
    this.reconnecting = false
    this.sink.ready(resumed ? { resumed: true } : undefined)
  }

  /** Reports an error once and stops listening: the core decides what comes next. */
  private fail(err: ObservedError): void {
    if (this.closed) return
    this.close()
    this.sink.error(err)
  }
}
