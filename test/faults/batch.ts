/**
 * Runs many schedules of one target and reports them: the CI batch (`npm test`), a replay (`SEED=...`) and the
 * soak (`npm run soak`). Environment:
 *
 * - `TARGET=memory|kuzzle|sanity`: only that target runs.
 * - `SEED=1234` (or `1,2,3`): only those schedules, one at a time, with a step trace printed on failure.
 * - `SCHEDULES=n`: schedules per target (default: the CI count, or 1,000 per target under `SOAK=1`).
 * - `SEED_BASE=n`: first seed of a batch (default 1; 100,000 under `SOAK=1`, so the soak explores other seeds).
 * - `CONCURRENCY=n`: schedules run at once per target (each has its own backend and clients).
 * - `MINIMIZE=1` with `SEED=n`: shrinks that failing schedule and prints it as JSON (for a regression test).
 */
import { AsyncLocalStorage } from 'node:async_hooks'
import { runSchedule, replayCommand, type RunResult } from './runner'
import { generateSchedule, type Schedule, type TargetName } from './schedule'
import type { TargetFactory } from './target'

export const env = {
  target: process.env.TARGET as TargetName | undefined,
  seeds: process.env.SEED ? process.env.SEED.split(',').map((s) => Number(s.trim())) : undefined,
  soak: process.env.SOAK === '1',
  schedules: process.env.SCHEDULES ? Number(process.env.SCHEDULES) : undefined,
  seedBase: process.env.SEED_BASE ? Number(process.env.SEED_BASE) : undefined,
  concurrency: process.env.CONCURRENCY ? Number(process.env.CONCURRENCY) : undefined,
  minimize: process.env.MINIMIZE === '1',
}

/** Whether a target's suite runs under the current environment. */
export function runs(name: TargetName): boolean {
  return env.target === undefined || env.target === name
}

/** Seeds a target's batch runs. */
export function seedsFor(ciCount: number): number[] {
  if (env.seeds) return env.seeds
  const count = env.schedules ?? (env.soak ? 1000 : ciCount)
  const base = env.seedBase ?? (env.soak ? 100_000 : 1)
  return Array.from({ length: count }, (_, i) => base + i)
}

/** What a batch found. */
export interface BatchReport {
  readonly target: string
  readonly schedules: number
  readonly faults: number
  readonly writes: number
  readonly divergent: RunResult[]
  readonly leaking: RunResult[]
  readonly failed: RunResult[]
  readonly ms: number
  /** One line of figures, and a block per failing schedule with its replay command. */
  readonly summary: string
  readonly details: string
}

/** Runs schedules of `factory` for `seeds`, `concurrency` at a time. */
export async function runBatch(factory: TargetFactory, seeds: readonly number[], concurrency: number): Promise<BatchReport> {
  const started = performance.now()
  const trace = env.seeds !== undefined || process.env.TRACE === '1'
  const results: RunResult[] = []
  // A rejection nobody handles (the library threw inside a callback: a search then stops short) is an error of the
  // schedule that caused it: each schedule runs in its own async context, which the handler sees.
  const running = new AsyncLocalStorage<number>()
  const unhandled = new Map<number, string[]>()
  const onUnhandled = (reason: unknown) => {
    const seed = running.getStore()
    if (seed === undefined) return
    const list = unhandled.get(seed) ?? []
    list.push(`unhandled rejection: ${(reason as Error)?.stack ?? reason}`)
    unhandled.set(seed, list)
  }
  process.on('unhandledRejection', onUnhandled)
  let next = 0
  const worker = async () => {
    while (next < seeds.length) {
      const seed = seeds[next++]
      const schedule: Schedule = generateSchedule(seed, factory.profile)
      results.push(await running.run(seed, () => runSchedule(factory, schedule, { trace })))
    }
  }
  try {
    await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, seeds.length)) }, worker))
    await new Promise((resolve) => setTimeout(resolve, 0))
  } finally {
    process.off('unhandledRejection', onUnhandled)
  }
  for (const [i, r] of results.entries()) {
    const errors = unhandled.get(r.seed)
    if (errors) results[i] = { ...r, errors: [...r.errors, ...errors] }
  }
  results.sort((a, b) => a.seed - b.seed)
  return report(factory.name, results, performance.now() - started)
}

/** Formats a batch's results. */
export function report(target: string, results: readonly RunResult[], ms: number): BatchReport {
  const divergent = results.filter((r) => r.divergences.length)
  const leaking = results.filter((r) => r.leaks.length)
  const failed = results.filter((r) => r.errors.length)
  const faults = results.reduce((n, r) => n + r.faults, 0)
  const writes = results.reduce((n, r) => n + r.writes, 0)
  const summary =
    `[faults] ${target}: ${results.length} schedules, ${faults} faults injected, ${writes} writes, ` +
    `divergences ${divergent.length}, leaks ${leaking.length}, errors ${failed.length}, ${(ms / 1000).toFixed(1)} s`
  const bad = [...new Set([...divergent, ...leaking, ...failed])].sort((a, b) => a.seed - b.seed)
  const details = bad
    .map((r) =>
      [
        `seed ${r.seed} (${r.steps} steps, ${r.faults} faults): replay with  ${replayCommand(target, r.seed)}`,
        ...r.divergences.slice(0, 8).map((d) => `  divergence: ${d}`),
        ...r.leaks.map((d) => `  leak: ${d}`),
        ...r.errors.map((d) => `  error: ${d}`),
        ...(r.trace.length ? ['  trace:', ...r.trace.map((l) => `    ${l}`)] : []),
      ].join('\n'),
    )
    .join('\n')
  return { target, schedules: results.length, faults, writes, divergent, leaking, failed, ms, summary, details }
}
