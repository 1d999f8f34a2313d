import { isDocEvent } from './entry'
import type { EntryTable } from './entry-table'
import type { RetryGate } from './retry-gate'
import { collectionName, type Tracer } from './trace'
import { startWatchClock } from './watch-timeout'
import type { CollectionRef, DocEvent, Driver, Watch, WatchSink } from './types'
import { ObservedError, asObservedError } from './types'

type ShardState = 'opening' | 'live' | 'offline' | 'waiting' | 'dead'

/** One id watch of a pool, as `client.inspect()` shows it. */
export interface IdWatchInspection {
  target: 'ids'
  collection: string
  /** Which shard of its collection's pool (watches are split under the driver's per-watch id limit). */
  shard: number
  status: ShardState
  since: number
  /** Ids wanted. */
  ids: string[]
  /** Ids the open watch is known to follow. */
  live: number
  error: ObservedError | null
}

interface Shard {
  /** Ids wanted in this shard. */
  readonly ids: Set<string>
  /** Ids the open watch is known to follow (live). */
  live: Set<string>
  /**
   * Ids `watch` follows by its last resolved update (or its opening): what a `ready` after a reconnection makes
   * live, which may differ from `live` when an update resolved while the watch was offline.
   */
  followed: Set<string>
  watch: Watch | null
  /** A watch opened to replace `watch` (drivers without update), not live yet. */
  replacing: Watch | null
  /** Replaced watches kept a moment: events they had in flight when their replacement went live still apply. */
  readonly retiring: Map<Watch, ReturnType<typeof setTimeout>>
  /** `waiting`: failed, its reopening waits for the client's watch gate. */
  state: ShardState
  /** When `state` last changed (ms since the epoch), for devtools. */
  since: number
  /** A number unique in its pool, to tell shards apart in devtools. */
  readonly n: number
  updating: boolean
  reconcileQueued: boolean
  /** The clock of the watch being opened (see watch-timeout.ts), until it goes live. */
  openClock?: ReturnType<typeof setTimeout>
  /** Narrowings waiting `releaseDelay` (one per release, each giving its id the full delay). */
  readonly narrowTimers: Set<ReturnType<typeof setTimeout>>
}

/**
 * Pooled, reference-counted id watches of one collection (promise 4): every observer of a document of this
 * collection shares a few driver watches, sharded under the driver's per-watch limit. Widening is batched per
 * tick; narrowing waits `releaseDelay` so that mount/unmount churn does not resubscribe.
 */
export class CollectionPool {
  /**
   * Each wanted id is in exactly one shard's `ids`: that is its shard (shards are few, a lookup walks them, where a
   * Map by id would cost every observed document a slot).
   */
  private readonly shards = new Set<Shard>()

  constructor(
    private readonly ref: CollectionRef,
    private readonly driver: Driver,
    private readonly table: EntryTable,
    private readonly options: { maxIds: number; releaseDelay: number; watchTimeout: number; gate: RetryGate; onEmpty(): void; tracer?: Tracer },
  ) {}

  private shardCount = 0

  /** The shards' state, for devtools. */
  inspect(): IdWatchInspection[] {
    const collection = collectionName(this.ref)
    return [...this.shards].map((s) => ({
      target: 'ids',
      collection,
      shard: s.n,
      status: s.state,
      since: s.since,
      ids: [...s.ids],
      live: s.live.size,
      error: s.state === 'dead' || s.state === 'waiting' ? (this.dead.get(s) ?? this.lastError.get(s) ?? null) : null,
    }))
  }

  private lastError = new WeakMap<Shard, ObservedError>()

  /** Every state change goes through here: devtools shows since when, and traces it. */
  private setState(shard: Shard, state: ShardState, error?: ObservedError): void {
    shard.state = state
    shard.since = Date.now()
    if (error) this.lastError.set(shard, error)
    const tracer = this.options.tracer
    if (!tracer?.active) return
    const phase = state === 'opening' ? 'open' : state === 'waiting' || state === 'dead' ? 'failed' : state
    tracer.emit({ type: 'watch', phase, collection: collectionName(this.ref), target: 'ids', ids: shard.ids.size, error })
  }

  /** Number of open driver watches (for stats and tests). */
  get watchCount(): number {
    let n = 0
    for (const s of this.shards) if (s.watch) n++
    return n
  }

  /** The shard that wants `id`, if any. */
  private shardOf(id: string): Shard | undefined {
    for (const shard of this.shards) if (shard.ids.has(id)) return shard
    return undefined
  }

  /**
   * The document `id` needs the watch: called for its first holder that does (the entry counts them, see
   * `DocEntry.watchers`), not for each.
   */
  add(id: string): void {
    const shard = this.placeFor(id)
    const entry = this.table.peek(this.ref, id)
    // A shard that already follows this id (released and taken back within releaseDelay) needs only a read.
    if (shard.live.has(id) && shard.state === 'live' && entry) this.table.refetch(entry)
    else if (shard.state === 'dead' && entry) entry.fail(this.deadError(shard))
    this.schedule(shard, 0)
  }

  /** The document's last holder that needed the watch left. */
  remove(id: string): void {
    const shard = this.shardOf(id)
    if (!shard) return
    shard.ids.delete(id)
    // The delay spares a live watch churn from mount/unmount; a shard with no live watch (failed, dead) has nothing
    // to spare, and waiting would only keep a timer after its observers stopped.
    this.schedule(shard, shard.state === 'live' || shard.state === 'offline' ? this.options.releaseDelay : 0)
  }

  /** Closes every watch now (client shutdown). */
  dispose(): void {
    for (const shard of this.shards) {
      this.closeShard(shard)
      for (const timer of shard.narrowTimers) clearTimeout(timer)
    }
    this.shards.clear()
  }

  private dead = new WeakMap<Shard, ObservedError>()

  private deadError(shard: Shard): ObservedError {
    return this.dead.get(shard) ?? new ObservedError('watch_failed', 'Watch stopped')
  }

  private placeFor(id: string): Shard {
    let target: Shard | undefined
    // Back to the shard that still follows it (released within releaseDelay): its watch needs no change.
    for (const shard of this.shards) {
      if (shard.ids.has(id) || (shard.live.has(id) && shard.state !== 'dead' && shard.ids.size < this.options.maxIds)) {
        target = shard
        break
      }
    }
    if (!target) {
      for (const shard of this.shards) {
        if (shard.state !== 'dead' && shard.ids.size < this.options.maxIds) {
          target = shard
          break
        }
      }
    }
    if (!target) {
      target = {
        ids: new Set(),
        live: new Set(),
        followed: new Set(),
        watch: null,
        replacing: null,
        retiring: new Map(),
        state: 'opening',
        since: Date.now(),
        n: ++this.shardCount,
        updating: false,
        reconcileQueued: false,
        narrowTimers: new Set(),
      }
      this.shards.add(target)
    }
    target.ids.add(id)
    return target
  }

  private schedule(shard: Shard, delay: number): void {
    if (delay > 0) {
      const timer = setTimeout(() => {
        shard.narrowTimers.delete(timer)
        this.reconcile(shard)
      }, delay)
      shard.narrowTimers.add(timer)
      return
    }
    if (shard.reconcileQueued) return
    shard.reconcileQueued = true
    queueMicrotask(() => {
      shard.reconcileQueued = false
      this.reconcile(shard)
    })
  }

  /** Brings the shard's watch in line with its wanted ids. */
  private reconcile(shard: Shard): void {
    if (!this.shards.has(shard)) return
    if (shard.ids.size === 0) {
      this.closeShard(shard)
      this.shards.delete(shard)
      if (this.shards.size === 0) this.options.onEmpty()
      return
    }
    if (shard.state === 'dead' || shard.state === 'waiting') return
    if (!shard.watch) {
      // While watches are failing, a new one waits for the gate's next step like the ones that failed.
      if (this.options.gate.backingOff) this.options.gate.defer(shard, () => this.reconcile(shard))
      else this.open(shard)
      return
    }
    if (shard.state !== 'live' || shard.updating || sameSet(shard.ids, shard.live)) return
    const update = shard.watch.update
    const target = [...shard.ids]
    if (!update) {
      // No in-place update: make before break, the old watch keeps delivering until the new one is live.
      this.open(shard, shard.watch)
      return
    }
    shard.updating = true
    const watch = shard.watch
    update.call(watch, { ids: target }).then(
      () => {
        shard.updating = false
        if (shard.watch !== watch) return
        shard.followed = new Set(target)
        // Offline meanwhile: the ready that follows the reconnection makes the new set live (and reads it).
        if (shard.state === 'live') this.becameLive(shard, shard.followed, false)
        this.reconcile(shard)
      },
      (err: unknown) => {
        shard.updating = false
        if (shard.watch === watch) this.failed(shard, watch, toError(err))
      },
    )
  }

  /**
   * Opens a watch on the shard's current ids. With `previous` (drivers without `update`), the old watch keeps
   * delivering until the new one is live, then it is closed: make before break.
   */
  private open(shard: Shard, previous?: Watch): void {
    const target = new Set(shard.ids)
    let watch: Watch | null = null
    let wasOffline = false
    const isCurrent = () => watch !== null && shard.watch === watch
    const sink: WatchSink = {
      ready: (info) => {
        if (!watch) return queueMicrotask(() => sink.ready(info))
        if (opening === watch) this.stopClock(shard)
        // The watch being replaced went offline meanwhile: what changed until this one subscribed was missed.
        let missed = false
        if (previous && shard.watch === previous) {
          missed = shard.state !== 'live'
          shard.watch = watch
          shard.followed = target
          shard.updating = false
          // Offline, the old watch has nothing in flight, and the history it would resume with is older than the
          // read this resync makes: close it now rather than let it replay that history.
          if (missed) closeQuietly(previous)
          else this.retire(shard, previous)
        }
        if (shard.replacing === watch) shard.replacing = null
        previous = undefined
        if (!isCurrent()) {
          // A replacement whose shard moved on (closed, failed, reopened) while it was opening. A retiring watch
          // is closed by its timer.
          if (!shard.retiring.has(watch)) closeQuietly(watch)
          return
        }
        const resync = missed || (wasOffline && !info?.resumed)
        wasOffline = false
        // What the watch follows now, not the ids it was opened with: updates since changed them. Taking the opening
        // ids would count an id added since as covered (and read it unwatched), so its later update would skip the read.
        this.becameLive(shard, shard.followed, resync)
        this.reconcile(shard)
      },
      event: (e: DocEvent) => {
        if (!isDocEvent(e)) return
        const tracer = this.options.tracer
        if (tracer?.active) tracer.emit({ type: 'event', collection: collectionName(this.ref), id: e.id, kind: e.kind, rev: e.rev, via: 'ids' })
        if (isCurrent() || (previous !== undefined && shard.watch === previous) || (watch && shard.retiring.has(watch))) {
          this.table.peek(this.ref, e.id)?.applyEvent(e)
        }
      },
      reset: () => {
        if (isCurrent()) for (const id of shard.live) this.refetch(id)
      },
      offline: () => {
        if (watch && shard.retiring.has(watch)) return this.retiredEarly(shard, watch)
        if (!isCurrent()) return
        wasOffline = true
        this.setState(shard, 'offline')
        // Only the ids this shard owns: one released here and taken back by another shard is that shard's to tell
        // (memory seeds 900129, 900843: left 'reconnecting' by a watch that no longer owned it).
        for (const id of shard.live) if (shard.ids.has(id)) this.table.peek(this.ref, id)?.setOffline(true)
      },
      error: (err) => {
        if (!watch) return queueMicrotask(() => sink.error(err))
        if (previous !== undefined && shard.watch === previous) {
          // The replacement failed before going live: drop both and start over.
          shard.updating = false
          if (shard.replacing === watch) shard.replacing = null
          closeQuietly(watch)
          this.failed(shard, previous, err)
        } else if (isCurrent()) this.failed(shard, watch, err)
        else if (shard.retiring.has(watch)) this.retiredEarly(shard, watch)
        else closeQuietly(watch)
      },
    }
    if (previous) shard.updating = true
    else this.setState(shard, 'opening')
    let opening: Watch | null = null
    try {
      watch = this.driver.watch(this.ref, { ids: [...target] }, sink)
      // Opening or replacing: a watch that never goes live fails like one that errs (the sink decides what that drops).
      this.stopClock(shard)
      opening = watch
      shard.openClock = startWatchClock(this.options.watchTimeout, this.driver.name, this.ref, (err) => {
        shard.openClock = undefined
        sink.error(err)
      })
    } catch (err) {
      shard.updating = false
      const e = toError(err)
      this.kill(shard, new ObservedError(e.code, e.message, { fatal: true, cause: err }))
      return
    }
    if (!previous) {
      shard.watch = watch
      shard.followed = target
    } else shard.replacing = watch
  }

  private becameLive(shard: Shard, followed: Set<string>, resync: boolean): void {
    const before = shard.live
    shard.live = followed
    // An update that resolved while live keeps its `since`.
    if (shard.state !== 'live') this.setState(shard, 'live')
    this.options.gate.succeed()
    for (const id of followed) {
      if (!shard.ids.has(id)) continue
      const entry = this.table.peek(this.ref, id)
      if (!entry) continue
      entry.setOffline(false)
      // Subscribe before fetch: a document is read only once its watch is live.
      if (resync || !before.has(id) || !entry.isSynced) this.table.refetch(entry)
    }
  }

  private refetch(id: string): void {
    const entry = this.table.peek(this.ref, id)
    if (entry) this.table.refetch(entry)
  }

  private failed(shard: Shard, watch: Watch, err: ObservedError): void {
    this.stopClock(shard)
    if (err.fatal) {
      this.kill(shard, err)
      return
    }
    closeQuietly(watch)
    this.dropReplacement(shard)
    shard.watch = null
    this.setState(shard, 'waiting', err)
    shard.live = new Set()
    for (const id of shard.ids) this.table.peek(this.ref, id)?.fail(err)
    this.options.gate.fail(
      shard,
      () => {
        if (shard.state !== 'waiting' || !this.shards.has(shard)) return
        this.setState(shard, 'opening')
        this.reconcile(shard)
      },
      err,
    )
  }

  /** A fatal error: the shard stops and stays stopped; its observers show the error. */
  private kill(shard: Shard, err: ObservedError): void {
    this.closeShard(shard)
    this.setState(shard, 'dead', err)
    this.dead.set(shard, err)
    for (const id of shard.ids) this.table.peek(this.ref, id)?.fail(err)
  }

  private stopClock(shard: Shard): void {
    clearTimeout(shard.openClock)
    shard.openClock = undefined
  }

  private closeShard(shard: Shard): void {
    this.options.gate.forget(shard)
    this.stopClock(shard)
    const tracer = this.options.tracer
    if (shard.watch && tracer?.active) tracer.emit({ type: 'watch', phase: 'closed', collection: collectionName(this.ref), target: 'ids' })
    if (shard.watch) closeQuietly(shard.watch)
    this.dropReplacement(shard)
    shard.watch = null
    shard.live = new Set()
  }

  /**
   * Closes a replaced watch after the gap timeout. An event its backend sent before the replacement subscribed
   * may still be on its way on the old connection; until then it is applied (revisions drop the duplicates).
   */
  private retire(shard: Shard, watch: Watch): void {
    shard.retiring.set(
      watch,
      setTimeout(() => {
        shard.retiring.delete(watch)
        closeQuietly(watch)
      }, this.table.gapTimeout),
    )
  }

  /**
   * A replaced watch lost its connection before its retirement ended: events it still had to deliver may be lost,
   * and its replacement subscribed after them. Read what the shard follows again.
   */
  private retiredEarly(shard: Shard, watch: Watch): void {
    clearTimeout(shard.retiring.get(watch))
    shard.retiring.delete(watch)
    closeQuietly(watch)
    for (const id of shard.live) this.refetch(id)
  }

  private dropReplacement(shard: Shard): void {
    for (const [watch, timer] of shard.retiring) {
      clearTimeout(timer)
      closeQuietly(watch)
    }
    shard.retiring.clear()
    if (shard.replacing) closeQuietly(shard.replacing)
    shard.replacing = null
    shard.updating = false
  }
}

function sameSet(a: Set<string>, b: Set<string>): boolean {
  if (a.size !== b.size) return false
  for (const x of a) if (!b.has(x)) return false
  return true
}

export function closeQuietly(watch: Watch): void {
  try {
    watch.close()
  } catch {
    // Closing is best effort: the watch is forgotten either way.
  }
}

export function toError(err: unknown): ObservedError {
  return asObservedError(err, 'watch_failed')
}
