import type { DocEntry, EntryListener, WriteOptions } from './entry'
import { Emitter, type Slot } from './emitter'
import { isPlainObject } from './patch'
import { ObservedError, type CollectionRef, type DocSource, type Rev } from './types'

/** Where an observer stands. `deleted`: the document does not exist (any more); the observer keeps watching. */
export type ObserverStatus = 'idle' | 'pending' | 'live' | 'reconnecting' | 'deleted' | 'stopped' | 'error'

/** Events of an {@link Observer}. */
export interface ObserverEvents<T> {
  /**
   * The document changed (or appeared): `source` is its new content as a frozen value (`_source` is the container
   * changed in place); `changes` lists the top-level fields that differ.
   */
  change: (source: T, changes: string[]) => void
  /** The document was deleted. */
  delete: () => void
  /** Something went wrong; the observer's `status` is `error` until it recovers (unless `err.fatal`). */
  error: (err: ObservedError) => void
  /** `status` changed. */
  status: (status: ObserverStatus) => void
  /** `pending` changed: a local write started, or the last one was confirmed or refused. */
  pending: (pending: boolean) => void
}

/** What an observer needs from its client: entries, and the id watch pool (unless it is a live query's hit). */
export interface ObserverHost {
  /** The observer's document, shared; throws a `closed` error once the client is closed. */
  acquire(ref: CollectionRef, id: string): DocEntry
  release(entry: DocEntry): void
  refetch(entry: DocEntry): void
}

/**
 * A live document: `_source` follows the stored document until `stop()`. Observers of the same document share its
 * state and its watch; each observer is started and stopped on its own.
 */
export class Observer<T extends object = DocSource> extends Emitter<ObserverEvents<T>> implements EntryListener {
  /** The shared document while started; null while stopped (the one fact "started" is made of). */
  private entry: DocEntry | null = null
  private lastStatus: ObserverStatus = 'stopped'
  private lastError: ObservedError | null = null
  private lastPending = false

  constructor(
    /** Its client; which host also says whether it needs an id watch (a live query's hits do not). */
    private readonly host: ObserverHost,
    readonly ref: CollectionRef,
    /** The observed document's id. */
    readonly _id: string,
  ) {
    super()
  }

  get index(): string {
    return this.ref.index
  }

  get collection(): string {
    return this.ref.collection
  }

  /**
   * The document's content as a container changed in place on every change (reactive under Vue, made on first
   * read); null when missing, deleted or not read yet.
   */
  get _source(): T | null {
    return (this.entry?.source ?? null) as T | null
  }

  /**
   * The same content as a frozen value, replaced (never changed) on every change, with unchanged fields kept: what
   * searches sort by and a live search's rows show. Null exactly when `_source` is.
   */
  get content(): T | null {
    return (this.entry?.plain ?? null) as T | null
  }

  /** The server's revision of the content shown (under any pending local write): what `ifRevision` compares. */
  get _rev(): Rev | undefined {
    return this.entry?.rev
  }

  /** True when the document is known not to exist (deleted, or never created). */
  get deleted(): boolean {
    return this.status === 'deleted' || this.error?.code === 'not_found'
  }

  get status(): ObserverStatus {
    return this.entry ? this.entry.status : 'stopped'
  }

  get error(): ObservedError | null {
    return this.entry?.error ?? null
  }

  /** True while a local write of this document is shown but not confirmed by the server. */
  get pending(): boolean {
    return this.entry?.pending ?? false
  }

  /**
   * Merges `patch` into the document (plain objects deeply, as Kuzzle's `document:update`): shown at once, pending
   * until the server confirms it; the promise settles then. A refused write is rolled back, rejects with an
   * `ObservedError` (`conflict`, `not_found`, `unauthorized`, `write_failed`, …) and is emitted as `error`.
   * `ifRevision`: write only if the server's revision is still this one.
   */
  update(patch: Partial<T>, options?: WriteOptions): Promise<void> {
    return this.write('update', patch, options)
  }

  /** Replaces the document's content (or creates it): as {@link update}. */
  replace(content: T, options?: WriteOptions): Promise<void> {
    return this.write('replace', content, options)
  }

  /** Deletes the document: as {@link update}. */
  remove(options?: WriteOptions): Promise<void> {
    return this.write('remove', undefined, options)
  }

  private write(op: 'update' | 'replace' | 'remove', content: object | undefined, options?: WriteOptions): Promise<void> {
    if (!this.entry) {
      return Promise.reject(new ObservedError('bad_argument', `Start the observer of "${this._id}" before writing to it`))
    }
    const rev = options?.ifRevision
    if (rev !== undefined && typeof rev !== 'string' && !(typeof rev === 'number' && Number.isFinite(rev))) {
      return Promise.reject(new ObservedError('bad_argument', `ifRevision must be a revision (string or number), got ${typeof rev}`))
    }
    if (op !== 'remove' && !isPlainObject(content)) {
      return Promise.reject(new ObservedError('bad_argument', `A ${op} needs a plain object, got ${content === null ? 'null' : typeof content}`))
    }
    return this.entry.write(op, content as DocSource | undefined, options)
  }

  /** True while started. */
  get isActive(): boolean {
    return this.entry !== null
  }

  /** Starts following the document (subscribe, then read). Does nothing if already started. */
  start(): this {
    if (this.entry) return this
    const entry = (this.entry = this.host.acquire(this.ref, this._id))
    entry.listen(this)
    this.entryStatusChanged()
    return this
  }

  /** Stops following it and releases the shared watch when this was its last user. Safe to call twice. */
  stop(): void {
    const entry = this.entry
    if (!entry) return
    this.entry = null
    entry.unlisten(this)
    this.host.release(entry)
    this.entryStatusChanged()
  }

  /** Reads the document again; resolves once the answer is applied. */
  async refresh(): Promise<this> {
    const entry = this.entry
    if (entry) {
      this.host.refetch(entry)
      await entry.whenSynced()
    }
    return this
  }

  /** Resolves once the observer has settled (first data read, not found, error, or stopped). */
  ready(): Promise<this> {
    if (this.status !== 'pending') return Promise.resolve(this)
    return new Promise((resolve) => {
      const off = this.on('status', (s) => {
        if (s === 'pending') return
        off()
        resolve(this)
      })
    })
  }

  /** Its five events, named up front: the slots object then holds them all in place. */
  protected override newSlots(): { [K in keyof ObserverEvents<T>]?: Slot } {
    return { change: undefined, delete: undefined, error: undefined, status: undefined, pending: undefined }
  }

  /** @internal The entry's content changed. */
  entryChanged(changes: string[]): void {
    this.emit('change', this.entry!.plain as T, changes)
  }

  /** @internal The entry's document was deleted. */
  entryDeleted(): void {
    this.emit('delete')
  }

  /** @internal A local write was refused. */
  entryWriteRefused(err: ObservedError): void {
    this.emit('error', err)
  }

  /** @internal The entry's status, error or pending flag may have changed: emits what did. */
  entryStatusChanged(): void {
    const pending = this.pending
    if (pending !== this.lastPending) {
      this.lastPending = pending
      this.emit('pending', pending)
    }
    const status = this.status
    const error = this.error
    if (error && error !== this.lastError) {
      this.lastError = error
      this.emit('error', error)
    } else if (!error) this.lastError = null
    if (status === this.lastStatus) return
    this.lastStatus = status
    this.emit('status', status)
  }
}
