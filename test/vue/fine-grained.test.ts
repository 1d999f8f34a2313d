// @vitest-environment happy-dom
// A 5,000-row live list: updating one field of one document re-renders only that row, never the list nor the
// other rows. A row is one reactive unit (its `_source` a frozen value replaced on change, the row object kept); a
// document composable's `_source` is reactive per field.
import { afterEach, describe, expect, it } from 'vitest'
import { defineComponent, h, type PropType } from 'vue'
import { mount, type VueWrapper } from '@vue/test-utils'
import { createObserver, useObservedSearch, type ObservedDoc } from '../../src'
import { memoryDriver } from '../../src/drivers/memory'
import * as devalue from 'devalue'
import { waitFor } from '../helpers/wait-for'

type Row = { n: number; label: string }
const COUNT = 5000

const wrappers: VueWrapper[] = []
afterEach(() => {
  for (const w of wrappers.splice(0)) w.unmount()
})

describe.each(['hits', 'query'] as const)("fine-grained reactivity (live: '%s')", (live) => {
  it('one field of one document in 5,000 rows re-renders only that row', async () => {
    const driver = memoryDriver()
    driver.seed<Row>(
      'i',
      'rows',
      Array.from({ length: COUNT }, (_, k) => ({ _id: `r${String(k).padStart(4, '0')}`, _source: { n: k, label: `row ${k}` } })),
    )
    const rowRenders = new Map<string, number>()
    let listRenders = 0
    const RowView = defineComponent({
      props: { doc: { type: Object as PropType<ObservedDoc<Row>>, required: true } },
      setup(props) {
        return () => {
          rowRenders.set(props.doc._id, (rowRenders.get(props.doc._id) ?? 0) + 1)
          return h('li', { id: props.doc._id }, props.doc._source.label)
        }
      },
    })
    let s!: ReturnType<typeof useObservedSearch<Row>>
    const List = defineComponent({
      setup() {
        s = useObservedSearch<Row>('i', 'rows', { sort: 'n' }, { size: COUNT, live })
        return () => {
          listRenders++
          return h('ul', s.hits.value.map((doc) => h(RowView, { key: doc._id, doc })))
        }
      },
    })
    const w = mount(List, { global: { plugins: [createObserver({ driver })] } })
    wrappers.push(w)
    await waitFor(() => w.findAll('li').length === COUNT, 10_000, { what: `${COUNT} rows` })
    expect(w.find('#r4242').text()).toBe('row 4242')
    // Let initial renders settle, then count from zero.
    await waitFor(() => driver.watchStats()['i/rows']?.every((x) => x.live), 5000)
    rowRenders.clear()
    listRenders = 0
    await driver.update('i', 'rows', 'r4242', { label: 'changed' })
    await waitFor(() => w.find('#r4242').text() === 'changed', 2000, { what: 'row updated' })
    expect(Object.fromEntries(rowRenders)).toEqual({ r4242: 1 })
    expect(listRenders).toBe(0)
    // The row keeps its object; its content is a new frozen value that shares the unchanged fields.
    const row = s.hits.value.find((d) => d._id === 'r4242')!
    const before = row._source
    await driver.update('i', 'rows', 'r4242', { label: 'again' })
    await waitFor(() => w.find('#r4242').text() === 'again', 2000, { what: 'row updated again' })
    expect(s.hits.value.find((d) => d._id === 'r4242')).toBe(row)
    expect(row._source).not.toBe(before)
    expect(row._source).toEqual({ n: 4242, label: 'again' })
    expect(Object.isFrozen(row._source)).toBe(true)
    expect(JSON.parse(JSON.stringify(row))).toEqual({ _id: 'r4242', _source: { n: 4242, label: 'again' } })
    // A plain object to serialisers: devalue (SSR payloads) takes it as it takes the server's rows.
    expect(devalue.parse(devalue.stringify(row))).toEqual({ _id: 'r4242', _source: { n: 4242, label: 'again' } })
    expect({ ...row }).toEqual({ _id: 'r4242', _source: row._source })
    // A field no row renders re-renders that row once (a row is one unit), and nothing else.
    await driver.update('i', 'rows', 'r0007', { extra: true })
    await driver.update('i', 'rows', 'r0001', { label: 'marker' })
    await waitFor(() => w.find('#r0001').text() === 'marker', 2000)
    expect(Object.fromEntries(rowRenders)).toEqual({ r4242: 2, r0007: 1, r0001: 1 })
    expect(listRenders).toBe(0)
  })
})
