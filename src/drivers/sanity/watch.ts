/**
 * One Sanity listener (`client.listen()`, Server-Sent Events) behind one watch: listener events translated into the
 * WatchSink calls of the driver contract. Translation only: the core orders events by revision, drops duplicates,
 * waits for gaps and reopens failed watches with its own backoff.
 */
import type { SanityClient } from '@sanity/client'
import type { DocEvent, DocSource, Watch, WatchSink } from '../../core/types'
import { ObservedError } from '../../core/types'
import { listenError } from './errors'
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
}

interface Subscription {
  unsubscribe(): void
}

type ListenEvent = { type?: unknown } & Record<string, unknown>

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
 * The length of the listen URL the client builds for a target (mirroring its query-string encoding), to keep
 * listeners under the URL budget.
 */
export function listenUrlLength(client: SanityClient, target: ListenTarget, settings: ListenSettings): number {
  const { url, dataset } = client.config()
  const qs = new URLSearchParams()
  if (settings.tag) qs.append('tag', settings.tag)
  qs.append('query', target.query)
  for (const [name, value] of Object.entries(target.params)) if (value !== undefined) qs.append(`$${name}`, JSON.stringify(value))
  qs.append('includeResult', 'true')
  qs.append('visibility', 'query')
  if (settings.enableResume) qs.append('enableResume', 'true')
  qs.append('includeMutations', 'false')
  return `${url ?? ''}/data/listen/${dataset ?? ''}?${qs}`.length
}

/**
 * A watch on one listener.
 *
 * Reconnection: the SDK reports a dropped stream with a `reconnect` event and then retries by itself. After the
 * listener has been live, the driver lets it try once (`sink.offline()`), because its EventSource sends
 * Last-Event-ID and the server may resume (`welcomeback`, nothing missed). A failure before the first `welcome`, or
 * a second `reconnect` before the listener is back, closes the listener and reports a non-fatal `watch_failed`: the
 * core then reopens with backoff and jitter instead of the SDK's fixed one-second loop.
 */
export class SanityWatch implements Watch {
  private subscription: Subscription | null = null
  private closed = false
  private live = false
  private reconnecting = false

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
      (err: unknown) => this.fail(listenError(err, settings.token)),
    )
  }

  private open(target: ListenTarget): void {
    const { client, settings } = this
    this.target = target
    const events = settings.enableResume
      ? ['welcome', 'mutation', 'reconnect', 'welcomeback', 'reset']
      : ['welcome', 'mutation', 'reconnect']
    const options = {
      events,
      includeResult: true,
      includePreviousRevision: false,
      includeMutations: false,
      visibility: 'query',
      ...(settings.enableResume ? { enableResume: true } : {}),
      ...(settings.tag ? { tag: settings.tag } : {}),
    }
    // The option object is built at runtime; the client's overloads cannot infer its literal event names.
    const observable = client.listen(target.query, target.params, options as never) as unknown as {
      subscribe(o: { next(e: ListenEvent): void; error(err: unknown): void; complete(): void }): Subscription
    }
    const subscription = observable.subscribe({
      next: (e) => this.onEvent(e),
      error: (err) => this.fail(listenError(err, settings.token)),
      complete: () => this.fail(new ObservedError('watch_failed', 'Sanity listener ended')),
    })
    // The listener may have failed while subscribing (e.g. a query too large for a URL).
    if (this.closed) subscription.unsubscribe()
    else this.subscription = subscription
  }

  close(): void {
    this.closed = true
    const s = this.subscription
    this.subscription = null
    s?.unsubscribe()
  }

  private onEvent(e: ListenEvent): void {
    if (this.closed) return
    switch (e.type) {
      case 'mutation': {
        const event = this.target && toDocEvent(e, this.target)
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
      case 'reconnect':
        if (!this.live || this.reconnecting) {
          return this.fail(new ObservedError('watch_failed', 'Sanity listener connection failed'))
        }
        this.reconnecting = true
        return this.sink.offline()
      default:
        return
    }
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
