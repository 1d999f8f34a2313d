/**
 * TanStack DB as a peer (bench/peers.bench.ts), used the way its docs recommend: a synced collection whose sync
 * subscribes to the server's changes and loads the collection with begin/write/commit (then `markReady`), a
 * BTree index on the sort field, and `useLiveQuery` with `orderBy` + `limit` in the component. The server is a
 * plain map with change listeners, delivering each change after a macrotask (as the memory driver does).
 */
import { BTreeIndex, createCollection, type Collection } from '@tanstack/db'
import { useLiveQuery } from '@tanstack/vue-db'
import { defineComponent, h, shallowRef, type PropType } from 'vue'
import { mountApp, noteNotification, peerRowText, type MountedApp, type Peer, type PeerDoc } from './peer'

/** The server is created here (before any client heap is measured); the collection only in `mount()`. */
export function createTanstackPeer(docs: readonly PeerDoc[], size: number): Peer {
  const server = new Map(docs.map((d) => [d.id, { ...d }]))
  const listeners = new Set<(doc: PeerDoc) => void>()
  const renders = { rows: 0, list: 0 }
  const notified = { count: 0, at: 0, idle: 0 }
  let collection: Collection<PeerDoc, string> | null = null
  /** The live query collections, cleaned up with the app (before the collection they read). */
  const liveQueries = new Set<{ cleanup(): Promise<void> }>()

  const Row = defineComponent({
    props: { doc: { type: Object as PropType<PeerDoc>, required: true } },
    setup(props) {
      return () => {
        renders.rows++
        return h('li', { 'data-id': props.doc.id }, peerRowText(props.doc))
      }
    },
  })
  const list = (className: string, order: 'asc' | 'desc', count: boolean) =>
    defineComponent({
      setup() {
        const { data, collection: live } = useLiveQuery((q) =>
          q
            .from({ d: collection! })
            .orderBy(({ d }) => d.fare, order)
            .limit(size),
        )
        liveQueries.add(live.value)
        return () => {
          if (count) renders.list++
          return h('ul', { class: className }, data.value.map((d) => h(Row, { key: d.id, doc: d })))
        }
      },
    })
  const Main = list('main', 'desc', true)
  const Extra = list('extra', 'asc', false)
  const extra = shallowRef(false)

  let app: MountedApp | null = null
  return {
    name: 'TanStack DB',
    renders,
    notified,
    mount(renderer = 'dom') {
      collection = createCollection<PeerDoc, string>({
        id: 'peers',
        getKey: (d) => d.id,
        sync: {
          sync: ({ begin, write, commit, markReady }) => {
            // Subscribe first, then load the collection (the server's answer: copies of its documents).
            const onChange = (doc: PeerDoc) => {
              noteNotification(notified)
              begin()
              write({ type: 'update', value: doc })
              commit()
            }
            listeners.add(onChange)
            begin()
            for (const d of server.values()) write({ type: 'insert', value: { ...d } })
            commit()
            markReady()
            return () => void listeners.delete(onChange)
          },
        },
      })
      collection.createIndex((row) => row.fare, { indexType: BTreeIndex })
      const root = defineComponent({ setup: () => () => h('div', [h(Main), extra.value ? h(Extra) : null]) })
      app = mountApp(root, renderer)
    },
    showExtra(on) {
      extra.value = on
    },
    async write(id, fare) {
      const doc = { ...server.get(id)!, fare }
      server.set(id, doc)
      setTimeout(() => {
        for (const listener of listeners) listener({ ...doc })
      }, 0)
    },
    text: (list) => app?.text(list) ?? '',
    rows: (list) => app?.rows(list) ?? 0,
    unmount() {
      app?.unmount()
      app = null
      for (const live of liveQueries) void live.cleanup()
      liveQueries.clear()
      void collection?.cleanup()
      collection = null
    },
  }
}
