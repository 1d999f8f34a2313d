// @vitest-environment happy-dom
import { describe, expect, it } from 'vitest'
import { defineComponent, h, nextTick, ref } from 'vue'
import { mount } from '@vue/test-utils'
import { createObserver, useObservedDocument, useObservedSearch } from '../../src'
import { memoryDriver } from '../../src/drivers/memory'
import { waitFor } from '../helpers/wait-for'

describe('vue smoke', () => {
  it('document and search', async () => {
    const driver = memoryDriver()
    driver.seed('i', 'c', [{ _id: 'a', _source: { n: 1 } }, { _id: 'b', _source: { n: 2 } }])
    const id = ref<string | null>('a')
    let renders = 0
    const Comp = defineComponent({
      setup() {
        const doc = useObservedDocument<{ n: number }>('i', 'c', id)
        const s = useObservedSearch<{ n: number }>('i', 'c', { sort: 'n' }, { live: 'query' })
        return () => {
          renders++
          return h('div', [h('p', { id: 'doc' }, `${doc.status.value}:${doc.data.value?._source.n}`), ...s.hits.value.map((x) => h('span', x._source.n))])
        }
      },
    })
    const w = mount(Comp, { global: { plugins: [createObserver({ driver })] } })
    await waitFor(() => w.find('#doc').text() === 'live:1')
    expect(w.findAll('span').map((s) => s.text())).toEqual(['1', '2'])
    await driver.update('i', 'c', 'b', { n: 0 })
    await waitFor(() => w.findAll('span').map((s) => s.text()).join() === '0,1')
    id.value = 'b'
    await nextTick()
    await waitFor(() => w.find('#doc').text() === 'live:0')
    w.unmount()
    await waitFor(() => driver.activeWatches === 0)
    expect(renders).toBeGreaterThan(0)
  })
})
