/**
 * 3. Memory. (i) Retained heap per observed document, 5,000 documents, against the same documents held as plain
 * objects (and their JSON size): through useObservedDocument (5,000 composables) and through one
 * useObservedSearch of 5,000, each in an effect scope, with the plugin's reactive client; and the core alone
 * (5,000 `client.get()`), to tell the Vue layer's share. (ii) Heap growth over
 * 10,000 mount/unmount cycles of a component observing a document, against the same cycles of a component holding
 * a plain ref; these mount through a renderer into plain objects (lib/null-renderer.ts), so that the DOM
 * implementation's own heap does not blur the figure. (iii) Heap growth of one live search of size 10 while
 * 20,000 documents are created then deleted. Heap is read after full collections (node --expose-gc).
 */
import { defineComponent, effectScope, h, nextTick, shallowRef } from 'vue'
import { ObserverClient, createObserver, useObservedDocument, useObservedSearch } from '../src'
import { memoryDriver } from '../src/drivers/memory'
import { COLLECTION, INDEX, idOf, makeDocs, type BenchSource } from './lib/dataset'
import { ObservedChild, PlainChild } from './lib/mount'
import { createNullApp, textOf } from './lib/null-renderer'
import { bytes, collect, log, median, report, times, until } from './lib/report'

const DOCS = 5000
const CYCLES = 10_000
const WARMUP = 1000
const ROUNDS = 3

async function heap(): Promise<number> {
  await collect()
  return process.memoryUsage().heapUsed
}

/** Heap retained by `hold()`'s result, measured after full collections; the result is released afterwards. */
async function retained(hold: () => Promise<() => void>): Promise<number> {
  const before = await heap()
  const release = await hold()
  const after = await heap()
  release()
  return after - before
}

// ---- (i) retained heap per observed document --------------------------------------------------------------------
const docs = makeDocs(DOCS)
const jsonBytes = docs.reduce((n, d) => n + JSON.stringify(d).length, 0)

const plainDocs = () =>
  retained(async () => {
    // The same documents as an app would hold them after a fetch: fresh objects parsed from JSON.
    let held: unknown = JSON.parse(JSON.stringify(docs))
    return () => void (held = null)
  })

const observed = (mode: 'documents' | 'search' | 'core') => {
  const driver = memoryDriver()
  driver.seed(INDEX, COLLECTION, docs)
  const { client } = createObserver({ driver })
  return retained(async () => {
    const scope = effectScope()
    const shown = scope.run(() => {
      if (mode === 'core') {
        const all = docs.map((d) => client.get(INDEX, COLLECTION, d._id))
        return () => all.every((o) => o.status === 'live')
      }
      if (mode === 'search') {
        const search = useObservedSearch<BenchSource>(INDEX, COLLECTION, { sort: 'i' }, { size: DOCS, client })
        return () => search.hits.value.length === DOCS && search.status.value === 'live'
      }
      const all = docs.map((d) => useObservedDocument<BenchSource>(INDEX, COLLECTION, d._id, { client }))
      return () => all.every((o) => o.status.value === 'live')
    })!
    await until(shown, 60_000, `${DOCS} observed documents live`)
    await until(() => driver.activeWatches === 1, 10_000, 'one watch')
    return () => {
      scope.stop()
      client.close()
    }
  })
}

const sizes = { plain: [] as number[], documents: [] as number[], search: [] as number[], core: [] as number[] }
for (let round = 0; round < ROUNDS; round++) {
  sizes.plain.push(await plainDocs())
  sizes.documents.push(await observed('documents'))
  sizes.search.push(await observed('search'))
  sizes.core.push(await observed('core'))
}
log(`retained: ${Object.entries(sizes).map(([k, v]) => `${k} ${v.map((x) => bytes(x)).join('/')}`).join('; ')}`)
const plain = median(sizes.plain) / DOCS
for (const mode of ['documents', 'search', 'core'] as const) {
  const ours = median(sizes[mode]) / DOCS
  report({
    bench: 'memory',
    measure:
      mode === 'documents'
        ? `retained heap per observed document: 5,000 useObservedDocument (document: ${(jsonBytes / DOCS).toFixed(0)} B of JSON)`
        : mode === 'search'
          ? 'retained heap per observed document: one useObservedSearch of 5,000'
          : 'retained heap per observed document: the core alone, 5,000 client.get() (reactive content)',
    ours: `${bytes(ours)} (${bytes(ours - plain)} overhead)`,
    baseline: `${bytes(plain)} (plain objects)`,
    ratio: `${times(ours / plain)} the document`,
    target: '',
    met: null,
  })
}

// ---- (ii) heap growth over mount/unmount cycles ------------------------------------------------------------------
/** Mounts and unmounts `child` CYCLES times; every other cycle waits until the document is shown. */
async function cycles(kind: 'ours' | 'plain'): Promise<{ growth: number; path: string; leftovers: string }> {
  const driver = memoryDriver()
  driver.seed(INDEX, COLLECTION, makeDocs(100))
  const plugin = createObserver({ driver })
  const id = shallowRef<string | null>(null)
  const child = kind === 'ours' ? ObservedChild : PlainChild
  const { app, container } = createNullApp(defineComponent({ setup: () => () => h('div', id.value ? [h(child, { id: id.value })] : []) }))
  app.use(plugin).mount(container)
  const settled = async () => {
    await until(() => driver.activeWatches === 0 && plugin.client.stats().documents === 0, 10_000, 'everything released')
    return heap()
  }
  let base = 0
  let mid = 0
  for (let i = 0; i < CYCLES; i++) {
    if (i === WARMUP) base = await settled()
    if (i === (WARMUP + CYCLES) / 2) mid = await settled()
    id.value = idOf(i % 100)
    await nextTick()
    if (i % 2 === 0) await until(() => textOf(container).startsWith('ok'), 10_000, 'document shown')
    id.value = null
    await nextTick()
  }
  const end = await settled()
  const stats = plugin.client.stats()
  app.unmount()
  log(`${kind}: heap after ${WARMUP} cycles ${bytes(base)}, after ${(WARMUP + CYCLES) / 2} ${bytes(mid)}, after ${CYCLES} ${bytes(end)}`)
  return { growth: end - base, path: `${bytes(base)} → ${bytes(mid)} → ${bytes(end)}`, leftovers: `documents ${stats.documents}, watches ${driver.activeWatches}` }
}

const t0 = performance.now()
const ours = await cycles('ours')
const plainCycles = await cycles('plain')
log(`cycles: ours ${bytes(ours.growth)} (${ours.leftovers}), plain ${bytes(plainCycles.growth)} in ${((performance.now() - t0) / 1000).toFixed(1)} s`)
report({
  bench: 'memory',
  measure: `heap growth over ${CYCLES.toLocaleString('en-US')} mount/unmount cycles, from cycle ${WARMUP.toLocaleString('en-US')} (at the end: ${ours.leftovers})`,
  ours: `${bytes(ours.growth)} (heap ${ours.path})`,
  baseline: `${bytes(plainCycles.growth)} (plain ref)`,
  ratio: `${ours.growth - plainCycles.growth >= 0 ? '+' : '−'}${bytes(Math.abs(ours.growth - plainCycles.growth))} vs the plain ref`,
  target: '< 1 MB',
  met: ours.growth < 1_000_000,
})

// ---- (iii) a long-lived live search over a long history (issue 13, finding 7) ------------------------------------
/**
 * One live-query search of size 10 while 20,000 documents are created then deleted, through the core: heap after
 * 2,000 documents against heap after 20,000. What it keeps per past document is capped, so the two should match.
 */
async function history(): Promise<{ early: number; late: number }> {
  const driver = memoryDriver()
  driver.seed(INDEX, COLLECTION, [{ _id: 'keep', _source: { i: -1 } }])
  const client = new ObserverClient({ driver })
  const search = client.search(INDEX, COLLECTION, { sort: 'i' }, { size: 10, live: 'query' })
  await until(() => search.status === 'live' && search.hits.length === 1, 10_000, 'the search live')
  let early = 0
  for (let k = 0; k < 20_000; k += 100) {
    for (let j = k; j < k + 100; j++) {
      await driver.create(INDEX, COLLECTION, { i: j }, `h${j}`)
      await driver.delete(INDEX, COLLECTION, `h${j}`)
    }
    await until(() => search.hits.length === 1, 10_000, 'the batch settled')
    if (k + 100 === 2_000) early = await heap()
  }
  await until(() => search.hits.length === 1 && search.total === 1, 10_000, 'the search back to its one match')
  const late = await heap()
  search.stop()
  client.close()
  return { early, late }
}

const grown = await history()
log(`history: heap after 2,000 documents ${bytes(grown.early)}, after 20,000 ${bytes(grown.late)}`)
report({
  bench: 'memory',
  measure: 'heap growth of one live search (size 10) from 2,000 to 20,000 documents created then deleted',
  ours: `${bytes(grown.late - grown.early)} (heap ${bytes(grown.early)} → ${bytes(grown.late)})`,
  baseline: '',
  ratio: '',
  target: '< 1 MB',
  met: grown.late - grown.early < 1_000_000,
})
