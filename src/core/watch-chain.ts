/**
 * What one query watch knows of each matching document's revision chain: the revision it last reported, and from
 * where. Pure bookkeeping, no timers, no I/O; `query-pool.ts` asks it about every event before dispatching it.
 *
 * ## Legal states
 * Per document, nothing or one `Reported`: the revision the watch's own last event gave it, `arrived` until that
 * event reached the listeners (`told`: then `all`, every listener heard it and moved its total by it; an event its
 * document's entry drops as stale never does, as a newer one stands for it), or a page read's hit (`by`: that page's
 * reader, whose total counted it so; another listener, whose page was read before, may not have, if the watch missed
 * the change that led there). Bounded by `cap` in all (past it the oldest of the largest kind goes, and its next event
 * is taken as a first one, as after a resync); a reader's proofs go when it leaves.
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

type Reported<R> = { readonly rev: Rev; readonly by: 'arrived' | 'all' | R }

/** `R`: who reads pages (a query watch's listener). */
export class WatchChain<R extends object> {
  // One map per `by` (a document is in one at most), holding the revision alone: no object per document, which a
  // watch of a 5,000-row live list would hold 5,000 of.
  private readonly arrived = new Map<string, Rev>()
  private readonly all = new Map<string, Rev>()
  private readonly pages = new Map<R, Map<string, Rev>>()

  constructor(private readonly cap: number) {}

  /** Documents remembered (bounded by `cap` in all). */
  get size(): number {
    let n = this.arrived.size + this.all.size
    for (const page of this.pages.values()) n += page.size
    return n
  }

  /** Places an event on its document's chain and records what it leaves the document at. */
  event(e: DocEvent): 'skips' | Proof<R> {
    const last = this.take(e.id)
    if (e.kind === 'upsert' && e.inQuery !== false) this.put(this.arrived, e.id, e.rev)
    if (last === undefined || e.previousRev == null) return null
    if (e.previousRev === last.rev) return last.by === 'arrived' ? null : last.by
    return e.rev === last.rev ? null : 'skips'
  }

  /** The event reached the listeners (applied, or news of a document nothing holds): every total moved by it. */
  told(e: DocEvent): void {
    if (e.rev === undefined || this.arrived.get(e.id) !== e.rev) return
    this.arrived.delete(e.id)
    this.put(this.all, e.id, e.rev)
  }

  /** `reader` left the watch: what its pages proved goes with it. */
  forget(reader: R): void {
    this.pages.delete(reader)
  }

  /** A page's hit, read by `reader`, stands for what the watch reported unless the watch has reported it since. */
  page(id: string, rev: Rev | undefined, reader: R): void {
    if (this.arrived.has(id) || this.all.has(id)) return
    for (const page of this.pages.values()) if (page.has(id)) return
    let page = this.pages.get(reader)
    if (!page) this.pages.set(reader, (page = new Map()))
    this.put(page, id, rev)
  }

  /** Events may have been missed (offline, reset, closed): nothing reported stands. */
  clear(): void {
    this.arrived.clear()
    this.all.clear()
    this.pages.clear()
  }

  /** What was reported of `id`, forgotten. */
  private take(id: string): Reported<R> | undefined {
    let rev = this.arrived.get(id)
    if (rev !== undefined) {
      this.arrived.delete(id)
      return { rev, by: 'arrived' }
    }
    rev = this.all.get(id)
    if (rev !== undefined) {
      this.all.delete(id)
      return { rev, by: 'all' }
    }
    for (const [reader, page] of this.pages) {
      rev = page.get(id)
      if (rev === undefined) continue
      page.delete(id)
      if (page.size === 0) this.pages.delete(reader)
      return { rev, by: reader }
    }
    return undefined
  }

  /** Records `rev`; past `cap` in all, the oldest of the largest map goes (a reader's, with the reader once empty). */
  private put(map: Map<string, Rev>, id: string, rev: Rev | undefined): void {
    if (rev === undefined) return
    map.set(id, rev)
    if (this.size <= this.cap) return
    let largest = this.arrived.size >= this.all.size ? this.arrived : this.all
    let owner: R | undefined
    for (const [reader, page] of this.pages) {
      if (page.size <= largest.size) continue
      largest = page
      owner = reader
    }
    largest.delete(largest.keys().next().value!)
    if (owner !== undefined && largest.size === 0) this.pages.delete(owner)
  }
}
