/**
 * 10. Local writes (issue 16), through the real kuzzle-sdk on loopback: from a write to the component showing it.
 * Ours: `update()` of the composable (shown at once, confirmed later). Baseline, in the same run and alternating:
 * what an app does without local writes, a direct `kuzzle.document.update` and the component updated by the
 * notification. Also the renders each local write costs until it is confirmed (its answer and its notification
 * both arrived): target 1.
 */
import kuzzleSdk from 'kuzzle-sdk'
import { createApp, defineComponent, h, nextTick, onUpdated } from 'vue'
import { createObserver, useObservedDocument } from '../src'
import { kuzzleDriver } from '../src/drivers/kuzzle'
import { startKuzzleServer } from '../test/servers/kuzzle'
import { COLLECTION, INDEX } from './lib/dataset'
import { log, median, ms, report, times, until } from './lib/report'

const { Kuzzle, WebSocket: KuzzleWebSocket } = kuzzleSdk
const SAMPLES = 100
const ID = 'writes-bench'

const server = await startKuzzleServer()
server.documents.create(INDEX, COLLECTION, ID, { n: 0 })
const kuzzle = new Kuzzle(new KuzzleWebSocket('127.0.0.1', { port: server.port }))
await kuzzle.connect()

let renders = 0
let shownAt = 0
let doc!: ReturnType<typeof useObservedDocument<{ n: number }>>
const container = document.createElement('div')
document.body.appendChild(container)
const app = createApp(
  defineComponent({
    setup() {
      doc = useObservedDocument<{ n: number }>(INDEX, COLLECTION, ID)
      onUpdated(() => {
        renders++
        shownAt = performance.now()
      })
      return () => h('p', String(doc.data.value?._source.n ?? ''))
    },
  }),
)
app.use(createObserver({ driver: kuzzleDriver(kuzzle) })).mount(container as unknown as Element)
await until(() => container.textContent === '0', 10_000, 'document shown')

const ours: number[] = []
const direct: number[] = []
const rendersPerWrite: number[] = []
let n = 0
for (let i = 0; i < SAMPLES; i++) {
  // Ours: the local write, to the DOM.
  n++
  renders = 0
  let t = performance.now()
  const confirmed = doc.update({ n })
  await nextTick()
  if (container.textContent !== String(n)) throw new Error('a local write was not on screen at the next tick')
  ours.push(shownAt - t)
  await confirmed
  // Confirmed by its answer; its notification follows: wait until the server's revision is the one shown.
  const stored = server.documents.get(INDEX, COLLECTION, ID)!._source._kuzzle_info as { updatedAt: number }
  await until(() => !doc.pending.value && (doc.data.value?._source as { _kuzzle_info?: { updatedAt?: number } })?._kuzzle_info?.updatedAt === stored.updatedAt, 5000, 'write confirmed')
  rendersPerWrite.push(renders)
  // Baseline: a direct SDK call, the component updated by the notification.
  n++
  t = performance.now()
  await kuzzle.document.update(INDEX, COLLECTION, ID, { n })
  await until(() => container.textContent === String(n), 5000, 'notification shown')
  direct.push(shownAt - t)
}
log(`write → visible: ours ${ms(median(ours))}, direct SDK call + notification ${ms(median(direct))}; renders per write ${rendersPerWrite.join(' ')}`)

report({
  bench: 'writes',
  measure: 'Kuzzle on loopback: a write to a document → on screen (update() of the composable, shown before any request), median of 100',
  ours: ms(median(ours)),
  baseline: `${ms(median(direct))} (kuzzle.document.update, then the notification)`,
  ratio: `${times(median(direct) / median(ours))} sooner`,
  target: '',
  met: null,
})
const maxRenders = Math.max(...rendersPerWrite)
report({
  bench: 'writes',
  measure: 'renders of the component per local write, until its answer and its notification both arrived (max over 100)',
  ours: String(maxRenders),
  baseline: '',
  ratio: '',
  target: '1',
  met: maxRenders === 1,
})

app.unmount()
kuzzle.disconnect()
await server.stop()
