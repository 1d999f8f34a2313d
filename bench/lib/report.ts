/**
 * What a benchmark file reports: rows the runner (bench/run.mjs) collects into one table, plus small statistics
 * and waiting helpers shared by the benchmarks.
 */

/** One line of the final table. */
export interface Row {
  /** Benchmark group: "throughput", "fan-out", "memory", "latency", "outage", "size". */
  bench: string
  /** What is measured. */
  measure: string
  /** Our figure, formatted. */
  ours: string
  /** The baseline's figure, formatted ("" when the figure is absolute). */
  baseline: string
  /** Ours against the baseline, formatted (e.g. "73× faster", "1.21× the floor"). */
  ratio: string
  /** The target, if any. */
  target: string
  /** Whether the target is met: true, false, or null when there is no target. */
  met: boolean | null
}

const PREFIX = 'BENCH_ROW '

/** Prints a row for the runner (a JSON line on stdout). */
export function report(row: Row): void {
  process.stdout.write(`${PREFIX}${JSON.stringify(row)}\n`)
}

/** Progress for humans, on stderr so the runner can show it without parsing it. */
export function log(message: string): void {
  process.stderr.write(`  ${message}\n`)
}

export function median(values: readonly number[]): number {
  return quantile(values, 0.5)
}

/** Nearest-rank quantile (q in [0, 1]). */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return NaN
  const sorted = [...values].sort((a, b) => a - b)
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))
  return sorted[rank]
}

/** Formats milliseconds with sensible precision. */
export function ms(value: number): string {
  if (value >= 100) return `${value.toFixed(0)} ms`
  if (value >= 10) return `${value.toFixed(1)} ms`
  if (value >= 1) return `${value.toFixed(2)} ms`
  return `${(value * 1000).toFixed(0)} µs`
}

/** Formats bytes as B / kB (1 kB = 1000 B, as bundle size tools report). */
export function bytes(value: number): string {
  if (Math.abs(value) < 1000) return `${value.toFixed(0)} B`
  if (Math.abs(value) < 1_000_000) return `${(value / 1000).toFixed(2)} kB`
  return `${(value / 1_000_000).toFixed(2)} MB`
}

export function times(value: number): string {
  return value >= 10 ? `${value.toFixed(0)}×` : `${value.toFixed(2)}×`
}

/** Resolves on the next turn of the event loop (after pending timers' callbacks of this turn and I/O). */
export const tick = () => new Promise<void>((resolve) => setImmediate(resolve))

/**
 * Polls `condition` on every event-loop turn until it is true; rejects after `timeoutMs`. The benchmarks wait on
 * what the DOM shows, never on a fixed sleep.
 */
export async function until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = performance.now() + timeoutMs
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`bench: ${what} not reached within ${timeoutMs} ms`)
    await tick()
  }
}

/** Full garbage collection (the runner starts node with --expose-gc), twice to collect what finalizers freed. */
export async function collect(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc
  if (!gc) throw new Error('bench: run node with --expose-gc (npm run bench does)')
  for (let i = 0; i < 3; i++) {
    gc()
    await tick()
  }
}

/** A small seeded PRNG (the memory driver's mulberry32), so every variant of a round sees the same updates. */
export { mulberry32 as prng } from '../../src/drivers/memory/random'
