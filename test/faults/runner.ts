/**
 * Runs one fault schedule against a target through the core's ObserverClient, then checks promise 3 (convergence)
 * and promise 6 (clean stop): once the writers stopped and the backend is healthy again, every live observer equals
 * its stored document (or knows it is gone), every live search equals the backend's own result in order, and once
 * everything stops, no watch, subscription or listener is left.
 */
import { isDeepStrictEqual } from 'node:util'
import { ObserverClient } from '../../src/core/client'
import type { Observer } from '../../src/core/observer'
import type { ObserverSearchResult } from '../../src/core/search-result'
import type { Doc, DocSource, Driver } from '../../src/core/types'
import { ObservedError } from '../../src/core/types'
import { Rng } from './prng'
import type { Schedule, Step } from './schedule'
import { faultCount } from './schedule'
import { QUERIES, sleep, type AbstractQuery, type Target, type TargetFactory } from './target'

/** What one schedule did and found. */
export interface RunResult {
  readonly seed: number
  readonly target: string
  readonly steps: number
  readonly faults: number
  readonly writes: number
  readonly ms: number
  /** Observers or searches that did not converge (empty when all is well). */
  readonly divergences: string[]
  /** Watches, subscriptions or listeners left once everything stopped (empty when all is well). */
  readonly leaks: string[]
  /** A step that threw, or the target failing to heal. */
  readonly errors: string[]
  /** Step log with times (kept when `trace` is on). */
  readonly trace: string[]
}

export interface RunOptions {
  /** Log every step with its time, for replays. */
  trace?: boolean
  /** Shorter bounds than the target's (minimisation runs failing schedules many times). */
  converge?: number
}

type Slot =
  | { readonly kind: 'doc'; readonly observers: Observer[]; readonly label: string }
  | { readonly kind: 'search'; readonly result: ObserverSearchResult; readonly query: AbstractQuery; readonly label: string; readonly live: 'hits' | 'query'; readonly size: number }

const short = (v: unknown) => {
  const s = JSON.stringify(v)
  return s === undefined ? 'undefined' : s.length > 300 ? `${s.slice(0, 300)}…` : s
}

/** Runs a schedule; never throws (failures are in the result). */
export async function runSchedule(factory: TargetFactory, schedule: Schedule, options: RunOptions = {}): Promise<RunResult> {
  const started = performance.now()
  const trace: string[] = []
  const log = (line: string) => {
    if (options.trace) trace.push(`${(performance.now() - started).toFixed(1).padStart(8)}ms ${line}`)
  }
  const errors: string[] = []
  const divergences: string[] = []
  const leaks: string[] = []
  let writes = 0
  let target: Target | undefined
  let client: ObserverClient | undefined
  try {
    target = await factory.create(schedule, new Rng(schedule.seed ^ 0x5eed))
    const t = target
    const c = (client = new ObserverClient({ driver: options.trace ? traced(t.driver, log) : t.driver, ...t.clientOptions }))
    // The core's own decisions that are not the usual (an event applied in order): what a load-only trace lacked.
    if (options.trace) {
      c.onTrace((r) => {
        if (r.type === 'resync') log(`  core resync: ${r.reason}`)
        else if (r.type === 'decision' && r.decision !== 'applied') log(`  core ${r.decision} ${r.id} ${String(r.rev)} (after ${String(r.previousRev)})`)
      })
    }
    const { index: I, collection: C } = t.ref
    const slots = new Map<number, Slot>()
    const pending = new Set<Promise<unknown>>()

    const stopSlot = (slot: number) => {
      const s = slots.get(slot)
      if (!s) return
      if (s.kind === 'doc') for (const o of s.observers) o.stop()
      else s.result.stop()
    }
    const settle = async () => {
      while (pending.size) await Promise.allSettled([...pending])
    }
    const track = (p: Promise<unknown>) => {
      const tracked = p.then(
        () => undefined,
        () => undefined, // writes may fail (missing document, connection down): the oracle is the store
      )
      pending.add(tracked)
      void tracked.finally(() => pending.delete(tracked))
    }

    const exec = async (step: Step) => {
      switch (step.t) {
        case 'write':
          writes++
          track(t.write(step.by, step.w, step.silent === true))
          if (pending.size > 8) await settle()
          return
        case 'wait':
          await sleep(step.ms)
          return
        case 'settle':
          await settle()
          return
        case 'get':
          stopSlot(step.slot)
          slots.set(step.slot, { kind: 'doc', observers: [c.get(I, C, step.id)], label: `get(${step.id})` })
          if (options.trace) {
            const o = slots.get(step.slot)!.kind === 'doc' ? (slots.get(step.slot) as { observers: Observer[] }).observers[0] : undefined
            o?.on('status', (status) => log(`  slot ${step.slot} ${step.id} status ${status} ${JSON.stringify(o._source)}`))
            o?.on('change', (source) => log(`  slot ${step.slot} ${step.id} change ${JSON.stringify(source)}`))
          }
          return
        case 'mget':
          stopSlot(step.slot)
          slots.set(step.slot, { kind: 'doc', observers: c.mGet(I, C, [...step.ids]), label: `mGet(${step.ids.join(',')})` })
          return
        case 'search': {
          stopSlot(step.slot)
          const query = QUERIES[step.q]
          const result = c.search(I, C, t.spec(query), { size: step.size, live: step.live })
          if (options.trace) {
            result.on('hits', (hits) => log(`  slot ${step.slot} hits [${hits.map((h) => `${h._id}:${JSON.stringify(h._source)}`)}] total ${result.total}`))
            result.on('status', (status) => log(`  slot ${step.slot} status ${status}`))
          }
          slots.set(step.slot, { kind: 'search', result, query, live: step.live, size: step.size, label: `search(q${step.q}, ${step.live}, size ${step.size})` })
          return
        }
        case 'stop':
          stopSlot(step.slot)
          return
        case 'start': {
          const s = slots.get(step.slot)
          if (s?.kind === 'doc') for (const o of s.observers) o.start()
          else s?.result.start()
          return
        }
        case 'next': {
          const s = slots.get(step.slot)
          if (s?.kind === 'search') void s.result.next()
          return
        }
        case 'refresh': {
          const s = slots.get(step.slot)
          if (s?.kind === 'doc') for (const o of s.observers) void o.refresh()
          else if (s) void s.result.refresh()
          return
        }
        case 'local': {
          // Through the slot's first observer, if it is a started document observer: shown at once, then settled.
          const s = slots.get(step.slot)
          const o = s?.kind === 'doc' ? s.observers[0] : undefined
          if (!o?.isActive) return
          writes++
          const w = step.w
          const write = w.op === 'update' ? o.update(w.patch) : w.op === 'replace' ? o.replace({ ...w.body }) : o.remove()
          if (options.trace) log(`  slot ${step.slot} ${o._id} local ${w.op} shows ${JSON.stringify(o._source)}`)
          track(write)
          if (pending.size > 8) await settle()
          return
        }
        case 'fault':
          await t.fault(step)
      }
    }

    for (const [i, step] of schedule.steps.entries()) {
      log(`step ${i}: ${JSON.stringify(step)}`)
      try {
        await exec(step)
      } catch (err) {
        errors.push(`step ${i} ${JSON.stringify(step)} threw: ${(err as Error)?.stack ?? err}`)
      }
    }

    // The writers stop, the backend heals; lost events nothing would ever reveal get a later write.
    await settle()
    log('heal')
    await t.heal()
    for (const id of [...t.unrevealed]) {
      log(`closing write ${id}`)
      // A body every query matches: every watch that lost an event for this document hears of this one. It must
      // land: right after a server restart the SDK may post on a stale kept-alive socket and not retry.
      track(
        closingWrite(() => t.write(0, { op: 'createOrReplace', id, body: { n: 9, g: 'a', tag: 'closing', nested: { x: 5 } } }, false), log).catch(
          (err: unknown) => errors.push(`the closing write of ${id} never landed: ${(err as Error)?.message ?? err}`),
        ),
      )
    }
    t.unrevealed.clear()
    await settle()
    log('converging')

    const deadline = Date.now() + (options.converge ?? factory.timing.converge)
    let okSince: number | undefined
    let last: string[] = []
    for (;;) {
      // The oracle reads through the backend too: a read failing (a connection coming back) is tried again.
      last = await check(t, slots).catch((err: unknown) => [`the backend could not be read: ${(err as Error)?.message ?? err}`])
      const now = Date.now()
      if (last.length === 0) {
        okSince ??= now
        // Quiet for a while: a late stale event applied over the right content would show now.
        if (now - okSince >= factory.timing.settle) break
      } else okSince = undefined
      if (now >= deadline) break
      await sleep(10)
    }
    log(`converged: ${last.length === 0}`)
    divergences.push(...last)

    for (const slot of slots.keys()) stopSlot(slot)
    const leakDeadline = Date.now() + factory.timing.leak
    let found: string[] = []
    for (;;) {
      const stats = c.stats()
      found = []
      if (stats.idWatches || stats.queryWatches) found.push(`core still holds ${stats.idWatches} id watch(es) and ${stats.queryWatches} query watch(es)`)
      if (stats.documents) found.push(`core still holds ${stats.documents} document(s)`)
      found.push(...(await t.leaks()))
      if (found.length === 0 || Date.now() >= leakDeadline) break
      await sleep(10)
    }
    leaks.push(...found)
    log('stopped')
  } catch (err) {
    errors.push(`run threw: ${(err as Error)?.stack ?? err}`)
  } finally {
    try {
      client?.close()
      await target?.close()
    } catch (err) {
      errors.push(`teardown threw: ${(err as Error)?.stack ?? err}`)
    }
  }
  return {
    seed: schedule.seed,
    target: schedule.target,
    steps: schedule.steps.length,
    faults: faultCount(schedule),
    writes,
    ms: performance.now() - started,
    divergences,
    leaks,
    errors,
    trace,
  }
}

/** A write tried up to 20 times, 10 ms apart; the last failure is thrown. */
async function closingWrite(write: () => Promise<unknown>, log: (line: string) => void): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await write()
      return
    } catch (err) {
      log(`  closing write failed (attempt ${attempt}): ${(err as Error)?.message ?? err}`)
      if (attempt === 20) throw err
      await sleep(10)
    }
  }
}

let watchCount = 0

/** The driver, with every watch frame and read logged (trace mode). */
function traced(d: Driver, log: (line: string) => void): Driver {
  const brief = (v: unknown) => JSON.stringify(v, (k, x: unknown) => (k === 'doc' || k === '_source' ? undefined : x))
  return {
    name: d.name,
    maxIdsPerWatch: d.maxIdsPerWatch,
    maxIdsPerRead: d.maxIdsPerRead,
    checkId: d.checkId && ((id) => d.checkId!(id)),
    get: (c, id) => d.get(c, id),
    queryKey: d.queryKey && ((spec) => d.queryKey!(spec)),
    // A replay must behave as the run it replays: local writes and their placement in live searches go through.
    matcher: d.matcher && ((c, spec) => d.matcher!(c, spec)),
    async write(c, w) {
      if (!d.write) throw new ObservedError('write_failed', `The ${d.name} driver does not write`, { fatal: true })
      const answer = await d.write(c, w)
      log(`  write ${w.op} ${w.id} -> ${brief(answer)}`)
      return answer
    },
    async mGet(c, ids) {
      const docs = await d.mGet(c, ids)
      log(`  mGet ${ids} -> ${brief(docs.map((x) => [x._id, x._rev]))}`)
      return docs
    },
    async search(c, spec, page) {
      const r = await d.search(c, spec, page)
      log(`  search ${brief(spec.query)} ${page.from}+${page.size} -> ${brief(r.hits.map((x) => [x._id, x._rev]))} total ${r.total}`)
      return r
    },
    watch(c, spec, sink) {
      const name = `w${++watchCount} ${brief('ids' in spec ? spec.ids : spec.query.query)}`
      log(`  ${name} open`)
      const w = d.watch(c, spec, {
        ready: (info) => (log(`  ${name} ready ${brief(info)}`), sink.ready(info)),
        event: (e) => (log(`  ${name} event ${brief(e)}`), sink.event(e)),
        reset: () => (log(`  ${name} reset`), sink.reset()),
        offline: () => (log(`  ${name} offline`), sink.offline()),
        error: (err) => (log(`  ${name} error ${err.message}`), sink.error(err)),
      })
      return {
        update: w.update && ((next) => (log(`  ${name} update ${brief(next)}`), w.update!(next))),
        close: () => (log(`  ${name} close`), w.close()),
      }
    },
  }
}

/** Everything that differs from the backend now. */
async function check(t: Target, slots: Map<number, Slot>): Promise<string[]> {
  const out: string[] = []
  const stored = await t.stored()
  const searches = new Map<AbstractQuery, Promise<Doc[]>>()
  const search = (q: AbstractQuery) => {
    let p = searches.get(q)
    if (!p) searches.set(q, (p = t.search(q)))
    return p
  }
  const sameContent = (id: string, source: unknown): string | null => {
    const want = stored.get(id)
    if (!want) return `${id} is gone from the store but still shown: ${short(source)}`
    return isDeepStrictEqual(source, want) ? null : `${id} shows ${short(source)}, stored ${short(want)}`
  }
  for (const [slot, s] of [...slots].sort(([a], [b]) => a - b)) {
    const where = `slot ${slot} ${s.label}`
    if (s.kind === 'doc') {
      for (const o of s.observers) {
        if (!o.isActive) continue
        // Every local write has settled: nothing is shown that the server did not confirm.
        if (o.pending) out.push(`${where}: ${o._id} still has a local write pending`)
        const want = stored.get(o._id)
        if (!want) {
          if (o._source !== null || !o.deleted) out.push(`${where}: ${o._id} is gone from the store, observer is ${o.status} with ${short(o._source)}`)
        } else if (o.status !== 'live') {
          out.push(`${where}: ${o._id} is ${o.status}${o.error ? ` (${o.error.code}: ${o.error.message})` : ''}, stored ${short(want)}`)
        } else {
          const diff = sameContent(o._id, o._source)
          if (diff) out.push(`${where}: ${diff}`)
        }
      }
      continue
    }
    const r = s.result
    if (!r.isActive) continue
    if (r.status !== 'live') {
      out.push(`${where}: status ${r.status}${r.error ? ` (${r.error.code}: ${r.error.message})` : ''}`)
      continue
    }
    const ids = r.hits.map((h) => h._id)
    for (const h of r.hits) {
      const diff = sameContent(h._id, h._source)
      if (diff) out.push(`${where}: hit ${diff}`)
    }
    if (s.live === 'query') {
      const expected = (await search(s.query)).map((d) => d._id)
      const shown = expected.slice(0, Math.max(ids.length, Math.min(s.size, expected.length)))
      if (!isDeepStrictEqual(ids, shown)) out.push(`${where}: hits [${ids}], backend's first ${shown.length} [${shown}] of [${expected}]`)
      if (r.total !== expected.length) out.push(`${where}: total ${r.total}, backend ${expected.length}`)
    } else {
      // live: 'hits' follows the documents it returned: their order is the backend's order of those documents.
      const order = (await search({ where: 'all', sort: s.query.sort })).map((d) => d._id).filter((id) => ids.includes(id))
      if (!isDeepStrictEqual(ids, order)) out.push(`${where}: hits [${ids}] not in the backend's order [${order}]`)
    }
  }
  return out
}

/** The command that replays one schedule. */
export function replayCommand(target: string, seed: number): string {
  return `SEED=${seed} TARGET=${target} npx vitest run test/faults`
}

/** Stored sources keyed by id, for targets that read them as a list. */
export function byId(docs: ReadonlyArray<{ _id: string; _source: DocSource }>): Map<string, DocSource> {
  return new Map(docs.map((d) => [d._id, d._source]))
}
