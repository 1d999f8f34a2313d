/**
 * 2. Fan-out. 1,000 components observing 1,000 distinct documents of one collection, and 1,000 observing the same
 * document: how many driver watches (memory driver, sharded at 100 ids and unbounded), Kuzzle subscriptions (Kuzzle
 * test server, real kuzzle-sdk) and Sanity listeners (Sanity test server, real @sanity/client; one per dataset) they
 * open. The naive
 * baseline, one subscription per component, would open 1,000. Then the mount time per component against a
 * component holding a plain ref, interleaved over rounds.
 */
import { createClient } from '@sanity/client'
import kuzzleSdk from 'kuzzle-sdk'
import { createObserver } from '../src'
import { kuzzleDriver } from '../src/drivers/kuzzle'
import { memoryDriver } from '../src/drivers/memory'
import { sanityDriver } from '../src/drivers/sanity'
import type { Driver } from '../src/core/types'
import { startKuzzleServer } from '../test/servers/kuzzle'
import { startSanityServer } from '../test/servers/sanity'
import { COLLECTION, INDEX, idOf, makeDocs } from './lib/dataset'
import { ObservedChild, PlainChild, mountMany } from './lib/mount'
import { collect, log, median, ms, report, times, until } from './lib/report'

// kuzzle-sdk is CommonJS: Node's ESM loader exposes it as a default export only.
const { Kuzzle, WebSocket: KuzzleWebSocket } = kuzzleSdk
const N = 1000
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5)
const distinct = Array.from({ length: N }, (_, i) => idOf(i))
const same = Array.from({ length: N }, () => idOf(0))

interface Backend {
  name: string
  driver: Driver
  /** Subscriptions the backend holds now. */
  count(): number
  what: string
  props?: Record<string, unknown>
}

/** Mounts 1,000 observers, waits until they show their documents and the count settles, reads it, unmounts. */
async function fanOut(backend: Backend, ids: readonly string[]): Promise<number> {
  const plugin = createObserver({ driver: backend.driver })
  const mounted = mountMany(ObservedChild, ids, plugin, backend.props)
  await mounted.shown()
  // Settled: the same count on a few consecutive turns (sharded watches open within one tick).
  let last = -1
  let stable = 0
  await until(() => {
    const n = backend.count()
    stable = n === last ? stable + 1 : 0
    last = n
    return stable >= 5
  }, 10_000, `${backend.name}: subscription count settles`)
  mounted.unmount()
  await until(() => backend.count() === 0, 10_000, `${backend.name}: every subscription released after unmount`)
  return last
}

function reportCount(backend: Backend, label: string, count: number, target: number) {
  report({
    bench: 'fan-out',
    measure: `1,000 components, ${label}: ${backend.what}`,
    ours: String(count),
    baseline: '1,000 (one per component)',
    ratio: `${times(N / Math.max(count, 1))} fewer`,
    target: `≤ ${target}`,
    met: count <= target,
  })
}

// ---- memory driver ------------------------------------------------------------------------------------------------
for (const maxIdsPerWatch of [100, undefined]) {
  const driver = memoryDriver(maxIdsPerWatch === undefined ? {} : { maxIdsPerWatch })
  driver.seed(INDEX, COLLECTION, makeDocs(N))
  const backend: Backend = {
    name: 'memory',
    driver,
    count: () => driver.activeWatches,
    what: `memory driver watches (${maxIdsPerWatch === undefined ? 'unbounded' : `maxIdsPerWatch ${maxIdsPerWatch}`})`,
  }
  reportCount(backend, '1,000 distinct documents', await fanOut(backend, distinct), maxIdsPerWatch === undefined ? 1 : Math.ceil(N / maxIdsPerWatch))
  reportCount(backend, 'the same document', await fanOut(backend, same), 1)
}

// ---- Kuzzle: test server + real kuzzle-sdk over WebSocket on loopback --------------------------------------------
{
  const server = await startKuzzleServer()
  for (const d of makeDocs(N)) server.documents.create(INDEX, COLLECTION, d._id, d._source)
  const kuzzle = new Kuzzle(new KuzzleWebSocket('127.0.0.1', { port: server.port }))
  await kuzzle.connect()
  const driver = kuzzleDriver(kuzzle)
  const backend: Backend = { name: 'kuzzle', driver, count: () => server.subscriptionCount(), what: `Kuzzle subscriptions (${driver.maxIdsPerWatch} ids each)` }
  reportCount(backend, '1,000 distinct documents', await fanOut(backend, distinct), Math.ceil(N / driver.maxIdsPerWatch!))
  reportCount(backend, 'the same document', await fanOut(backend, same), 1)
  kuzzle.disconnect()
  await server.stop()
}

// ---- Sanity: test server + real @sanity/client (listen over Server-Sent Events) on loopback ----------------------
{
  const server = await startSanityServer()
  server.documents.load(makeDocs(N).map((d) => ({ _id: d._id, _type: COLLECTION, ...d._source })))
  const client = createClient({
    projectId: 'bench',
    dataset: 'production',
    apiVersion: '2025-02-19',
    apiHost: server.url,
    useProjectHostname: false,
    useCdn: false,
  })
  const driver = sanityDriver(client)
  // Sanity: index '' is the client's dataset, collection the document _type.
  const backend: Backend = {
    name: 'sanity',
    driver,
    count: () => server.openListeners,
    what: 'Sanity listeners (one per dataset)',
    props: { index: '' },
  }
  reportCount(backend, '1,000 distinct documents', await fanOut(backend, distinct), 1)
  reportCount(backend, 'the same document', await fanOut(backend, same), 1)
  await server.stop()
}

// ---- mount time per component: useObservedDocument vs a plain ref --------------------------------------------------
const sync = { ours: [] as number[], plain: [] as number[] }
const toData: number[] = []
for (let round = 0; round < ROUNDS; round++) {
  for (const kind of round % 2 ? (['plain', 'ours'] as const) : (['ours', 'plain'] as const)) {
    const driver = memoryDriver()
    driver.seed(INDEX, COLLECTION, makeDocs(N))
    await collect()
    const mounted = kind === 'ours' ? mountMany(ObservedChild, distinct, createObserver({ driver })) : mountMany(PlainChild, distinct)
    const shownMs = await mounted.shown()
    sync[kind].push(mounted.syncMs)
    if (kind === 'ours') toData.push(shownMs)
    mounted.unmount()
    await until(() => driver.activeWatches === 0, 10_000, 'watches released')
  }
}
log(`mount ours: ${sync.ours.map((v) => v.toFixed(1)).join(', ')} ms; plain: ${sync.plain.map((v) => v.toFixed(1)).join(', ')} ms`)
const ours = median(sync.ours) / N
const plain = median(sync.plain) / N
report({
  bench: 'fan-out',
  measure: 'mount time per component observing a document (1,000 mounted at once)',
  ours: ms(ours),
  baseline: `${ms(plain)} (plain ref)`,
  // Median over rounds of one round's ratio: both mounts of a pair saw the same moment of the machine.
  ratio: `${times(median(sync.ours.map((o, r) => o / sync.plain[r])))} the plain ref`,
  target: '',
  met: null,
})
report({
  bench: 'fan-out',
  measure: 'from mount until all 1,000 show their document (subscribe, then batched reads)',
  ours: ms(median(toData)),
  baseline: '',
  ratio: '',
  target: '',
  met: null,
})
