// Promise 5: new content replaces the old (a removed field disappears), in place, so that in a Vue reactive
// container only the fields that changed trigger.
import { afterEach, describe, expect, it } from 'vitest'
import { effect, reactive, stop, watch } from 'vue'
import { ObserverClient } from '../../src/core'
import { memoryDriver } from '../../src/drivers/memory'
import { waitFor } from '../helpers/wait-for'

type Doc = { title?: string; price?: number; tags?: string[]; address?: { city: string; zip?: string }; note?: string }

const clients: ObserverClient[] = []
afterEach(() => {
  for (const c of clients.splice(0)) c.close()
})
async function live(wrap?: <T extends object>(v: T) => T) {
  const driver = memoryDriver()
  driver.seed<Doc>('i', 'c', [{ _id: 'a', _source: { title: 'Pen', price: 2, tags: ['x'], address: { city: 'Paris', zip: '75001' }, note: 'n' } }])
  const client = new ObserverClient({ driver, wrap })
  clients.push(client)
  const o = client.get<Doc>('i', 'c', 'a')
  await o.ready()
  return { driver, o }
}

describe('replace, not merge', () => {
  it('a removed field disappears; changes lists the top-level fields that differ', async () => {
    const { driver, o } = await live()
    const changes: string[][] = []
    o.on('change', (_s, c) => changes.push([...c].sort()))
    await driver.replace('i', 'c', 'a', { title: 'Pen', price: 3, tags: ['x'], address: { city: 'Paris' } })
    await waitFor(() => o._source?.price === 3, 1000)
    expect(o._source).toEqual({ title: 'Pen', price: 3, tags: ['x'], address: { city: 'Paris' } })
    expect(Object.hasOwn(o._source!, 'note')).toBe(false)
    expect(Object.hasOwn(o._source!.address!, 'zip')).toBe(false)
    expect(changes).toEqual([['address', 'note', 'price']])
  })

  it('the container keeps its identity across changes', async () => {
    const { driver, o } = await live()
    const before = o._source
    await driver.replace('i', 'c', 'a', { title: 'Ink' })
    await waitFor(() => o._source?.title === 'Ink', 1000)
    expect(o._source).toBe(before)
    expect(o._source).toEqual({ title: 'Ink' })
  })

  it('a write that changes nothing emits no change', async () => {
    const { driver, o } = await live()
    let n = 0
    o.on('change', () => n++)
    await driver.replace('i', 'c', 'a', { title: 'Pen', price: 2, tags: ['x'], address: { city: 'Paris', zip: '75001' }, note: 'n' })
    await driver.update('i', 'c', 'a', { price: 4 })
    await waitFor(() => o._source?.price === 4, 1000)
    expect(n).toBe(1)
  })
})

describe('in a Vue reactive container only changed fields trigger', () => {
  it('per-field watchers and effects fire only for the fields that changed', async () => {
    const { driver, o } = await live(reactive as <T extends object>(v: T) => T)
    const src = o._source!
    const counts: Record<string, number> = { title: 0, price: 0, tags: 0, city: 0, zip: 0, note: 0 }
    const stops = [
      watch(() => src.title, () => counts.title++, { flush: 'sync' }),
      watch(() => src.price, () => counts.price++, { flush: 'sync' }),
      watch(() => src.tags, () => counts.tags++, { flush: 'sync' }),
      watch(() => src.address?.city, () => counts.city++, { flush: 'sync' }),
      watch(() => src.address?.zip, () => counts.zip++, { flush: 'sync' }),
      watch(() => src.note, () => counts.note++, { flush: 'sync' }),
    ]
    let cityRuns = 0
    const runner = effect(() => {
      void src.address?.city
      cityRuns++
    })
    await driver.update('i', 'c', 'a', { price: 3 })
    await waitFor(() => src.price === 3, 1000)
    expect(counts).toEqual({ title: 0, price: 1, tags: 0, city: 0, zip: 0, note: 0 })
    await driver.update('i', 'c', 'a', { address: { zip: '75002' } })
    await waitFor(() => src.address?.zip === '75002', 1000)
    expect(counts).toEqual({ title: 0, price: 1, tags: 0, city: 0, zip: 1, note: 0 })
    // Equal array content: no trigger; different: one.
    await driver.update('i', 'c', 'a', { tags: ['x'], note: 'm' })
    await waitFor(() => src.note === 'm', 1000)
    expect(counts).toEqual({ title: 0, price: 1, tags: 0, city: 0, zip: 1, note: 1 })
    await driver.update('i', 'c', 'a', { tags: ['x', 'y'] })
    await waitFor(() => src.tags?.length === 2, 1000)
    expect(counts).toEqual({ title: 0, price: 1, tags: 1, city: 0, zip: 1, note: 1 })
    // Removing a field triggers it alone.
    await driver.replace('i', 'c', 'a', { title: 'Pen', price: 3, tags: ['x', 'y'], address: { city: 'Paris', zip: '75002' } })
    await waitFor(() => !('note' in src), 1000)
    expect(counts).toEqual({ title: 0, price: 1, tags: 1, city: 0, zip: 1, note: 2 })
    expect(cityRuns).toBe(1)
    for (const s of stops) s()
    stop(runner)
  })

  it('content is the same document as a frozen value, replaced on each change with unchanged fields kept; the container is made only when read', async () => {
    let wrapped = 0
    const { driver, o } = await live(<T extends object>(v: T): T => {
      wrapped++
      return reactive(v) as T
    })
    const first = o.content!
    expect(Object.isFrozen(first) && Object.isFrozen(first.address)).toBe(true)
    // No one read `_source` yet: no container was made.
    expect(wrapped).toBe(0)
    const told: Array<Doc | null> = []
    o.on('change', (source) => told.push(source))
    await driver.update('i', 'c', 'a', { price: 5 })
    await waitFor(() => o.content?.price === 5, 1000)
    expect(wrapped).toBe(0)
    const second = o.content!
    expect(second).not.toBe(first)
    expect(second.address).toBe(first.address)
    expect(told).toEqual([second])
    expect(told[0]).toBe(second)
    // A write into the frozen value fails, and changes nothing the observer shows.
    expect(() => ((second as { price: number }).price = 9)).toThrow(TypeError)
    // The container, made on first read, is changed in place from then on; the frozen values are not shared with it.
    const src = o._source!
    expect(wrapped).toBe(1)
    expect(src).toEqual(second)
    await driver.update('i', 'c', 'a', { address: { city: 'Lyon' } })
    await waitFor(() => o.content?.address?.city === 'Lyon', 1000)
    expect(o._source).toBe(src)
    expect(src.address).toEqual({ city: 'Lyon', zip: '75001' })
    expect(Object.isFrozen(src.address)).toBe(false)
    expect(wrapped).toBe(1)
  })
})
