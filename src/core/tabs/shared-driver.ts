/**
 * Tabs that share one set of connections (issue 17): a Driver wrapper. One tab, the leader (elected with the Web
 * Locks API, leader-lock.ts), runs the real driver for every tab through its {@link Hub}; the others, followers,
 * forward their watches and reads to it over a BroadcastChannel and receive the sink calls and answers back.
 *
 * When the leader goes away (its tab closed: the browser hands the lock to the next tab in line; or frozen: a
 * follower whose heartbeats stay unanswered steals the lock), every tab's watches are told `offline`, re-created
 * at the new leader, and their `ready` (never `resumed`) makes each core read again what it observes: an update
 * made meanwhile is read, not lost. Reads in flight are sent again to the new leader.
 *
 * Loaded lazily (lazy-shared-driver.ts): an app without `shareAcrossTabs` bundles none of this.
 */
import type { CollectionRef, Doc, DocSource, Driver, DriverSearchSpec, Page, PageRequest, Rev, Watch, WatchSink, WatchSpec, WriteRequest } from '../types'
import { ObservedError } from '../types'
import { Hub } from './hub'
import { LeaderLock, type LockManagerLike } from './leader-lock'
import { PROTOCOL_VERSION, parseMessage, toWire, type ReadOp, type SinkCall, type TabMessage, type WireError } from './messages'

/** A tab's part in sharing: `alone` when the browser lacks BroadcastChannel or Web Locks (one set per tab). */
export type TabRole = 'starting' | 'leader' | 'follower' | 'alone'

/** `shareAcrossTabs` as an object. */
export interface ShareAcrossTabsOptions {
  /** Channel (and lock) name: tabs of one origin with the same name share. Default `vue-observed:<driver name>`. */
  channel?: string
  /** How often a follower checks on its leader (ms, default 1000). */
  heartbeat?: number
  /** A leader that answers no heartbeat for this long is replaced (ms, default 5000). */
  leaderTimeout?: number
  /**
   * Called when this tab becomes the leader (or at once, when sharing is not available): open the backend's
   * connection here (Kuzzle: `kuzzle.connect()`), so that only the leader opens one.
   */
  onLeader?: () => void
  /** Called when this tab's role changes. */
  onRoleChange?: (role: TabRole) => void
}

/** The browser APIs sharing uses (tests pass in-process fakes). */
export interface TabsEnv {
  BroadcastChannel: new (name: string) => ChannelLike
  locks: LockManagerLike
}

export interface ChannelLike {
  postMessage(message: unknown): void
  close(): void
  onmessage: ((ev: { data: unknown }) => void) | null
}

interface LogicalWatch {
  readonly wid: number
  readonly ref: CollectionRef
  readonly spec: WatchSpec
  readonly sink: WatchSink
  live: boolean
  /** Failed or closed: never routed again. */
  done: boolean
}

interface PendingRead {
  readonly read: ReadOp
  resolve(value: unknown): void
  reject(err: unknown): void
}

/** A follower silent this long (ms) is taken for gone (crashed without `bye`): the leader releases its watches. */
const DROP_SILENT_TAB = 10 * 60_000

function fromWire(err: WireError): ObservedError {
  return new ObservedError(err.code, err.message, { fatal: err.fatal, retryAfter: err.retryAfter })
}

function randomId(): string {
  const c = (globalThis as { crypto?: { randomUUID?: () => string } }).crypto
  return c?.randomUUID ? c.randomUUID() : `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`
}

export class SharedDriver implements Driver {
  readonly name: string
  readonly maxIdsPerWatch?: number
  readonly maxIdsPerRead?: number
  readonly checkId?: (id: string) => void
  readonly queryKey?: (spec: DriverSearchSpec) => string | undefined
  /** Writes go out from the tab that makes them (the inner driver's own). */
  readonly write?: (c: CollectionRef, w: WriteRequest) => Promise<{ rev?: Rev }>
  /** Matching is pure: each tab asks its inner driver. */
  readonly matcher?: (c: CollectionRef, spec: DriverSearchSpec) => ((source: DocSource, id: string) => boolean) | undefined
  /** This tab's id on the channel. */
  readonly id = randomId()

  private role: TabRole = 'starting'
  private hub: Hub | null = null
  private leaderId: string | null = null
  /** When the leader followed took its lock: a beat from a leader that took it earlier (stolen since) is ignored. */
  private leaderSince = 0
  private readonly channel: ChannelLike
  private readonly lock: LeaderLock
  private readonly watches = new Map<number, LogicalWatch>()
  private readonly reads = new Map<number, PendingRead>()
  private nextWid = 0
  private nextRid = 0
  private timer: ReturnType<typeof setInterval> | undefined
  /** When this follower sent the first heartbeat its leader has not answered yet. */
  private unansweredSince: number | null = null
  /** Leader: when each follower was last heard from. */
  private readonly heard = new Map<string, number>()
  /** Leader: followers dropped after a long silence, asked to send their watches again if they speak. */
  private readonly forgotten = new Set<string>()
  private closed = false
  private readonly heartbeat: number
  private readonly leaderTimeout: number
  private takingOver = false

  constructor(
    private readonly inner: Driver,
    private readonly options: ShareAcrossTabsOptions,
    env: TabsEnv,
  ) {
    this.name = inner.name
    if (inner.maxIdsPerWatch !== undefined) this.maxIdsPerWatch = inner.maxIdsPerWatch
    if (inner.maxIdsPerRead !== undefined) this.maxIdsPerRead = inner.maxIdsPerRead
    if (inner.checkId) this.checkId = (id) => inner.checkId!(id)
    if (inner.queryKey) this.queryKey = (spec) => inner.queryKey!(spec)
    if (inner.write) this.write = (c, w) => inner.write!(c, w)
    if (inner.matcher) this.matcher = (c, spec) => inner.matcher!(c, spec)
    this.heartbeat = options.heartbeat ?? 1000
    this.leaderTimeout = options.leaderTimeout ?? 5000
    // The protocol's version is in the names: tabs running another version never hear each other.
    const name = `${options.channel ?? `vue-observed:${inner.name}`}:v${PROTOCOL_VERSION}`
    this.channel = new env.BroadcastChannel(name)
    this.channel.onmessage = (ev) => this.receive(ev?.data)
    this.lock = new LeaderLock(env.locks, `${name}:leader`, { leader: () => this.becomeLeader(), lost: () => this.becomeFollower() })
  }

  /** This tab's role now. */
  get tabRole(): TabRole {
    return this.role
  }

  /** The leader's open driver watches (0 in a follower): for tests and the figures. */
  get hubWatches(): number {
    return this.hub?.watchCount ?? 0
  }

  start(): this {
    this.lock.start()
    const g = globalThis as { addEventListener?: (type: string, listener: (ev: { persisted?: boolean }) => void) => void }
    g.addEventListener?.('pagehide', this.pageHide)
    g.addEventListener?.('pageshow', this.pageShow)
    // Say hello: a leader answers, so that a new follower learns who leads at once.
    this.post({ t: 'beat', leader: false })
    this.timer = setInterval(() => this.tick(), this.heartbeat)
    return this
  }

  /** Leaves: the lock (or the place in line) is let go, every watch released, the channel closed. */
  close(): void {
    if (this.closed) return
    this.post({ t: 'bye' })
    this.closed = true
    clearInterval(this.timer)
    const g = globalThis as { removeEventListener?: (type: string, listener: (ev: { persisted?: boolean }) => void) => void }
    g.removeEventListener?.('pagehide', this.pageHide)
    g.removeEventListener?.('pageshow', this.pageShow)
    this.lock.stop()
    this.hub?.dispose()
    this.hub = null
    this.channel.onmessage = null
    this.channel.close()
    for (const r of this.reads.values()) r.reject(new ObservedError('closed', 'The observer client was closed'))
    this.reads.clear()
  }

  /** A follower's page goes away: the leader releases its watches now rather than after a long silence. */
  private readonly pageHide = () => {
    if (this.role !== 'leader') this.post({ t: 'bye' })
  }

  /** Back from the back-forward cache: the leader forgot this tab, so everything is sent again. */
  private readonly pageShow = (ev: { persisted?: boolean }) => {
    if (!ev?.persisted || this.role === 'leader') return
    this.post({ t: 'beat', leader: false })
    this.switchLeader()
  }

  // ---- the Driver contract --------------------------------------------------------------------------------------

  get(c: CollectionRef, id: string): Promise<Doc | null> {
    return this.read({ op: 'get', ref: c, id }) as Promise<Doc | null>
  }

  mGet(c: CollectionRef, ids: readonly string[]): Promise<Doc[]> {
    return this.read({ op: 'mGet', ref: c, ids: [...ids] }) as Promise<Doc[]>
  }

  search(c: CollectionRef, spec: DriverSearchSpec, page: PageRequest): Promise<Page> {
    return this.read({ op: 'search', ref: c, spec, page }) as Promise<Page>
  }

  watch(c: CollectionRef, spec: WatchSpec, sink: WatchSink): Watch {
    const w: LogicalWatch = { wid: ++this.nextWid, ref: c, spec, sink, live: false, done: false }
    this.watches.set(w.wid, w)
    this.route(w)
    // No `update`: the core opens the new set and closes this one once the new one is live (make before break).
    return {
      close: () => {
        if (w.done && !this.watches.has(w.wid)) return
        w.done = true
        this.watches.delete(w.wid)
        if (this.closed) return
        if (this.role === 'leader') this.hub?.unsubscribe(this.id, w.wid)
        else if (this.leaderId) this.post({ t: 'unwatch', to: this.leaderId, wid: w.wid })
      },
    }
  }

  // ---- routing --------------------------------------------------------------------------------------------------

  private read(read: ReadOp): Promise<unknown> {
    if (this.closed) return Promise.reject(new ObservedError('closed', 'The observer client was closed'))
    if (this.role === 'leader' || this.role === 'alone') return this.local(read)
    return new Promise((resolve, reject) => {
      const rid = ++this.nextRid
      this.reads.set(rid, { read, resolve, reject })
      if (this.leaderId) this.post({ t: 'read', to: this.leaderId, rid, read })
    })
  }

  private local(read: ReadOp): Promise<unknown> {
    switch (read.op) {
      case 'get':
        return this.inner.get(read.ref, read.id)
      case 'mGet':
        return this.inner.mGet(read.ref, read.ids)
      case 'search':
        return this.inner.search(read.ref, read.spec as DriverSearchSpec, read.page as PageRequest)
    }
  }

  /** Sends a watch where it is served now: this tab's hub, or the leader's; nowhere while no leader is known. */
  private route(w: LogicalWatch): void {
    if (w.done || this.closed) return
    if (this.role === 'leader') this.hub?.subscribe(this.id, w.wid, w.ref, w.spec, (call) => this.deliver(w, call))
    else if (this.leaderId) this.post({ t: 'watch', to: this.leaderId, wid: w.wid, ref: w.ref, spec: w.spec })
  }

  private deliver(w: LogicalWatch, call: SinkCall): void {
    if (w.done || this.watches.get(w.wid) !== w) return
    switch (call.kind) {
      case 'ready':
        w.live = true
        return w.sink.ready({ resumed: call.resumed })
      case 'event':
        return w.sink.event(call.e)
      case 'reset':
        return w.sink.reset()
      case 'offline':
        w.live = false
        return w.sink.offline()
      case 'error':
        // The core closes this watch and opens another (or stops, if fatal).
        w.live = false
        w.done = true
        return w.sink.error(fromWire(call.err))
    }
  }

  /**
   * The leader changed (or this tab's part did): every live watch goes offline, every watch and read goes to the new
   * leader, and each watch's next `ready` (not resumed) makes the core read again what it missed.
   */
  private switchLeader(): void {
    for (const w of [...this.watches.values()]) {
      if (w.done) continue
      if (w.live) {
        w.live = false
        w.sink.offline()
      }
    }
    for (const w of [...this.watches.values()]) this.route(w)
    for (const [rid, r] of [...this.reads]) {
      if (this.role === 'leader') {
        this.reads.delete(rid)
        this.local(r.read).then(r.resolve, r.reject)
      } else if (this.leaderId) this.post({ t: 'read', to: this.leaderId, rid, read: r.read })
    }
  }

  private setRole(role: TabRole): void {
    if (this.role === role) return
    this.role = role
    try {
      this.options.onRoleChange?.(role)
    } catch (err) {
      console.error('[vue-observed] shareAcrossTabs.onRoleChange threw', err)
    }
  }

  private becomeLeader(): void {
    if (this.closed) return
    this.hub = new Hub(this.inner)
    this.leaderId = this.id
    this.leaderSince = Date.now()
    this.unansweredSince = null
    this.heard.clear()
    this.forgotten.clear()
    this.setRole('leader')
    try {
      this.options.onLeader?.()
    } catch (err) {
      console.error('[vue-observed] shareAcrossTabs.onLeader threw', err)
    }
    this.post({ t: 'beat', leader: true, since: this.leaderSince })
    this.switchLeader()
  }

  /** The lock was taken from this tab (it was found frozen): its hub closes, and it follows whoever leads now. */
  private becomeFollower(): void {
    if (this.closed) return
    this.hub?.dispose()
    this.hub = null
    this.leaderId = null
    this.leaderSince = 0
    this.setRole('follower')
    this.switchLeader()
    this.post({ t: 'beat', leader: false })
  }

  private tick(): void {
    if (this.closed) return
    if (this.role === 'leader') {
      // A follower that crashed without saying goodbye releases what it held after a long silence.
      const now = Date.now()
      for (const [tab, at] of this.heard) {
        if (now - at > DROP_SILENT_TAB) {
          this.heard.delete(tab)
          this.forgotten.add(tab)
          this.hub?.dropTab(tab)
        }
      }
      return
    }
    if (this.role === 'starting') this.setRole('follower')
    // Heartbeats a live leader answers at once (message tasks are not throttled in background tabs, timers are):
    // only beats left unanswered for `leaderTimeout` mean it is frozen or gone.
    if (this.unansweredSince !== null && Date.now() - this.unansweredSince > this.leaderTimeout) void this.takeOver()
    this.post({ t: 'beat', leader: false })
    if (this.unansweredSince === null) this.unansweredSince = Date.now()
  }

  private async takeOver(): Promise<void> {
    if (this.takingOver) return
    this.takingOver = true
    try {
      await this.lock.takeOver()
    } finally {
      this.takingOver = false
      this.unansweredSince = null
    }
  }

  private post(msg: Record<string, unknown> & { t: TabMessage['t'] }): void {
    if (this.closed) return
    try {
      this.channel.postMessage({ v: PROTOCOL_VERSION, from: this.id, ...msg })
    } catch (err) {
      // A value that cannot be cloned (a driver's cursor holding a function): the read fails rather than hangs.
      if (msg.t === 'answer') {
        this.channel.postMessage({ v: PROTOCOL_VERSION, from: this.id, t: 'answer', to: msg.to, rid: msg.rid, ok: false, err: toWire({ code: 'read_failed', message: String((err as Error)?.message ?? err) }) })
      }
    }
  }

  private receive(data: unknown): void {
    if (this.closed) return
    const msg = parseMessage(data)
    if (!msg || msg.from === this.id) return
    if (this.role === 'leader') return this.serve(msg)
    if (msg.t === 'beat' && msg.leader) {
      if (msg.from !== this.leaderId) {
        // A leader that took the lock before the one followed (a thawed tab that has not yet learnt it was replaced).
        if (this.leaderId !== null && msg.since! < this.leaderSince) return
        this.unansweredSince = null
        this.leaderId = msg.from
        this.leaderSince = msg.since!
        if (this.role === 'starting') this.setRole('follower')
        this.switchLeader()
        return
      }
      this.unansweredSince = null
      if (msg.resend === true && msg.to === this.id) {
        // The leader forgot this tab (it was silent too long): everything again.
        this.switchLeader()
      }
      return
    }
    if (msg.from !== this.leaderId || !('to' in msg) || msg.to !== this.id) return
    this.unansweredSince = null
    if (msg.t === 'sink') {
      const w = this.watches.get(msg.wid)
      if (w) this.deliver(w, msg.call)
    } else if (msg.t === 'answer') {
      const r = this.reads.get(msg.rid)
      if (!r) return
      this.reads.delete(msg.rid)
      if (msg.ok) r.resolve(msg.value)
      else r.reject(fromWire(msg.err!))
    }
  }

  /** The leader's side: serves followers' watches and reads with the hub. */
  private serve(msg: TabMessage): void {
    const hub = this.hub
    if (!hub) return
    const from = msg.from
    if (msg.t === 'bye') {
      this.heard.delete(from)
      hub.dropTab(from)
      return
    }
    this.heard.set(from, Date.now())
    if (msg.t === 'beat') {
      if (msg.leader) return // a leader that was stolen from and does not know yet: its lock says so soon
      // Answered at once: the follower's liveness check, and its way to learn who leads.
      // A tab forgotten after a long silence (a frozen tab that thawed) is asked to send its watches again.
      this.post({ t: 'beat', leader: true, since: this.leaderSince, ...(this.forgotten.has(from) ? { to: from, resend: true } : {}) })
      this.forgotten.delete(from)
      return
    }
    if (!('to' in msg) || msg.to !== this.id) return
    switch (msg.t) {
      case 'watch':
        hub.subscribe(from, msg.wid, msg.ref, msg.spec, (call) => this.post({ t: 'sink', to: from, wid: msg.wid, call }))
        return
      case 'unwatch':
        hub.unsubscribe(from, msg.wid)
        return
      case 'read':
        // A driver that throws at once (a refused argument) answers with its error, like one that rejects.
        Promise.resolve()
          .then(() => hub.read(msg.read))
          .then(
          (value) => this.post({ t: 'answer', to: from, rid: msg.rid, ok: true, value }),
          (err: unknown) => this.post({ t: 'answer', to: from, rid: msg.rid, ok: false, err: toWire(err as Error) }),
        )
        return
    }
  }
}
