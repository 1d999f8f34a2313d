/**
 * The leader tab's side of sharing: the real driver's watches, shared by every tab (the leader's own client
 * included) that follows the same thing, reference counted, and the reads followers ask for. Bookkeeping is per
 * tab, so that a tab that leaves (or stops answering) releases everything it held.
 */
import type { CollectionRef, Driver, DriverSearchSpec, PageRequest, Watch, WatchSink, WatchSpec } from '../types'
import type { ReadOp, SinkCall } from './messages'
import { toWire } from './messages'

/** Where a subscriber's sink calls go (a follower's channel, or the leader's own watch). */
export type Deliver = (call: SinkCall) => void

interface Shared {
  readonly key: string
  watch: Watch | null
  /** Subscribers by `tab:wid`. */
  readonly subs: Map<string, Deliver>
  live: boolean
  closed: boolean
}

/** A stable key for a watch spec: ids sorted, so that two tabs following the same set share one watch. */
function specKey(ref: CollectionRef, spec: WatchSpec): string {
  const what = 'ids' in spec ? { ids: [...spec.ids].sort() } : { query: spec.query }
  return JSON.stringify([ref.index, ref.collection, what])
}

export class Hub {
  private readonly shared = new Map<string, Shared>()
  /** Per tab, its watches: wid → shared key. */
  private readonly tabs = new Map<string, Map<number, string>>()
  private disposed = false

  constructor(private readonly driver: Driver) {}

  /** Open driver watches (for tests and the figures). */
  get watchCount(): number {
    let n = 0
    for (const s of this.shared.values()) if (s.watch) n++
    return n
  }

  /** Tabs with at least one watch here. */
  get tabCount(): number {
    return this.tabs.size
  }

  /** `tab`'s watch `wid` follows `spec`: joins the shared watch of that spec, opening it if none. */
  subscribe(tab: string, wid: number, ref: CollectionRef, spec: WatchSpec, deliver: Deliver): void {
    if (this.disposed) return
    // The same wid again (a follower re-sending its watches to a new leader, or after a lost message): rejoin.
    this.unsubscribe(tab, wid)
    const key = specKey(ref, spec)
    let watches = this.tabs.get(tab)
    if (!watches) this.tabs.set(tab, (watches = new Map()))
    watches.set(wid, key)
    const sub = `${tab}:${wid}`
    const existing = this.shared.get(key)
    if (existing) {
      existing.subs.set(sub, deliver)
      // Already live: this subscriber is live from now on (it reads after this, so nothing is lost).
      if (existing.live) queueMicrotask(() => existing.live && existing.subs.get(sub) === deliver && deliver({ kind: 'ready', resumed: false }))
      return
    }
    const entry: Shared = { key, watch: null, subs: new Map([[sub, deliver]]), live: false, closed: false }
    this.shared.set(key, entry)
    const all = (call: SinkCall) => {
      if (entry.closed) return
      for (const d of [...entry.subs.values()]) d(call)
    }
    const sink: WatchSink = {
      ready: (info) => {
        if (entry.closed) return
        entry.live = true
        all({ kind: 'ready', resumed: info?.resumed === true })
      },
      event: (e) => all({ kind: 'event', e }),
      reset: () => all({ kind: 'reset' }),
      offline: () => {
        if (entry.closed) return
        entry.live = false
        all({ kind: 'offline' })
      },
      error: (err) => {
        if (entry.closed) return
        // Every subscriber's core closes its watch and opens another (or stops, if fatal): this one is done.
        all({ kind: 'error', err: toWire(err) })
        this.drop(entry)
      },
    }
    try {
      entry.watch = this.driver.watch(ref, spec, sink)
      if (entry.closed) closeQuietly(entry.watch)
    } catch (err) {
      // The core takes a watch that throws at once as fatal (a query the backend cannot follow).
      all({ kind: 'error', err: { ...toWire(err as Error), fatal: true } })
      this.drop(entry)
    }
  }

  unsubscribe(tab: string, wid: number): void {
    const watches = this.tabs.get(tab)
    const key = watches?.get(wid)
    if (key === undefined) return
    watches!.delete(wid)
    if (watches!.size === 0) this.tabs.delete(tab)
    const entry = this.shared.get(key)
    if (!entry) return
    entry.subs.delete(`${tab}:${wid}`)
    if (entry.subs.size === 0) this.drop(entry)
  }

  /** A tab left or stopped answering: everything it held is released. */
  dropTab(tab: string): void {
    const watches = this.tabs.get(tab)
    if (!watches) return
    for (const wid of [...watches.keys()]) this.unsubscribe(tab, wid)
  }

  /** Makes a follower's read with the real driver. */
  read(read: ReadOp): Promise<unknown> {
    switch (read.op) {
      case 'get':
        return this.driver.get(read.ref, read.id)
      case 'mGet':
        return this.driver.mGet(read.ref, read.ids)
      case 'search':
        return this.driver.search(read.ref, read.spec as DriverSearchSpec, read.page as PageRequest)
    }
  }

  /** Closes every watch (the tab is no longer the leader, or its client closed). */
  dispose(): void {
    this.disposed = true
    for (const entry of [...this.shared.values()]) this.drop(entry)
    this.tabs.clear()
  }

  private drop(entry: Shared): void {
    entry.closed = true
    entry.live = false
    if (this.shared.get(entry.key) === entry) this.shared.delete(entry.key)
    for (const sub of entry.subs.keys()) {
      const cut = sub.lastIndexOf(':')
      const tab = sub.slice(0, cut)
      const watches = this.tabs.get(tab)
      const wid = Number(sub.slice(cut + 1))
      if (watches?.get(wid) === entry.key) {
        watches.delete(wid)
        if (watches.size === 0) this.tabs.delete(tab)
      }
    }
    entry.subs.clear()
    if (entry.watch) closeQuietly(entry.watch)
    entry.watch = null
  }
}

function closeQuietly(watch: Watch): void {
  try {
    watch.close()
  } catch {
    // Best effort: the watch is forgotten either way.
  }
}
