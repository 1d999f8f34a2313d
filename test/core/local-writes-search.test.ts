/**
 * Local writes in live `query` searches (issue 16): a created or updated document enters or leaves the window at
 * once, in sort order, before any request reaches the backend; the window keeps its size and the total follows; a
 * refused write puts everything back; once confirmed, the search shows what the backend's own search returns.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { ObservedError, ObserverClient, type ObserverSearchResult } from '../../src/core'
import { memoryDriver, type MemoryDriver } from '../../src/drivers/memory'
import { waitFor } from '../helpers/wait-for'

type Row = { n: number; city: string }
const ref = { index: 'i', collection: 'c' }
const query = { equals: { city: 'NYC' } }

const clients: ObserverClient[] = []
afterEach(() => {
  for (const c of clients.splice(0)) c.close()
})

/** 8 rows, n = 0..7, the odd ones in NYC; a live search of the NYC rows by n, window 2 (rows 1, 3 of 4). */
/** A memory driver holding d0..d7: n = 0..7, odd ones in NYC, even ones in LA. */
function seededDriver(latency: number): MemoryDriver {
  const driver = memoryDriver({ latency })
  driver.seed('i', 'c', Array.from({ length: 8 }, (_, n) => ({ _id: `d${n}`, _source: { n, city: n % 2 ? 'NYC' : 'LA' } })))
  return driver
}

async function setup(options: { size?: number; gated?: boolean } = {}) {
  const driver = seededDriver(5)
  // Writes reach the backend only when released, so that what is shown before any request can be checked.
  const held: Array<() => void> = []
  const write = driver.write.bind(driver)
  const gatedDriver = options.gated
    ? Object.assign(Object.create(driver) as MemoryDriver, {
        write: async (...args: Parameters<typeof write>) => (await new Promise<void>((r) => held.push(r)), write(...args)),
      })
    : driver
  const client = new ObserverClient({ driver: gatedDriver })
  clients.push(client)
  const s = client.search<Row>('i', 'c', { query, sort: 'n' }, { live: 'query', size: options.size ?? 2 })
  await s.ready()
  const renders: string[][] = []
  s.on('hits', (hits) => renders.push(hits.map((h) => h._id)))
  /** Lets the oldest write held reach the backend, once it got there. */
  const release = async () => {
    await waitFor(() => held.length > 0, 2000, { what: 'a write sent' })
    held.shift()!()
  }
  return { driver, client, s, renders, release }
}

const ids = (s: ObserverSearchResult<Row>) => s.hits.map((h) => h._id)

/** Waits until the search shows what the backend's own search returns for the same window. */
async function agrees(driver: MemoryDriver, s: ObserverSearchResult<Row>, size: number) {
  let expected: { ids: string[]; total: number } = { ids: [], total: 0 }
  await waitFor(
    async () => {
      const page = await driver.search(ref, { query, sort: [{ field: 'n', order: 'asc' }] }, { from: 0, size })
      expected = { ids: page.hits.map((h) => h._id), total: page.total }
      return ids(s).join() === expected.ids.join() && s.total === expected.total && s.hits.every((h) => !h.pending)
    },
    3000,
    { what: 'the search to agree with the backend' },
  ).catch(() => expect({ ids: ids(s), total: s.total }).toEqual(expected))
}

describe('local writes in a live query search', () => {
  it('a locally updated document that starts matching enters at once, in sort order, pending, pushing the last row out', async () => {
    const { driver, client, s, renders, release } = await setup({ gated: true })
    expect(ids(s)).toEqual(['d1', 'd3'])
    expect(s.total).toBe(4)
    const d0 = client.get<Row>('i', 'c', 'd0')
    await d0.ready()
    const done = d0.update({ city: 'NYC' })
    // Same tick, before the write reached the backend.
    expect(ids(s)).toEqual(['d0', 'd1'])
    expect(s.total).toBe(5)
    expect(s.hits[0].pending).toBe(true)
    expect(renders).toEqual([['d0', 'd1']])
    await release()
    await done
    await agrees(driver, s, 2)
    // The server's news of it found it placed: no render repeats the rows.
    expect(renders).toEqual([['d0', 'd1']])
  })

  it('a hit whose local write stops it matching leaves at once; the next match moves up once the window is read', async () => {
    const { driver, s, release } = await setup({ gated: true })
    const done = s.hits[0].update({ city: 'LA' })
    expect(ids(s)).not.toContain('d1')
    expect(s.total).toBe(3)
    // The window is refilled past the document that left (the backend still has it matching until the write lands).
    await waitFor(() => ids(s).join() === 'd3,d5', 3000, { what: 'the next match moved up' })
    await release()
    await done
    await agrees(driver, s, 2)
  })

  it('client.create of a matching document shows it in the search at once, and a create of an unseen non-match does nothing', async () => {
    const { driver, client, s, renders } = await setup()
    const created = client.create('i', 'c', { n: 2, city: 'NYC' }, 'new')
    expect(ids(s)).toEqual(['d1', 'new'])
    expect(s.total).toBe(5)
    await created
    const other = client.create('i', 'c', { n: -1, city: 'LA' }, 'other')
    expect(ids(s)).toEqual(['d1', 'new'])
    await other
    await agrees(driver, s, 2)
    expect(renders).toEqual([['d1', 'new']])
  })

  it('rollback: a refused write that had entered leaves again, and the pushed row returns', async () => {
    const { driver, client, s } = await setup()
    const d0 = client.get<Row>('i', 'c', 'd0')
    await d0.ready()
    const errors: string[] = []
    s.on('error', (_id, err) => errors.push(err.code))
    // Another writer moved d0 on: the local write's ifRevision no longer holds.
    const rev = d0._rev
    await driver.update('i', 'c', 'd0', { n: 0.5 })
    await waitFor(() => d0._source?.n === 0.5, 2000)
    const refused = d0.update({ city: 'NYC' }, { ifRevision: rev })
    expect(ids(s)).toEqual(['d0', 'd1'])
    await expect(refused).rejects.toMatchObject({ code: 'conflict' })
    // Rolled back: it leaves at once, the total with it; the row it pushed out comes back with the window's read.
    expect(ids(s)).not.toContain('d0')
    expect(s.total).toBe(4)
    await agrees(driver, s, 2)
  })

  it('a local removal of a hit leaves at once and the window is refilled; the total follows', async () => {
    const { driver, s } = await setup({ size: 4 })
    expect(ids(s)).toEqual(['d1', 'd3', 'd5', 'd7'])
    const removed = s.hits[1].remove()
    expect(ids(s)).toEqual(['d1', 'd5', 'd7'])
    expect(s.total).toBe(3)
    await removed
    await agrees(driver, s, 4)
  })

  it('a local write that moves a hit within the window reorders it at once', async () => {
    const { driver, s } = await setup({ size: 4 })
    const moved = s.hits[0].update({ n: 6 })
    expect(ids(s)).toEqual(['d3', 'd5', 'd1', 'd7'])
    await moved
    await agrees(driver, s, 4)
  })
})

describe('local writes and a page read in flight', () => {
  it('a local create answered while the page is read, its echo lost, is still shown once the page lands (the page cannot hold it)', async () => {
    const driver = seededDriver(5)
    // A page computed when asked, delivered only when released: it holds what the server stored when it was sent.
    let hold = false
    const held: Array<() => void> = []
    const search = driver.search.bind(driver)
    const gated = Object.assign(Object.create(driver) as MemoryDriver, {
      search: async (...args: Parameters<typeof search>) => {
        const page = await search(...args)
        if (hold && args[2].size > 0) await new Promise<void>((r) => held.push(r))
        return page
      },
    })
    const client = new ObserverClient({ driver: gated, gapTimeout: 100 })
    clients.push(client)
    const s = client.search<Row>('i', 'c', { query, sort: 'n' }, { live: 'query', size: 2 })
    await s.ready()
    hold = true
    void s.refresh()
    await waitFor(() => held.length === 1, 2000, { what: 'the page read held' })
    driver.faults.drop = 1
    await client.create('i', 'c', { n: 0.5, city: 'NYC' }, 'new')
    expect(ids(s), 'shown at once').toEqual(['new', 'd1'])
    driver.faults.drop = 0
    hold = false
    held.shift()!()
    await waitFor(() => s.status === 'live' && !s.hits.some((h) => h.pending), 3000, { what: 'the page placed and the write confirmed by a read' })
    expect(ids(s), 'once the page landed').toEqual(['new', 'd1'])
    await agrees(driver, s, 2)
  })
})

describe('a page that confirms a pending write', () => {
  it('places every hit of the page, also those held before the confirmed one (memory soak seed 1020606)', async () => {
    const driver = seededDriver(2)
    // Only the page read or a read may confirm the write: no gap timer within the test.
    const client = new ObserverClient({ driver, gapTimeout: 60_000 })
    clients.push(client)
    const s = client.search<Row>('i', 'c', { query, sort: 'n' }, { live: 'query', size: 4 })
    await s.ready()
    const errors: unknown[] = []
    const onError = (e: unknown) => errors.push(e)
    process.on('unhandledRejection', onError)
    try {
      // The server creates a match the client hears nothing of, and the echo of a local replace is lost.
      driver.faults.drop = 1
      await driver.write(ref, { op: 'create', id: 'new', content: { n: 0.5, city: 'NYC' } })
      await s.hits[2].replace({ n: 6.5, city: 'NYC' })
      driver.faults.drop = 0
      expect(ids(s)).toEqual(['d1', 'd3', 'd5', 'd7'])
      expect(s.hits.find((h) => h._id === 'd5')?.pending, 'its echo lost: still pending').toBe(true)
      // The page holds `new` (a row it adds) before d5, whose content confirms the write.
      await s.refresh()
      await waitFor(() => s.status === 'live' && !s.hits.some((h) => h.pending), 3000, { what: 'the page placed' })
      expect(ids(s)).toEqual(['new', 'd1', 'd3', 'd5'])
      await agrees(driver, s, 4)
      expect(errors).toEqual([])
    } finally {
      process.off('unhandledRejection', onError)
    }
  })
})

describe('a page read while a write is answered', () => {
  it('a page the server computed after applying a write whose answer is still on its way counts the document as the page says (memory soak seed 1030187)', async () => {
    const driver = seededDriver(2)
    // The server applies each write at once; its answer reaches the client only when released.
    const answers: Array<() => void> = []
    const write = driver.write.bind(driver)
    const slow = Object.assign(Object.create(driver) as MemoryDriver, {
      write: async (...args: Parameters<typeof write>) => {
        const answer = await write(...args)
        await new Promise<void>((r) => answers.push(r))
        return answer
      },
    })
    const client = new ObserverClient({ driver: slow, gapTimeout: 60_000 })
    clients.push(client)
    // Window 2 plus 2 spares: the page holds all 4 NYC rows, so it is complete.
    const s = client.search<Row>('i', 'c', { query, sort: 'n' }, { live: 'query', size: 2 })
    await s.ready()
    expect(s.total).toBe(4)
    // Its echo is lost: the page comes before any news of the write.
    driver.faults.drop = 1
    const moved = s.hits[1].update({ city: 'LA' })
    expect(ids(s), 'left at once').toEqual(['d1', 'd5'])
    expect(s.total).toBe(3)
    await waitFor(() => answers.length === 1, 2000, { what: 'the write applied by the server' })
    driver.faults.drop = 0
    // This page was computed with the write applied: 3 matches, every one of them in it.
    await s.refresh()
    expect(ids(s)).toEqual(['d1', 'd5'])
    expect(s.total, 'the page knows better than what was stored before the write').toBe(3)
    answers.shift()!()
    await moved
    await agrees(driver, s, 2)
  })
})

describe('a write that leaves after a search read its page', () => {
  it('moves the total only by what the search counted the document as (kuzzle soak seed 1032243)', async () => {
    const driver = seededDriver(2)
    // Reads of documents by id wait until released: the write stays pending, answered, until then.
    let holdReads = false
    const reads: Array<() => void> = []
    const mGet = driver.mGet.bind(driver)
    const get = driver.get.bind(driver)
    const gate = () => (holdReads ? new Promise<void>((r) => reads.push(r)) : Promise.resolve())
    const gated = Object.assign(Object.create(driver) as MemoryDriver, {
      mGet: async (...args: Parameters<typeof mGet>) => (await gate(), mGet(...args)),
      get: async (...args: Parameters<typeof get>) => (await gate(), get(...args)),
    })
    const client = new ObserverClient({ driver: gated, gapTimeout: 20 })
    clients.push(client)
    const d0 = client.get<Row>('i', 'c', 'd0')
    await d0.ready()
    // A local write that makes d0 match, answered; its echo is lost and the server moves on (back to LA) unheard.
    holdReads = true
    driver.faults.drop = 1
    await d0.update({ city: 'NYC' })
    await driver.write(ref, { op: 'update', id: 'd0', content: { city: 'LA' } })
    driver.faults.drop = 0
    expect(d0.pending, 'answered, its echo not seen').toBe(true)
    // A search started now reads what the server stores: d0 is no match, the page (all 4 NYC rows) is complete.
    const s = client.search<Row>('i', 'c', { query, sort: 'n' }, { live: 'query', size: 2 })
    await s.ready()
    expect(s.total).toBe(4)
    // d0's own read lands: the write leaves, d0 shows LA again. The search never counted it: nothing moves.
    holdReads = false
    for (const release of reads.splice(0)) release()
    await waitFor(() => !d0.pending, 3000, { what: 'the write settled by the read' })
    expect(d0._source).toEqual({ n: 0, city: 'LA' })
    expect(s.total).toBe(4)
    await agrees(driver, s, 2)
  })
})

describe('a row deleted while it has a pending write', () => {
  it('leaves once the write is refused, though it showed nothing before and after (kuzzle soak seed 1061871)', async () => {
    const driver = seededDriver(2)
    const answers: Array<() => void> = []
    const write = driver.write.bind(driver)
    const held = Object.assign(Object.create(driver) as MemoryDriver, {
      write: async (...args: Parameters<typeof write>) => (await new Promise<void>((r) => answers.push(r)), write(...args)),
    })
    const client = new ObserverClient({ driver: held, gapTimeout: 60_000 })
    clients.push(client)
    const s = client.search<Row>('i', 'c', { query, sort: 'n' }, { live: 'query', size: 3 })
    await s.ready()
    expect(ids(s)).toEqual(['d1', 'd3', 'd5'])
    const moved = s.hits[1].update({ n: 4 })
    // The server deletes d3; no watch tells (both events lost); an observer's own read finds it gone.
    driver.faults.drop = 1
    await driver.write(ref, { op: 'remove', id: 'd3' })
    driver.faults.drop = 0
    const o = client.get<Row>('i', 'c', 'd3')
    await waitFor(() => o.status === 'deleted', 2000, { what: 'd3 read as deleted' })
    // The update is refused (nothing to update): d3 shows nothing before and after the rollback, and leaves.
    answers.shift()!()
    await expect(moved).rejects.toBeInstanceOf(ObservedError)
    await waitFor(() => !s.hits.some((h) => h._id === 'd3'), 2000, { what: 'd3 gone from the hits' })
    expect(s.hits.every((h) => h._source !== null)).toBe(true)
    await agrees(driver, s, 3)
    o.stop()
  })
})

describe('local writes in a live search whose query the driver cannot test in the client', () => {
  it('a local removal leaves at once, and when refused (rollback) the document comes back with the page', async () => {
    const driver = seededDriver(5)
    // No matcher (as Kuzzle or Sanity for a query they cannot decide), and every write refused.
    const blind = Object.assign(Object.create(driver) as MemoryDriver, {
      matcher: () => undefined,
      write: async () => {
        throw new ObservedError('unauthorized', 'refused by the test')
      },
    })
    const client = new ObserverClient({ driver: blind })
    clients.push(client)
    const s = client.search<Row>('i', 'c', { query, sort: 'n' }, { live: 'query', size: 2 })
    await s.ready()
    const removed = s.hits[0].remove()
    expect(ids(s), 'left at once').toEqual(['d3', 'd5'])
    await expect(removed).rejects.toMatchObject({ code: 'unauthorized' })
    await waitFor(() => ids(s).join() === 'd1,d3' && s.total === 4, 3000, { what: 'the rolled back row back in place' })
  })
})
