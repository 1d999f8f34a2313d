/**
 * Hydration: a page of 50 documents and 3 searches, rendered on the server, then started in the browser either
 * hydrated (createSSRApp over the server's HTML, `initialState` from `client.dehydrate()`) or not (a client-side
 * app from nothing). Counted: the driver requests the browser makes, the time until the data is on screen and the
 * time until every composable is live. The memory driver answers each request after LATENCY ms, as a network would.
 */
import { createApp, createSSRApp, defineComponent, h, type Component } from 'vue'
import { renderToString } from 'vue/server-renderer'
import { createObserver, useObservedDocument, useObservedSearch } from '../src'
import { memoryDriver } from '../src/drivers/memory'
import { parseState, serializeState } from '../src/ssr'
import { instrument } from '../test/helpers/instrumented-driver'
import { log, median, ms, report, until } from './lib/report'

const DOCS = 50
const LATENCY = 20
const ROUNDS = 5

function page(statuses: Array<() => string>): Component {
  const Doc = defineComponent({
    props: { id: { type: String, required: true } },
    setup(props) {
      const d = useObservedDocument<{ name: string }>('i', 'c', props.id)
      statuses.push(() => d.status.value)
      return () => h('li', d.data.value?._source.name ?? '')
    },
  })
  return defineComponent({
    setup() {
      const searches = [
        useObservedSearch<{ name: string }>('i', 'c', { sort: { fare: 'desc' } }, { size: 10, live: 'query' }),
        useObservedSearch<{ name: string }>('i', 'c', { query: { range: { fare: { lt: 20 } } }, sort: 'fare' }, { size: 10, live: 'query' }),
        useObservedSearch<{ name: string }>('i', 'c', { sort: 'name' }, { size: 10, live: 'hits' }),
      ]
      for (const s of searches) statuses.push(() => s.status.value)
      return () =>
        h('main', [
          h('ul', Array.from({ length: DOCS }, (_, n) => h(Doc, { id: `d${n}` }))),
          ...searches.map((s) => h('ol', s.hits.value.map((hit) => h('li', { key: hit._id }, hit._source.name)))),
        ])
    },
  })
}

async function round(hydrated: boolean) {
  const inner = memoryDriver({ latency: LATENCY })
  inner.seed('i', 'c', Array.from({ length: 100 }, (_, n) => ({ _id: `d${n}`, _source: { name: `Name ${n}`, fare: n } })))
  const driver = instrument(inner)
  const server = createObserver({ driver })
  const html = await renderToString(createSSRApp(page([])).use(server))
  const text = serializeState(server.client.dehydrate())
  server.client.close()
  driver.reads.length = 0

  const statuses: Array<() => string> = []
  const container = document.createElement('div')
  document.body.appendChild(container)
  if (hydrated) container.innerHTML = html
  const t0 = performance.now()
  const app = hydrated
    ? createSSRApp(page(statuses)).use(createObserver({ driver, initialState: parseState(text) }))
    : createApp(page(statuses)).use(createObserver({ driver }))
  app.mount(container as unknown as Element)
  const shown = () => container.querySelectorAll('li').length >= DOCS + 30 && container.textContent!.includes(`Name ${DOCS - 1}`)
  await until(shown, 10_000, 'data shown')
  const tShown = performance.now() - t0
  await until(() => statuses.every((s) => s() === 'live'), 10_000, 'all live')
  const tLive = performance.now() - t0
  const requests = driver.reads.length
  app.unmount()
  container.remove()
  return { tShown, tLive, requests }
}

for (const hydrated of [false, true]) await round(hydrated) // warm-up
const results = { plain: [] as Awaited<ReturnType<typeof round>>[], hydrated: [] as Awaited<ReturnType<typeof round>>[] }
for (let r = 0; r < ROUNDS; r++) {
  results.plain.push(await round(false))
  results.hydrated.push(await round(true))
}
const figure = (k: 'plain' | 'hydrated', f: 'tShown' | 'tLive' | 'requests') => median(results[k].map((x) => x[f]))
log(`requests per round: plain ${results.plain.map((x) => x.requests).join(',')}, hydrated ${results.hydrated.map((x) => x.requests).join(',')}`)
const row = (measure: string, ours: string, baseline: string, ratio = '') =>
  report({ bench: 'hydration', measure, ours, baseline, ratio, target: '', met: null })
row(`requests after load (${DOCS} docs + 3 searches), hydrated vs not`, String(figure('hydrated', 'requests')), String(figure('plain', 'requests')))
row(`time to data on screen (${LATENCY} ms per request)`, ms(figure('hydrated', 'tShown')), ms(figure('plain', 'tShown')))
row(`time to live, every composable confirmed`, ms(figure('hydrated', 'tLive')), ms(figure('plain', 'tLive')))
