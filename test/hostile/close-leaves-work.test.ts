// @vitest-environment happy-dom
// Audit finding 8, close() leaves work behind: after close() no timer fires and no driver call is made; start() on a
// closed client throws and opens nothing; stop() after a fatal watch error, failing reads or a pending gap leaves
// no timer; app.unmount() closes every listener, a Pinia store's included.
import { createPinia, defineStore, setActivePinia } from 'pinia'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { createApp, defineComponent, h } from 'vue'
import { createObserver, useObservedDocument, useObservedSearch } from '../../src'
import { ObserverClient, ObservedError } from '../../src/core'
import { memoryDriver } from '../../src/drivers/memory'
import { sanityDriver } from '../../src/drivers/sanity'
import { instrument } from '../helpers/instrumented-driver'
import { waitFor } from '../helpers/wait-for'
import { startSanityServer, type SanityTestServer } from '../servers/sanity'
import { clientFor } from '../servers/sanity/test-client'

afterEach(() => {
  vi.useRealTimers()
})

/** A client whose document `a` is live with a revision gap pending and whose search retries a failed read. */
async function busyClient() {
  const inner = memoryDriver()
  inner.seed('i', 'c', [{ _id: 'a', _source: { n: 1 } }])
  const driver = instrument(inner)
  const client = new ObserverClient({ driver, gapTimeout: 1000, backoff: { base: 1000, cap: 1000 }, releaseDelay: 100 })
  const o = client.get<{ n: number }>('i', 'c', 'a')
  await vi.waitFor(() => expect(o.status).toBe('live'))
  // An event continuing a revision the observer never saw: it waits for the gap (a timer), then reads.
  driver.manualEvents = true
  driver.push({ id: 'a', kind: 'upsert', doc: { n: 3 }, rev: 3, previousRev: 2 })
  inner.faults.failReads = 100
  const s = client.search('i', 'c', { query: {} }, { live: 'hits' })
  await vi.waitFor(() => expect(s.status).toBe('error'))
  return { inner, driver, client, o, s }
}

describe('close() and stop() leave nothing behind (audit finding 8)', () => {
  it('after close(), no timer is left and the driver is never called again', async () => {
    vi.useFakeTimers()
    const { driver, client, o, s } = await busyClient()
    expect(vi.getTimerCount()).toBeGreaterThan(0) // the gap and the search's retry wait
    const reads = driver.reads.length
    const watches = driver.watches.length
    client.close()
    expect(vi.getTimerCount()).toBe(0)
    expect(driver.openWatches()).toEqual([])
    await vi.advanceTimersByTimeAsync(60_000)
    expect(driver.reads.length).toBe(reads)
    expect(driver.watches.length).toBe(watches)
    expect([o.status, s.status]).toEqual(['stopped', 'stopped'])
    expect(client.isClosed).toBe(true)
  })

  it('start() on a closed client throws a clear closed error and opens nothing', async () => {
    const inner = memoryDriver()
    const driver = instrument(inner)
    const client = new ObserverClient({ driver })
    client.close()
    const expectClosed = (f: () => unknown) => {
      try {
        f()
      } catch (err) {
        expect(err).toBeInstanceOf(ObservedError)
        expect(err).toMatchObject({ code: 'closed', message: expect.stringContaining('closed') })
        return
      }
      throw new Error('did not throw')
    }
    expectClosed(() => client.get('i', 'c', 'a'))
    expectClosed(() => client.search('i', 'c', {}, { live: 'query' }))
    const o = client.observer('i', 'c', 'b')
    expectClosed(() => o.start())
    expect(o.isActive).toBe(false)
    await expect(client.read('i', 'c', 'a')).rejects.toMatchObject({ code: 'closed' })
    expect(driver.watches).toEqual([])
    expect(driver.reads).toEqual([])
  })

  it('stop() after a pending gap and failing reads leaves no timer once the watch is released', async () => {
    vi.useFakeTimers()
    const { driver, client, o, s } = await busyClient()
    o.stop()
    s.stop()
    // The id watch stays `releaseDelay` (mount/unmount churn), then closes: nothing else is left.
    await vi.advanceTimersByTimeAsync(100)
    expect(vi.getTimerCount()).toBe(0)
    expect(driver.openWatches()).toEqual([])
    const reads = driver.reads.length
    await vi.advanceTimersByTimeAsync(60_000)
    expect(driver.reads.length).toBe(reads)
    client.close()
  })

  it('stop() after a fatal watch error leaves no timer', async () => {
    vi.useFakeTimers()
    const inner = memoryDriver()
    inner.seed('i', 'c', [{ _id: 'a', _source: { n: 1 } }])
    const driver = instrument(inner)
    const client = new ObserverClient({ driver, backoff: { base: 1000, cap: 1000 } })
    const o = client.get('i', 'c', 'a')
    const s = client.search('i', 'c', { query: {} }, { live: 'query' })
    await vi.waitFor(() => expect([o.status, s.status]).toEqual(['live', 'live']))
    for (const w of driver.openWatches()) w.sink.error(new ObservedError('unauthorized', 'HTTP 401', { fatal: true }))
    expect([o.status, s.status]).toEqual(['error', 'error'])
    o.stop()
    s.stop()
    await vi.advanceTimersByTimeAsync(0)
    expect(vi.getTimerCount()).toBe(0)
    client.close()
  })
})

describe('app.unmount() closes every listener (audit finding 8)', () => {
  let server: SanityTestServer
  beforeAll(async () => {
    server = await startSanityServer()
    server.documents.load([{ _id: 'n1', _type: 'note', n: 1 }])
  })
  afterAll(() => server.stop())

  it("components' and a Pinia store's listeners are all closed", async () => {
    const pinia = createPinia()
    setActivePinia(pinia)
    const useNotes = defineStore('notes', () => ({ notes: useObservedSearch('', 'note', { query: 'n > 0' }, { live: 'query' }) }))
    const app = createApp(
      defineComponent({
        setup() {
          const doc = useObservedDocument('', 'note', 'n1')
          const store = useNotes()
          return () => h('p', `${doc.data.value?._source.n ?? '-'} ${store.notes.hits.length}`)
        },
      }),
    )
    app.use(pinia).use(createObserver({ driver: sanityDriver(clientFor(server)) }))
    const root = document.createElement('div')
    app.mount(root)
    await waitFor(() => root.textContent === '1 1', 3000, { what: 'document and search shown' })
    expect(server.openListeners).toBeGreaterThanOrEqual(2)
    app.unmount()
    await waitFor(() => server.openListeners === 0, 3000, { what: 'every listener closed' })
  })
})
