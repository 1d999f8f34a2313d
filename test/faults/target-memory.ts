/**
 * The memory driver as a fault target: its own fault knobs (delay, reorder, duplicate, drop, failed reads and watch
 * opens, missed events, a cut link, failed watches), silent writes through `seed()`, and sharding through a small
 * `maxIdsPerWatch`.
 */
import { normalizeSort } from '../../src/core/sort'
import type { DocSource } from '../../src/core/types'
import { memoryDriver } from '../../src/drivers/memory'
import type { MemoryFilter } from '../../src/drivers/memory'
import { byId } from './runner'
import type { FaultStep, ScheduleProfile, WriteOp } from './schedule'
import { plain, touched, type AbstractQuery, type Target, type TargetFactory } from './target'

const I = 'faults'
const C = 'docs'

function filterOf(q: AbstractQuery): MemoryFilter | undefined {
  const w = q.where
  if (w === 'all') return undefined
  if ('g' in w) return { equals: { g: w.g } }
  if ('nGte' in w) return { range: { n: { gte: w.nGte } } }
  return { in: { g: [...w.gIn] } }
}

const profile: ScheduleProfile = {
  target: 'memory',
  writers: 2,
  silentWriters: [1],
  steps: [30, 90],
  queries: 5,
  maxWait: 15,
  faults: [
    [3, (rng) => ({ t: 'fault', f: 'delay', n: rng.pick([0, 3, 12]) })],
    [3, (rng) => ({ t: 'fault', f: 'reorder', n: rng.pick([0, 0.2, 0.5]) })],
    [2, (rng) => ({ t: 'fault', f: 'duplicate', n: rng.pick([0, 0.2, 0.5]) })],
    [2, (rng) => ({ t: 'fault', f: 'drop', n: rng.pick([0, 0.1, 0.3]) })],
    [1, (rng) => ({ t: 'fault', f: 'failReads', n: rng.int(1, 3) })],
    [1, (rng) => ({ t: 'fault', f: 'failWatchOpens', n: rng.int(1, 2) })],
    [2, () => ({ t: 'fault', f: 'missEvents' })],
    [
      2,
      (_rng, state) => {
        state.down = !state.down
        return { t: 'fault', f: state.down ? 'disconnect' : 'reconnect' }
      },
    ],
    [1, () => ({ t: 'fault', f: 'failWatches' })],
    [1, () => ({ t: 'fault', f: 'calm' })],
  ],
}

export const memoryTarget: TargetFactory = {
  name: 'memory',
  profile,
  timing: { converge: 4000, settle: 60, leak: 2000 },
  async create(schedule, rng) {
    const driver = memoryDriver({
      seed: rng.int(1, 2 ** 30),
      maxIdsPerWatch: rng.pick([undefined, 2, 3]),
      latency: rng.pick([0, 0, 1, 3]),
    })
    driver.faults.reorderWindow = 10
    driver.seed(I, C, schedule.initial.map(({ id, body }) => ({ _id: id, _source: plain(body) })))
    const unrevealed = new Set<string>()
    let dropEpoch = 0

    const writeOne = async (w: WriteOp, silent: boolean): Promise<unknown> => {
      if (silent && (w.op === 'create' || w.op === 'createOrReplace' || w.op === 'replace')) {
        // seed() stores without notifying anyone: a missed event.
        driver.seed(I, C, [{ _id: w.id, _source: plain(w.body) }])
        unrevealed.add(w.id)
        return
      }
      switch (w.op) {
        case 'create':
          return driver.create(I, C, plain(w.body), w.id)
        case 'createOrReplace':
          return driver.createOrReplace(I, C, w.id, plain(w.body))
        case 'replace':
          return driver.replace(I, C, w.id, plain(w.body))
        case 'update':
          return driver.update(I, C, w.id, plain(w.patch))
        case 'delete':
          return driver.delete(I, C, w.id)
        case 'pair':
          return Promise.all([writeOne(w.a, silent), writeOne(w.b, silent)])
      }
    }

    const target: Target = {
      name: 'memory',
      ref: { index: I, collection: C },
      driver,
      clientOptions: { gapTimeout: 30, releaseDelay: 5, backoff: { base: 5, cap: 100 } },
      spec: (q) => ({ query: filterOf(q), sort: q.sort }),
      async write(_by, w, silent) {
        // An event may be dropped if `drop` is on at any time between the call and the commit.
        const epoch = dropEpoch
        const dropping = driver.faults.drop > 0
        try {
          return await writeOne(w, silent)
        } finally {
          if (dropping || epoch !== dropEpoch || driver.faults.drop > 0) for (const id of touched(w)) unrevealed.add(id)
        }
      },
      async fault(step: FaultStep) {
        const f = driver.faults
        const n = step.n ?? 0
        switch (step.f) {
          case 'delay':
            f.delay = n > 0 ? [0, n] : 0
            return
          case 'reorder':
            f.reorder = n
            return
          case 'duplicate':
            f.duplicate = n
            return
          case 'drop':
            f.drop = n
            if (n > 0) dropEpoch++
            return
          case 'failReads':
            f.failReads = n
            return
          case 'failWatchOpens':
            f.failWatchOpens = n
            return
          case 'missEvents':
            f.missEvents()
            return
          case 'disconnect':
            f.disconnect()
            return
          case 'reconnect':
            f.reconnect()
            return
          case 'failWatches':
            f.failWatches()
            return
          case 'calm':
            f.delay = 0
            f.reorder = f.duplicate = f.drop = 0
            return
          default:
            throw new Error(`memory target: unknown fault ${step.f}`)
        }
      },
      async heal() {
        driver.faults.reset()
      },
      unrevealed,
      async stored() {
        return byId(driver.snapshot(I, C)) as Map<string, DocSource>
      },
      async search(q) {
        const page = await driver.search({ index: I, collection: C }, { query: filterOf(q), sort: normalizeSort(q.sort) }, { from: 0, size: 10_000 })
        return page.hits
      },
      async leaks() {
        return driver.activeWatches ? [`memory driver still has ${driver.activeWatches} open watch(es): ${JSON.stringify(driver.watchStats())}`] : []
      },
      async close() {
        driver.faults.reset()
      },
    }
    return target
  },
}
