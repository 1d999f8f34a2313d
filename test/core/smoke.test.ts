import { describe, expect, it } from 'vitest'
import { ObserverClient } from '../../src/core'
import { memoryDriver } from '../../src/drivers/memory'
import { waitFor } from '../helpers/wait-for'

describe('smoke', () => {
  it('get / search', async () => {
    const driver = memoryDriver()
    driver.seed('i', 'c', [{ _id: 'a', _source: { n: 1 } }, { _id: 'b', _source: { n: 2 } }])
    const client = new ObserverClient({ driver })
    const o = client.get('i', 'c', 'a')
    await o.ready()
    expect(o.status).toBe('live')
    expect(o._source).toEqual({ n: 1 })
    await driver.update('i', 'c', 'a', { n: 5 })
    await waitFor(() => (o._source as any).n === 5)
    const s = client.search('i', 'c', { sort: { n: 'desc' } }, { live: 'query' })
    await s.ready()
    expect(s.hits.map((h) => h._id)).toEqual(['a', 'b'])
    await driver.create('i', 'c', { n: 3 }, 'c')
    await waitFor(() => s.hits.length === 3)
    expect(s.hits.map((h) => h._id)).toEqual(['a', 'c', 'b'])
    await driver.delete('i', 'c', 'a')
    await waitFor(() => s.hits.length === 2)
    expect(o.status).toBe('deleted')
    o.stop(); s.stop()
    await waitFor(() => driver.activeWatches === 0)
  })
})
