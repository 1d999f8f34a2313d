// The memory driver's search keeps only the first `from + size` matches (a heap), not a sort of every match: the
// pages must be exactly those of a full sort, ties and missing fields included.
import { describe, expect, it } from 'vitest'
import { comparator } from '../../src/core/sort'
import type { SortKey } from '../../src/core/types'
import { memoryDriver } from '../../src/drivers/memory'
import { TopK } from '../../src/drivers/memory/top-k'
import { mulberry32 } from '../../src/drivers/memory/random'

describe('memory driver: windows without sorting every match', () => {
  it('TopK keeps exactly the first k of a full sort', () => {
    const random = mulberry32(7)
    for (let round = 0; round < 200; round++) {
      const items = Array.from({ length: Math.floor(random() * 60) }, () => Math.floor(random() * 10))
      const k = Math.floor(random() * 70)
      const top = new TopK<number>(k, (a, b) => a - b)
      for (const x of items) top.offer(x)
      expect(top.sorted()).toEqual([...items].sort((a, b) => a - b).slice(0, k))
    }
  })

  it('search pages equal the pages of a full sort, for any sort, page and filter', async () => {
    const random = mulberry32(11)
    const driver = memoryDriver()
    const docs = Array.from({ length: 400 }, (_, n) => ({
      _id: `d${String(n).padStart(3, '0')}`,
      // Few distinct values (ties broken by _id) and some missing fields (sorted last).
      _source: { a: Math.floor(random() * 5), ...(random() < 0.8 ? { b: Math.floor(random() * 7) } : {}), s: ['x', 'y', 'z'][n % 3] },
    }))
    driver.seed('i', 'c', docs)
    const sorts: SortKey[][] = [
      [],
      [{ field: 'a', order: 'asc' }],
      [{ field: 'b', order: 'desc' }],
      [{ field: 'a', order: 'desc' }, { field: 'b', order: 'asc' }],
    ]
    for (const sort of sorts) {
      for (const query of [{}, { equals: { s: 'y' } }]) {
        const matching = docs.filter((d) => !('equals' in query) || d._source.s === 'y').sort(comparator(sort))
        for (const [from, size] of [[0, 0], [0, 10], [0, 50], [37, 25], [390, 50], [0, 1000]]) {
          const page = await driver.search({ index: 'i', collection: 'c' }, { query, sort }, { from, size })
          expect(page.total).toBe(matching.length)
          expect(page.hits.map((h) => h._id)).toEqual(matching.slice(from, from + size).map((d) => d._id))
        }
      }
    }
  })
})
