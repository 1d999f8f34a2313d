/**
 * The memory driver's sorted lists and counts (src/drivers/memory/indexes.ts) give what reading every document gives:
 * random writes (creations, updates that move documents, replaces, deletions, seeding) checked after each one
 * against the stored documents filtered, sorted and sliced by hand.
 */
import { describe, expect, it } from 'vitest'
import { comparator, normalizeSort } from '../../src/core/sort'
import { memoryDriver } from '../../src/drivers/memory'
import { mulberry32 } from '../../src/drivers/memory/random'

const ref = { index: 'i', collection: 'c' }
const queries = [
  { query: { equals: { g: 'a' } }, sort: normalizeSort([{ n: 'desc' }]) },
  { query: { range: { n: { gte: 10 } } }, sort: normalizeSort('n') },
  { sort: normalizeSort(['g', { n: 'desc' }]) },
]

describe('memory driver indexes', () => {
  it('a window and a count from the kept lists equal a full read, through 600 random writes', async () => {
    const driver = memoryDriver()
    const random = mulberry32(42)
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)]
    const ids = Array.from({ length: 40 }, (_, i) => `d${i}`)
    driver.seed('i', 'c', ids.slice(0, 20).map((id) => ({ _id: id, _source: { n: Math.floor(random() * 30), g: pick(['a', 'b']) } })))
    let indexed = 0
    for (let step = 0; step < 600; step++) {
      const id = pick(ids)
      const exists = driver.snapshot('i', 'c').some((d) => d._id === id)
      const op = random()
      const body = { n: Math.floor(random() * 30), g: pick(['a', 'b', 'c']) }
      if (!exists) await driver.createOrReplace('i', 'c', id, body)
      else if (op < 0.4) await driver.update('i', 'c', id, { n: body.n })
      else if (op < 0.7) await driver.replace('i', 'c', id, body)
      else if (op < 0.98) await driver.delete('i', 'c', id)
      else driver.seed('i', 'c', [{ _id: `s${step}`, _source: body }])
      const stored = driver.snapshot<{ n: number; g: string }>('i', 'c')
      for (const spec of queries) {
        const size = 1 + Math.floor(random() * 8)
        const from = Math.floor(random() * 3)
        const q = spec.query as { equals?: { g: string }; range?: { n: { gte: number } } } | undefined
        const match = (d: (typeof stored)[number]) =>
          q?.equals ? d._source.g === q.equals.g : q?.range ? d._source.n >= q.range.n.gte : true
        const expected = stored.filter(match).sort(comparator(spec.sort))
        const page = await driver.search(ref, spec, { from, size })
        expect(page.hits.map((h) => h._id)).toEqual(expected.slice(from, from + size).map((d) => d._id))
        expect(page.hits.map((h) => h._source)).toEqual(expected.slice(from, from + size).map((d) => d._source))
        expect(page.total).toBe(expected.length)
        expect((await driver.search(ref, spec, { from: 0, size: 0 })).total).toBe(expected.length)
        indexed++
      }
    }
    expect(indexed).toBe(1800)
  })
})
