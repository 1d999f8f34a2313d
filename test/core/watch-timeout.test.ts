// No silent hang: a watch that never goes live (a connection limit reached, a proxy that holds the request) gives
// its observers a non-fatal `watch_timeout` error and status `reconnecting`, and is opened again with backoff; once
// the backend answers, they go live.
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createClient } from '@sanity/client'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { ObserverClient, type Driver, type Watch, type WatchSink } from '../../src/core'
import { memoryDriver } from '../../src/drivers/memory'
import { sanityDriver } from '../../src/drivers/sanity'
import { waitFor } from '../helpers/wait-for'

const clients: ObserverClient[] = []
const servers: Server[] = []
afterEach(async () => {
  for (const c of clients.splice(0)) c.close()
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))))
})

/** A memory driver whose watches hang (never ready) while `hanging` is set. */
function hangingDriver() {
  const inner = memoryDriver()
  inner.seed('i', 'c', [{ _id: 'a', _source: { n: 1 } }])
  const state = { hanging: true, opened: 0 }
  const driver: Driver = {
    name: 'hanging',
    get: (c, id) => inner.get(c, id),
    mGet: (c, ids) => inner.mGet(c, ids),
    search: (c, spec, page) => inner.search(c, spec, page),
    queryKey: (spec) => inner.queryKey(spec),
    watch(c, spec, sink: WatchSink): Watch {
      state.opened++
      if (!state.hanging) return inner.watch(c, spec, sink)
      return { close: () => undefined }
    },
  }
  return { driver, state }
}

describe('watch timeout', () => {
  it('an id watch and a query watch that never go live: reconnecting with a watch_timeout error, retried, then live', async () => {
    const { driver, state } = hangingDriver()
    const client = new ObserverClient({ driver, watchTimeout: 100, backoff: { base: 50, cap: 200 } })
    clients.push(client)
    const o = client.get<{ n: number }>('i', 'c', 'a')
    const s = client.search<{ n: number }>('i', 'c', { query: {} }, { live: 'query' })
    expect([o.status, s.status]).toEqual(['pending', 'pending'])
    await waitFor(() => o.status === 'reconnecting' && s.status === 'reconnecting', 2000, { what: 'reconnecting' })
    for (const err of [o.error, s.error]) {
      expect(err).toMatchObject({ code: 'watch_timeout', fatal: false })
      expect(err?.message).toMatch(/not live after 100 ms.*connection limit/s)
    }
    await waitFor(() => state.opened >= 4, 2000, { what: 'the watches opened again' })
    state.hanging = false
    await waitFor(() => o.status === 'live' && s.status === 'live', 3000, { what: 'live once the backend answers' })
    expect(o._source).toEqual({ n: 1 })
    expect(s.hits.map((h) => h._id)).toEqual(['a'])
    expect([o.error, s.error]).toEqual([null, null])
  })

  it('a live watch whose first reads never answer (queued behind a connection limit): reconnecting, then live when they do', async () => {
    const inner = memoryDriver()
    inner.seed('i', 'c', [{ _id: 'a', _source: { n: 1 } }])
    const held: Array<() => void> = []
    const hold = <T>(read: () => Promise<T>): Promise<T> => new Promise<T>((resolve, reject) => held.push(() => read().then(resolve, reject)))
    const driver: Driver = {
      name: 'queued',
      get: (c, id) => hold(() => inner.get(c, id)),
      mGet: (c, ids) => hold(() => inner.mGet(c, ids)),
      search: (c, spec, page) => hold(() => inner.search(c, spec, page)),
      queryKey: (spec) => inner.queryKey(spec),
      watch: (c, spec, sink) => inner.watch(c, spec, sink),
    }
    const client = new ObserverClient({ driver, watchTimeout: 100 })
    clients.push(client)
    const o = client.get<{ n: number }>('i', 'c', 'a')
    const s = client.search<{ n: number }>('i', 'c', { query: {} }, { live: 'query' })
    await waitFor(() => held.length >= 2, 2000, { what: 'both reads sent (the watches are live)' })
    expect([o.status, s.status]).toEqual(['pending', 'pending'])
    await waitFor(() => o.status === 'reconnecting' && s.status === 'reconnecting', 2000, { what: 'reconnecting' })
    for (const err of [o.error, s.error]) {
      expect(err).toMatchObject({ code: 'watch_timeout', fatal: false })
      expect(err?.message).toMatch(/first read has not answered after 100 ms.*connection limit/s)
    }
    // Not sent again: the reads are still in flight (a browser's queue), and their answers make them live.
    expect(held).toHaveLength(2)
    for (const release of held.splice(0)) release()
    await waitFor(() => o.status === 'live' && s.status === 'live', 2000, { what: 'live once the reads answer' })
    expect(o._source).toEqual({ n: 1 })
    expect(s.hits.map((h) => h._id)).toEqual(['a'])
    expect([o.error, s.error]).toEqual([null, null])
  })

  it('watchTimeout: 0 waits for ever, with no timer', async () => {
    vi.useFakeTimers()
    try {
      const { driver } = hangingDriver()
      const client = new ObserverClient({ driver, watchTimeout: 0 })
      clients.push(client)
      const o = client.get('i', 'c', 'a')
      await vi.advanceTimersByTimeAsync(60_000)
      expect(vi.getTimerCount()).toBe(0)
      expect(o.status).toBe('pending')
      expect(o.error).toBeNull()
    } finally {
      vi.useRealTimers()
    }
  })

  it('Sanity: a listener the server accepts but never answers (a held connection) times out with what to check', async () => {
    const held: Array<{ destroy(): void }> = []
    const server = createServer((req, res) => {
      // Headers sent, then nothing: what a proxy or a saturated connection pool looks like from the client.
      res.writeHead(200, { 'Content-Type': 'text/event-stream' })
      res.flushHeaders()
      held.push(res.socket!)
    })
    servers.push(server)
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const sanity = createClient({
      projectId: 'test',
      dataset: 'production',
      apiVersion: '2025-02-19',
      apiHost: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      useProjectHostname: false,
      useCdn: false,
    })
    const client = new ObserverClient({ driver: sanityDriver(sanity), watchTimeout: 200, backoff: { base: 100, cap: 400 } })
    clients.push(client)
    const o = client.get('', 'note', 'n1')
    await waitFor(() => o.status === 'reconnecting', 3000, { what: 'reconnecting' })
    expect(o.error).toMatchObject({ code: 'watch_timeout', fatal: false })
    expect(o.error?.message).toContain('sanity watch on (default)/note')
    await waitFor(() => held.length >= 2, 3000, { what: 'a second listen request' })
    client.close()
    for (const socket of held) socket.destroy()
  })
})
