// A live query's window keeps its size (issue 23): a search of size n (times the pages loaded with next()) shows
// exactly the first n matches in sort order; an entering document pushes the last one out, a leaving one is
// replaced by the next match, and hasMore and total stay true.
import { afterEach, describe, expect, it } from 'vitest'
import { ObserverClient, type ObserverSearchResult } from '../../src/core'
import { memoryStats } from '../../src/core/search-result'
import { memoryDriver, type MemoryDriver } from '../../src/drivers/memory'
import { instrument, routeEvents } from '../helpers/instrumented-driver'
import { staysEqual, waitFor } from '../helpers/wait-for'

const clients: ObserverClient[] = []
afterEach(() => {
  for (const c of clients.splice(0)) c.close()
})

async function setup(count: number, size: number) {
  const driver = memoryDriver()
  driver.seed('i', 'c', Array.from({ length: count }, (_, n) => ({ _id: `d${String(n).padStart(2, '0')}`, _source: { n } })))
  const client = new ObserverClient({ driver })
  clients.push(client)
  const s = client.search<{ n: number }>('i', 'c', { query: {}, sort: 'n' }, { live: 'query', size })
  await s.ready()
  return { driver, s }
}

/** How many counts (searches of size 0) the driver was asked for since this was called. */
function countsAsked(driver: MemoryDriver): () => number {
  let counts = 0
  const search = driver.search.bind(driver)
  driver.search = (ref, spec, page) => {
    if (page.size === 0) counts++
    return search(ref, spec, page)
  }
  return () => counts
}

/** Waits until the search shows exactly the first `size` matches of the store, in order, with the right total. */
async function showsFirst(driver: MemoryDriver, s: ObserverSearchResult<{ n: number }>, size: number) {
  let expected: string[] = []
  let total = 0
  await waitFor(
    async () => {
      const page = await driver.search({ index: 'i', collection: 'c' }, { query: {}, sort: [{ field: 'n', order: 'asc' }] }, { from: 0, size })
      expected = page.hits.map((h) => h._id)
      total = page.total
      return s.hits.map((h) => h._id).join() === expected.join() && s.total === total && s.hasMore === total > size
    },
    3000,
    { what: `the first ${size} matches` },
  ).catch(() => {
    expect({ hits: s.hits.map((h) => h._id), total: s.total, hasMore: s.hasMore }).toEqual({ hits: expected, total, hasMore: total > size })
  })
}

describe('a live query window keeps its size', () => {
  it('an entry pushes the last hit out; its exit brings it back', async () => {
    const { driver, s } = await setup(10, 5)
    await driver.create('i', 'c', { n: -1 }, 'x')
    await showsFirst(driver, s, 5)
    expect(s.hits).toHaveLength(5)
    await driver.delete('i', 'c', 'x')
    await showsFirst(driver, s, 5)
    expect(s.hits).toHaveLength(5)
  })

  it('entries, moves out and deletions in a row, then next(): always exactly the first n', async () => {
    const { driver, s } = await setup(12, 4)
    await driver.create('i', 'c', { n: 0.5 }, 'a')
    await driver.create('i', 'c', { n: 1.5 }, 'b')
    await showsFirst(driver, s, 4)
    await driver.update('i', 'c', 'd00', { n: 100 })
    await showsFirst(driver, s, 4)
    await driver.delete('i', 'c', 'a')
    await showsFirst(driver, s, 4)
    await s.next()
    await showsFirst(driver, s, 8)
    await driver.create('i', 'c', { n: -5 }, 'c')
    await showsFirst(driver, s, 8)
    await driver.delete('i', 'c', 'd01')
    await driver.delete('i', 'c', 'd02')
    await showsFirst(driver, s, 8)
  })

  it('an entry that sorts last when every match is shown leaves the window full and hasMore true', async () => {
    const { driver, s } = await setup(5, 5)
    expect(s.hasMore).toBe(false)
    await driver.create('i', 'c', { n: 99 }, 'z')
    await showsFirst(driver, s, 5)
    expect(s.hits.map((h) => h._id)).not.toContain('z')
    expect([s.total, s.hasMore]).toEqual([6, true])
  })
})

describe('a change outside the window', () => {
  it("is counted the first time, not once the watch's own last event gave the revision it changes; no render", async () => {
    const { driver, s } = await setup(10, 3)
    let emitted = 0
    s.on('hits', () => emitted++)
    const counts = countsAsked(driver)
    // Nothing this watch heard says how the total counted d08 (a page read past the rows, or a change it missed).
    await driver.update('i', 'c', 'd08', { n: 50 })
    await waitFor(() => counts() === 1, 2000, { what: 'the count after the first change' })
    // The watch's own event gave d08's previous revision: it matched before as after, the total did not move.
    await driver.update('i', 'c', 'd08', { n: 60 })
    // Longer than the count's 50 ms debounce.
    await staysEqual(counts, 150, { what: 'counts asked' })
    expect(s.hits.map((h) => h._id)).toEqual(['d00', 'd01', 'd02'])
    expect([s.total, emitted, counts()]).toEqual([10, 0, 1])
  })

  it('a document written with no event (a silent write) and then changed is counted (memory seed 1121148)', async () => {
    const { driver, s } = await setup(10, 3)
    const counts = countsAsked(driver)
    driver.seed('i', 'c', [{ _id: 'x', _source: { n: 70 } }])
    // Its change says it matched before: before what this watch never heard of, so the total is counted.
    await driver.update('i', 'c', 'x', { n: 71 })
    await waitFor(() => s.total === 11, 2000, { what: 'the silently created document counted' })
    expect(counts()).toBe(1)
  })

  it("a change continuing a creation this watch's searches never heard (dropped as stale) is counted (sanity seed 1182394)", async () => {
    const driver = memoryDriver()
    driver.seed('i', 'c', Array.from({ length: 4 }, (_, n) => ({ _id: `a${n}`, _source: { g: 'a', n } })))
    // The events of the query watch of everything wait while `held`.
    let held: Array<() => void> | null = null
    routeEvents(driver, (e, deliver, spec) => ('query' in spec && spec.query.query === undefined && held ? held.push(() => deliver(e)) : deliver(e)))
    const client = new ObserverClient({ driver })
    clients.push(client)
    // Another search holds x as a row: its entry applies x's events as they come through that search's watch.
    const other = client.search<{ n: number }>('i', 'c', { query: { equals: { g: 'a' } }, sort: { n: 'desc' } }, { live: 'query', size: 5 })
    const s = client.search<{ n: number }>('i', 'c', { sort: 'n' }, { live: 'query', size: 1 })
    await Promise.all([other.ready(), s.ready()])
    expect(s.total).toBe(4)
    held = []
    await driver.create('i', 'c', { g: 'a', n: 100 }, 'x')
    await driver.update('i', 'c', 'x', { n: 101 })
    await waitFor(() => other.hits[0]?._source?.n === 101, 1000, { what: 'x at its second revision through the other search' })
    // Late here: the creation is stale for x's entry (no listener hears it); the update says x matched before.
    const late = held
    held = null
    for (const deliver of late) deliver()
    await waitFor(() => s.total === 5, 1000, { what: 'x counted' })
  })

  it('is counted again when the event cannot say (no matchedBefore, as Kuzzle), and a count that changes nothing emits nothing', async () => {
    const driver = memoryDriver()
    driver.seed('i', 'c', Array.from({ length: 10 }, (_, n) => ({ _id: `d${String(n).padStart(2, '0')}`, _source: { n } })))
    routeEvents(driver, ({ matchedBefore: _, ...e }, deliver) => deliver(e))
    let counted = 0
    const search = driver.search.bind(driver)
    driver.search = async (...args) => {
      const page = await search(...args)
      if (args[2].size === 0) counted++ // answered (the search's handler runs right after this resolves)
      return page
    }
    const client = new ObserverClient({ driver })
    clients.push(client)
    const s = client.search<{ n: number }>('i', 'c', { query: {}, sort: 'n' }, { live: 'query', size: 3 })
    await s.ready()
    let emitted = 0
    s.on('hits', () => emitted++)
    await driver.update('i', 'c', 'd08', { n: 50 })
    await waitFor(() => counted >= 1, 2000, { what: 'the count after the change' })
    await Promise.resolve()
    expect(s.hits.map((h) => h._id)).toEqual(['d00', 'd01', 'd02'])
    expect([s.total, emitted]).toEqual([10, 0])
  })
})

describe('spare rows (issue 23: one render per change)', () => {
  it('an exit moves the next match up from the spares: one hits emission, no page read; an entry pushes a hit into them', async () => {
    const inner = memoryDriver()
    inner.seed('i', 'c', Array.from({ length: 10 }, (_, n) => ({ _id: `d${n}`, _source: { n } })))
    const driver = instrument(inner)
    const client = new ObserverClient({ driver })
    clients.push(client)
    const s = client.search<{ n: number }>('i', 'c', { query: {}, sort: 'n' }, { live: 'query', size: 3 })
    await s.ready()
    const pages = () => driver.reads.filter((r) => r.op === 'search').length
    const before = pages()
    let emitted = 0
    s.on('hits', () => emitted++)
    await inner.delete('i', 'c', 'd1')
    await waitFor(() => s.hits.map((h) => h._id).join() === 'd0,d2,d3', 1000, { what: 'd3 moved up' })
    expect([emitted, s.total, pages() - before]).toEqual([1, 9, 0])
    // An entry: d4 (pushed out) stays held as a spare, so the exit that follows needs no read either.
    await inner.create('i', 'c', { n: -1 }, 'x')
    await waitFor(() => s.hits.map((h) => h._id).join() === 'x,d0,d2', 1000, { what: 'x entered' })
    await inner.delete('i', 'c', 'x')
    await waitFor(() => s.hits.map((h) => h._id).join() === 'd0,d2,d3', 1000, { what: 'd3 back' })
    expect(driver.reads.slice(0).filter((r) => r.op === 'search').length - before).toBeLessThanOrEqual(2) // counts only
    expect(s.total).toBe(9)
  })
})

describe('spare rows stay bounded', () => {
  it('entries push the last spare out: a busy collection never grows what a live search holds', async () => {
    const { driver, s } = await setup(40, 5)
    // Each of 30 documents past the window in turn sorts first: every one enters, and one row goes to the spares.
    for (let i = 0; i < 30; i++) {
      await driver.update('i', 'c', `d${String(39 - i).padStart(2, '0')}`, { n: -1 - i })
      await waitFor(() => s.hits[0]?._id === `d${String(39 - i).padStart(2, '0')}`, 1000, { what: `entry ${i}` })
    }
    // Window 5 and 5 spares (min(size, 10)): no more rows, and no more documents held, than that.
    expect(s[memoryStats]()).toMatchObject({ rows: 10, held: 10 })
    await showsFirst(driver, s, 5)
    // The spares are still the next matches: exits move them up.
    for (let i = 0; i < 5; i++) await driver.update('i', 'c', s.hits[0]._id, { n: 100 + i })
    await showsFirst(driver, s, 5)
    expect(s[memoryStats]().held).toBeLessThanOrEqual(10)
  })
})

describe('counts (issue 23: not re-queried when the events say how the total moved)', () => {
  it("moves and exits of rows, and changes continuing the watch's own events, ask no count; a creation or a deletion does", async () => {
    const { driver, s } = await setup(30, 5)
    const counts = countsAsked(driver)
    const step = async (id: string, n: number, expected: number) => {
      await driver.update('i', 'c', id, { n })
      await showsFirst(driver, s, 5)
      await waitFor(() => counts() === expected, 2000, { what: `${expected} counts after ${id} moved to ${n}` })
      // Longer than the count's 50 ms debounce.
      await staysEqual(counts, 150, { what: `counts asked after ${id} moved to ${n}` })
    }
    await step('d02', 3.5, 0) // a move within the window
    await step('d20', 40, 1) // a change past the rows: nothing this watch heard says how the total counted d20
    await step('d20', 41, 1) // continues the watch's own event: matched before as after
    await step('d20', 1.5, 1) // an entry, which matched before: no count
    await step('d01', 50, 1) // an exit that still matches
    expect(s.total).toBe(30)
    await driver.create('i', 'c', { n: 100 }, 'new')
    await waitFor(() => s.total === 31, 1000, { what: 'the creation counted' })
    await driver.delete('i', 'c', 'd29')
    await waitFor(() => s.total === 30, 1000, { what: 'the deletion counted' })
    await showsFirst(driver, s, 5)
  })
})
