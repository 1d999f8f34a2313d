// Promise 6: stop() releases the pooled watch when its last user leaves, nothing keeps a stopped observer, events
// for stopped or unknown ids are ignored and never thrown, and stopping twice is safe.
import { afterEach, describe, expect, it } from 'vitest'
import { ObserverClient } from '../../src/core'
import { memoryDriver } from '../../src/drivers/memory'
import { instrument } from '../helpers/instrumented-driver'
import { waitFor } from '../helpers/wait-for'

const clients: ObserverClient[] = []
afterEach(() => {
  for (const c of clients.splice(0)) c.close()
})
function setup() {
  const inner = memoryDriver()
  inner.seed('i', 'c', [
    { _id: 'a', _source: { n: 1 } },
    { _id: 'b', _source: { n: 2 } },
  ])
  const driver = instrument(inner)
  const client = new ObserverClient({ driver, releaseDelay: 5 })
  clients.push(client)
  return { inner, driver, client }
}

describe('stop', () => {
  it('releases the watch when the last observer stops, not before', async () => {
    const { inner, client } = setup()
    const a1 = client.get('i', 'c', 'a')
    const a2 = client.get('i', 'c', 'a')
    await Promise.all([a1.ready(), a2.ready()])
    a1.stop()
    expect(a1.status).toBe('stopped')
    expect(a1.isActive).toBe(false)
    expect(a1._source).toBeNull()
    expect(a2.status).toBe('live')
    await inner.update('i', 'c', 'a', { n: 10 })
    await waitFor(() => (a2._source as { n: number } | null)?.n === 10, 1000)
    expect(inner.activeWatches).toBe(1)
    a2.stop()
    await waitFor(() => inner.activeWatches === 0, 1000, { what: 'watch closed' })
    expect(client.stats()).toEqual({ documents: 0, idWatches: 0, queryWatches: 0 })
  })

  it('a stopped observer hears nothing more; stopping twice is safe; it can start again', async () => {
    const { inner, client } = setup()
    const o = client.get<{ n: number }>('i', 'c', 'a')
    await o.ready()
    const seen: string[] = []
    o.on('change', (s) => seen.push(`change:${s.n}`))
    o.on('delete', () => seen.push('delete'))
    o.on('status', (s) => seen.push(`status:${s}`))
    o.stop()
    expect(() => o.stop()).not.toThrow()
    await inner.update('i', 'c', 'a', { n: 5 })
    await inner.delete('i', 'c', 'b')
    await waitFor(() => inner.activeWatches === 0, 1000)
    expect(seen).toEqual(['status:stopped'])
    o.start()
    await o.ready()
    expect(o.status).toBe('live')
    expect(o._source).toEqual({ n: 5 })
    o.stop()
  })

  it('stop while the first read is in flight: the late answer is dropped, nothing is held', async () => {
    const { driver, client } = setup()
    driver.holdReads = true
    const o = client.get('i', 'c', 'a')
    await waitFor(() => driver.pendingReads === 1, 1000)
    o.stop()
    driver.releaseReads()
    await waitFor(() => driver.openWatches().length === 0, 1000)
    expect(o.status).toBe('stopped')
    expect(o._source).toBeNull()
    expect(client.stats()).toEqual({ documents: 0, idWatches: 0, queryWatches: 0 })
  })

  it('events for a stopped id still in the narrowing window, and for unknown ids, are ignored', async () => {
    const inner = memoryDriver()
    inner.seed('i', 'c', [
      { _id: 'a', _source: { n: 1 } },
      { _id: 'b', _source: { n: 2 } },
    ])
    const driver = instrument(inner)
    const client = new ObserverClient({ driver, releaseDelay: 10_000 })
    clients.push(client)
    const a = client.get('i', 'c', 'a')
    const b = client.get('i', 'c', 'b')
    await Promise.all([a.ready(), b.ready()])
    a.stop()
    const sink = driver.watches[0].sink
    expect(() => sink.event({ id: 'a', kind: 'upsert', doc: { n: 9 }, rev: 50, previousRev: 1 })).not.toThrow()
    expect(() => sink.event({ id: 'a', kind: 'delete', rev: 51, previousRev: 50 })).not.toThrow()
    expect(() => sink.event({ id: 'ghost', kind: 'upsert', doc: { n: 9 } })).not.toThrow()
    expect(() => sink.reset()).not.toThrow()
    expect(client.stats().documents).toBe(1)
    expect(a._source).toBeNull()
    expect(b.status).toBe('live')
    b.stop()
  })

  it('client.close() stops every started observer, however many share a document, and holds nothing after', async () => {
    const { inner, client } = setup()
    const a1 = client.get('i', 'c', 'a')
    const a2 = client.get('i', 'c', 'a')
    const b = client.get('i', 'c', 'b')
    const other = client.get('i', 'other', 'x')
    const s = client.search('i', 'c', {}, { live: 'query' })
    await Promise.all([a1.ready(), a2.ready(), b.ready(), other.ready(), s.ready()])
    const seen: string[] = []
    for (const [name, o] of Object.entries({ a1, a2, b, other })) o.on('status', (st) => seen.push(`${name}:${st}`))
    client.close()
    expect([a1, a2, b, other].map((o) => o.status)).toEqual(['stopped', 'stopped', 'stopped', 'stopped'])
    expect(seen.sort()).toEqual(['a1:stopped', 'a2:stopped', 'b:stopped', 'other:stopped'])
    expect(s.status).toBe('stopped')
    expect(client.stats()).toEqual({ documents: 0, idWatches: 0, queryWatches: 0 })
    expect(inner.activeWatches).toBe(0)
  })

  it('client.close() closes every watch', async () => {
    const { inner, client } = setup()
    const o = client.get('i', 'c', 'a')
    const s = client.search('i', 'c', {}, { live: 'query' })
    await Promise.all([o.ready(), s.ready()])
    expect(inner.activeWatches).toBe(2)
    client.close()
    expect(inner.activeWatches).toBe(0)
  })
})
