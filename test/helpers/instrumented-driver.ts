/**
 * A memory driver seen through a window: it counts reads, records every watch (its spec, its sink and the events
 * that reached it), can hold reads at a gate (their snapshot is taken at call time, their answer waits for
 * `releaseReads()`), and can take event delivery away from the memory driver so a test pushes events itself, in the
 * order it wants.
 */
import type { CollectionRef, Doc, DocEvent, Driver, DriverSearchSpec, Page, PageRequest, Watch, WatchSink, WatchSpec } from '../../src/core'
import type { MemoryDriver } from '../../src/drivers/memory'

/** One watch the core opened, as the test sees it. */
export interface RecordedWatch {
  readonly spec: WatchSpec
  /** The core's sink: calling it is what a driver does. */
  readonly sink: WatchSink
  /** Events the sink received (from the memory driver or from `push`). */
  readonly events: DocEvent[]
  ready: boolean
  closed: boolean
}

/** What {@link instrument} returns: a driver for the core, plus the test's handles. */
export interface InstrumentedDriver extends Driver {
  readonly inner: MemoryDriver
  /** Every read made, in order. */
  readonly reads: Array<{ op: 'get' | 'mGet' | 'search'; ids?: readonly string[] }>
  /** Every watch opened, in order (closed ones included). */
  readonly watches: RecordedWatch[]
  /** While true, the memory driver's events are dropped before the core sees them: use `push`. */
  manualEvents: boolean
  /** While true, reads wait for `releaseReads()` (their content is read when they are called). */
  holdReads: boolean
  /** Reads waiting at the gate. */
  readonly pendingReads: number
  /** Lets every read waiting at the gate answer. */
  releaseReads(): void
  /** Delivers an event to every open, ready id watch that follows `e.id` (and every open, ready query watch). */
  push(e: DocEvent): number
  /** Open (not closed) recorded watches. */
  openWatches(): RecordedWatch[]
}

/** Wraps a memory driver; the core talks to the wrapper. */
export function instrument(inner: MemoryDriver, options: { maxIdsPerWatch?: number } = {}): InstrumentedDriver {
  const gate: Array<() => void> = []
  const held = async <T>(value: T): Promise<T> => {
    if (!driver.holdReads) return value
    await new Promise<void>((resolve) => gate.push(resolve))
    return value
  }
  const driver: InstrumentedDriver = {
    name: 'instrumented-memory',
    maxIdsPerWatch: options.maxIdsPerWatch ?? inner.maxIdsPerWatch,
    inner,
    reads: [],
    watches: [],
    manualEvents: false,
    holdReads: false,
    get pendingReads() {
      return gate.length
    },
    releaseReads() {
      for (const r of gate.splice(0)) r()
    },
    async get(c: CollectionRef, id: string): Promise<Doc | null> {
      driver.reads.push({ op: 'get', ids: [id] })
      return held(await inner.get(c, id))
    },
    async mGet(c: CollectionRef, ids: readonly string[]): Promise<Doc[]> {
      driver.reads.push({ op: 'mGet', ids: [...ids] })
      return held(await inner.mGet(c, ids))
    },
    async search(c: CollectionRef, spec: DriverSearchSpec, page: PageRequest): Promise<Page> {
      driver.reads.push({ op: 'search' })
      return held(await inner.search(c, spec, page))
    },
    queryKey: (spec) => inner.queryKey(spec),
    watch(c: CollectionRef, spec: WatchSpec, sink: WatchSink): Watch {
      const rec: RecordedWatch = { spec, sink, events: [], ready: false, closed: false }
      driver.watches.push(rec)
      const proxy: WatchSink = {
        ready: (info) => {
          rec.ready = true
          sink.ready(info)
        },
        event: (e) => {
          if (driver.manualEvents) return
          rec.events.push(e)
          sink.event(e)
        },
        reset: () => sink.reset(),
        offline: () => sink.offline(),
        error: (err) => sink.error(err),
      }
      const w = inner.watch(c, spec, proxy)
      return {
        update: async (next: WatchSpec) => {
          await w.update(next)
          ;(rec as { spec: WatchSpec }).spec = next
        },
        close: () => {
          rec.closed = true
          w.close()
        },
      }
    },
    push(e: DocEvent): number {
      let n = 0
      for (const rec of driver.openWatches()) {
        if (!rec.ready) continue
        if ('ids' in rec.spec && !rec.spec.ids.includes(e.id)) continue
        rec.events.push(e)
        rec.sink.event(e)
        n++
      }
      return n
    },
    openWatches() {
      return driver.watches.filter((w) => !w.closed)
    },
  }
  return driver
}

/**
 * Routes every event the memory driver's watches deliver through `route`, which delivers it (changed, later, or
 * not at all) with `deliver`; the rest of each sink is untouched.
 */
export function routeEvents(driver: MemoryDriver, route: (e: DocEvent, deliver: (e: DocEvent) => void, spec: WatchSpec) => void): void {
  const watch = driver.watch.bind(driver)
  driver.watch = (ref, spec, sink) =>
    watch(ref, spec, {
      ready: (info) => sink.ready(info),
      event: (e) => route(e, (next) => sink.event(next), spec),
      reset: () => sink.reset(),
      offline: () => sink.offline(),
      error: (err) => sink.error(err),
    })
}
