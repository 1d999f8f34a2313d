import { startReadClock } from './watch-timeout'
import type { BackoffOptions } from './backoff'
import { DocEntry, type EntryHost } from './entry'
import type { LocalDoc } from './search-host'
import { RetryGate } from './retry-gate'
import { collectionName, type Tracer } from './trace'
import type { CollectionRef, Doc, DocSource, Driver, Rev, WriteRequest } from './types'
import { ObservedError, asObservedError } from './types'

/** The driver's read-size limit when it states a sane one, else ours. */
function readLimit(stated: number | undefined): number {
  return stated !== undefined && Number.isInteger(stated) && stated > 0 ? stated : MAX_IDS_PER_READ
}

/** Reads of more ids than this are split, unless the driver states its own limit. */
const MAX_IDS_PER_READ = 500
/** How many recently disposed documents are remembered (their late events may still arrive). */
const MAX_DISPOSED = 1000

const keys = new WeakMap<CollectionRef, string>()

/** The key of a collection, cached per ref object: it is looked up for every event. */
export function collectionKey(c: CollectionRef): string {
  let key = keys.get(c)
  if (key === undefined) keys.set(c, (key = JSON.stringify([c.index, c.collection])))
  return key
}

const disposedKey = (collection: string, id: string) => `${collection}\u0000${id}`

interface PendingRead {
  ref: CollectionRef
  entries: Map<DocEntry, number>
}

/**
 * The client's documents: one entry per (index, collection, id), shared by every observer and search hit,
 * reference counted, and read in batches (one mGet per collection and read-size limit per tick). Failed reads
 * wait for their collection's retry gate, which sends them again together at each backoff step.
 */
/** Told that a local write (or its rollback) changed what `entry` shows from `before` to `after`. */
export type LocalListener = (entry: DocEntry, before: DocSource | null, after: DocSource | null) => void

export class EntryTable implements EntryHost {
  private entries = new Map<string, Map<string, DocEntry>>()
  private reads = new Map<string, PendingRead>()
  private flushQueued = false
  private seq = 0
  /** One backoff schedule per collection: its failed reads, and any read asked for meanwhile, go out together. */
  private gates = new Map<string, RetryGate>()
  private closed = false
  /** Recently disposed documents, by collection key and id, oldest first. */
  private disposed = new Set<string>()
  /** Called for each new entry before its first holder sees it (hydration seeds it there). */
  onCreate?: (entry: DocEntry) => void
  /** Who is told of local writes, by collection key (live searches); created on first use. */
  private locals: Map<string, Set<LocalListener>> | null = null

  constructor(
    private readonly driver: Driver,
    readonly wrap: <T extends object>(value: T) => T,
    readonly gapTimeout: number,
    private readonly backoff: BackoffOptions,
    /** The client's tracer: entries report their decisions to it. */
    readonly tracer?: Tracer,
    /** How long a first read may take before its documents say `reconnecting` (watch_timeout); 0: no limit. */
    private readonly readTimeout = 0,
  ) {}

  /** Every document held, for devtools. */
  *all(): IterableIterator<DocEntry> {
    for (const byId of this.entries.values()) yield* byId.values()
  }

  nextSeq(): number {
    return ++this.seq
  }

  /** The current sequence number: events received after a read started have a greater one. */
  get currentSeq(): number {
    return this.seq
  }

  get size(): number {
    let n = 0
    for (const m of this.entries.values()) n += m.size
    return n
  }

  peek(ref: CollectionRef, id: string): DocEntry | undefined {
    return this.entries.get(collectionKey(ref))?.get(id)
  }

  /** Tells `listener` of every local write (and rollback) in `ref`'s collection until the returned function is called. */
  onLocal(ref: CollectionRef, listener: LocalListener): () => void {
    const key = collectionKey(ref)
    this.locals ??= new Map()
    let set = this.locals.get(key)
    if (!set) this.locals.set(key, (set = new Set()))
    set.add(listener)
    return () => {
      set.delete(listener)
      if (set.size === 0 && this.locals?.get(key) === set) this.locals.delete(key)
    }
  }

  localChange(entry: DocEntry, before: DocSource | null, after: DocSource | null): void {
    const set = this.locals?.get(collectionKey(entry.ref))
    if (set) for (const listener of [...set]) listener(entry, before, after)
  }

  /**
   * The documents of `ref`'s collection with local writes the server had not answered by stream point `at` (a page
   * read sent then does not hold them; by default: not answered yet), as a search places them.
   */
  *pendingIn(ref: CollectionRef, at = Infinity): IterableIterator<LocalDoc> {
    for (const entry of this.entries.get(collectionKey(ref))?.values() ?? []) {
      if (entry.unansweredAt(at)) yield localDoc(entry, at)
    }
  }

  /** `id`'s local state if it has writes still pending (answered or not), else undefined: one lookup, no scan. */
  pendingOf(ref: CollectionRef, id: string): LocalDoc | undefined {
    const entry = this.entries.get(collectionKey(ref))?.get(id)
    return entry?.unansweredAt(-Infinity) ? localDoc(entry, -Infinity) : undefined
  }

  acquire(ref: CollectionRef, id: string): DocEntry {
    const key = collectionKey(ref)
    let byId = this.entries.get(key)
    if (!byId) this.entries.set(key, (byId = new Map()))
    let entry = byId.get(id)
    if (!entry) {
      const returning = this.disposed.delete(disposedKey(key, id))
      byId.set(id, (entry = new DocEntry(ref, id, this, returning)))
      this.onCreate?.(entry)
    }
    entry.refs++
    return entry
  }

  release(entry: DocEntry): void {
    if (--entry.refs > 0) return
    const key = collectionKey(entry.ref)
    const byId = this.entries.get(key)
    if (byId?.get(entry.id) === entry) {
      byId.delete(entry.id)
      if (byId.size === 0) this.entries.delete(key)
    }
    this.gates.get(key)?.forget(entry)
    const disposed = disposedKey(key, entry.id)
    this.disposed.delete(disposed)
    this.disposed.add(disposed)
    if (this.disposed.size > MAX_DISPOSED) this.disposed.delete(this.disposed.values().next().value!)
    entry.dispose()
  }

  /**
   * Reads the entry again (batched with others of its collection); events meanwhile are buffered. While its
   * collection's reads are failing, the read waits for the next backoff step.
   */
  /** Sends a local write: refused at once, before any request, when the driver cannot write or the client is closed. */
  send(ref: CollectionRef, w: WriteRequest): Promise<{ rev?: Rev }> {
    if (this.closed) return Promise.reject(new ObservedError('closed', 'The observer client is closed: the write was not sent'))
    if (typeof this.driver.write !== 'function') {
      return Promise.reject(new ObservedError('write_failed', `The ${this.driver.name} driver does not write`, { fatal: true }))
    }
    try {
      return Promise.resolve(this.driver.write(ref, w)).then((answer) => answer ?? {})
    } catch (err) {
      return Promise.reject(err)
    }
  }

  refetch(entry: DocEntry): void {
    if (entry.refs <= 0 || this.closed) return
    this.gate(collectionKey(entry.ref)).defer(entry, () => this.queueRead(entry))
  }

  private gate(key: string): RetryGate {
    let gate = this.gates.get(key)
    if (!gate) this.gates.set(key, (gate = new RetryGate('batch', this.backoff)))
    return gate
  }

  private queueRead(entry: DocEntry): void {
    if (entry.refs <= 0 || this.closed) return
    const key = collectionKey(entry.ref)
    let read = this.reads.get(key)
    if (!read) this.reads.set(key, (read = { ref: entry.ref, entries: new Map() }))
    read.entries.set(entry, entry.beginSync())
    if (!this.flushQueued) {
      this.flushQueued = true
      queueMicrotask(() => this.flush())
    }
  }

  private flush(): void {
    this.flushQueued = false
    const reads = [...this.reads.values()]
    this.reads.clear()
    if (this.closed) return
    const limit = readLimit(this.driver.maxIdsPerRead)
    for (const read of reads) {
      const batch = [...read.entries]
      for (let i = 0; i < batch.length; i += limit) void this.read(read.ref, batch.slice(i, i + limit))
    }
  }

  private async read(ref: CollectionRef, batch: Array<[DocEntry, number]>): Promise<void> {
    const gate = this.gate(collectionKey(ref))
    let docs: Doc[]
    const ids = batch.map(([e]) => e.id)
    const tracer = this.tracer?.active ? this.tracer : undefined
    tracer?.emit({ type: 'read', phase: 'sent', collection: collectionName(ref), ids })
    // A first read that does not answer (queued behind a browser's connection limit) must not leave its documents
    // `pending` without a word: past the watch timeout they say `reconnecting` and what to check.
    const clock = batch.some(([e]) => !e.isSynced)
      ? startReadClock(this.readTimeout, this.driver.name, ref, (err) => {
          if (this.closed) return
          for (const [entry] of batch) if (entry.refs > 0 && !entry.isSynced) entry.fail(err)
        })
      : undefined
    try {
      docs = await this.driver.mGet(ref, ids)
      if (!Array.isArray(docs)) throw new TypeError('mGet did not return an array')
    } catch (err) {
      clearTimeout(clock)
      if (this.closed) return
      if (this.tracer?.active) this.tracer.emit({ type: 'read', phase: 'failed', collection: collectionName(ref), ids, error: asObservedError(err, 'read_failed') })
      // A fatal driver error (an unknown collection, refused credentials) is shown as the driver said it and not
      // retried: retrying cannot help, and a failing server is not to be hammered.
      if (err instanceof ObservedError && err.fatal) {
        for (const [entry] of batch) {
          gate.forget(entry)
          if (entry.refs > 0) entry.fail(err)
        }
        return
      }
      const cause = asObservedError(err, 'read_failed')
      const error = new ObservedError(
        err instanceof ObservedError ? cause.code : 'read_failed',
        `Could not read ${batch.length === 1 ? `document "${batch[0][0].id}"` : `${batch.length} documents`} from ${ref.index}/${ref.collection}: ${cause.message}`,
        { cause, retryAfter: cause.retryAfter },
      )
      for (const [entry] of batch) {
        if (entry.refs <= 0) continue
        entry.fail(error)
        gate.fail(entry, () => this.refetch(entry), error)
      }
      return
    }
    clearTimeout(clock)
    if (this.closed) return
    if (this.tracer?.active) this.tracer.emit({ type: 'read', phase: 'answered', collection: collectionName(ref), ids, found: docs.length })
    gate.succeed()
    const byId = new Map<string, Doc>()
    for (const doc of docs) if (doc && typeof doc._id === 'string') byId.set(doc._id, doc)
    for (const [entry, token] of batch) {
      if (entry.refs <= 0) continue
      entry.applySnapshot(byId.get(entry.id) ?? null, token)
    }
  }

  /** Stops every pending read and retry for good (client shutdown). */
  dispose(): void {
    this.closed = true
    this.reads.clear()
    for (const gate of this.gates.values()) gate.dispose()
    this.gates.clear()
  }
}

function localDoc(entry: DocEntry, at: number): LocalDoc {
  return { id: entry.id, pending: true, visible: entry.visible, remote: entry.storedAt(at) }
}
