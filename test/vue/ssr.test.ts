/**
 * Server-side rendering: a composable reads once (awaited by onServerPrefetch) and never subscribes.
 */
import { describe, expect, it } from 'vitest'
import { createSSRApp, defineComponent, h } from 'vue'
import { renderToString } from 'vue/server-renderer'
import { createObserver, useObservedDocument, useObservedSearch } from '../../src'
import { memoryDriver } from '../../src/drivers/memory'

describe('server-side rendering', () => {
  it('renders the read data and opens no watch', async () => {
    const driver = memoryDriver()
    driver.seed('i', 'c', [
      { _id: 'a', _source: { name: 'Ana', fare: 3 } },
      { _id: 'b', _source: { name: 'Bo', fare: 9 } },
    ])
    const Page = defineComponent({
      setup() {
        const doc = useObservedDocument<{ name: string }>('i', 'c', 'a')
        const missing = useObservedDocument('i', 'c', 'zz')
        const list = useObservedSearch<{ name: string }>('i', 'c', { sort: [{ fare: 'desc' }] })
        return () =>
          h('main', [
            h('p', `${doc.status.value}:${doc.data.value?._source.name}`),
            h('p', `${missing.status.value}`),
            h('ul', list.hits.value.map((hit) => h('li', hit._source.name))),
            h('p', `total ${list.total.value}`),
          ])
      },
    })
    const app = createSSRApp(Page).use(createObserver({ driver }))
    const html = await renderToString(app)
    expect(html).toBe('<main><p>live:Ana</p><p>error</p><ul><li>Bo</li><li>Ana</li></ul><p>total 2</p></main>')
    expect(driver.activeWatches).toBe(0)
  })
})
