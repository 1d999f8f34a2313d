/**
 * One open listen request: a `text/event-stream` response, the listener's document predicate and options, and the
 * mutation events a transaction produces for it (transition appear / update / disappear from the match before and
 * after).
 */
import type { ServerResponse } from 'node:http'
import type { DocumentPredicate } from './groq'
import { randomId } from './ids'
import type { SanityDocument, Transaction } from './store'

/** Options of the listen endpoint, read from its query string. */
export interface ListenOptions {
  readonly includeResult: boolean
  readonly includePreviousRevision: boolean
  readonly includeMutations: boolean
  readonly includeAllVersions: boolean
  readonly visibility: 'transaction' | 'query'
  readonly enableResume: boolean
}

/** Reads listen options; the defaults are the API's (the client sends includeResult=true itself). */
export function readListenOptions(search: URLSearchParams): ListenOptions {
  const flag = (name: string, fallback: boolean) => {
    const v = search.get(name)
    return v === null ? fallback : v === 'true' || v === '1'
  }
  return {
    includeResult: flag('includeResult', false),
    includePreviousRevision: flag('includePreviousRevision', false),
    includeMutations: flag('includeMutations', true),
    includeAllVersions: flag('includeAllVersions', false),
    visibility: search.get('visibility') === 'query' ? 'query' : 'transaction',
    enableResume: flag('enableResume', false),
  }
}

/** A mutation event for one listener: the SSE id and the JSON data line. */
export interface MutationFrame {
  readonly id: string
  readonly documentId: string
  readonly transactionId: string
  readonly data: Record<string, unknown>
}

/** An open listener. */
export class Listener {
  /** The name announced in `welcome` / `welcomeback`. */
  readonly name = `L${randomId(10)}`
  private closed = false
  private readonly keepAlive: NodeJS.Timeout | undefined

  constructor(
    readonly dataset: string,
    private readonly predicate: DocumentPredicate,
    readonly options: ListenOptions,
    private readonly res: ServerResponse,
    keepAliveMs: number,
    private readonly onClose: (l: Listener) => void,
  ) {
    res.on('close', () => this.closedByPeer())
    if (keepAliveMs > 0) this.keepAlive = setInterval(() => this.write(':\n\n'), keepAliveMs)
  }

  /** Whether the stream is still open. */
  get isOpen(): boolean {
    return !this.closed
  }

  /** Sends a named event with JSON data (and an SSE id when given). */
  send(event: string, data: unknown, id?: string): void {
    this.write(`${id === undefined ? '' : `id: ${id}\n`}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`)
  }

  /** Sends a frame built by `frameFor`. */
  sendMutation(frame: MutationFrame): void {
    this.send('mutation', frame.data, frame.id)
  }

  /** Ends the stream politely (after a final event, for channelError / disconnect), or cuts the socket. */
  close(abrupt = false): void {
    if (this.closed) return
    if (abrupt) this.res.socket?.destroy()
    else this.res.end()
    this.closedByPeer()
  }

  /**
   * The event this listener gets for one document change of a transaction, or null when the document matches the
   * listener neither before nor after.
   */
  frameFor(tx: Transaction, index: number): MutationFrame | null {
    const change = tx.changes[index]
    const visible = (doc: SanityDocument | null) =>
      doc !== null && (this.options.includeAllVersions || !doc._id.startsWith('versions.')) && this.predicate(doc)
    const was = visible(change.before)
    const is = visible(change.after)
    if (!was && !is) return null
    const id = `${tx.id}#${change.id}`
    const data: Record<string, unknown> = {
      eventId: id,
      documentId: change.id,
      transactionId: tx.id,
      transition: was && is ? 'update' : is ? 'appear' : 'disappear',
      identity: 'p-test-identity',
    }
    if (this.options.includeMutations) data.mutations = change.mutations
    if (this.options.includeResult && change.after) data.result = change.after
    if (this.options.includePreviousRevision && change.before) data.previous = change.before
    if (change.before) data.previousRev = change.before._rev
    data.resultRev = tx.id
    data.timestamp = tx.timestamp
    data.visibility = this.options.visibility
    data.transactionTotalEvents = tx.changes.length
    data.transactionCurrentEvent = index + 1
    return { id, documentId: change.id, transactionId: tx.id, data }
  }

  private write(chunk: string): void {
    if (!this.closed) this.res.write(chunk)
  }

  private closedByPeer(): void {
    if (this.closed) return
    this.closed = true
    if (this.keepAlive) clearInterval(this.keepAlive)
    this.onClose(this)
  }
}
