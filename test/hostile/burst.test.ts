/**
 * Floods: 100,000 events in a burst through the memory driver, and 100,000 events pushed at the core while a read
 * is held back or a revision gap stays open. Out-of-order and read-time buffers have caps, so memory stays bounded
 * (checked on the core's own buffers and on the heap after a forced GC), and everything converges afterwards.
 */
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { afterEach, describe, expect, it } from 'vitest'
import { ObserverClient } from '../../src/core/client'
import type { DocEvent } from '../../src/core/types'
import { MAX_BUFFERED, MAX_HELD, type DocState } from '../../src/core/doc-state'
import { MAX_BUFFERED as MAX_SEARCH_BUFFERED } from '../../src/core/search-reads'
import { memoryDriver } from '../../src/drivers/memory'
import { instrument } from '../helpers/instrumented-driver'
import { waitFor } from '../helpers/wait-for'

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

const I = 'burst'
const C = 'docs'
const ref = { index: I, collection: C }
const BURST = 100_000
const MB = 1024 * 1024

function heapAfterGc(): number {
  gc()
  gc()
  return process.memoryUsage().heapUsed
}

/** The core's internal state, for asserting buffer caps (not public API). */
interface Internals {
  table: { peek(ref: { index: string; collection: string }, id: string): { docState: DocState } | undefined }
}
const internals = (c: ObserverClient) => c as unknown as Internals

/** The instrumented driver records every event pushed (test bookkeeping): not the core's memory. */
function forgetRecordedEvents(driver: ReturnType<typeof instrument>): void {
  for (const w of driver.watches) w.events.length = 0
}

const clients: ObserverClient[] = []
afterEach(() => {
  for (const c of clients.splice(0)) c.close()
})

function observerClient(driver: ConstructorParameters<typeof ObserverClient>[0]['driver'], gapTimeout = 30) {
  const c = new ObserverClient({ driver, gapTimeout, releaseDelay: 5, backoff: { base: 5, cap: 100 } })
  clients.push(c)
  return c
}

describe('a burst of 100,000 events', () => {
  it('through the memory driver: observers and a live search converge, the heap stays bounded', { timeout: 60_000 }, async () => {
    const driver = memoryDriver({ seed: 3 })
    const ids = Array.from({ length: 10 }, (_, i) => `b${i}`)
    driver.seed(I, C, ids.map((id) => ({ _id: id, _source: { n: 0 } })))
    const client = observerClient(driver)
    const observers = ids.map((id) => client.get(I, C, id))
    const search = client.search(I, C, { query: { range: { n: { gte: 0 } } }, sort: [{ n: 'desc' }] }, { size: 5, live: 'query' })
    await waitFor(() => observers.every((o) => o.status === 'live') && search.status === 'live', 3000)
    const before = heapAfterGc()

    for (let i = 1; i <= BURST; i++) await driver.update(I, C, ids[i % ids.length], { n: i })

    const stored = new Map(driver.snapshot(I, C).map((d) => [d._id, d._source]))
    await waitFor(() => observers.every((o) => JSON.stringify(o._source) === JSON.stringify(stored.get(o._id))), 30_000, {
      what: 'every observer at its last write',
    })
    // The query's first results, in order: at least a page of them (a window that grew keeps what it holds).
    const order = ids.slice().sort((a, b) => (stored.get(b)!.n as number) - (stored.get(a)!.n as number))
    await waitFor(() => search.hits.length >= 5 && search.hits.map((h) => h._id).join() === order.slice(0, search.hits.length).join(), 10_000)
    const growth = heapAfterGc() - before
    expect(growth).toBeLessThan(32 * MB)
    expect(client.stats().documents).toBe(10)
  })
})

describe('buffers for events that cannot be applied yet are capped', () => {
  it('while a read is in flight: at most 1,024 events wait; past that the document is read again', { timeout: 60_000 }, async () => {
    const inner = memoryDriver({ seed: 5 })
    inner.seed(I, C, [{ _id: 'r1', _source: { n: 1 } }])
    const driver = instrument(inner)
    driver.holdReads = true
    const client = observerClient(driver)
    const o = client.get(I, C, 'r1')
    await waitFor(() => driver.pendingReads === 1, 3000, { what: 'the read held back' })
    const before = heapAfterGc()
    for (let i = 2; i < BURST + 2; i++) await inner.update(I, C, 'r1', { n: i, pad: 'x'.repeat(100) })
    const watch = driver.openWatches()[0]
    await waitFor(() => watch.events.length === BURST, 10_000, { what: 'every event delivered to the core' })
    const entry = internals(client).table.peek(ref, 'r1')!
    expect(entry.docState.reading!.since.length).toBeLessThanOrEqual(MAX_BUFFERED)
    forgetRecordedEvents(driver)
    expect(heapAfterGc() - before).toBeLessThan(16 * MB)
    // The read lands (and, as events were dropped, the document is read again): it shows the stored document.
    driver.holdReads = false
    driver.releaseReads()
    await waitFor(() => o.status === 'live' && (o._source as { n: number }).n === BURST + 1, 3000)
    expect(entry.docState.reading).toBeNull()
  })

  it('while a revision gap is open: at most 64 events are held; past that the document is read again', { timeout: 60_000 }, async () => {
    const inner = memoryDriver({ seed: 7 })
    inner.seed(I, C, [{ _id: 'g1', _source: { n: 1 } }])
    const driver = instrument(inner)
    const client = observerClient(driver, 60_000)
    const o = client.get(I, C, 'g1')
    await waitFor(() => o.status === 'live', 3000)
    driver.manualEvents = true
    const before = heapAfterGc()
    // None continues the chain: every one waits for a revision that never comes.
    for (let i = 0; i < BURST; i++) driver.push({ id: 'g1', kind: 'upsert', doc: { n: i }, rev: `r${i}`, previousRev: `missing-${i}` } as DocEvent)
    const entry = internals(client).table.peek(ref, 'g1')!
    expect(entry.docState.held.length).toBeLessThanOrEqual(MAX_HELD)
    forgetRecordedEvents(driver)
    expect(heapAfterGc() - before).toBeLessThan(16 * MB)
    await waitFor(() => o.status === 'live' && (o._source as { n: number }).n === 1, 3000, { what: 'the stored document, read again' })
  })

  it("a live search reading its page: at most 10,000 membership events wait; past that it reads again", { timeout: 60_000 }, async () => {
    const inner = memoryDriver({ seed: 9 })
    inner.seed(I, C, [{ _id: 's1', _source: { n: 1 } }])
    const driver = instrument(inner)
    driver.manualEvents = true
    driver.holdReads = true
    const client = observerClient(driver)
    const search = client.search(I, C, { sort: [{ n: 'asc' }] }, { live: 'query' })
    await waitFor(() => driver.pendingReads === 1, 3000, { what: 'the page read held back' })
    const before = heapAfterGc()
    for (let i = 0; i < BURST; i++) driver.push({ id: `ghost-${i}`, kind: 'upsert', doc: { n: i }, rev: i + 10, previousRev: null, inQuery: true })
    // The news waiting for the page is the search's page reads' (src/core/search-reads.ts).
    const buffered = (search as unknown as { reads: { buffered: unknown[] | null } }).reads.buffered
    expect(buffered!.length).toBe(MAX_SEARCH_BUFFERED)
    forgetRecordedEvents(driver)
    expect(heapAfterGc() - before).toBeLessThan(32 * MB)
    driver.holdReads = false
    driver.releaseReads()
    // The overflow makes it read again: the store has s1 only.
    await waitFor(() => search.status === 'live' && search.hits.map((h) => h._id).join() === 's1' && search.total === 1, 5000)
  })
})
