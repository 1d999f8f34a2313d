/**
 * What one query watch knows of each matching document's revision chain: the revision it last reported, and from
 * where. Pure bookkeeping, no timers, no I/O; `query-pool.ts` asks it about every event before dispatching it.
 *
 * ## Legal states
 * Per document, nothing or one `Reported`: the revision the watch's own last event gave it, `arrived` until that
 * event reached the listeners (`told`: then `all`, every listener heard it and moved its total by it; an event its
 * document's entry drops as stale never does, as a newer one stands for it), or a page read's hit (`by`: that page's
 * reader, whose total counted it so; another listener, whose page was read before, may not have, if the watch missed
 * the change that led there). Bounded by `cap`: past it the oldest goes, and its next event is taken as a first one,
 * as after a resync.
 *
 * ## How an event stands to it ({@link WatchChain.event})
 * - `skips`: its previous revision is neither the one reported nor its own (a duplicate): the watch missed one (a lost
 *   event, or one that comes late), which another source may have given the document meanwhile.
 * - Otherwise, whose total knows the document as the event's "before" (its `matchedBefore` then says how the change
 *   moved that total): `all` or the reader its previous revision was reported by, when it continues it; `null` when
 *   nothing continues (nothing reported, a creation, a duplicate) or the revision it continues never reached the
 *   listeners: a total may have missed a change between what it counted and that "before" (a silent write: memory
 *   seed 1121148; a creation dropped as stale, its update saying the document matched before: sanity seed 1182394),
 *   so only a count can say.
 * A document that left (deleted, or no longer matching) is forgotten: no news comes until it matches again, from
 * whatever revision it reached elsewhere.
 */
import type { DocEvent, Rev } from './types'

/** Whose total knows a document as an event's "before": every listener's, one page reader's, or nobody's. */
export type Proof<R> = 'all' | R | null

interface Reported<R> {
  readonly rev: Rev
  readonly by: 'arrived' | 'all' | R
}

/** `R`: who reads pages (a query watch's listener). */
export class WatchChain<R extends object> {
  private readonly reported = new Map<string, Reported<R>>()

  constructor(private readonly cap: number) {}

  /** Documents remembered (bounded by `cap`). */
  get size(): number {
    return this.reported.size
  }

  /** Places an event on its document's chain and records what it leaves the document at. */
  event(e: DocEvent): 'skips' | Proof<R> {
    const last = this.reported.get(e.id)
    this.reported.delete(e.id)
    if (e.kind === 'upsert' && e.inQuery !== false) this.set(e.id, e.rev, 'arrived')
    if (last === undefined || e.previousRev == null) return null
    if (e.previousRev === last.rev) return last.by === 'arrived' ? null : last.by
    return e.rev === last.rev ? null : 'skips'
  }

  /** The event reached the listeners (applied, or news of a document nothing holds): every total moved by it. */
  told(e: DocEvent): void {
    const last = this.reported.get(e.id)
    if (last?.by === 'arrived' && last.rev === e.rev) this.reported.set(e.id, { rev: last.rev, by: 'all' })
  }

  /** A page's hit, read by `reader`, stands for what the watch reported unless the watch has reported it since. */
  page(id: string, rev: Rev | undefined, reader: R): void {
    if (!this.reported.has(id)) this.set(id, rev, reader)
  }

  /** Events may have been missed (offline, reset, closed): nothing reported stands. */
  clear(): void {
    this.reported.clear()
  }

  private set(id: string, rev: Rev | undefined, by: Reported<R>['by']): void {
    if (rev === undefined) return
    this.reported.set(id, { rev, by })
    if (this.reported.size > this.cap) this.reported.delete(this.reported.keys().next().value!)
  }
}
