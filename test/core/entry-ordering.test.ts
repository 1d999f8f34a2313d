// Promise 2: events are applied in revision order: reordered ones are put back in order, duplicates and stale ones
// are dropped, a gap is waited for (gapTimeout) and then the document is read again. Promise 3 for one document:
// after random reordering and duplication the observer equals the stored document.
import { afterEach, describe, expect, it } from 'vitest'
import { ObserverClient, type DocEvent } from '../../src/core'
import { EntryTable } from '../../src/core/entry-table'
import { memoryDriver, type MemoryDoc } from '../../src/drivers/memory'
import { instrument } from '../helpers/instrumented-driver'
import { waitFor } from '../helpers/wait-for'

type Src = { n: number; tag?: string }

const clients: ObserverClient[] = []
afterEach(() => {
  for (const c of clients.splice(0)) c.close()
})

/** A live observer of `a` whose events the test delivers by hand. */
async function manual(gapTimeout = 1000) {
  const inner = memoryDriver()
  const driver = instrument(inner)
  driver.manualEvents = true
  const client = new ObserverClient({ driver, gapTimeout })
  clients.push(client)
  const [seeded] = inner.seed<Src>('i', 'c', [{ _id: 'a', _source: { n: 1 } }])
  const o = client.get<Src>('i', 'c', 'a')
  await o.ready()
  expect(o._source).toEqual({ n: 1 })
  const changes: number[] = []
  o.on('change', (s) => changes.push(s.n))
  const ev = (prev: MemoryDoc<Src> | null, next: MemoryDoc<Src>): DocEvent => ({
    id: 'a',
    kind: 'upsert',
    doc: { ...next._source },
    rev: next._rev,
    previousRev: prev ? prev._rev : null,
  })
  return { inner, driver, client, o, seeded, changes, ev }
}

/** A bare entry of `a` in its own table (string revisions, as Sanity has them), read once. */
async function tableEntry() {
  const inner = memoryDriver()
  const [seeded] = inner.seed<Src>('i', 'c', [{ _id: 'a', _source: { n: 1 } }])
  const table = new EntryTable(inner, (v) => v, 20, {})
  const entry = table.acquire({ index: 'i', collection: 'c' }, 'a')
  table.refetch(entry)
  await entry.whenSynced()
  expect(entry.rev).toBe(seeded._rev)
  return { inner, table, entry, seeded }
}
/** A change event of `a` with string revisions: only their chain orders them. */
const sev = (prev: MemoryDoc<Src> | null, next: MemoryDoc<Src>): DocEvent => ({
  id: 'a',
  kind: 'upsert',
  doc: { ...next._source },
  rev: `r${next._rev}`,
  previousRev: prev ? `r${prev._rev}` : null,
})

/** The memory driver's reads with string revisions, as `sev` writes them. */
function stringRevs(inner: ReturnType<typeof memoryDriver>) {
  const str = <D extends { _rev?: unknown } | null>(d: D) => (d ? { ...d, _rev: `r${d._rev}` } : d)
  return { ...inner, get: async (c: Parameters<typeof inner.get>[0], id: string) => str(await inner.get(c, id)), mGet: async (c: Parameters<typeof inner.mGet>[0], ids: readonly string[]) => (await inner.mGet(c, ids)).map(str) }
}

/** An entry of `a` not read yet, over string revisions, after two writes to `a` (events not delivered). */
async function unreadEntry() {
  const inner = memoryDriver()
  const table = new EntryTable(stringRevs(inner), (v) => v, 10_000, {})
  const entry = table.acquire({ index: 'i', collection: 'c' }, 'a')
  const r1 = await inner.create<Src>('i', 'c', { n: 1 }, 'a')
  const r2 = await inner.replace<Src>('i', 'c', 'a', { n: 2 })
  /** Deletes `a`, which was at `last`, and delivers the delete. */
  const deleteAfter = async (last: MemoryDoc<Src>) => {
    const gone = await inner.delete('i', 'c', 'a')
    entry.applyEvent({ id: 'a', kind: 'delete', rev: `r${gone._rev}`, previousRev: `r${last._rev}` })
  }
  return { inner, table, entry, r1, r2, deleteAfter }
}

describe('revision ordering', () => {
  it('applies events that arrive in order', async () => {
    const { inner, driver, o, seeded, changes, ev } = await manual()
    const r2 = await inner.replace<Src>('i', 'c', 'a', { n: 2 })
    const r3 = await inner.replace<Src>('i', 'c', 'a', { n: 3 })
    driver.push(ev(seeded, r2))
    expect(o._source).toEqual({ n: 2 })
    driver.push(ev(r2, r3))
    expect(o._source).toEqual({ n: 3 })
    expect(changes).toEqual([2, 3])
  })

  it('puts reordered events back in order without a read', async () => {
    const { inner, driver, o, seeded, changes, ev } = await manual()
    const r2 = await inner.replace<Src>('i', 'c', 'a', { n: 2 })
    const r3 = await inner.replace<Src>('i', 'c', 'a', { n: 3 })
    const r4 = await inner.replace<Src>('i', 'c', 'a', { n: 4 })
    const readsBefore = driver.reads.length
    driver.push(ev(r3, r4))
    driver.push(ev(r2, r3))
    expect(o._source).toEqual({ n: 1 }) // still waiting for r2
    driver.push(ev(seeded, r2))
    expect(o._source).toEqual({ n: 4 })
    expect(changes).toEqual([2, 3, 4])
    expect(driver.reads.length).toBe(readsBefore)
  })

  it('drops duplicates: a change is applied and reported once', async () => {
    const { inner, driver, o, seeded, changes, ev } = await manual()
    const r2 = await inner.replace<Src>('i', 'c', 'a', { n: 2 })
    driver.push(ev(seeded, r2))
    driver.push(ev(seeded, r2))
    driver.push(ev(seeded, r2))
    expect(o._source).toEqual({ n: 2 })
    expect(changes).toEqual([2])
  })

  it('drops stale events (older than what is held)', async () => {
    const { inner, driver, o, seeded, changes, ev } = await manual()
    const r2 = await inner.replace<Src>('i', 'c', 'a', { n: 2 })
    const r3 = await inner.replace<Src>('i', 'c', 'a', { n: 3 })
    driver.push(ev(seeded, r2))
    driver.push(ev(r2, r3))
    driver.push(ev(seeded, r2)) // late copy of an old event
    expect(o._source).toEqual({ n: 3 })
    expect(o.status).toBe('live')
    expect(changes).toEqual([2, 3])
  })

  it('drops an event older than the first read', async () => {
    const { inner, driver, o, changes } = await manual()
    await inner.replace<Src>('i', 'c', 'a', { n: 2 })
    await o.refresh()
    expect(o._source).toEqual({ n: 2 })
    driver.push({ id: 'a', kind: 'upsert', doc: { n: 0 }, rev: 0, previousRev: null })
    expect(o._source).toEqual({ n: 2 })
    expect(changes).toEqual([2])
  })

  it('waits for a gap, then reads the document again after gapTimeout', async () => {
    const { inner, driver, o, changes, ev } = await manual(40)
    const r2 = await inner.replace<Src>('i', 'c', 'a', { n: 2 })
    const r3 = await inner.replace<Src>('i', 'c', 'a', { n: 3, tag: 'x' })
    const readsBefore = driver.reads.length
    const t0 = performance.now()
    driver.push(ev(r2, r3)) // r2's event never comes
    expect(o._source).toEqual({ n: 1 })
    await waitFor(() => o._source?.n === 3, 2000, { what: 'refetch after the gap' })
    expect(performance.now() - t0).toBeGreaterThanOrEqual(35)
    expect(o._source).toEqual({ n: 3, tag: 'x' })
    expect(driver.reads.length).toBe(readsBefore + 1)
    expect(driver.reads.at(-1)).toEqual({ op: 'mGet', ids: ['a'] })
    expect(changes).toEqual([3])
  })

  it("an event held for a gap that a read fills is superseded for its query watch's news", async () => {
    // Sanity seed 100288: the read gave the held event's own revision, but the revisions missed before it may have
    // left the query and come back, so the search that hears this news must read again rather than trust it.
    const { inner, table, entry, seeded } = await tableEntry()
    const r2 = await inner.replace<Src>('i', 'c', 'a', { n: 2 })
    const r3 = await inner.replace<Src>('i', 'c', 'a', { n: 3 })
    const told: Array<[unknown, boolean | undefined]> = []
    entry.applyEvent({ id: 'a', kind: 'upsert', doc: { ...r3._source }, rev: r3._rev, previousRev: r2._rev }, (e, superseded) =>
      told.push([e.rev, superseded]),
    )
    await waitFor(() => told.length > 0, 1000, { what: 'the gap read' })
    expect(told).toEqual([[r3._rev, true]])
    expect([entry.source, entry.rev]).toEqual([{ n: 3 }, r3._rev])
    table.release(entry)
  })

  it('events received before a read was sent do not apply after it, unless they are its revision', async () => {
    // Sanity seed 104805: a creation and its changes arrived before the read; the read gave a later revision
    // (nothing linked it to them), and once a delete came they were applied as if the document had been re-created.
    const { inner, table, entry, r1, r2, deleteAfter } = await unreadEntry()
    entry.applyEvent(sev(null, r1))
    entry.applyEvent(sev(r1, r2))
    const r3 = await inner.replace<Src>('i', 'c', 'a', { n: 3 })
    table.refetch(entry)
    await entry.whenSynced()
    expect([entry.source, entry.rev]).toEqual([{ n: 3 }, `r${r3._rev}`])
    await deleteAfter(r3)
    expect(entry.source).toBeNull()
    table.release(entry)
  })

  it('a held creation whose later changes lead to a revision already passed does not apply after a delete', async () => {
    // Sanity seed 104805, under load: the same history arrived while the read was in flight; the read's revision
    // came with its event, which names the last of them as the revision before it.
    const { inner, table, entry, r1, r2, deleteAfter } = await unreadEntry()
    const r3 = await inner.replace<Src>('i', 'c', 'a', { n: 3 })
    table.refetch(entry)
    entry.applyEvent(sev(null, r1))
    entry.applyEvent(sev(r1, r2))
    entry.applyEvent(sev(r2, r3))
    await entry.whenSynced()
    expect([entry.source, entry.rev]).toEqual([{ n: 3 }, `r${r3._rev}`])
    await deleteAfter(r3)
    expect(entry.source).toBeNull()
    table.release(entry)
  })

  it('a gap that fills before gapTimeout costs no read', async () => {
    const { inner, driver, o, seeded, ev } = await manual(200)
    const r2 = await inner.replace<Src>('i', 'c', 'a', { n: 2 })
    const r3 = await inner.replace<Src>('i', 'c', 'a', { n: 3 })
    const readsBefore = driver.reads.length
    driver.push(ev(r2, r3))
    driver.push(ev(seeded, r2))
    expect(o._source).toEqual({ n: 3 })
    // Past the gap timeout, no read was made.
    const deadline = Date.now() + 260
    await waitFor(() => Date.now() >= deadline, 1000)
    expect(driver.reads.length).toBe(readsBefore)
  })

  it('delete and re-create out of order end with the re-created document', async () => {
    const { inner, driver, o, seeded, ev } = await manual()
    const del = await inner.delete('i', 'c', 'a')
    const again = await inner.create<Src>('i', 'c', { n: 9 }, 'a')
    driver.push(ev(null, again)) // the creation first (previousRev null) while we still hold a document
    expect(o._source).toEqual({ n: 1 })
    driver.push({ id: 'a', kind: 'delete', rev: del._rev, previousRev: seeded._rev })
    expect(o._source).toEqual({ n: 9 })
    expect(o.status).toBe('live')
  })

  it('a late change from before a deletion does not bring back a document a read found missing', async () => {
    // Sanity seed 102728: a replaced listener resumed and replayed its history after the document was read as gone.
    const { inner, driver, o, seeded, ev } = await manual(40)
    const r2 = await inner.replace<Src>('i', 'c', 'a', { n: 2 })
    await inner.delete('i', 'c', 'a')
    await o.refresh()
    expect(o.status).toBe('deleted')
    const readsBefore = driver.reads.length
    driver.push(ev(seeded, r2))
    expect(o._source).toBeNull()
    // Held like any gap, then settled by a read.
    await waitFor(() => driver.reads.length > readsBefore, 2000, { what: 'read after the gap' })
    await waitFor(() => o.status === 'deleted', 2000, { what: 'the read landing' })
    expect(o._source).toBeNull()
  })

  it('a change following a missed creation of a missing document shows after the gap read', async () => {
    const { inner, driver, o, ev } = await manual(40)
    await inner.delete('i', 'c', 'a')
    await o.refresh()
    expect(o.status).toBe('deleted')
    const created = await inner.create<Src>('i', 'c', { n: 5 }, 'a')
    const r2 = await inner.replace<Src>('i', 'c', 'a', { n: 6 })
    driver.push(ev(created, r2)) // the creation's event never comes
    await waitFor(() => o._source?.n === 6, 2000, { what: 'refetch after the gap' })
    expect(o.status).toBe('live')
  })

  it('a duplicated delete is reported once', async () => {
    const { inner, driver, o, seeded } = await manual()
    const del = await inner.delete('i', 'c', 'a')
    let deletes = 0
    o.on('delete', () => deletes++)
    const e: DocEvent = { id: 'a', kind: 'delete', rev: del._rev, previousRev: seeded._rev }
    driver.push(e)
    driver.push(e)
    expect(o.status).toBe('deleted')
    expect(o._source).toBeNull()
    expect(deletes).toBe(1)
  })
})

describe('convergence under reordering and duplication (memory driver faults)', () => {
  it('observers of 5 documents equal the store after 200 writes with reorder and duplicate', async () => {
    const driver = memoryDriver({ seed: 42 })
    const client = new ObserverClient({ driver, gapTimeout: 30 })
    clients.push(client)
    const ids = ['a', 'b', 'c', 'd', 'e']
    driver.seed(
      'i',
      'c',
      ids.map((id) => ({ _id: id, _source: { n: 0 } })),
    )
    const observers = client.mGet<{ n: number; extra?: number }>('i', 'c', ids)
    await Promise.all(observers.map((o) => o.ready()))
    driver.faults.reorder = 0.4
    driver.faults.duplicate = 0.3
    driver.faults.delay = [0, 5]
    for (let k = 1; k <= 200; k++) {
      const id = ids[k % ids.length]
      if (k % 7 === 0) await driver.replace('i', 'c', id, { n: k })
      else await driver.update('i', 'c', id, { n: k, extra: k % 3 })
    }
    const expected = Object.fromEntries(driver.snapshot('i', 'c').map((d) => [d._id, d._source]))
    await waitFor(() => observers.every((o) => JSON.stringify(o._source) === JSON.stringify(expected[o._id])), 5000, {
      what: 'observers equal the store',
    })
    for (const o of observers) {
      expect(o._source).toEqual(expected[o._id])
      expect(o.status).toBe('live')
    }
    for (const o of observers) o.stop()
  })

  it('with dropped events, a later event reveals the gap and the refetch converges', async () => {
    const driver = memoryDriver({ seed: 7 })
    const client = new ObserverClient({ driver, gapTimeout: 20 })
    clients.push(client)
    driver.seed('i', 'c', [{ _id: 'a', _source: { n: 0 } }])
    const o = client.get<{ n: number }>('i', 'c', 'a')
    await o.ready()
    driver.faults.drop = 0.5
    for (let k = 1; k <= 50; k++) await driver.replace('i', 'c', 'a', { n: k })
    driver.faults.drop = 0
    await driver.replace('i', 'c', 'a', { n: 1000 }) // delivered for sure
    await waitFor(() => o._source?.n === 1000, 3000, { what: 'n = 1000' })
    expect(o._source).toEqual({ n: 1000 })
    o.stop()
  })
})
