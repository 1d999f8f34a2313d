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
  /** `mendoza`: each event carries `effects` (the only format the API has). */
  readonly effectFormat?: 'mendoza'
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
    ...(search.get('effectFormat') === 'mendoza' ? { effectFormat: 'mendoza' as const } : {}),
  }
}

/**
 * Mendoza effects (github.com/sanity-io/mendoza) of one change: `apply` turns the previous document into the result,
 * `revert` the other way. Opcode 0 is `Value` (mendoza-js `src/internal-patcher.ts`, OPS[0]): "the result is this
 * literal", so `[0, doc]` is a valid patch, if not the smallest one the real encoder would find.
 */
export function mendozaEffects(before: SanityDocument | null, after: SanityDocument | null): { apply: unknown[]; revert: unknown[] } {
  return { apply: [0, after], revert: [0, before] }
}

/** A mutation event for one listener: the SSE id and the JSON data line. */
export interface MutationFrame {
  readonly id: string
  readonly documentId: string
  readonly transactionId: string
  /** The index of the change in its transaction (resuming after an event id starts after it). */
  readonly changeIndex: number
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

  /** Sends a frame built by `framesFor`. */
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
   * The events this listener gets for a transaction, one per change whose document matches the listener before or
   * after it. `transactionTotalEvents` counts only these, and `transactionCurrentEvent` numbers them from 0, as
   * @sanity/client's `MutationEvent` documents ("only includes the documents that matches the given filter", "the
   * index is zero-based"), so a client can wait for a whole transaction.
   */
  framesFor(tx: Transaction): MutationFrame[] {
    const visible = (doc: SanityDocument | null) =>
      doc !== null && (this.options.includeAllVersions || !doc._id.startsWith('versions.')) && this.predicate(doc)
    const matching = tx.changes
      .map((change, changeIndex) => ({ change, changeIndex, was: visible(change.before), is: visible(change.after) }))
      .filter((m) => m.was || m.is)
    return matching.map(({ change, changeIndex, was, is }, current) => {
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
      // A creation has no previous revision: `previous` is null, not absent (MutationEvent.previous is `doc | null`).
      if (this.options.includePreviousRevision) data.previous = change.before
      if (this.options.effectFormat === 'mendoza') data.effects = mendozaEffects(change.before, change.after)
      if (change.before) data.previousRev = change.before._rev
      data.resultRev = tx.id
      data.timestamp = tx.timestamp
      data.visibility = this.options.visibility
      data.transactionTotalEvents = matching.length
      data.transactionCurrentEvent = current
      return { id, documentId: change.id, transactionId: tx.id, changeIndex, data }
    })
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
