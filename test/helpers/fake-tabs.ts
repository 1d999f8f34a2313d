/**
 * In-process stand-ins for what tabs of one browser share: BroadcastChannel (structured clones, delivered as tasks
 * to every other open channel of the name) and the Web Locks API (request with ifAvailable, steal and signal; a
 * closed tab's locks are released and its queued requests dropped). A tab can be frozen (it posts nothing, and what
 * is posted to it waits until it thaws, as a frozen page's tasks do) and closed. `inject` posts anything on a
 * channel, as a foreign script of the origin could.
 */
import type { Driver, Watch, WatchSink } from '../../src/core'
import type { ChannelLike, TabsEnv } from '../../src/core/tabs/shared-driver'

interface LockRequest {
  readonly tab: FakeTab
  readonly name: string
  readonly callback: (lock: unknown) => Promise<unknown>
  resolve(value: unknown): void
  reject(err: unknown): void
  settled: boolean
}

const abortError = () => Object.assign(new Error('The request was aborted'), { name: 'AbortError' })

export class FakeBrowser {
  readonly channels = new Map<string, Set<FakeChannel>>()
  private readonly held = new Map<string, LockRequest>()
  private readonly queues = new Map<string, LockRequest[]>()
  /** Messages posted, by type (`t`), for assertions. */
  readonly posted = new Map<string, number>()

  tab(): FakeTab {
    return new FakeTab(this)
  }

  /** Posts `data` on channel `name` as a foreign script would (to every open channel of that name). */
  inject(name: string, data: unknown): void {
    for (const ch of this.channels.get(name) ?? []) ch.deliver(data)
  }

  /** The channel names in use. */
  names(): string[] {
    return [...this.channels.keys()].filter((n) => this.channels.get(n)!.size > 0)
  }

  request(tab: FakeTab, name: string, options: { ifAvailable?: boolean; steal?: boolean; signal?: AbortSignal }, callback: (lock: unknown) => Promise<unknown>): Promise<unknown> {
    return new Promise((resolve, reject) => {
      if (options.signal?.aborted) return reject(abortError())
      const req: LockRequest = { tab, name, callback, resolve, reject, settled: false }
      const queue = this.queues.get(name) ?? []
      this.queues.set(name, queue)
      if (options.steal) {
        const holder = this.held.get(name)
        if (holder) {
          this.held.delete(name)
          holder.settled = true
          holder.tab.run(() => holder.reject(abortError()))
        }
        this.grant(req)
        return
      }
      if (options.ifAvailable && (this.held.has(name) || queue.length > 0)) {
        Promise.resolve(callback(null)).then(resolve, reject)
        return
      }
      queue.push(req)
      options.signal?.addEventListener('abort', () => {
        const i = queue.indexOf(req)
        if (i >= 0) {
          queue.splice(i, 1)
          reject(abortError())
        }
      })
      this.pump(name)
    })
  }

  private pump(name: string): void {
    if (this.held.has(name)) return
    const queue = this.queues.get(name) ?? []
    const next = queue.shift()
    if (next) this.grant(next)
  }

  private grant(req: LockRequest): void {
    this.held.set(req.name, req)
    const done = (ok: boolean, value: unknown) => {
      if (this.held.get(req.name) === req) this.held.delete(req.name)
      if (!req.settled) {
        req.settled = true
        if (ok) req.resolve(value)
        else req.reject(value)
      }
      this.pump(req.name)
    }
    req.tab.run(() => {
      Promise.resolve(req.callback({ name: req.name })).then(
        (v) => done(true, v),
        (e) => done(false, e),
      )
    })
  }

  /** A closed tab: its locks go to the next in line, its queued requests are dropped. */
  release(tab: FakeTab): void {
    for (const [name, queue] of this.queues) this.queues.set(name, queue.filter((r) => r.tab !== tab))
    for (const [name, req] of [...this.held]) {
      if (req.tab !== tab) continue
      req.settled = true
      this.held.delete(name)
      this.pump(name)
    }
  }

  /** Who holds lock `name` (a tab), if anyone. */
  holder(name: string): FakeTab | undefined {
    return this.held.get(name)?.tab
  }
}

export class FakeTab {
  frozen = false
  closed = false
  private backlog: Array<() => void> = []
  readonly env: TabsEnv

  constructor(readonly browser: FakeBrowser) {
    const tab = this
    this.env = {
      BroadcastChannel: class extends FakeChannel {
        constructor(name: string) {
          super(tab, name)
        }
      },
      locks: { request: (name, options, callback) => browser.request(tab, name, options, callback) },
    }
  }

  /** Runs `task` as this tab's task: later if frozen, never if closed. */
  run(task: () => void): void {
    if (this.closed) return
    if (this.frozen) this.backlog.push(task)
    else task()
  }

  freeze(): void {
    this.frozen = true
  }

  thaw(): void {
    this.frozen = false
    const tasks = this.backlog
    this.backlog = []
    for (const t of tasks) t()
  }

  /** The tab is closed: its channels stop, its locks are released. Its page's code runs no more. */
  close(): void {
    this.closed = true
    this.backlog = []
    for (const set of this.browser.channels.values()) for (const ch of [...set]) if (ch.tab === this) ch.close()
    this.browser.release(this)
  }
}

export class FakeChannel implements ChannelLike {
  onmessage: ((ev: { data: unknown }) => void) | null = null
  private open = true

  constructor(
    readonly tab: FakeTab,
    readonly name: string,
  ) {
    const set = this.tab.browser.channels.get(name) ?? new Set()
    this.tab.browser.channels.set(name, set)
    set.add(this)
  }

  postMessage(data: unknown): void {
    if (!this.open || this.tab.closed || this.tab.frozen) return
    const t = (data as { t?: unknown })?.t
    if (typeof t === 'string') this.tab.browser.posted.set(t, (this.tab.browser.posted.get(t) ?? 0) + 1)
    const clone = structuredClone(data)
    for (const ch of this.tab.browser.channels.get(this.name) ?? []) if (ch !== this) ch.deliver(clone)
  }

  /** Queued as a task of the receiving tab. */
  deliver(data: unknown): void {
    setTimeout(() => {
      if (!this.open) return
      this.tab.run(() => this.open && this.onmessage?.({ data }))
    }, 0)
  }

  close(): void {
    this.open = false
    this.tab.browser.channels.get(this.name)?.delete(this)
  }
}

/**
 * A tab's own instance of a driver over a shared backend (what a tab's own SDK client is): it counts the watches it
 * opens and the reads it makes, and `cut()` closes its watches, as a closed tab's connections are.
 */
export function tabDriver(backend: Driver) {
  const open = new Set<Watch>()
  const stats = { watchesOpened: 0, reads: 0 }
  const driver: Driver = {
    name: backend.name,
    get: (c, id) => (stats.reads++, backend.get(c, id)),
    mGet: (c, ids) => (stats.reads++, backend.mGet(c, ids)),
    search: (c, spec, page) => (stats.reads++, backend.search(c, spec, page)),
    queryKey: backend.queryKey ? (spec) => backend.queryKey!(spec) : undefined,
    watch(c, spec, sink: WatchSink): Watch {
      stats.watchesOpened++
      const inner = backend.watch(c, spec, sink)
      const w: Watch = {
        close() {
          open.delete(w)
          inner.close()
        },
      }
      open.add(w)
      return w
    },
  }
  return {
    driver,
    stats,
    get openWatches() {
      return open.size
    },
    cut() {
      for (const w of [...open]) w.close()
    },
  }
}
