/**
 * One listener per (client, dataset), whatever is observed: every watch of the dataset is a subscription on it, and
 * its filter is the union of what they need (`union.ts`). Events are routed to subscriptions by `router.ts`.
 *
 * When the union changes, make before break: a new listener is opened (resuming from the last event the current one
 * delivered, `Last-Event-ID`), and only once it is live does it take over; the old one keeps delivering for a while
 * (events it had in flight), and events both deliver are passed on once (by event id). A narrower union waits
 * `narrowDelay`, so that watches that come and go do not reopen the listener each time.
 */
import type { SanityClient } from '@sanity/client'
import { ObservedError } from '../../core/types'
import { Listener, type ListenSettings } from './listener'
import { foreign, routeEvent } from './router'
import type { Subscription } from './subscription'
import { covers, includes, requestOf, unionOf, type Need, type Union } from './union'

/** How long a replaced listener keeps delivering what it had in flight after its replacement is live (ms). */
export const RETIRE_MS = 1000

/** Event ids remembered to pass each event on once while two listeners overlap. */
const SEEN_IDS = 10_000

/** Counters, for benchmarks and tests. */
export interface ConnectionStats {
  /** Mutation events received (duplicates by event id not counted). */
  events: number
  /** Of those, events no subscription heard. */
  unwatched: number
  /** Listeners opened. */
  listeners: number
}

interface Open {
  readonly listener: Listener
  readonly union: Union
}

export class Connection {
  private readonly subs = new Set<Subscription>()
  /** Id subscriptions by id. */
  private readonly byId = new Map<string, Set<Subscription>>()
  /** Query subscriptions by type. */
  private readonly queries = new Map<string, Set<Subscription>>()
  private current: Open | null = null
  private pending: Open | null = null
  private readonly retiring = new Map<Listener, ReturnType<typeof setTimeout>>()
  /** Needs of subscriptions that left, kept in the union for `narrowDelay`. */
  private readonly held = new Map<string, Need>()
  private narrowTimer: ReturnType<typeof setTimeout> | undefined
  private reconcileQueued = false
  /** Per recent event id, the subscriptions it was delivered to. */
  private readonly seen = new Map<string, Set<Subscription>>()
  readonly stats: ConnectionStats = { events: 0, unwatched: 0, listeners: 0 }

  constructor(
    private readonly client: SanityClient,
    private readonly settings: ListenSettings,
    private readonly narrowDelay: number,
  ) {}

  /** Listeners open now (the current one, one being opened to replace it, replaced ones still delivering). */
  get openListeners(): number {
    return (this.current ? 1 : 0) + (this.pending ? 1 : 0) + this.retiring.size
  }

  attach(sub: Subscription): void {
    const route = sub.route!
    this.subs.add(sub)
    if (sub.ids) for (const id of sub.ids) this.index(id, sub)
    else this.queriesOf(route.need.type).add(sub)
    if (this.current?.listener.isLive && covers(this.current.union, route.need)) {
      queueMicrotask(() => this.tellLive(sub, false))
    }
    this.schedule()
  }

  detach(sub: Subscription): void {
    if (!this.subs.delete(sub)) return
    // A watch that leaves before it went live gave up waiting (the core's watch timeout, which reopens it with
    // backoff): the listener it waited for, never answered, is asked for again rather than waited on for ever by the
    // watches still attached.
    if (!sub.live && !sub.offline && sub.route) {
      const need = sub.route.need
      if (this.pending && !this.live.has(this.pending.listener) && covers(this.pending.union, need)) this.dropPending()
      else if (this.current && !this.live.has(this.current.listener) && covers(this.current.union, need)) {
        this.current.listener.close()
        this.current = null
      }
    }
    if (sub.ids) for (const id of sub.ids) this.unindex(id, sub)
    else this.queries.get(sub.route!.need.type)?.delete(sub)
    const need = sub.route!.need
    const key = needKey(need)
    if (this.subs.size > 0 && this.narrowDelay > 0 && ![...this.subs].some((s) => needKey(s.route!.need) === key)) {
      // Debounced: the union narrows once no watch has left for `narrowDelay`, in one step.
      this.held.set(key, need)
      clearTimeout(this.narrowTimer)
      this.narrowTimer = setTimeout(() => {
        this.narrowTimer = undefined
        this.held.clear()
        this.schedule()
      }, this.narrowDelay)
    }
    this.schedule()
  }

  setIds(sub: Subscription, ids: Set<string>): void {
    for (const id of sub.ids ?? []) if (!ids.has(id)) this.unindex(id, sub)
    for (const id of ids) this.index(id, sub)
    sub.ids = ids
  }

  /** Closes every listener (the driver's subscriptions are gone). */
  private closeAll(): void {
    clearTimeout(this.narrowTimer)
    this.narrowTimer = undefined
    this.held.clear()
    this.current?.listener.close()
    this.pending?.listener.close()
    this.current = this.pending = null
    for (const [l, t] of this.retiring) {
      clearTimeout(t)
      l.close()
    }
    this.retiring.clear()
    this.seen.clear()
  }

  private schedule(): void {
    if (this.reconcileQueued) return
    this.reconcileQueued = true
    queueMicrotask(() => {
      this.reconcileQueued = false
      this.reconcile()
    })
  }

  /** Brings the listeners in line with what the subscriptions need. */
  private reconcile(): void {
    if (this.subs.size === 0) return this.closeAll()
    const wanted = unionOf([...[...this.subs].map((s) => s.route!.need), ...this.held.values()])
    if (!this.current) {
      this.dropPending()
      this.current = this.open(wanted, '')
      return
    }
    const current = this.current
    if (sameUnion(current.union, wanted)) {
      if (this.pending) this.dropPending()
      return
    }
    // Widening now; narrowing once `held` has let the needs go.
    if (this.pending && sameUnion(this.pending.union, wanted)) return
    this.dropPending()
    this.pending = this.open(wanted, current.listener.lastEventId)
  }

  private dropPending(): void {
    this.pending?.listener.close()
    this.pending = null
  }

  private readonly live = new WeakSet<Listener>()

  private open(union: Union, lastEventId: string): Open {
    this.stats.listeners++
    let self: Open | null = null
    const isCurrent = () => self !== null && this.current === self
    const isPending = () => self !== null && this.pending === self
    const listener = new Listener(
      this.client,
      requestOf(union),
      this.settings,
      {
        live: (resumed) => {
          if (!self) return
          const first = !this.live.has(self.listener)
          this.live.add(self.listener)
          if (isPending()) return this.promote(self)
          if (!isCurrent()) return
          for (const sub of [...this.subs]) {
            if (!covers(union, sub.route!.need)) continue
            if (sub.offline) this.tellLive(sub, !first && resumed)
            else if (!sub.live) this.tellLive(sub, false)
          }
          this.schedule()
        },
        mutation: (payload, eventId) => this.mutation(self!, payload, eventId),
        offline: () => {
          if (self && this.retiring.has(self.listener)) return this.retiredEarly(self.listener)
          if (!isCurrent()) return
          for (const sub of [...this.subs]) {
            if (!sub.live) continue
            sub.live = false
            sub.offline = true
            sub.sink.offline()
          }
        },
        reset: () => {
          if (!isCurrent()) return
          for (const sub of [...this.subs]) if (sub.live) sub.sink.reset()
        },
        failed: (err) => {
          if (!self) return
          if (this.retiring.has(self.listener)) return this.retiredEarly(self.listener)
          if (isPending()) {
            this.pending = null
            // The watches it was opened for fail; the others stay on the current listener.
            const current = this.current
            for (const sub of [...this.subs]) if (!current || !current.listener.isLive || !covers(current.union, sub.route!.need)) this.fail(sub, err)
            return
          }
          if (!isCurrent()) return
          this.current = null
          this.dropPending()
          for (const sub of [...this.subs]) this.fail(sub, err)
        },
      },
      lastEventId,
    )
    self = { listener, union }
    return self
  }

  /** A replacement is live: it takes over, the one it replaces retires. */
  private promote(next: Open): void {
    const old = this.current
    this.pending = null
    this.current = next
    if (old) {
      if (old.listener.isLive) this.retire(old.listener)
      else old.listener.close()
    }
    for (const sub of [...this.subs]) {
      if (!covers(next.union, sub.route!.need)) continue
      // Offline on the old listener: what changed meanwhile may be missed.
      if (sub.offline) this.tellLive(sub, false)
      else if (!sub.live) this.tellLive(sub, false)
    }
    this.schedule()
  }

  private retire(listener: Listener): void {
    this.retiring.set(
      listener,
      setTimeout(() => {
        this.retiring.delete(listener)
        listener.close()
      }, RETIRE_MS),
    )
  }

  /** A replaced listener dropped while it still had events in flight: what its watches hold is read again. */
  private retiredEarly(listener: Listener): void {
    clearTimeout(this.retiring.get(listener))
    this.retiring.delete(listener)
    listener.close()
    for (const sub of [...this.subs]) if (sub.live) sub.sink.reset()
  }

  private tellLive(sub: Subscription, resumed: boolean): void {
    if (!this.subs.has(sub) || sub.closed) return
    if (sub.live) return
    sub.live = true
    sub.offline = false
    sub.sink.ready(resumed ? { resumed: true } : undefined)
  }

  private fail(sub: Subscription, err: ObservedError): void {
    this.detach(sub)
    sub.closed = true
    sub.live = false
    sub.sink.error(err)
  }

  /**
   * Routes one event. A listener serves the subscriptions its union covers (a replaced one, without the documents
   * before each change, does not serve live queries); each subscription hears each event once, from whichever
   * listener delivers it first.
   */
  private mutation(from: Open, payload: Record<string, unknown>, eventId: string): void {
    const id = typeof payload.eventId === 'string' && payload.eventId ? payload.eventId : eventId
    let delivered = id ? this.seen.get(id) : undefined
    const first = delivered === undefined
    if (id && !delivered) {
      this.seen.set(id, (delivered = new Set()))
      if (this.seen.size > SEEN_IDS) this.seen.delete(this.seen.keys().next().value!)
    }
    if (first) this.stats.events++
    const documentId = payload.documentId
    if (typeof documentId !== 'string') return
    const byId = this.byId.get(documentId) ?? []
    const notAsked = foreign(payload, from.union.types)
    if (notAsked) {
      const err = new ObservedError('bad_event', `Sanity listener sent an event it was not asked for: ${notAsked}`)
      for (const sub of [...[...this.queries.values()].flatMap((subs) => [...subs]), ...byId]) this.fail(sub, err)
      return
    }
    // Live queries first, then id watches: each hears the event as a listener of its own would have sent it.
    const targets: Subscription[] = []
    const result = payload.result as { _type?: unknown } | undefined
    const previous = payload.previous as { _type?: unknown } | undefined | null
    for (const type of new Set([result?._type, previous?._type])) {
      if (typeof type !== 'string') continue
      for (const sub of this.queries.get(type) ?? []) targets.push(sub)
    }
    targets.push(...byId)
    let heard = false
    for (const sub of targets) {
      if (!this.subs.has(sub) || !covers(from.union, sub.route!.need)) continue
      if (delivered?.has(sub)) {
        heard = true
        continue
      }
      const event = routeEvent(payload, sub.route!, sub.ids)
      if (event === null) continue
      heard = true
      delivered?.add(sub)
      if (event instanceof ObservedError) sub.sink.error(event)
      else sub.sink.event(event)
    }
    if (first && !heard) this.stats.unwatched++
  }

  private index(id: string, sub: Subscription): void {
    let set = this.byId.get(id)
    if (!set) this.byId.set(id, (set = new Set()))
    set.add(sub)
  }

  private unindex(id: string, sub: Subscription): void {
    const set = this.byId.get(id)
    if (!set) return
    set.delete(sub)
    if (set.size === 0) this.byId.delete(id)
  }

  private queriesOf(type: string): Set<Subscription> {
    let set = this.queries.get(type)
    if (!set) this.queries.set(type, (set = new Set()))
    return set
  }
}

function needKey(n: Need): string {
  return `${n.previous ? 1 : 0}:${n.type}`
}

function sameUnion(a: Union, b: Union): boolean {
  return includes(a, b) && includes(b, a)
}
