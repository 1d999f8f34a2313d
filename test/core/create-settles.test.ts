/**
 * A created document's pending flag ends when the server has it, not a gap timeout later: the entry knew nothing of
 * the document before the write, so the echo of the write (an event on a document never read) cannot be placed on
 * its own; the answer's read places it at once.
 */
import { afterEach, expect, it } from 'vitest'
import { ObserverClient } from '../../src/core'
import { memoryDriver } from '../../src/drivers/memory'
import { waitFor } from '../helpers/wait-for'

const clients: ObserverClient[] = []
afterEach(() => {
  for (const c of clients.splice(0)) c.close()
})

it.each(['query', 'get'] as const)('a created document observed through %s stops being pending once the server answers, with no timer', async (how) => {
  const driver = memoryDriver({ latency: 2 })
  driver.seed('i', 'c', [{ _id: 'a', _source: { n: 1 } }])
  // A gap timeout far beyond the test's bound: only the write's answer can settle it.
  const client = new ObserverClient({ driver, gapTimeout: 60_000 })
  clients.push(client)
  const s = client.search<{ n: number }>('i', 'c', { sort: 'n' }, { live: 'query', size: 5 })
  await s.ready()
  const o = how === 'get' ? client.get<{ n: number }>('i', 'c', 'new') : null
  await o?.ready()
  const created = client.create('i', 'c', { n: 2 }, 'new')
  const row = () => s.hits.find((h) => h._id === 'new')
  expect(row()?.pending).toBe(true)
  await created
  await waitFor(() => row() !== undefined && !row()!.pending && (o === null || !o.pending), 3000, { what: 'the created row confirmed' })
  expect(row()!._source).toEqual({ n: 2 })
  if (o) expect(o._source).toEqual({ n: 2 })
})
