/**
 * Shrinks a failing schedule (delta debugging over its steps, then its initial documents) to one that still fails,
 * for a regression test: `MINIMIZE=1 SEED=1234 TARGET=memory npx vitest run test/faults`.
 */
import { runSchedule, type RunResult } from './runner'
import type { Schedule } from './schedule'
import type { TargetFactory } from './target'

const fails = (r: RunResult) => r.divergences.length > 0 || r.leaks.length > 0 || r.errors.length > 0

/** Runs a schedule `tries` times; true if any run fails (timing-dependent failures may need a few). */
async function stillFails(factory: TargetFactory, schedule: Schedule, tries: number): Promise<boolean> {
  for (let i = 0; i < tries; i++) if (fails(await runSchedule(factory, schedule, { converge: Math.min(1500, factory.timing.converge) }))) return true
  return false
}

function without<T>(items: readonly T[], from: number, count: number): T[] {
  return [...items.slice(0, from), ...items.slice(from + count)]
}

/** The smallest schedule found that still fails, and how many runs it took. */
export async function minimize(factory: TargetFactory, schedule: Schedule, tries = 2): Promise<{ schedule: Schedule; runs: number }> {
  let runs = 0
  let current = schedule
  const attempt = async (candidate: Schedule) => {
    runs++
    if (await stillFails(factory, candidate, tries)) {
      current = candidate
      return true
    }
    return false
  }
  for (let chunk = Math.max(1, current.steps.length >> 1); chunk >= 1; chunk >>= 1) {
    for (let from = 0; from < current.steps.length; ) {
      if (!(await attempt({ ...current, steps: without(current.steps, from, chunk) }))) from += chunk
    }
  }
  for (let i = 0; i < current.initial.length; ) {
    if (!(await attempt({ ...current, initial: without(current.initial, i, 1) }))) i++
  }
  return { schedule: current, runs }
}
