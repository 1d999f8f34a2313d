/**
 * vue-observed as a peer (bench/peers.bench.ts): the memory driver is the server (it holds the documents and
 * answers searches); the client holds one `useObservedSearch` window (`live: 'query'`), as the README shows.
 */
import { defineComponent, h, shallowRef, type PropType } from 'vue'
import { createObserver, useObservedSearch } from '../../src'
import type { DocEvent, WatchSink } from '../../src/core/types'
import { memoryDriver } from '../../src/drivers/memory'
import { mountApp, noteNotification, peerRowText, type MountedApp, type Peer, type PeerDoc } from './peer'

const INDEX = 'peers'
const COLLECTION = 'docs'
type Source = { name: string; fare: number }

/** The server is seeded here (before any client heap is measured); nothing client-side exists until `mount()`. */
export function createObservedPeer(docs: readonly PeerDoc[], size: number): Peer {
  const driver = memoryDriver()
  driver.seed(INDEX, COLLECTION, docs.map((d) => ({ _id: d.id, _source: { name: d.name, fare: d.fare } })))
  const renders = { rows: 0, list: 0 }
  const notified = { count: 0, at: 0, idle: 0 }
  // A notification is the driver calling a watch's sink: time from there.
  const watch = driver.watch.bind(driver)
  driver.watch = (c, spec, sink: WatchSink) =>
    watch(c, spec, {
      ready: (info) => sink.ready(info),
      event: (e: DocEvent) => {
        noteNotification(notified)
        sink.event(e)
      },
      reset: () => sink.reset(),
      offline: () => sink.offline(),
      error: (err) => sink.error(err),
    })

  const Row = defineComponent({
    props: { doc: { type: Object as PropType<{ _id: string; _source: Source }>, required: true } },
    setup(props) {
      return () => {
        renders.rows++
        return h('li', { 'data-id': props.doc._id }, peerRowText(props.doc._source))
      }
    },
  })
  const list = (className: string, order: 'asc' | 'desc', count: boolean) =>
    defineComponent({
      setup() {
        const search = useObservedSearch<Source>(INDEX, COLLECTION, { sort: { fare: order } }, { size, live: 'query' })
        return () => {
          if (count) renders.list++
          return h('ul', { class: className }, search.hits.value.map((d) => h(Row, { key: d._id, doc: d })))
        }
      },
    })
  const Main = list('main', 'desc', true)
  const Extra = list('extra', 'asc', false)
  const extra = shallowRef(false)

  let app: MountedApp | null = null
  return {
    name: 'vue-observed',
    renders,
    notified,
    mount(renderer = 'dom') {
      const root = defineComponent({ setup: () => () => h('div', [h(Main), extra.value ? h(Extra) : null]) })
      app = mountApp(root, renderer, [createObserver({ driver })])
    },
    showExtra(on) {
      extra.value = on
    },
    async write(id, fare) {
      await driver.update(INDEX, COLLECTION, id, { fare })
    },
    text: (list) => app?.text(list) ?? '',
    rows: (list) => app?.rows(list) ?? 0,
    unmount() {
      app?.unmount()
      app = null
    },
  }
}
