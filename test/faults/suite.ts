/**
 * The vitest body shared by the three targets' fault suites: a batch of schedules (or a replay, or a minimisation)
 * and its assertions.
 */
import { expect, it } from 'vitest'
import { env, runBatch, runs, seedsFor } from './batch'
import { minimize } from './minimize'
import { generateSchedule } from './schedule'
import type { TargetFactory } from './target'

/** Declares the batch test of a target: `schedules` in CI, `concurrency` at a time. */
export function batchSuite(factory: TargetFactory, ci: { schedules: number; concurrency: number; msPerSchedule?: number }): void {
  const seeds = seedsFor(ci.schedules)
  const timeout = 60_000 + seeds.length * (ci.msPerSchedule ?? 2_000)
  if (env.minimize && env.seeds) {
    it.runIf(runs(factory.name))(`minimises seed ${env.seeds[0]}`, { timeout: 3_600_000 }, async () => {
      const { schedule, runs: count } = await minimize(factory, generateSchedule(env.seeds![0], factory.profile))
      console.log(`[faults] ${factory.name} seed ${env.seeds![0]} minimised in ${count} runs to ${schedule.steps.length} steps:\n${JSON.stringify(schedule)}`)
    })
    return
  }
  // Under SOAK=1, soak.test.ts runs every target instead.
  it.runIf(runs(factory.name) && !env.soak)(`${seeds.length} random schedules converge and leave nothing behind`, { timeout }, async () => {
    const report = await runBatch(factory, seeds, env.concurrency ?? (env.seeds ? 1 : ci.concurrency))
    console.log(report.summary)
    expect(report.divergent.map((r) => r.seed), report.details).toEqual([])
    expect(report.leaking.map((r) => r.seed), report.details).toEqual([])
    expect(report.failed.map((r) => r.seed), report.details).toEqual([])
  })
}
