import { describe, expect, it } from 'vitest'
import { ObserverClient, type TraceRecord } from '../../src/core'
import { memoryDriver } from '../../src/drivers/memory'
import { instrument } from '../helpers/instrumented-driver'
import { waitFor } from '../helpers/wait-for'

describe('devtools: client.inspect() (inspector data from the core)', () => {
  it('shows watches, documents and searches with their state', async () => {
    const driver = memoryDriver()
    driver.seed('i', 'c', [{ _id: 'a', _source: { n: 1 } }, { _id: 'b', _source: { n: 2 } }])
    const client = new ObserverClient({ driver })
    const a = client.get('i', 'c', 'a')
    const s = client.search('i', 'c', { sort: { n: 'desc' } }, { live: 'query', size: 1 })
    await a.ready()
    await s.ready()
    await waitFor(() => client.inspect().watches.every((w) => w.status === 'live'))
    const view = client.inspect()
    expect(view.driver).toBe('memory')
    expect(view.closed).toBe(false)
    const ids = view.watches.find((w) => w.target === 'ids')!
    expect(ids).toMatchObject({ collection: 'i/c', status: 'live', ids: ['a'], shard: 1 })
    expect(ids.since).toBeLessThanOrEqual(Date.now())
    expect(view.watches.find((w) => w.target === 'query')).toMatchObject({ collection: 'i/c', status: 'live', searches: 1 })
    const docA = view.documents.find((d) => d.id === 'a')!
    expect(docA).toMatchObject({ collection: 'i/c', status: 'live', rev: 1, content: { n: 1 }, provenance: 'read', error: null })
    // 'a' is held by the observer; 'b' by the search (sorted first, window of 1).
    expect(view.documents.find((d) => d.id === 'b')).toMatchObject({ refs: 1, content: { n: 2 } })
    expect(view.searches).toHaveLength(1)
    expect(view.searches[0]).toMatchObject({
      collection: 'i/c',
      live: 'query',
      size: 1,
      fetched: 1,
      hits: ['b'],
      total: 2,
      hasMore: true,
      status: 'live',
      sort: [{ field: 'n', order: 'desc' }],
    })
    expect(view.searches[0].search).toBe(s)
    client.close()
    expect(client.inspect()).toMatchObject({ closed: true, watches: [], documents: [], searches: [] })
  })

  it('shows a failed read as the document error', async () => {
    const driver = memoryDriver()
    driver.faults.failReads = 1_000
    const client = new ObserverClient({ driver, backoff: { base: 10_000 } })
    client.get('i', 'c', 'x')
    await waitFor(() => client.inspect().documents[0]?.status === 'error')
    expect(client.inspect().documents[0].error?.code).toBeTruthy()
    client.close()
  })
})

describe('devtools: client.onTrace() (timeline data from the core)', () => {
  it('traces watches, reads, events and decisions, and stops when unsubscribed', async () => {
    const driver = memoryDriver()
    driver.seed('i', 'c', [{ _id: 'a', _source: { n: 1 } }])
    const client = new ObserverClient({ driver })
    const trace: TraceRecord[] = []
    const off = client.onTrace((e) => trace.push(e))
    const a = client.get('i', 'c', 'a')
    await a.ready()
    await driver.update('i', 'c', 'a', { n: 2 })
    await waitFor(() => (a._source as { n: number }).n === 2)
    const s = client.search('i', 'c', {}, { live: 'hits' })
    await s.ready()
    const types = trace.map((e) => (e.type === 'watch' || e.type === 'read' || e.type === 'search' ? `${e.type}:${e.phase}` : e.type))
    expect(types).toEqual(expect.arrayContaining(['watch:open', 'watch:live', 'read:sent', 'read:answered', 'event', 'decision', 'search:sent', 'search:answered']))
    expect(trace.find((e) => e.type === 'decision')).toMatchObject({ collection: 'i/c', id: 'a', decision: 'applied', rev: 2 })
    expect(trace.find((e) => e.type === 'event')).toMatchObject({ id: 'a', kind: 'upsert', via: 'ids' })
    expect(trace.every((e) => typeof e.at === 'number')).toBe(true)
    off()
    const n = trace.length
    await driver.update('i', 'c', 'a', { n: 3 })
    await waitFor(() => (a._source as { n: number }).n === 3)
    expect(trace.length).toBe(n)
    client.close()
  })

  it('traces a live search reading again when a hit leaves its window (timeline: read again)', async () => {
    const driver = memoryDriver()
    driver.seed('i', 'c', [{ _id: 'a', _source: { n: 1 } }, { _id: 'b', _source: { n: 2 } }, { _id: 'c', _source: { n: 3 } }])
    const client = new ObserverClient({ driver })
    // A window of 1 reads 1 spare row (b): a's exit moves b up without a read, b's exit leaves the window empty.
    const s = client.search('i', 'c', { sort: { n: 'asc' } }, { live: 'query', size: 1 })
    await s.ready()
    await waitFor(() => s.status === 'live' && s.hits.length === 1)
    const trace: TraceRecord[] = []
    client.onTrace((e) => trace.push(e))
    await driver.delete('i', 'c', 'a')
    await waitFor(() => s.hits.map((h) => h._id).join() === 'b')
    await driver.delete('i', 'c', 'b')
    await waitFor(() => s.hits.map((h) => h._id).join() === 'c')
    expect(trace.find((e) => e.type === 'resync')).toMatchObject({ collection: 'i/c', reason: expect.stringContaining('refill') })
    expect(trace.some((e) => e.type === 'search' && e.phase === 'sent')).toBe(true)
    client.close()
  })

  it('traces a gap (held) and a stale event (stale), and a listener that throws does not break the core', async () => {
    const driver = instrument(memoryDriver())
    driver.inner.seed('i', 'c', [{ _id: 'a', _source: { n: 1 } }])
    const client = new ObserverClient({ driver, gapTimeout: 50 })
    const decisions: string[] = []
    client.onTrace(() => {
      throw new Error('a broken listener')
    })
    client.onTrace((e) => e.type === 'decision' && decisions.push(e.decision))
    const a = client.get('i', 'c', 'a')
    await a.ready()
    driver.manualEvents = true
    driver.push({ id: 'a', kind: 'upsert', doc: { n: 3 }, rev: 3, previousRev: 2 })
    driver.push({ id: 'a', kind: 'upsert', doc: { n: 0 }, rev: 0, previousRev: null })
    expect(decisions).toEqual(['held', 'stale'])
    driver.push({ id: 'a', kind: 'upsert', doc: { n: 2 }, rev: 2, previousRev: 1 })
    expect(decisions).toEqual(['held', 'stale', 'applied', 'applied'])
    expect((a._source as { n: number }).n).toBe(3)
    client.close()
  })
})
