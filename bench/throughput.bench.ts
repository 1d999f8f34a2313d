/**
 * 1. Apply throughput. A mounted list of 5,000 row components over a live search; a burst of updates (a random
 * document, one field each) goes through the memory driver; the clock stops when the DOM shows every update.
 * Variants, interleaved round by round so that machine noise hits them alike:
 * - ours: `useObservedSearch` (live: 'hits', the default);
 * - (a) refetch: on each notification, `driver.search` the whole list and replace the rows (Kuzzle admin console,
 *   Nuxt Sanity module); run on fewer updates, compared on the same workload;
 * - (b) replace: on each notification, a new array with the changed document swapped in;
 * - (c) floor: hand-written code on a direct driver watch that assigns the changed fields of the one reactive row;
 * - delivery: a direct driver watch that does nothing with its events (the driver's own share of every figure).
 * Every variant uses the same driver watch (the 5,000 ids), the same rows and the same sequence of writes.
 */
import { createApp, defineComponent, h, onUnmounted, reactive, shallowRef, type App } from 'vue'
import { createObserver, useObservedSearch } from '../src'
import { memoryDriver, type MemoryDriver } from '../src/drivers/memory'
import type { DocEvent, Watch } from '../src/core/types'
import { COLLECTION, INDEX, REF, Row, UPDATED_FIELDS, idOf, makeDocs, rowText, type BenchSource } from './lib/dataset'
import { collect, log, median, ms, prng, report, tick, times, until } from './lib/report'

const DOCS = 5000
const UPDATES = 20_000
/** (a) costs a full search per update: it runs on this many, and so does the run of ours it is compared with. */
const UPDATES_REFETCH = 200
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5)

type Variant = 'ours' | 'refetch' | 'replace' | 'floor' | 'delivery'

/** Events the 'delivery' variant's watch received: it does nothing else with them. */
let delivered = 0
type Item = { _id: string; _source: BenchSource }

const SORT = [{ field: 'i', order: 'asc' as const }]

/** The list for the baselines: a direct driver watch plus a `rows` ref, changed the way `variant` says. */
function baselineList(driver: MemoryDriver, variant: Exclude<Variant, 'ours'>) {
  return defineComponent({
    setup() {
      const rows = shallowRef<Item[]>([])
      const byId = new Map<string, Item>()
      const spec = { sort: SORT }
      const load = () => driver.search(REF, spec, { from: 0, size: DOCS }).then((p) => p.hits as unknown as Item[])
      void load().then((hits) => {
        rows.value = variant === 'floor' ? hits.map((d) => ({ _id: d._id, _source: reactive(d._source) })) : hits
        for (const row of rows.value) byId.set(row._id, row)
      })
      const onEvent: (e: DocEvent) => void =
        variant === 'refetch'
          ? () => void load().then((hits) => (rows.value = hits))
          : variant === 'delivery'
            ? () => void delivered++
            : variant === 'replace'
            ? (e) => (rows.value = rows.value.map((r) => (r._id === e.id ? { _id: e.id, _source: e.doc as BenchSource } : r)))
            : (e) => {
                const row = byId.get(e.id)
                if (row && e.doc) Object.assign(row._source, e.doc)
              }
      const watch: Watch = driver.watch(REF, { ids: Array.from({ length: DOCS }, (_, i) => idOf(i)) }, {
        ready() {},
        event: onEvent,
        reset() {},
        offline() {},
        error(err) {
          throw err
        },
      })
      onUnmounted(() => watch.close())
      return () => h('ul', rows.value.map((d) => h(Row, { key: d._id, doc: d })))
    },
  })
}

function oursList() {
  return defineComponent({
    setup() {
      const search = useObservedSearch<BenchSource>(INDEX, COLLECTION, { sort: 'i' }, { size: DOCS })
      return () => h('ul', search.hits.value.map((d) => h(Row, { key: d._id, doc: d })))
    },
  })
}

/** A mounted variant on its own driver, with what its rows should show. */
interface Mounted {
  variant: Variant
  driver: MemoryDriver
  elements: Map<string, { textContent: string | null }>
  /** Current content of every document written so far. */
  model: Map<string, BenchSource>
  /** Makes every written value unique, so a row showing an older one is never mistaken for done. */
  writes: number
}

/** Mounts one variant on a fresh driver and waits until the list is rendered and its watch is live. */
async function mountVariant(variant: Variant): Promise<Mounted> {
  const driver = memoryDriver()
  driver.seed(INDEX, COLLECTION, makeDocs(DOCS))
  const container = document.createElement('div')
  document.body.appendChild(container)
  let app: App
  if (variant === 'ours') app = createApp(oursList()).use(createObserver({ driver }))
  else app = createApp(baselineList(driver, variant))
  app.mount(container as unknown as Element)
  await until(() => container.querySelectorAll('li').length === DOCS, 60_000, `${variant}: first render`)
  await until(() => Object.values(driver.watchStats()).flat().every((w) => w.live) && driver.activeWatches === 1, 10_000, `${variant}: watch live`)
  // The live watch triggers one re-read (subscribe, then fetch); it completes within a few turns.
  for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 0))
  const elements = new Map<string, { textContent: string | null }>()
  for (const li of container.querySelectorAll('li')) elements.set(li.getAttribute('data-id')!, li)
  return { variant, driver, elements, model: new Map(), writes: 0 }
}

/** Writes `count` updates and resolves with the time until every touched row shows its last value. */
async function burst(m: Mounted, count: number, seed: number): Promise<number> {
  const random = prng(seed)
  const touched = new Set<string>()
  const plan: Array<[string, Record<string, unknown>]> = []
  for (let k = 0; k < count; k++) {
    const i = Math.floor(random() * DOCS)
    const field = UPDATED_FIELDS[Math.floor(random() * UPDATED_FIELDS.length)]
    const w = ++m.writes
    const value = field === 'status' ? `s${w}` : field === 'n' ? w : 100_000 + w
    const id = idOf(i)
    const doc: Record<string, unknown> = m.model.get(id) ?? { ...makeDocs(i + 1)[i]._source }
    doc[field] = value
    m.model.set(id, doc as BenchSource)
    touched.add(id)
    plan.push([id, { [field]: value }])
  }
  const expected = [...touched].map((id) => [m.elements.get(id)!, rowText(m.model.get(id)!)] as const)
  const [lastId] = plan[plan.length - 1]
  const last = [m.elements.get(lastId)!, rowText(m.model.get(lastId)!)] as const
  const target = delivered + count
  const shown =
    m.variant === 'delivery'
      ? () => delivered >= target
      : () => last[0].textContent === last[1] && expected.every(([el, text]) => el.textContent === text)

  // No gc() here: a full collection right before a burst also drops compiled code and caches, which then costs
  // the first milliseconds of every variant alike and swamps small bursts. One collection follows the mounting.
  for (let i = 0; i < 3; i++) await tick()
  const t0 = performance.now()
  for (const [id, partial] of plan) await m.driver.update(INDEX, COLLECTION, id, partial)
  await until(shown, 120_000, `${m.variant}: ${count} updates shown`)
  return performance.now() - t0
}

const started = performance.now()
const mounted = {
  ours: await mountVariant('ours'),
  floor: await mountVariant('floor'),
  replace: await mountVariant('replace'),
  refetch: await mountVariant('refetch'),
  delivery: await mountVariant('delivery'),
}
await collect()
log(`mounted 5 × ${DOCS} rows in ${((performance.now() - started) / 1000).toFixed(1)} s`)

const results: Record<string, number[]> = { ours: [], oursSmall: [], refetch: [], replace: [], floor: [], delivery: [] }
for (let round = 0; round < ROUNDS; round++) {
  const seed = 1000 + round
  const set: Array<[keyof typeof results, () => Promise<number>]> = [
    ['ours', () => burst(mounted.ours, UPDATES, seed)],
    ['floor', () => burst(mounted.floor, UPDATES, seed)],
    ['replace', () => burst(mounted.replace, UPDATES, seed)],
    ['oursSmall', () => burst(mounted.ours, UPDATES_REFETCH, seed)],
    ['refetch', () => burst(mounted.refetch, UPDATES_REFETCH, seed)],
    ['delivery', () => burst(mounted.delivery, UPDATES, seed)],
  ]
  // Rotate the order each round, so no variant always runs first (or right after the heaviest one).
  for (let i = 0; i < set.length; i++) {
    const [name, run] = set[(i + round) % set.length]
    results[name].push(await run())
  }
}
for (const [name, values] of Object.entries(results)) log(`${name}: ${values.map((v) => v.toFixed(1)).join(', ')} ms`)
log(`throughput: ${((performance.now() - started) / 1000).toFixed(1)} s`)

const ours = median(results.ours)
const oursSmall = median(results.oursSmall)
const refetch = median(results.refetch)
const replace = median(results.replace)
const floor = median(results.floor)
const delivery = median(results.delivery)
/** Median over rounds of one round's ratio: both runs of a pair saw the same moment of the machine. */
const ratio = (f: (r: number) => number) => median(results.ours.map((_, r) => f(r)))
const R = results
const vsRefetch = ratio((r) => R.refetch[r] / UPDATES_REFETCH / (R.ours[r] / UPDATES))
const vsRefetchSame = ratio((r) => R.refetch[r] / R.oursSmall[r])
const vsFloor = ratio((r) => R.ours[r] / R.floor[r])
const vsFloorNet = ratio((r) => (R.ours[r] - R.delivery[r]) / (R.floor[r] - R.delivery[r]))
const vsReplace = ratio((r) => R.replace[r] / R.ours[r])
const perUpdate = (t: number, n: number) => `${ms(t / n)}/update`
const big = UPDATES.toLocaleString('en-US')

report({
  bench: 'throughput',
  measure: `5,000-row list, per update to the DOM: vs (a) refetch per notification (ours on ${big}, (a) on ${UPDATES_REFETCH})`,
  ours: perUpdate(ours, UPDATES),
  baseline: perUpdate(refetch, UPDATES_REFETCH),
  ratio: `${times(vsRefetch)} faster`,
  target: '≥ 50× faster',
  met: vsRefetch >= 50,
})
report({
  bench: 'throughput',
  measure: `5,000-row list, the same ${UPDATES_REFETCH} updates to the DOM: vs (a) refetch per notification`,
  ours: ms(oursSmall),
  baseline: ms(refetch),
  ratio: `${times(vsRefetchSame)} faster`,
  target: '',
  met: null,
})
report({
  bench: 'throughput',
  measure: `5,000-row list, ${big} updates to the DOM: vs (c) the floor (direct watch, assign into the reactive row)`,
  ours: `${ms(ours)} (${perUpdate(ours, UPDATES)})`,
  baseline: `${ms(floor)} (${perUpdate(floor, UPDATES)})`,
  ratio: `${times(vsFloor)} the floor`,
  target: '≤ 1.5× the floor',
  met: vsFloor <= 1.5,
})
report({
  bench: 'throughput',
  measure: `the same, net of the memory driver's own work (${ms(delivery)}: writes and delivery to a watch that does nothing)`,
  ours: ms(ours - delivery),
  baseline: ms(floor - delivery),
  ratio: `${times(vsFloorNet)} the floor`,
  target: '',
  met: null,
})
report({
  bench: 'throughput',
  measure: `5,000-row list, ${big} updates to the DOM: vs (b) replace the array per notification`,
  ours: `${ms(ours)} (${perUpdate(ours, UPDATES)})`,
  baseline: `${ms(replace)} (${perUpdate(replace, UPDATES)})`,
  ratio: vsReplace >= 1 ? `${times(vsReplace)} faster` : `${times(1 / vsReplace)} slower`,
  target: '',
  met: null,
})
