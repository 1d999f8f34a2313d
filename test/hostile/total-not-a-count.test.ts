/**
 * Attack (issue 13, finding 6): a search page whose `total` is no count — `1e309` (Infinity once parsed), NaN, a
 * negative, a fraction, a string, null — or a finite total larger than what the pages hold. `hasMore` must not stay
 * true for ever, so `while (hasMore) await next()` ends: an unusable total counts as unknown, and a short or empty
 * page ends `hasMore`.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { effectScope } from 'vue'
import { useObservedSearch } from '../../src'
import { ObserverClient, type Driver } from '../../src/core'
import { memoryDriver } from '../../src/drivers/memory'
import { waitFor } from '../helpers/wait-for'

const clients: ObserverClient[] = []
afterEach(() => {
  for (const c of clients.splice(0)) c.close()
})

/** A memory driver whose pages report `total` as the hostile server would. */
function hostileTotals(total: unknown) {
  const inner = memoryDriver()
  inner.seed(
    'i',
    'c',
    Array.from({ length: 25 }, (_, k) => ({ _id: `d${String(k).padStart(2, '0')}`, _source: { n: k } })),
  )
  let searches = 0
  const driver: Driver = {
    ...inner,
    name: 'hostile-total',
    async search(c, spec, page) {
      searches++
      return { ...(await inner.search(c, spec, page)), total: total as number }
    },
  }
  const client = new ObserverClient({ driver })
  clients.push(client)
  return { client, searches: () => searches }
}

const totals: Array<[string, unknown]> = [
  ['1e309 (Infinity)', JSON.parse('1e309')],
  ['NaN', NaN],
  ['negative', -5],
  ['fractional', 30.5],
  ['a string', '1000'],
  ['null', null],
  ['a finite lie (1e9)', 1e9],
]

describe('a page whose total is not a count', () => {
  for (const live of ['hits', 'query'] as const) {
    for (const [name, total] of totals) {
      it(`${name}, live: '${live}': paging ends with every match, and next() stops asking`, async () => {
        const { client, searches } = hostileTotals(total)
        const s = client.search('i', 'c', { sort: 'n' }, { size: 10, live })
        await s.ready()
        expect(s.status).toBe('live')
        expect(Number.isSafeInteger(s.total) && s.total >= 0).toBe(true)
        let pages = 0
        while (s.hasMore && pages < 20) {
          await s.next()
          pages++
        }
        expect(s.hasMore).toBe(false)
        expect(pages).toBeLessThanOrEqual(3) // 25 matches, pages of 10: at most one page past the end
        expect(s.hits.map((h) => (h._source as { n: number }).n)).toEqual(Array.from({ length: 25 }, (_, k) => k))
        expect(s.total).toBe(25)
        // Once ended, next() makes no request.
        const before = searches()
        await s.next()
        expect(searches()).toBe(before)
        s.stop()
      })
    }
  }

  it('an empty first page with total Infinity has nothing more', async () => {
    const inner = memoryDriver()
    const client = new ObserverClient({
      driver: { ...inner, name: 'hostile-total', search: async (c, spec, page) => ({ ...(await inner.search(c, spec, page)), total: Infinity }) },
    })
    clients.push(client)
    const s = client.search('i', 'c', {}, { size: 10, live: 'query' })
    await waitFor(() => s.status === 'live', 2000)
    expect([s.hits.length, s.total, s.hasMore]).toEqual([0, 0, false])
    await expect(s.next()).resolves.toEqual([])
  })

  it('useObservedSearch: hasMore is the core\'s, so a loop over next() ends there too', async () => {
    const { client } = hostileTotals(JSON.parse('1e309'))
    const scope = effectScope()
    const s = scope.run(() => useObservedSearch<{ n: number }>('i', 'c', { sort: 'n' }, { size: 10, client }))!
    await s
    let pages = 0
    while (s.hasMore.value && pages < 20) {
      await s.next()
      pages++
    }
    expect(s.hasMore.value).toBe(false)
    expect(pages).toBeLessThanOrEqual(3)
    expect(s.hits.value.length).toBe(25)
    expect(s.total.value).toBe(25)
    scope.stop()
  })
})
