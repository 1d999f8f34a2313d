/**
 * One Sanity listener: a request to the listen endpoint (Server-Sent Events), read by the driver's size-capped stream
 * reader (`event-stream.ts`) instead of the client's EventSource, which bounds no event: a line that never ends would
 * grow memory without limit. It speaks the protocol `client.listen()` speaks (URL, query string, headers, events)
 * and reports what happens to its connection (`connection.ts`), which routes the mutations.
 *
 * Reconnection: after the listener has been live, a dropped stream is retried once (`offline`), after the server's
 * `retry:` delay and with `Last-Event-ID`, so the server may resume (`welcomeback`, nothing missed). A failure before
 * the first `welcome`, or a second drop before the listener is back, fails it with a non-fatal `watch_failed`: the
 * core then reopens its watches with backoff and jitter instead of EventSource's fixed delay.
 */
import type { SanityClient } from '@sanity/client'
import { ObservedError } from '../../core/types'
import { listenerMessage, listenRefused } from './errors'
import { openEventStream, type EventStream } from './event-stream'
import type { GroqParams } from './groq'

/** Listener settings the driver fixes. */
export interface ListenSettings {
  readonly enableResume: boolean
  readonly tag?: string
  /** The client's token, only to keep it out of error messages. */
  readonly token?: string
  /** The most characters one event may hold; a bigger one drops the listener (non-fatal `bad_event`). */
  readonly maxEventSize: number
}

/** What a listener asks for: its query, params and whether events carry the document before the change. */
export interface ListenRequest {
  readonly query: string
  readonly params: GroqParams
  readonly includePreviousRevision: boolean
}

/** What a listener reports. Nothing follows `failed`. */
export interface ListenerHandlers {
  /**
   * Live: the first `welcome` (or `welcomeback`, `reset` when opened with a Last-Event-ID), or the answer after a
   * reconnection; `resumed` when nothing was missed since the listener was last live (`welcomeback`).
   */
  live(resumed: boolean): void
  /** A mutation event, parsed; `eventId` is its SSE id. */
  mutation(payload: Record<string, unknown>, eventId: string): void
  /** The listener was live and is reconnecting. */
  offline(): void
  /** Events may have been missed though the stream stayed up (`reset`, or an unexpected `welcome`). */
  reset(): void
  failed(err: ObservedError): void
}

/** Sanity takes at most 16 KB per request, headers included; @sanity/client refuses listen URLs over this. */
export const MAX_LISTEN_URL = 16_000 - 1200

/** EventSource's reconnection delay until the server sets one (`retry:`), and the most the driver accepts from it. */
const DEFAULT_RETRY_MS = 1000
const MAX_RETRY_MS = 30_000

/** The events the listener acts on; others (`message`, unknown names) are ignored unread, as the client does. */
const HANDLED = new Set(['welcome', 'mutation', 'welcomeback', 'reset', 'channelError', 'disconnect', 'error'])

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/**
 * The listen URL for a request, as `client.listen()` builds it (same query string, in the same order), so that the
 * driver can also keep listeners under its URL budget.
 */
export function listenUrl(client: SanityClient, target: Pick<ListenRequest, 'query' | 'params'> & { includePreviousRevision?: boolean }, settings: ListenSettings): string {
  const { url, requestTagPrefix } = client.config()
  const tag = settings.tag && requestTagPrefix ? `${requestTagPrefix}.${settings.tag}` : settings.tag
  const qs = new URLSearchParams()
  if (tag) qs.append('tag', tag)
  qs.append('query', target.query)
  for (const [name, value] of Object.entries(target.params)) if (value !== undefined) qs.append(`$${name}`, JSON.stringify(value))
  qs.append('includeResult', 'true')
  if (target.includePreviousRevision) qs.append('includePreviousRevision', 'true')
  qs.append('visibility', 'query')
  if (settings.enableResume) qs.append('enableResume', 'true')
  qs.append('includeMutations', 'false')
  return `${url ?? ''}${client.getDataUrl('listen', `?${qs}`)}`
}

/** One listener. */
export class Listener {
  private stream: EventStream | null = null
  private timer: ReturnType<typeof setTimeout> | undefined
  private closed = false
  private live = false
  private reconnecting = false
  private retryMs = DEFAULT_RETRY_MS
  /** The last event id seen (the one given at opening, until an event comes). */
  lastEventId: string

  /** `lastEventId`: where a listener it replaces got to, to resume from (the server may answer `welcomeback`). */
  constructor(
    private readonly client: SanityClient,
    readonly request: ListenRequest,
    private readonly settings: ListenSettings,
    private readonly handlers: ListenerHandlers,
    lastEventId = '',
  ) {
    this.lastEventId = settings.enableResume ? lastEventId : ''
    if (listenUrl(client, request, settings).length > MAX_LISTEN_URL) {
      queueMicrotask(() =>
        this.fail(new ObservedError('unsupported_query', 'Query too large for listener: fewer document types per dataset are needed', { fatal: true })),
      )
      return
    }
    this.connect()
  }

  get isLive(): boolean {
    return this.live && !this.reconnecting && !this.closed
  }

  close(): void {
    this.closed = true
    clearTimeout(this.timer)
    const s = this.stream
    this.stream = null
    s?.close()
  }

  private connect(): void {
    if (this.closed) return
    const { token, withCredentials, headers } = this.client.config()
    this.stream = openEventStream(
      listenUrl(this.client, this.request, this.settings),
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
    if (id) this.lastEventId = id
    let payload: unknown
    try {
      payload = JSON.parse(data)
    } catch {
      return this.fail(new ObservedError('bad_event', 'Sanity listener sent an unreadable event: Unable to parse EventSource message'))
    }
    const token = this.settings.token
    switch (type) {
      case 'mutation':
        if (isObject(payload)) this.handlers.mutation(payload, id)
        return
      case 'welcome':
        if (!this.live || this.reconnecting) return this.becomeLive(false)
        // A welcome without a reconnect we saw: a new connection all the same, events may be lost.
        return this.handlers.reset()
      case 'welcomeback':
        if (!this.live || this.reconnecting) return this.becomeLive(this.live)
        return
      case 'reset':
        // After a reconnect (or opened to resume), `reset` stands for the welcome: live, and the core resyncs.
        if (!this.live || this.reconnecting) return this.becomeLive(false)
        return this.handlers.reset()
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
    this.handlers.offline()
    this.timer = setTimeout(() => this.connect(), this.retryMs)
  }

  private becomeLive(resumed: boolean): void {
    this.live = true
    this.reconnecting = false
    this.handlers.live(resumed)
  }

  /** Reports an error once and stops listening: the connection decides what comes next. */
  private fail(err: ObservedError): void {
    if (this.closed) return
    this.close()
    this.handlers.failed(err)
  }
}
