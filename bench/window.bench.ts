/**
 * 7. The memory driver as an embedded backend that scales (issue 23): a sorted window of 50 and a count over
 * 100,000 documents (the first search of a sort selects the top k; later ones walk the list kept in that order, and
 * a query's count is kept and moved by each write: src/drivers/memory/indexes.ts). Baseline: what the driver did before, filtering every document, sorting every match, then
 * slicing the window, on the same documents in the same process, interleaved over rounds.
 */
import { comparator } from '../src/core/sort'
import type { SortKey } from '../src/core/types'
import { memoryDriver } from '../src/drivers/memory'
import { log, median, ms, report, times } from './lib/report'

const N = 100_000
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7)
const docs = Array.from({ length: N }, (_, n) => ({ _id: `d${n}`, _source: { fare: (n * 7919) % 10_007, status: n % 3 ? 'hired' : 'free' } }))
const driver = memoryDriver({ latency: 0 })
driver.seed('i', 'c', docs)
const ref = { index: 'i', collection: 'c' }
const sort: SortKey[] = [{ field: 'fare', order: 'desc' }]
const query = { equals: { status: 'hired' } }

/** The old way: every match sorted, then the window sliced. */
function fullSort(size: number) {
  const matches = docs.filter((d) => d._source.status === 'hired')
  matches.sort(comparator(sort))
  return { hits: matches.slice(0, size), total: matches.length }
}

const rows = { window: [] as number[], count: [] as number[], baseline: [] as number[] }
for (let round = 0; round < ROUNDS; round++) {
  let t = performance.now()
  const page = await driver.search(ref, { query, sort }, { from: 0, size: 50 })
  rows.window.push(performance.now() - t)
  t = performance.now()
  await driver.search(ref, { query, sort }, { from: 0, size: 0 })
  rows.count.push(performance.now() - t)
  t = performance.now()
  const old = fullSort(50)
  rows.baseline.push(performance.now() - t)
  if (page.hits.map((h) => h._id).join() !== old.hits.map((h) => h._id).join() || page.total !== old.total) {
    throw new Error('the window differs from a full sort')
  }
}
log(`window: ${rows.window.map((v) => v.toFixed(1)).join(', ')} ms; full sort: ${rows.baseline.map((v) => v.toFixed(1)).join(', ')} ms`)
report({
  bench: 'window',
  measure: 'memory driver, 100,000 documents (66,667 match): a window of 50 sorted by a field',
  ours: ms(median(rows.window)),
  baseline: `${ms(median(rows.baseline))} (every match sorted, then sliced)`,
  ratio: `${times(median(rows.baseline) / median(rows.window))} faster`,
  target: '',
  met: null,
})
report({
  bench: 'window',
  measure: 'the same query counted (size 0: nothing kept, nothing sorted)',
  ours: ms(median(rows.count)),
  baseline: `${ms(median(rows.baseline))} (every match sorted)`,
  ratio: `${times(median(rows.baseline) / median(rows.count))} faster`,
  target: '',
  met: null,
})
