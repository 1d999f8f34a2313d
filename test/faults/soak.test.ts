/**
 * The soak (`npm run soak`): thousands of schedules per target (SCHEDULES per target, 1,000 by default; seeds from
 * 100,000 unless SEED_BASE), then one table of schedules run, faults injected, divergences and leaks. Runs only
 * under SOAK=1; `npm test` runs the bounded batches of memory/kuzzle/sanity.test.ts instead.
 */
import { describe, expect, it } from 'vitest'
import { env, runBatch, runs, seedsFor, type BatchReport } from './batch'
import type { TargetFactory } from './target'
import { kuzzleTarget } from './target-kuzzle'
import { memoryTarget } from './target-memory'
import { sanityTarget } from './target-sanity'

const targets: ReadonlyArray<readonly [TargetFactory, number]> = [
  [memoryTarget, 4],
  [kuzzleTarget, 6],
  [sanityTarget, 6],
]

function table(reports: readonly BatchReport[]): string {
  const rows = [
    ['target', 'schedules', 'faults injected', 'writes', 'divergences', 'leaks', 'errors', 'time'],
    ...reports.map((r) => [
      r.target,
      String(r.schedules),
      String(r.faults),
      String(r.writes),
      String(r.divergent.length),
      String(r.leaking.length),
      String(r.failed.length),
      `${(r.ms / 1000).toFixed(0)} s`,
    ]),
  ]
  const total = (k: 'schedules' | 'faults' | 'writes') => reports.reduce((n, r) => n + r[k], 0)
  const count = (k: 'divergent' | 'leaking' | 'failed') => reports.reduce((n, r) => n + r[k].length, 0)
  rows.push([
    'total',
    String(total('schedules')),
    String(total('faults')),
    String(total('writes')),
    String(count('divergent')),
    String(count('leaking')),
    String(count('failed')),
    `${(reports.reduce((n, r) => n + r.ms, 0) / 1000).toFixed(0)} s`,
  ])
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)))
  return rows.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ')).join('\n')
}

describe.runIf(env.soak)('soak', () => {
  it('thousands of random schedules per target converge and leave nothing behind', { timeout: 6 * 3_600_000 }, async () => {
    const reports: BatchReport[] = []
    for (const [factory, concurrency] of targets) {
      if (!runs(factory.name)) continue
      const report = await runBatch(factory, seedsFor(1000), env.concurrency ?? concurrency)
      console.log(report.summary)
      reports.push(report)
    }
    console.log(`\n[soak]\n${table(reports)}`)
    const details = reports.map((r) => r.details).filter(Boolean).join('\n')
    if (details) console.log(details)
    expect(reports.flatMap((r) => [...r.divergent, ...r.leaking, ...r.failed].map((x) => `${r.target} ${x.seed}`)), details).toEqual([])
  })
})
