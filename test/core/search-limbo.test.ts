// A live search's limbo (search-limbo.ts, rule 2 of search-result.ts): news that nothing ordered is proven by the
// document's own read. Through the memory driver and its reordering fault.
import { afterEach, describe, expect, it } from 'vitest'
import { ObserverClient } from '../../src/core'
import { memoryDriver } from '../../src/drivers/memory'
import { routeEvents } from '../helpers/instrumented-driver'
import { waitFor } from '../helpers/wait-for'

const clients: ObserverClient[] = []
afterEach(() => {
  for (const c of clients.splice(0)) c.close()
})

describe('limbo', () => {
  it('a late "left" news does not count out a document whose read shows it matching (Kuzzle soak seed 1151028)', async () => {
    const driver = memoryDriver()
    driver.seed('i', 'c', [
      { _id: 'a1', _source: { g: 'a', n: 1 } },
      { _id: 'a2', _source: { g: 'a', n: 2 } },
      { _id: 'x', _source: { g: 'a', n: 3 } },
    ])
    // The query watch's events of x, counted, and without their previous revision, as Kuzzle sends them (the order
    // of its events then shows only in their clock revisions).
    let events = 0
    routeEvents(driver, ({ previousRev: _, ...e }, deliver, spec) => {
      if (e.id === 'x' && 'query' in spec) events++
      deliver(e)
    })
    const client = new ObserverClient({ driver })
    clients.push(client)
    // x was observed here and let go: its next news nothing orders is read before it is shown (hidden).
    const seen = client.get('i', 'c', 'x')
    await waitFor(() => seen.status === 'live', 1000, { what: 'x observed' })
    seen.stop()
    // One row and one spare: x matches past them.
    const s = client.search<{ g: string; n: number }>('i', 'c', { query: { equals: { g: 'a' } }, sort: 'n' }, { live: 'query', size: 1 })
    await s.ready()
    expect([s.hits.map((h) => h._id), s.total]).toEqual([['a1'], 3])
    // A page read is in flight, computed before both writes, answered after their news came (which waits for it).
    let release!: () => void
    const answered = new Promise<void>((resolve) => (release = resolve))
    const search = driver.search.bind(driver)
    driver.search = async (...args) => {
      const page = await search(...args)
      await answered
      return page
    }
    void s.refresh()
    await Promise.resolve()
    // x leaves, then comes back first in sort order; the leaving news arrives after the coming back.
    driver.faults.reorder = 1
    await driver.update('i', 'c', 'x', { g: 'c', n: 0 })
    driver.faults.reorder = 0
    await driver.update('i', 'c', 'x', { g: 'a', n: 0 })
    await waitFor(() => events === 2, 1000, { what: 'both events delivered' })
    driver.search = search
    release()
    await waitFor(() => s.hits[0]?._id === 'x' && s.total === 3, 2000, { what: 'x shown first, total 3' }).catch(() => {
      expect([s.hits.map((h) => h._id), s.total]).toEqual([['x'], 3])
    })
  })
})
