// @vitest-environment happy-dom
/**
 * Hostile documents in mounted components: prototype keys render as the plain data they are, a 10 MB field renders,
 * and a sibling component is unaffected.
 */
import { mount, type VueWrapper } from '@vue/test-utils'
import { afterEach, describe, expect, it } from 'vitest'
import { defineComponent, h } from 'vue'
import { createObserver, useObservedDocument } from '../../src'
import { memoryDriver } from '../../src/drivers/memory'
import { waitFor } from '../helpers/wait-for'

const wrappers: VueWrapper[] = []
afterEach(() => {
  for (const w of wrappers.splice(0)) w.unmount()
})

type Hostile = { n: number; constructor: { prototype: { polluted: string } }; prototype: { polluted: string }; blob?: string }

describe('hostile documents in mounted components', () => {
  it('renders constructor / prototype fields as data, drops __proto__, and a 10 MB update renders', { timeout: 15_000 }, async () => {
    const driver = memoryDriver()
    driver.seed('i', 'c', [
      { _id: 'h', _source: JSON.parse('{"n":1,"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"c"}},"prototype":{"polluted":"p"}}') },
      { _id: 's', _source: { n: 10 } },
    ])
    const Comp = defineComponent({
      setup() {
        const hostile = useObservedDocument<Hostile>('i', 'c', 'h')
        const sibling = useObservedDocument<{ n: number }>('i', 'c', 's')
        return () => {
          const s = hostile.data.value?._source
          return h('div', [
            h('p', { id: 'h' }, s ? `${hostile.status.value}|${s.n}|${s.constructor.prototype.polluted}|${s.prototype.polluted}|${Object.hasOwn(s, '__proto__')}|${s.blob?.length ?? 0}` : hostile.status.value),
            h('p', { id: 's' }, `${sibling.status.value}|${sibling.data.value?._source.n ?? '-'}`),
          ])
        }
      },
    })
    const w = mount(Comp, { global: { plugins: [createObserver({ driver })] } })
    wrappers.push(w)
    await waitFor(() => w.find('#h').text() === 'live|1|c|p|false|0', 2000, { what: 'hostile rendered' })
    expect(w.find('#s').text()).toBe('live|10')
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()

    const SIZE = 10 * 1024 * 1024
    await driver.update('i', 'c', 'h', { n: 2, blob: 'y'.repeat(SIZE) })
    await waitFor(() => w.find('#h').text() === `live|2|c|p|false|${SIZE}`, 8000, { what: '10 MB update rendered' })
    await driver.update('i', 'c', 's', { n: 11 })
    await waitFor(() => w.find('#s').text() === 'live|11', 2000, { what: 'sibling still live' })
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    expect(Object.getOwnPropertyNames(Object.prototype)).not.toContain('polluted')
  })
})
