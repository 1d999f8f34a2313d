/**
 * 4. Latency, through the real SDKs on loopback: from a server-side write to the component's update (its
 * `onUpdated`, after the DOM patch), against the raw SDK callback (`kuzzle.realtime.subscribe`, `client.listen`)
 * on the same connection and server, in the same run. Writes alternate between the document the raw subscription
 * follows and the one the component observes, one at a time, each waited for before the next. The SDK callbacks the
 * driver registers are also tapped, so the time our code adds to each notification is measured exactly, free of the
 * network's and the scheduler's noise that dominates the tails of two separate series.
 */
import { createClient } from '@sanity/client'
import kuzzleSdk from 'kuzzle-sdk'
import { createApp, defineComponent, h, onUpdated, type Plugin } from 'vue'
import { createObserver, useObservedDocument } from '../src'
import { kuzzleDriver } from '../src/drivers/kuzzle'
import { sanityDriver } from '../src/drivers/sanity'
import { startKuzzleServer } from '../test/servers/kuzzle'
import { startSanityServer } from '../test/servers/sanity'
import { COLLECTION, INDEX } from './lib/dataset'
import { log, median, ms, quantile, report, until } from './lib/report'

// kuzzle-sdk is CommonJS: Node's ESM loader exposes it as a default export only.
const { Kuzzle, WebSocket: KuzzleWebSocket } = kuzzleSdk
const SAMPLES = 200
const ROUNDS = 5
const WARMUP = 50
const RAW_ID = 'latency-raw'
const OURS_ID = 'latency-ours'

/** When each value of `n` arrived, per side. */
type Arrivals = Map<number, number>

/** Mounts a component observing OURS_ID; records when each value of `n` reached the DOM. */
async function mountObserved(plugin: Plugin, index: string, arrivals: Arrivals) {
  const container = document.createElement('div')
  document.body.appendChild(container)
  const app = createApp(
    defineComponent({
      setup() {
        const doc = useObservedDocument<{ n: number }>(index, COLLECTION, OURS_ID)
        onUpdated(() => {
          const n = doc.data.value?._source.n
          if (typeof n === 'number' && !arrivals.has(n)) arrivals.set(n, performance.now())
        })
        return () => h('p', String(doc.data.value?._source.n ?? ''))
      },
    }),
  )
  app.use(plugin).mount(container as unknown as Element)
  await until(() => container.textContent === '0', 10_000, 'observed document shown')
  return () => {
    app.unmount()
    container.remove()
  }
}

/** Alternates writes to the raw and the observed document; returns the latency series (ms) of each round. */
async function measure(write: (id: string, n: number) => void, raw: Arrivals, ours: Arrivals, tapped: Arrivals) {
  const rounds: Series[] = []
  let k = 0
  for (let round = 0; round < ROUNDS; round++) {
    const series: Series = { raw: [], ours: [], added: [] }
    for (let i = 0; i < (round === 0 ? WARMUP : 0) + SAMPLES; i++) {
      k++
      const warm = round === 0 && i < WARMUP
      for (const side of k % 2 ? (['raw', 'ours'] as const) : (['ours', 'raw'] as const)) {
        const arrivals = side === 'raw' ? raw : ours
        const t0 = performance.now()
        write(side === 'raw' ? RAW_ID : OURS_ID, k)
        await until(() => arrivals.has(k), 10_000, `${side}: write ${k} received`)
        if (warm) continue
        series[side].push(arrivals.get(k)! - t0)
        if (side === 'ours') series.added.push(arrivals.get(k)! - tapped.get(k)!)
      }
    }
    rounds.push(series)
  }
  return rounds
}

interface Series {
  /** Server write → raw SDK callback (its own document). */
  raw: number[]
  /** Server write → component updated. */
  ours: number[]
  /** Per notification: the SDK callback our driver receives → component updated. */
  added: number[]
}

function reportLatency(backend: string, via: string, rounds: Series[]) {
  // Median over rounds of each round's quantile: one burst of machine noise moves one round, not the figure.
  const q = (side: keyof Series, p: number) => median(rounds.map((r) => quantile(r[side], p)))
  for (const side of ['raw', 'ours', 'added'] as const) {
    log(`${backend} ${side}: ${[0.5, 0.9, 0.99, 1].map((p) => `p${p * 100} ${rounds.map((r) => ms(quantile(r[side], p))).join('/')}`).join(', ')}`)
  }
  const n = `${SAMPLES * ROUNDS} samples each, median of ${ROUNDS} rounds`
  for (const p of [0.5, 0.99]) {
    const diff = q('ours', p) - q('raw', p)
    report({
      bench: 'latency',
      measure: `${backend}: server write → component updated, p${p * 100} (${n})`,
      ours: ms(q('ours', p)),
      baseline: `${ms(q('raw', p))} (${via})`,
      ratio: `${diff >= 0 ? '+' : '−'}${ms(Math.abs(diff))}`,
      target: p === 0.99 ? '< 1 ms added' : '',
      met: p === 0.99 ? diff < 1 : null,
    })
  }
  report({
    bench: 'latency',
    measure: `${backend}: added per notification (SDK callback → component updated, same notification), p50 / p99`,
    ours: `${ms(q('added', 0.5))} / ${ms(q('added', 0.99))}`,
    baseline: '0 (the raw callback)',
    ratio: `+${ms(q('added', 0.99))} at p99`,
    target: '< 1 ms added at p99',
    met: q('added', 0.99) < 1,
  })
}

// ---- Kuzzle --------------------------------------------------------------------------------------------------------
{
  const server = await startKuzzleServer()
  for (const id of [RAW_ID, OURS_ID]) server.documents.create(INDEX, COLLECTION, id, { n: 0 })
  const kuzzle = new Kuzzle(new KuzzleWebSocket('127.0.0.1', { port: server.port }))
  await kuzzle.connect()
  const raw: Arrivals = new Map()
  const ours: Arrivals = new Map()
  const tapped: Arrivals = new Map()
  const valueOf = (notification: object) => ((notification as { result?: unknown }).result as { _source?: { n?: unknown } } | undefined)?._source?.n
  // The raw baseline: the SDK's callback.
  const roomId = await kuzzle.realtime.subscribe(INDEX, COLLECTION, { ids: { values: [RAW_ID] } }, (notification) => {
    const n = valueOf(notification)
    if (typeof n === 'number' && !raw.has(n)) raw.set(n, performance.now())
  })
  // Taps the callbacks the driver gives the SDK: when the SDK hands our driver each notification.
  const subscribe = kuzzle.realtime.subscribe.bind(kuzzle.realtime)
  kuzzle.realtime.subscribe = ((index, collection, filters, callback, options) =>
    subscribe(index, collection, filters, (notification) => {
      const n = valueOf(notification)
      if (typeof n === 'number' && !tapped.has(n)) tapped.set(n, performance.now())
      return callback(notification)
    }, options)) as typeof kuzzle.realtime.subscribe
  const unmount = await mountObserved(createObserver({ driver: kuzzleDriver(kuzzle) }), INDEX, ours)
  const rounds = await measure((id, n) => server.documents.update(INDEX, COLLECTION, id, { n }), raw, ours, tapped)
  reportLatency('Kuzzle', 'kuzzle.realtime.subscribe callback', rounds)
  unmount()
  await kuzzle.realtime.unsubscribe(roomId)
  kuzzle.disconnect()
  await server.stop()
}

// ---- Sanity --------------------------------------------------------------------------------------------------------
{
  const server = await startSanityServer()
  server.documents.load([RAW_ID, OURS_ID].map((_id) => ({ _id, _type: COLLECTION, n: 0 })))
  const client = createClient({
    projectId: 'bench',
    dataset: 'production',
    apiVersion: '2025-02-19',
    apiHost: server.url,
    useProjectHostname: false,
    useCdn: false,
  })
  const raw: Arrivals = new Map()
  const ours: Arrivals = new Map()
  const tapped: Arrivals = new Map()
  const valueOf = (event: { type: string; result?: unknown }) => (event.type === 'mutation' ? (event.result as { n?: unknown } | undefined)?.n : undefined)
  let welcomed = false
  // The raw baseline: a listener's callback.
  const subscription = client
    .listen('*[_id == $id]', { id: RAW_ID }, { events: ['welcome', 'mutation'] })
    .subscribe((event) => {
      if (event.type === 'welcome') welcomed = true
      const n = valueOf(event)
      if (typeof n === 'number' && !raw.has(n)) raw.set(n, performance.now())
    })
  await until(() => welcomed, 10_000, 'raw listener welcomed')
  // Taps the listeners the driver opens: when the client hands our driver each event.
  type Listening = { subscribe(observer: { next(e: { type: string; result?: unknown }): void; error(err: unknown): void; complete(): void }): unknown }
  const listen = client.listen.bind(client) as unknown as (...args: unknown[]) => Listening
  ;(client as unknown as { listen: (...args: unknown[]) => Listening }).listen = (...args) => {
    const observable = listen(...args)
    return Object.assign(Object.create(observable) as Listening, {
      subscribe: (observer: Parameters<Listening['subscribe']>[0]) =>
        observable.subscribe({
          next(event) {
            const n = valueOf(event)
            if (typeof n === 'number' && !tapped.has(n)) tapped.set(n, performance.now())
            observer.next(event)
          },
          error: (err) => observer.error(err),
          complete: () => observer.complete(),
        }),
    })
  }
  // Index '' is the client's dataset; the collection is the document _type.
  const unmount = await mountObserved(createObserver({ driver: sanityDriver(client) }), '', ours)
  const rounds = await measure((id, n) => void server.documents.patch(id, { set: { n } }), raw, ours, tapped)
  reportLatency('Sanity', 'client.listen callback', rounds)
  unmount()
  subscription.unsubscribe()
  await server.stop()
}
