/**
 * Local writes (issue 16) over the real SDKs and the protocol test servers, the same cases on Kuzzle and Sanity: a
 * rebase over a concurrent remote change, several writes kept in order, a write to a document deleted remotely
 * (rolled back to deleted), and a write while the server is down (refused at once and rolled back, never queued).
 */
import type { SanityClient } from '@sanity/client'
import { Kuzzle, WebSocket as KuzzleWebSocket } from 'kuzzle-sdk'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { ObserverClient, type Driver, type ObservedError } from '../../src'
import { kuzzleDriver } from '../../src/drivers/kuzzle'
import { sanityDriver } from '../../src/drivers/sanity'
import { waitFor } from '../helpers/wait-for'
import { startKuzzleServer, type KuzzleTestServer } from '../servers/kuzzle'
import { startSanityServer, type SanityTestServer } from '../servers/sanity'
import { clientFor } from '../servers/sanity/test-client'

type Doc = { n: number; city?: string }

/** What a case needs of a backend: its driver, and writes, deletes and outages made server-side. */
interface Backend {
  index: string
  collection: string
  /** A search query in the backend's language: `n >= 10`. */
  atLeastTen: unknown
  driver(): Promise<Driver>
  seed(id: string, doc: Doc): void
  remoteUpdate(id: string, changes: Partial<Doc>): void
  remoteDelete(id: string): void
  stored(id: string): Doc | null
  stop(): Promise<void>
  restart(): Promise<void>
  cleanup(): Promise<void>
}

let kuzzleServer: KuzzleTestServer
let sanityServer: SanityTestServer
const sdks: Kuzzle[] = []

const kuzzle: Backend = {
  index: 'nyc-open-data',
  collection: 'yellow-taxi',
  atLeastTen: { range: { n: { gte: 10 } } },
  async driver() {
    const sdk = new Kuzzle(new KuzzleWebSocket('127.0.0.1', { port: kuzzleServer.port, reconnectionDelay: 50 }))
    sdks.push(sdk)
    await sdk.connect()
    return kuzzleDriver(sdk)
  },
  seed: (id, doc) => void kuzzleServer.documents.create('nyc-open-data', 'yellow-taxi', id, doc),
  remoteUpdate: (id, changes) => void kuzzleServer.documents.update('nyc-open-data', 'yellow-taxi', id, changes),
  remoteDelete: (id) => void kuzzleServer.documents.delete('nyc-open-data', 'yellow-taxi', id),
  stored: (id) => {
    const doc = kuzzleServer.documents.get('nyc-open-data', 'yellow-taxi', id)
    if (!doc) return null
    const { _kuzzle_info: _info, ...rest } = doc._source as Doc & { _kuzzle_info?: unknown }
    return rest
  },
  stop: () => kuzzleServer.stop(),
  restart: () => kuzzleServer.restart(),
  async cleanup() {
    await waitFor(() => kuzzleServer.subscriptionCount() === 0, 3000, { what: 'every subscription released' })
    for (const sdk of sdks.splice(0)) sdk.disconnect()
    kuzzleServer.documents.clear()
  },
}

let sanity: SanityClient
const sanityBackend: Backend = {
  index: '',
  collection: 'note',
  atLeastTen: 'n >= 10',
  async driver() {
    return sanityDriver(sanity)
  },
  seed: (id, doc) => void sanityServer.documents.create({ _id: id, _type: 'note', ...doc }),
  remoteUpdate: (id, changes) => void sanityServer.documents.patch(id, { set: changes }),
  remoteDelete: (id) => sanityServer.documents.delete(id),
  stored: (id) => {
    const doc = sanityServer.documents.get(id) as (Doc & Record<string, unknown>) | null
    if (!doc) return null
    return Object.fromEntries(Object.entries(doc).filter(([k]) => !k.startsWith('_'))) as Doc
  },
  stop: () => sanityServer.stop(),
  restart: () => sanityServer.restart(),
  async cleanup() {
    await waitFor(() => sanityServer.openListeners === 0, 3000, { what: 'every listener closed' })
    sanityServer.documents.wipe()
  },
}

beforeAll(async () => {
  kuzzleServer = await startKuzzleServer()
  sanityServer = await startSanityServer({ retryMs: 20 })
  sanity = clientFor(sanityServer)
})
afterAll(async () => {
  await kuzzleServer?.stop()
  await sanityServer?.stop()
})

describe.each([
  ['Kuzzle', kuzzle],
  ['Sanity', sanityBackend],
] as const)('local writes over %s', (_name, backend) => {
  const clients: ObserverClient[] = []
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close()
    await backend.cleanup()
  })

  /** An observer of `id` whose writes reach the server only when `release()` is called (none held: at once). */
  async function observe(id: string, gated = false) {
    const driver = await backend.driver()
    const releases: Array<() => void> = []
    const write = driver.write!.bind(driver)
    const client = new ObserverClient({
      driver: gated
        ? Object.assign(Object.create(driver) as Driver, {
            write: async (...args: Parameters<typeof write>) => (await new Promise<void>((r) => releases.push(r)), write(...args)),
          })
        : driver,
      backoff: { base: 20, cap: 100 },
    })
    clients.push(client)
    const doc = client.get<Doc>(backend.index, backend.collection, id)
    await doc.ready()
    return { client, doc, release: () => releases.shift()?.(), held: () => releases.length }
  }

  it('rebase: a remote change while a write is pending is shown under it, and both are stored', async () => {
    backend.seed('r', { n: 1, city: 'NYC' })
    const { doc, release, held } = await observe('r', true)
    const write = doc.update({ n: 2 })
    await waitFor(() => held() === 1, 3000, { what: 'the write held' })
    backend.remoteUpdate('r', { city: 'Paris' })
    await waitFor(() => doc._source?.city === 'Paris', 3000, { what: 'the remote change, rebased' })
    expect(doc._source).toMatchObject({ n: 2, city: 'Paris' })
    expect(doc.pending).toBe(true)
    release()
    await write
    await waitFor(() => !doc.pending, 3000, { what: 'confirmed' })
    expect(doc._source).toMatchObject({ n: 2, city: 'Paris' })
    expect(backend.stored('r')).toEqual({ n: 2, city: 'Paris' })
  })

  it('a local write enters and leaves a live query search at once, in sort order, pending until the server has it', async () => {
    backend.seed('q1', { n: 10 })
    backend.seed('q2', { n: 30 })
    backend.seed('q3', { n: 1 })
    const { client, doc, release, held } = await observe('q3', true)
    const s = client.search<Doc>(backend.index, backend.collection, { query: backend.atLeastTen, sort: 'n' }, { live: 'query' })
    await s.ready()
    const ids = () => s.hits.map((h) => h._id).join()
    await waitFor(() => ids() === 'q1,q2' && s.total === 2, 3000, { what: 'the first page' })
    const entered = doc.update({ n: 20 })
    // Same tick: placed by the driver's own test of the query, before the write reached the server.
    expect(ids()).toBe('q1,q3,q2')
    expect(s.total).toBe(3)
    expect(s.hits[1].pending).toBe(true)
    await waitFor(() => held() === 1, 3000, { what: 'the write sent' })
    release()
    await entered
    await waitFor(() => !doc.pending && !s.hits.some((h) => h.pending), 3000, { what: 'confirmed' })
    expect([ids(), s.total]).toEqual(['q1,q3,q2', 3])
    const left = doc.update({ n: 2 })
    expect(ids()).toBe('q1,q2')
    expect(s.total).toBe(2)
    await waitFor(() => held() === 1, 3000, { what: 'the second write sent' })
    release()
    await left
    await waitFor(() => !doc.pending, 3000, { what: 'confirmed' })
    expect([ids(), s.total]).toEqual(['q1,q2', 2])
    s.stop()
  })

  it('several local writes keep their order', async () => {
    backend.seed('o', { n: 1 })
    const { doc } = await observe('o')
    const writes = [doc.update({ n: 2 }), doc.update({ city: 'Oslo' }), doc.update({ n: 3 }), doc.update({ n: 4 })]
    expect(doc._source).toMatchObject({ n: 4, city: 'Oslo' })
    await Promise.all(writes)
    await waitFor(() => !doc.pending, 3000)
    expect(backend.stored('o')).toEqual({ n: 4, city: 'Oslo' })
    expect(doc._source).toMatchObject({ n: 4, city: 'Oslo' })
  })

  it('a local write to a document deleted remotely is refused (not_found) and rolled back to deleted', async () => {
    backend.seed('d', { n: 1 })
    const { doc, release, held } = await observe('d', true)
    const write = doc.update({ n: 5 })
    const outcome = write.then(() => null, (e: ObservedError) => e)
    await waitFor(() => held() === 1, 3000)
    backend.remoteDelete('d')
    release()
    expect(await outcome).toMatchObject({ code: 'not_found' })
    await waitFor(() => doc.status === 'deleted' && !doc.pending, 3000, { what: 'rolled back to deleted' })
    expect(doc._source).toBeNull()
    expect(backend.stored('d')).toBeNull()
  })

  it('a local write while the server is down fails and is rolled back, never applied later', async () => {
    backend.seed('w', { n: 1 })
    const { doc } = await observe('w')
    await backend.stop()
    const outcome = doc.update({ n: 9 }).then(() => null, (e: ObservedError) => e)
    expect(doc._source).toMatchObject({ n: 9 })
    const error = await outcome
    expect(error?.name).toBe('ObservedError')
    await waitFor(() => doc._source?.n === 1 && !doc.pending, 5000, { what: 'rolled back' })
    await backend.restart()
    await waitFor(() => doc.status === 'live', 10_000, { what: 'live again' })
    expect(doc._source).toMatchObject({ n: 1 })
    expect(backend.stored('w')).toEqual({ n: 1 })
  })
})
