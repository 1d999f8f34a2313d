/**
 * 8. The peer (issue 23): the same work on vue-observed (memory driver) and TanStack DB (`@tanstack/db` +
 * `@tanstack/vue-db`, pinned devDependencies used only here), each mounted as a list component in happy-dom over
 * 100,000 documents, a live window of 50 sorted by `fare` descending, changed from the server side
 * (bench/lib/peer-observed.ts, bench/lib/peer-tanstack.ts). Each round plans one sequence of changes, then mounts
 * each library fresh and runs the whole sequence on it, alone in the process (the order alternates round by
 * round); a figure is the median over a round, a ratio (vue-observed / TanStack DB, lower is better for
 * vue-observed) the median of the per-round ratios.
 *
 * Measured: notification → DOM for a row moving within the window, a row entering it, a window row leaving (the
 * window refilled with the next match), and a change outside the window (no DOM change: until the event loop is
 * next free after the notification); first window from mount; client heap for the window and for one more live
 * query; renders per change (row components and the list, counted until the change settled); and the heap per
 * row of a full live list of 5,000. Heap is read after full collections (node --expose-gc); the server's
 * documents (the memory driver's, the sync source's) exist before and are not counted.
 */
import { defineComponent, h, shallowRef, type PropType } from 'vue'
import { createObservedPeer } from './lib/peer-observed'
import { createTanstackPeer } from './lib/peer-tanstack'
import { mountApp, peerRowText, type Peer, type PeerDoc, type Renderer } from './lib/peer'
import { bytes, collect, log, median, ms, prng, report, tick, times, until } from './lib/report'

const N = 100_000
const SIZE = 50
const FULL = 5000
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5)
/** Changes of each kind per round (each made on both libraries). */
const PER_KIND = Number(process.env.BENCH_PER_KIND ?? 8)
/** After each change, time for what it triggers later (vue-observed's count read after 50 ms) before renders are read. */
const SETTLE_MS = 150
const KINDS = ['move', 'enter', 'exit', 'outside'] as const
type Kind = (typeof KINDS)[number]

const makers = { observed: createObservedPeer, tanstack: createTanstackPeer }
type Lib = keyof typeof makers
const LIBS: Lib[] = ['observed', 'tanstack']

const sleep = (t: number) => new Promise((r) => setTimeout(r, t))
async function heap(): Promise<number> {
  await collect()
  return process.memoryUsage().heapUsed
}

function makeDocs(count: number): PeerDoc[] {
  // A permutation of 0..count-1 (7919 is prime, coprime with 10^5 and 5,000): distinct fares.
  return Array.from({ length: count }, (_, n) => ({ id: `d${String(n).padStart(6, '0')}`, name: `Doc ${n}`, fare: (n * 7919) % count }))
}

/** The server's documents as the test knows them: every change is made on both libraries' servers alike. */
class Model {
  readonly fare = new Map<string, number>()
  readonly name = new Map<string, string>()
  readonly ids: string[]
  constructor(docs: readonly PeerDoc[]) {
    for (const d of docs) {
      this.fare.set(d.id, d.fare)
      this.name.set(d.id, d.name)
    }
    this.ids = docs.map((d) => d.id)
  }
  /** The first `k` ids by fare descending (ties by id, as the memory driver breaks them). */
  top(k: number): string[] {
    const before = (a: [number, string], b: [number, string]) => b[0] - a[0] || (a[1] < b[1] ? -1 : 1)
    const all: Array<[number, string]> = []
    for (const [id, fare] of this.fare) all.push([fare, id])
    if (k > 1000) return all.sort(before).slice(0, k).map(([, id]) => id)
    // A bounded sorted array, binary insertion: k ≪ n.
    const best: Array<[number, string]> = []
    for (const item of all) {
      if (best.length === k && before(item, best[k - 1]) > 0) continue
      let lo = 0
      let hi = best.length
      while (lo < hi) {
        const mid = (lo + hi) >> 1
        if (before(best[mid], item) < 0) lo = mid + 1
        else hi = mid
      }
      best.splice(lo, 0, item)
      if (best.length > k) best.pop()
    }
    return best.map(([, id]) => id)
  }
  /** The first `k` ids by fare ascending. */
  bottom(k: number): string[] {
    return [...this.fare].sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : 1)).slice(0, k).map(([id]) => id)
  }
  text(ids: readonly string[]): string {
    return ids.map((id) => peerRowText({ name: this.name.get(id)!, fare: this.fare.get(id)! })).join('')
  }
}


/** Mounts a peer and resolves with the time until its first window shows `expected`. */
async function firstWindow(p: Peer, expected: string, rows: number, renderer: Renderer = 'dom'): Promise<number> {
  const t0 = performance.now()
  p.mount(renderer)
  await until(() => p.rows(0) === rows && p.text(0) === expected, 120_000, `${p.name}: first window`)
  return performance.now() - t0
}

/** One change on one peer: notification → DOM (or → idle for `outside`), then renders once it settled. */
async function change(p: Peer, kind: Kind, id: string, fare: number, expected: string) {
  for (let i = 0; i < 3; i++) await tick()
  const before = { ...p.renders }
  const count = p.notified.count
  await p.write(id, fare)
  await until(() => p.notified.count > count, 10_000, `${p.name}: notification`)
  let took: number
  if (kind === 'outside') {
    await until(() => p.notified.idle >= p.notified.at, 10_000, `${p.name}: idle`)
    took = p.notified.idle - p.notified.at
  } else {
    await until(() => p.text(0) === expected, 10_000, `${p.name}: ${kind} shown`)
    took = performance.now() - p.notified.at
  }
  await sleep(SETTLE_MS)
  if (p.text(0) !== expected || p.rows(0) !== SIZE) throw new Error(`${p.name}: ${kind}: the window is not the first ${SIZE} matches after settling`)
  return { took, rows: p.renders.rows - before.rows, list: p.renders.list - before.list }
}

/** The next change of `kind`, planned on the model (and applied to it). */
function plan(model: Model, kind: Kind, random: () => number): { id: string; fare: number } {
  const window = model.top(SIZE + 1)
  const inWindow = new Set(window.slice(0, SIZE))
  const max = model.fare.get(window[0])!
  const min = model.fare.get(window[SIZE - 1])!
  const next = model.fare.get(window[SIZE])!
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)]
  const outsider = () => {
    for (;;) {
      const id = pick(model.ids)
      if (!inWindow.has(id)) return id
    }
  }
  let id: string
  let fare: number
  if (kind === 'move') {
    // A window row gets a fare between the window's first and last: it stays, at another place.
    for (;;) {
      const j = Math.floor(random() * SIZE)
      id = window[j]
      fare = min + random() * (max - min)
      const at = window.slice(0, SIZE).filter((o) => o !== id && model.fare.get(o)! > fare).length
      if (at !== j) break
    }
  } else if (kind === 'enter') {
    id = outsider()
    fare = min + random() * (max - min)
  } else if (kind === 'exit') {
    id = pick(window.slice(0, SIZE))
    fare = random() * next * 0.9
  } else {
    id = outsider()
    fare = random() * next * 0.99
  }
  model.fare.set(id, fare)
  return { id, fare }
}

type Series = Record<Lib, number[]>
const series = () => ({ observed: [] as number[], tanstack: [] as number[] })
const perRound = {
  first: series(),
  heapWindow: series(),
  heapExtra: series(),
  ...Object.fromEntries(KINDS.map((k) => [k, series()])),
} as Record<'first' | 'heapWindow' | 'heapExtra' | Kind, Series>
const renders = Object.fromEntries(KINDS.map((k) => [k, { observed: [] as string[], tanstack: [] as string[] }])) as Record<
  Kind,
  Record<Lib, string[]>
>

const started = performance.now()
// Warm-up: each library mounted once on a small collection, so that what a first use allocates for good (compiled
// code, Vue's and happy-dom's lazily built tables) is not counted as the first round's window.
{
  const small = makeDocs(1000)
  const m = new Model(small)
  for (const lib of LIBS) {
    const p = makers[lib](small, SIZE)
    await firstWindow(p, m.text(m.top(SIZE)), SIZE)
    p.showExtra(true)
    await until(() => p.rows(1) === SIZE, 10_000, `${p.name}: warm-up`)
    await p.write(m.top(1)[0], -1)
    await sleep(SETTLE_MS)
    p.unmount()
  }
}
const docs = makeDocs(N)
for (let round = 0; round < ROUNDS; round++) {
  const model = new Model(docs)
  const order: Lib[] = round % 2 ? ['tanstack', 'observed'] : ['observed', 'tanstack']
  const expected = model.text(model.top(SIZE))
  const ascending = model.text(model.bottom(SIZE))
  // The same changes for both, planned first; each library runs them alone in the process (a heap as large as
  // TanStack DB's 100,000 rows would make every collection slower for the other one too).
  const random = prng(2300 + round)
  const changes: Array<{ kind: Kind; id: string; fare: number; text: string }> = []
  for (let k = 0; k < PER_KIND; k++) {
    for (const kind of KINDS) changes.push({ kind, ...plan(model, kind, random), text: model.text(model.top(SIZE)) })
  }
  const took = Object.fromEntries(KINDS.map((k) => [k, series()])) as Record<Kind, Series>
  for (const lib of order) {
    const p = makers[lib](docs, SIZE)
    const h0 = await heap()
    perRound.first[lib].push(await firstWindow(p, expected, SIZE))
    for (let i = 0; i < 10; i++) await tick()
    const h1 = await heap()
    perRound.heapWindow[lib].push(h1 - h0)
    p.showExtra(true)
    await until(() => p.rows(1) === SIZE && p.text(1) === ascending, 120_000, `${p.name}: extra query`)
    for (let i = 0; i < 10; i++) await tick()
    perRound.heapExtra[lib].push((await heap()) - h1)
    p.showExtra(false)
    await sleep(SETTLE_MS)
    for (const { kind, id, fare, text } of changes) {
      const r = await change(p, kind, id, fare, text)
      took[kind][lib].push(r.took)
      renders[kind][lib].push(`${r.rows}/${r.list}`)
    }
    p.unmount()
    await collect()
  }
  for (const kind of KINDS) for (const lib of LIBS) perRound[kind][lib].push(median(took[kind][lib]))
  log(
    `round ${round + 1}: ` +
      (['first', ...KINDS] as const).map((k) => `${k} ${ms(perRound[k].observed[round])} vs ${ms(perRound[k].tanstack[round])}`).join(', ') +
      `; heap/window ${bytes(perRound.heapWindow.observed[round])} vs ${bytes(perRound.heapWindow.tanstack[round])}` +
      `; heap/extra query ${bytes(perRound.heapExtra.observed[round])} vs ${bytes(perRound.heapExtra.tanstack[round])}`,
  )
}

// Heap per row of a full live list of 5,000 (5,000 documents, a window of 5,000), rendered into plain objects.
const fullDocs = makeDocs(FULL)
const fullModel = new Model(fullDocs)
const fullText = fullModel.text(fullModel.top(FULL))
const perRow = { ...series(), plain: [] as number[] }
/** The baseline: the same list of row components over plain objects (the server's answer, held in a ref). */
const PlainRow = defineComponent({
  props: { doc: { type: Object as PropType<PeerDoc>, required: true } },
  setup: (props) => () => h('li', peerRowText(props.doc)),
})
for (let round = 0; round < 3; round++) {
  for (const lib of round % 2 ? LIBS.slice().reverse() : LIBS) {
    const p = makers[lib](fullDocs, FULL)
    const h0 = await heap()
    await firstWindow(p, fullText, FULL, 'null')
    for (let i = 0; i < 10; i++) await tick()
    perRow[lib].push(((await heap()) - h0) / FULL)
    p.unmount()
  }
  const h0 = await heap()
  const rows = shallowRef<PeerDoc[]>(JSON.parse(JSON.stringify(fullModel.top(FULL).map((id) => fullDocs.find((d) => d.id === id)!))))
  const app = mountApp(defineComponent({ setup: () => () => h('div', [h('ul', rows.value.map((d) => h(PlainRow, { key: d.id, doc: d })))]) }), 'null')
  if (app.text(0) !== fullText) throw new Error('plain list: wrong rows')
  perRow.plain.push(((await heap()) - h0) / FULL)
  app.unmount()
}
const net = (lib: Lib) => perRow[lib].map((v, r) => v - perRow.plain[r])
const plainRow = JSON.stringify(fullDocs[0]).length
log(`heap per row: ${perRow.observed.map(bytes).join(', ')} vs ${perRow.tanstack.map(bytes).join(', ')}; plain list ${perRow.plain.map(bytes).join(', ')}`)
log(`renders (rows/list) per change: ${KINDS.map((k) => `${k} ${renders[k].observed.join(' ')} vs ${renders[k].tanstack.join(' ')}`).join('; ')}`)
log(`peers: ${((performance.now() - started) / 1000).toFixed(1)} s`)

const ratio = (s: Series) => median(s.observed.map((v, r) => v / s.tanstack[r]))
/** The most frequent render count (rows/list) of a kind. */
const mode = (xs: string[]) => {
  const n = new Map<string, number>()
  for (const x of xs) n.set(x, (n.get(x) ?? 0) + 1)
  return [...n].sort((a, b) => b[1] - a[1])[0][0]
}
const W = `100,000 documents, a live window of ${SIZE} sorted by a field`
const rows: Array<[string, Series, string, number, (v: number) => string]> = [
  ['a row moves within the window, notification → DOM', perRound.move, '≤ 0.35×', 0.35, ms],
  ['a row enters the window, notification → DOM', perRound.enter, '≤ 0.35×', 0.35, ms],
  ['a window row leaves and the window is refilled, notification → DOM', perRound.exit, '≤ 2×', 2, ms],
  ['a change outside the window, notification → event loop free', perRound.outside, '≤ 0.35×', 0.35, ms],
  ['first window shown, from mount', perRound.first, '≤ 0.1×', 0.1, ms],
  ['client heap for that window', perRound.heapWindow, '≤ 0.01×', 0.01, bytes],
  ['client heap per additional live query (the 50 first ascending)', perRound.heapExtra, '', NaN, bytes],
]
for (const [measure, s, target, limit, fmt] of rows) {
  const r = ratio(s)
  report({
    bench: 'peers',
    measure: `${W}: ${measure}`,
    ours: fmt(median(s.observed)),
    baseline: `${fmt(median(s.tanstack))} (TanStack DB)`,
    ratio: r < 0.1 ? `${r.toPrecision(2)}×` : times(r),
    target,
    met: Number.isNaN(limit) ? null : r <= limit,
  })
}
for (const kind of KINDS) {
  report({
    bench: 'peers',
    measure: `renders per change (row components / list), ${kind}`,
    ours: mode(renders[kind].observed),
    baseline: `${mode(renders[kind].tanstack)} (TanStack DB)`,
    ratio: '',
    target: kind === 'outside' ? '0/0' : '1/1',
    met: mode(renders[kind].observed) === (kind === 'outside' ? '0/0' : '1/1'),
  })
}
const netRatio = median(net('observed').map((v, r) => v / net('tanstack')[r]))
report({
  bench: 'peers',
  measure:
    `heap per row of a full live list of ${FULL.toLocaleString('en-US')} (5,000 documents), net of the same list of row ` +
    `components over plain objects (${bytes(median(perRow.plain))} a row; a row is ${plainRow} B of JSON); rendered into plain objects`,
  ours: `${bytes(median(net('observed')))} (${bytes(median(perRow.observed))} gross)`,
  baseline: `${bytes(median(net('tanstack')))} (${bytes(median(perRow.tanstack))} gross, TanStack DB)`,
  ratio: times(netRatio),
  target: '≤ 0.5× and ≤ 1 kB',
  met: netRatio <= 0.5 && median(net('observed')) <= 1000,
})
