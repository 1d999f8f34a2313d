/**
 * Attack (issue 13, finding 7): a long-lived live search sees 20,000 documents created then deleted. It must not
 * keep a trace per document of that history: what it holds per document is its rows (window and spares), plus the
 * documents whose own read is in flight (limbo, at most MAX_LIMBO), and it still converges (showing what the query
 * matches now) afterwards. Issue 14: nothing per document outlives the rows (no sets of everything ever removed).
 */
/** Histories longer than the fixed allowances the search had before it was a view (1,000 and 2,000 documents). */
const LONG = 2_200
import { afterEach, describe, expect, it } from 'vitest'
import { ObserverClient } from '../../src/core'
import { MAX_LIMBO, memoryStats, type ObserverSearchResult } from '../../src/core/search-result'
import { MAX_REPORTED } from '../../src/core/query-pool'
import { memoryDriver } from '../../src/drivers/memory'
import { instrument } from '../helpers/instrumented-driver'
import { waitFor } from '../helpers/wait-for'

const clients: ObserverClient[] = []
afterEach(() => {
  for (const c of clients.splice(0)) c.close()
})

const macrotask = () => new Promise((resolve) => setTimeout(resolve, 0))
/** Test-only view of the query watch's per-document memory (private to the core). */
const reportedSizes = (client: ObserverClient) =>
  [...(client as unknown as { queries: { watches: Map<string, { reported: Map<string, unknown> }> } }).queries.watches.values()].map(
    (w) => w.reported.size,
  )

describe('a long-lived live search', () => {
  it('20,000 documents created then deleted: per-document memory stays under its fixed bound, the search converges', async () => {
    const driver = memoryDriver()
    const client = new ObserverClient({ driver, gapTimeout: 50, backoff: { base: 5, cap: 50 } })
    clients.push(client)
    driver.seed('i', 'c', [{ _id: 'keep', _source: { n: -1 } }])
    const search: ObserverSearchResult = client.search('i', 'c', { sort: 'n' }, { size: 10, live: 'query' })
    await waitFor(() => search.status === 'live' && search.hits.length === 1, 3000, { what: 'the search live' })

    const max = { rows: 0, limbo: 0, byId: 0, reported: 0, documents: 0 }
    const sample = () => {
      const m = search[memoryStats]()
      max.rows = Math.max(max.rows, m.rows)
      max.limbo = Math.max(max.limbo, m.limbo)
      expect(m.held).toBe(m.rows) // one observer per row, and no other
      max.byId = Math.max(max.byId, m.held)
      max.reported = Math.max(max.reported, ...reportedSizes(client))
      max.documents = Math.max(max.documents, client.stats().documents)
    }
    const N = 20_000
    for (let k = 0; k < N; k += 100) {
      for (let j = k; j < k + 100; j++) {
        await driver.create('i', 'c', { n: j }, `d${j}`)
        await driver.delete('i', 'c', `d${j}`)
      }
      await macrotask()
      sample()
    }
    await waitFor(() => search.hits.map((h) => h._id).join() === 'keep' && search.total === 1 && search.status === 'live', 10_000, {
      what: 'the search back to its one match',
    })
    sample()
    expect(max.limbo).toBeLessThanOrEqual(MAX_LIMBO)
    expect(max.byId).toBeLessThanOrEqual(10 + 100) // the window, plus one batch's appearances in flight
    expect(max.reported).toBeLessThanOrEqual(MAX_REPORTED)
    expect(max.documents).toBeLessThanOrEqual(10 + 100)
    // Left with nothing per past document once quiet: its one row.
    expect(search[memoryStats]()).toEqual({ held: 1, rows: 1, limbo: 0 })

    // Still live and converging after the history: new matches appear in sort order, a deletion leaves.
    await driver.create('i', 'c', { n: 5 }, 'x')
    await driver.create('i', 'c', { n: -5 }, 'y')
    await waitFor(() => search.hits.map((h) => h._id).join() === 'y,keep,x' && search.total === 3, 3000, { what: 'new matches' })
    await driver.delete('i', 'c', 'keep')
    await waitFor(() => search.hits.map((h) => h._id).join() === 'y,x' && search.total === 2, 3000, { what: 'a deletion' })
  }, 120_000)

  it('hits found deleted by their own read, with no news from the watch: the trace of them stays bounded', async () => {
    const inner = memoryDriver()
    const driver = instrument(inner)
    driver.manualEvents = true
    const client = new ObserverClient({ driver })
    clients.push(client)
    const search = client.search('i', 'c', { sort: 'n' }, { size: 10, live: 'query' })
    await waitFor(() => search.status === 'live', 3000)
    for (let k = 0; k < LONG; k++) {
      const doc = await inner.create('i', 'c', { n: k }, `d${k}`)
      driver.push({ id: doc._id, kind: 'upsert', doc: { n: k }, rev: doc._rev, previousRev: null, inQuery: true })
      const hit = search.hits.find((h) => h._id === doc._id)!
      await inner.delete('i', 'c', doc._id)
      await hit.refresh() // its read finds it deleted; the watch's news is lost
      expect(search[memoryStats]().held).toBeLessThanOrEqual(1)
    }
    expect(search[memoryStats]()).toEqual({ held: 0, rows: 0, limbo: 0 })
    expect(search.hits).toEqual([])
  }, 60_000)

  it('past its memory, a late event for a document it forgot is settled by a read, not shown as news', async () => {
    const inner = memoryDriver()
    const driver = instrument(inner)
    driver.manualEvents = true
    const client = new ObserverClient({ driver })
    clients.push(client)
    const search = client.search('i', 'c', { sort: 'n' }, { size: 10, live: 'query' })
    await waitFor(() => search.status === 'live', 3000)
    const history = async (k: number) => {
      const doc = await inner.create('i', 'c', { n: k }, `d${k}`)
      const created = { id: doc._id, kind: 'upsert' as const, doc: { n: k }, rev: doc._rev, previousRev: null, inQuery: true }
      const gone = await inner.delete('i', 'c', doc._id)
      driver.push(created)
      driver.push({ id: doc._id, kind: 'delete', rev: gone._rev, previousRev: doc._rev })
      return created
    }
    const first = await history(0)
    for (let k = 1; k <= LONG; k++) await history(k)
    await waitFor(() => search.hits.length === 0 && driver.pendingReads === 0, 5000, { what: 'the history settled' })
    expect(search[memoryStats]()).toEqual({ held: 0, rows: 0, limbo: 0 })
    driver.push(first) // d0's creation, very late: d0 is long deleted, and the search no longer remembers it
    await waitFor(() => search.hits.length === 0, 3000, { what: 'the late creation undone by a read' })
    expect(search.total).toBe(0)
  }, 60_000)
})
