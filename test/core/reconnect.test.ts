// Promise 7: disconnect -> reconnecting -> live, with a resync that catches up writes made meanwhile; missed events
// (reset) resync; a non-fatal watch failure is retried with backoff; a read failure shows an error then recovers;
// a fatal error stops and stays stopped.
import { afterEach, describe, expect, it } from 'vitest'
import { ObserverClient, type ObserverStatus } from '../../src/core'
import { memoryDriver } from '../../src/drivers/memory'
import { instrument } from '../helpers/instrumented-driver'
import { waitFor } from '../helpers/wait-for'

const clients: ObserverClient[] = []
afterEach(() => {
  for (const c of clients.splice(0)) c.close()
})
async function setup() {
  const inner = memoryDriver()
  inner.seed('i', 'c', [
    { _id: 'a', _source: { n: 1 } },
    { _id: 'b', _source: { n: 2 } },
  ])
  const driver = instrument(inner)
  const client = new ObserverClient({ driver, backoff: { base: 5, cap: 50 }, releaseDelay: 5 })
  clients.push(client)
  const o = client.get<{ n: number }>('i', 'c', 'a')
  const statuses: ObserverStatus[] = []
  o.on('status', (s) => statuses.push(s))
  await o.ready()
  return { inner, driver, client, o, statuses }
}

describe('reconnect', () => {
  it('disconnect: reconnecting, then live, and writes made while disconnected converge', async () => {
    const { inner, o, statuses } = await setup()
    inner.faults.disconnect()
    await waitFor(() => o.status === 'reconnecting', 1000, { what: 'reconnecting' })
    await inner.update('i', 'c', 'a', { n: 2 })
    await inner.update('i', 'c', 'a', { n: 3 })
    expect(o._source).toEqual({ n: 1 })
    inner.faults.reconnect()
    await waitFor(() => o.status === 'live' && o._source?.n === 3, 1000, { what: 'live with n = 3' })
    expect(statuses).toEqual(['live', 'reconnecting', 'live'])
    await inner.update('i', 'c', 'a', { n: 4 })
    await waitFor(() => o._source?.n === 4, 1000)
  })

  it('a document deleted while disconnected shows deleted after reconnecting', async () => {
    const { inner, o } = await setup()
    inner.faults.disconnect()
    await waitFor(() => o.status === 'reconnecting', 1000)
    await inner.delete('i', 'c', 'a')
    inner.faults.reconnect()
    await waitFor(() => o.status === 'deleted', 1000)
    expect(o._source).toBeNull()
  })

  it('a live query search catches up after a reconnect', async () => {
    const { inner, client } = await setup()
    const s = client.search<{ n: number }>('i', 'c', { sort: 'n' }, { live: 'query' })
    await s.ready()
    const statuses: string[] = []
    s.on('status', (st) => statuses.push(st))
    inner.faults.disconnect()
    await waitFor(() => s.status === 'reconnecting', 1000)
    await inner.create('i', 'c', { n: 0 }, 'z')
    await inner.delete('i', 'c', 'b')
    inner.faults.reconnect()
    await waitFor(() => s.status === 'live' && s.hits.map((h) => h._id).join() === 'z,a', 1000, { what: 'z,a' })
    expect(s.total).toBe(2)
    expect(statuses).toEqual(['reconnecting', 'live'])
    s.stop()
  })

  it('missEvents(): the watch resets and the observer reads again', async () => {
    const { inner, driver, o } = await setup()
    driver.manualEvents = true // nothing from the channel: only the reset can bring the change
    await inner.update('i', 'c', 'a', { n: 7 })
    const reads = driver.reads.length
    inner.faults.missEvents()
    await waitFor(() => o._source?.n === 7, 1000, { what: 'resync after reset' })
    expect(driver.reads.length).toBe(reads + 1)
    expect(o.status).toBe('live')
  })

  it('failWatches(): status error, then a new watch with backoff, live again and caught up', async () => {
    const { inner, driver, o, statuses } = await setup()
    const errors: string[] = []
    o.on('error', (e) => errors.push(`${e.code}:${e.message}`))
    inner.faults.failWatchOpens = 2 // the first two reopen attempts fail too
    inner.faults.failWatches('boom')
    await waitFor(() => o.status === 'error', 1000, { what: 'error' })
    expect(o.error?.code).toBe('watch_failed')
    await inner.update('i', 'c', 'a', { n: 5 })
    await waitFor(() => o.status === 'live' && o._source?.n === 5, 2000, { what: 'recovered' })
    expect(driver.watches.length).toBe(4)
    expect(driver.openWatches()).toHaveLength(1)
    expect(statuses[0]).toBe('live')
    expect(statuses.at(-1)).toBe('live')
    expect(statuses).toContain('error')
    expect(errors[0]).toBe('watch_failed:boom')
    await inner.update('i', 'c', 'a', { n: 6 })
    await waitFor(() => o._source?.n === 6, 1000)
  })

  it('a fatal watch error stops and stays stopped', async () => {
    const { inner, driver, o } = await setup()
    inner.faults.failWatches('revoked', { fatal: true })
    await waitFor(() => o.status === 'error', 1000)
    expect(o.error?.fatal).toBe(true)
    expect(o.error?.message).toBe('revoked')
    const watches = driver.watches.length
    await inner.update('i', 'c', 'a', { n: 9 })
    // Well past several backoff periods: no new watch, no recovery.
    const deadline = Date.now() + 150
    await waitFor(() => Date.now() >= deadline, 1000)
    expect(driver.watches.length).toBe(watches)
    expect(o.status).toBe('error')
    expect(o._source).toEqual({ n: 1 })
  })

  it('failReads: status error with a message, then recovery with backoff', async () => {
    const inner = memoryDriver()
    inner.seed('i', 'c', [{ _id: 'a', _source: { n: 1 } }])
    const client = new ObserverClient({ driver: inner, backoff: { base: 5, cap: 50 } })
    clients.push(client)
    inner.faults.failReads = 3
    const o = client.get<{ n: number }>('i', 'c', 'a')
    const errors: string[] = []
    o.on('error', (e) => errors.push(e.code))
    await o.ready()
    expect(o.status).toBe('error')
    expect(o.error?.code).toBe('read_failed')
    expect(o.error?.message).toMatch(/Could not read document "a" from i\/c: Simulated read failure/)
    await waitFor(() => o.status === 'live', 2000, { what: 'recovered' })
    expect(o._source).toEqual({ n: 1 })
    expect(o.error).toBeNull()
    expect(inner.faults.failReads).toBe(0)
    expect(errors.length).toBeGreaterThanOrEqual(1)
    expect(errors.every((c) => c === 'read_failed')).toBe(true)
  })
})
