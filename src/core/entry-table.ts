import { backoffDelay, type BackoffOptions } from './backoff'
import { DocEntry, type EntryHost } from './entry'
import type { CollectionRef, Doc, Driver } from './types'
import { ObservedError } from './types'

/** Reads of more ids than this are split, to keep requests (and Sanity's URLs) reasonable. */
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
 * reference counted, and read in batches (one mGet per collection per tick).
 */
export class EntryTable implements EntryHost {
  private entries = new Map<string, Map<string, DocEntry>>()
  private reads = new Map<string, PendingRead>()
  private flushQueued = false
  private seq = 0
  private retries = new Map<DocEntry, { attempt: number; timer?: ReturnType<typeof setTimeout> }>()
  /** Recently disposed documents, by collection key and id, oldest first. */
  private disposed = new Set<string>()

  constructor(
    private readonly driver: Driver,
    readonly wrap: <T extends object>(value: T) => T,
    readonly gapTimeout: number,
    private readonly backoff: BackoffOptions,
  ) {}

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

  acquire(ref: CollectionRef, id: string): DocEntry {
    const key = collectionKey(ref)
    let byId = this.entries.get(key)
    if (!byId) this.entries.set(key, (byId = new Map()))
    let entry = byId.get(id)
    if (!entry) {
      const returning = this.disposed.delete(disposedKey(key, id))
      byId.set(id, (entry = new DocEntry(ref, id, this, returning)))
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
    const retry = this.retries.get(entry)
    if (retry?.timer) clearTimeout(retry.timer)
    this.retries.delete(entry)
    const disposed = disposedKey(key, entry.id)
    this.disposed.delete(disposed)
    this.disposed.add(disposed)
    if (this.disposed.size > MAX_DISPOSED) this.disposed.delete(this.disposed.values().next().value!)
    entry.dispose()
  }

  /** Reads the entry again (batched with others of its collection); events meanwhile are buffered. */
  refetch(entry: DocEntry): void {
    if (entry.refs <= 0) return
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
    for (const read of reads) {
      const batch = [...read.entries]
      for (let i = 0; i < batch.length; i += MAX_IDS_PER_READ) void this.read(read.ref, batch.slice(i, i + MAX_IDS_PER_READ))
    }
  }

  private async read(ref: CollectionRef, batch: Array<[DocEntry, number]>): Promise<void> {
    let docs: Doc[]
    try {
      docs = await this.driver.mGet(ref, batch.map(([e]) => e.id))
      if (!Array.isArray(docs)) throw new TypeError('mGet did not return an array')
    } catch (err) {
      // A fatal driver error (an unknown collection, a refused query) is shown as the driver said it and not retried.
      if (err instanceof ObservedError && err.fatal) {
        for (const [entry] of batch) {
          const retry = this.retries.get(entry)
          if (retry?.timer) clearTimeout(retry.timer)
          this.retries.delete(entry)
          if (entry.refs > 0) entry.fail(err)
        }
        return
      }
      const error = new ObservedError(
        'read_failed',
        `Could not read ${batch.length === 1 ? `document "${batch[0][0].id}"` : `${batch.length} documents`} from ${ref.index}/${ref.collection}: ${(err as Error)?.message ?? err}`,
        { cause: err },
      )
      for (const [entry] of batch) this.retryLater(entry, error)
      return
    }
    const byId = new Map<string, Doc>()
    for (const doc of docs) if (doc && typeof doc._id === 'string') byId.set(doc._id, doc)
    for (const [entry, token] of batch) {
      if (entry.refs <= 0) continue
      const retry = this.retries.get(entry)
      if (retry) {
        if (retry.timer) clearTimeout(retry.timer)
        this.retries.delete(entry)
      }
      entry.applySnapshot(byId.get(entry.id) ?? null, token)
    }
  }

  private retryLater(entry: DocEntry, error: ObservedError): void {
    if (entry.refs <= 0) return
    entry.fail(error)
    const retry = this.retries.get(entry) ?? { attempt: 0 }
    this.retries.set(entry, retry)
    if (retry.timer) clearTimeout(retry.timer)
    retry.timer = setTimeout(() => {
      retry.timer = undefined
      this.refetch(entry)
    }, backoffDelay(retry.attempt++, this.backoff))
  }

  /** Stops every pending retry (client shutdown). */
  dispose(): void {
    for (const r of this.retries.values()) if (r.timer) clearTimeout(r.timer)
    this.retries.clear()
  }
}
