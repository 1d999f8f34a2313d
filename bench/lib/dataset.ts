/** The documents the Vue benchmarks list, and the component that renders one of them. */
import { defineComponent, h, type PropType } from 'vue'

export const INDEX = 'bench'
export const COLLECTION = 'docs'
export const REF = { index: INDEX, collection: COLLECTION } as const

/** One benchmark document: `i` is the sort key (never updated), the other three fields are. */
export interface BenchSource {
  [key: string]: unknown
  i: number
  name: string
  n: number
  price: number
  status: string
}

export const UPDATED_FIELDS = ['n', 'price', 'status'] as const

export const idOf = (i: number) => `doc-${String(i).padStart(5, '0')}`

export function makeDocs(count: number): Array<{ _id: string; _source: BenchSource }> {
  return Array.from({ length: count }, (_, i) => ({
    _id: idOf(i),
    _source: { i, name: `Document ${i}`, n: 0, price: i % 100, status: 'idle' },
  }))
}

/** What a row shows: every field of its document. */
export const rowText = (s: BenchSource) => `${s.name}|${s.n}|${s.price}|${s.status}`

/** A list row: a child component that reads its document's fields. */
export const Row = defineComponent({
  name: 'Row',
  props: { doc: { type: Object as PropType<{ _id: string; _source: BenchSource }>, required: true } },
  setup(props) {
    return () => h('li', { 'data-id': props.doc._id }, rowText(props.doc._source))
  },
})
