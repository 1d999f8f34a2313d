/** Mounting many small components at once, and waiting until they all show their document. */
import { createApp, defineComponent, h, ref, type Component, type Plugin } from 'vue'
import { useObservedDocument } from '../../src'
import { COLLECTION, INDEX, type BenchSource } from './dataset'
import { until } from './report'

/** A component observing one document; it renders "ok" once the document is there. */
export const ObservedChild = defineComponent({
  props: { id: { type: String, required: true }, index: { type: String, default: INDEX }, collection: { type: String, default: COLLECTION } },
  setup(props) {
    const doc = useObservedDocument<BenchSource>(() => props.index, () => props.collection, () => props.id)
    return () => h('i', doc.data.value ? `ok ${doc.data.value._source.name}` : '')
  },
})

/** The baseline: the same component holding its document in a plain ref. */
export const PlainChild = defineComponent({
  props: { id: { type: String, required: true } },
  setup(props) {
    const doc = ref<{ _id: string; _source: Pick<BenchSource, 'name'> } | null>({ _id: props.id, _source: { name: props.id } })
    return () => h('i', doc.value ? `ok ${doc.value._source.name}` : '')
  },
})

export interface MountedMany {
  /** Time spent in `app.mount()` (setup and first render of every child). */
  syncMs: number
  /** Resolves with the time from mount until every child shows its document. */
  shown(timeoutMs?: number): Promise<number>
  unmount(): void
}

/** Mounts one parent rendering `child` once per id. */
export function mountMany(child: Component, ids: readonly string[], plugin?: Plugin, props: Record<string, unknown> = {}): MountedMany {
  const container = document.createElement('div')
  document.body.appendChild(container)
  const app = createApp(defineComponent({ setup: () => () => h('div', ids.map((id, k) => h(child, { key: k, id, ...props }))) }))
  if (plugin) app.use(plugin)
  const t0 = performance.now()
  app.mount(container as unknown as Element)
  const syncMs = performance.now() - t0
  const elements = [...container.querySelectorAll('i')]
  return {
    syncMs,
    async shown(timeoutMs = 30_000) {
      let from = 0
      // Elements fill in roughly in order: resume the scan where it stopped.
      await until(
        () => {
          while (from < elements.length && elements[from].textContent!.startsWith('ok')) from++
          return from === elements.length
        },
        timeoutMs,
        `${ids.length} components showing their document`,
      )
      return performance.now() - t0
    },
    unmount() {
      app.unmount()
      container.remove()
    },
  }
}
