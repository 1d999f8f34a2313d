/**
 * Local writes (issue 16) on the core and the memory driver: shown at once (optimistic), pending until confirmed,
 * confirmed without a second change, rebased over a concurrent remote change, rolled back on refusal, in order.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { ObservedError, ObserverClient, type Observer } from '../../src'
import { step, initialDocState, visibleOf, type DocState } from '../../src/core/doc-state'
import { memoryDriver } from '../../src/drivers/memory'
import { waitFor } from '../helpers/wait-for'

type Taxi = { n: number; city?: string; tags?: string[]; where?: { lat: number; lng?: number } }

const clients: ObserverClient[] = []
afterEach(() => {
  for (const c of clients.splice(0)) c.close()
})

async function setup(latency = 15) {
  const driver = memoryDriver({ latency })
  driver.seed('i', 'c', [{ _id: 'a', _source: { n: 1, city: 'NYC', where: { lat: 1, lng: 2 } } }])
  const client = new ObserverClient({ driver })
  clients.push(client)
  const a = client.get<Taxi>('i', 'c', 'a')
  await a.ready()
  const changes: string[][] = []
  a.on('change', (_s, c) => changes.push(c))
  return { driver, client, a, changes }
}

const stored = (driver: ReturnType<typeof memoryDriver>) => driver.snapshot('i', 'c').find((d) => d._id === 'a')?._source ?? null

describe('local writes', () => {
  it('an optimistic update is shown in the same tick, before any request, pending until the server confirms it', async () => {
    const { driver, a, changes } = await setup()
    const done = a.update({ n: 2, where: { lat: 5 } })
    // Shown before any request reached the backend; objects merge deeply.
    expect(a._source).toEqual({ n: 2, city: 'NYC', where: { lat: 5, lng: 2 } })
    expect(stored(driver)).toEqual({ n: 1, city: 'NYC', where: { lat: 1, lng: 2 } })
    expect(a.pending).toBe(true)
    await done
    expect(stored(driver)).toEqual({ n: 2, city: 'NYC', where: { lat: 5, lng: 2 } })
    await waitFor(() => !a.pending, 2000, { what: 'confirmed' })
    expect(a._source).toEqual({ n: 2, city: 'NYC', where: { lat: 5, lng: 2 } })
    // Confirmed without a second change (neither the answer nor the echo renders again).
    expect(changes).toEqual([['n', 'where']])
  })

  it('pending flips true then false through the observer event', async () => {
    const { a } = await setup()
    const seen: boolean[] = []
    a.on('pending', (p) => seen.push(p))
    await a.replace({ n: 7 })
    await waitFor(() => !a.pending, 2000)
    expect(seen).toEqual([true, false])
    expect(a._source).toEqual({ n: 7 })
  })

  it('a remote change while a write is pending rebases the write onto the new content', async () => {
    const driver = memoryDriver()
    driver.seed('i', 'c', [{ _id: 'a', _source: { n: 1, city: 'NYC', where: { lat: 1, lng: 2 } } }])
    // The write reaches the backend only once the test lets it.
    let release!: () => void
    const gate = new Promise<void>((resolve) => (release = resolve))
    const gated = Object.assign(Object.create(driver), { write: async (...args: Parameters<typeof driver.write>) => (await gate, driver.write(...args)) })
    const client = new ObserverClient({ driver: gated })
    clients.push(client)
    const a = client.get<Taxi>('i', 'c', 'a')
    await a.ready()
    const done = a.update({ n: 2 })
    // Another client changes another field first: it lands before ours.
    await driver.update('i', 'c', 'a', { city: 'Paris' })
    await waitFor(() => a._source?.city === 'Paris', 2000, { what: 'the remote change' })
    expect(a._source).toMatchObject({ n: 2, city: 'Paris' })
    expect(a.pending).toBe(true)
    release()
    await done
    await waitFor(() => !a.pending, 2000)
    expect(a._source).toEqual({ n: 2, city: 'Paris', where: { lat: 1, lng: 2 } })
    expect(stored(driver)).toEqual(a._source)
  })

  it('a refused write is rolled back: its promise rejects with a conflict, error fires, the server content returns', async () => {
    const { driver, a } = await setup()
    const errors: ObservedError[] = []
    a.on('error', (e) => errors.push(e))
    const rev = a._rev
    await driver.update('i', 'c', 'a', { n: 3 })
    const write = a.update({ city: 'Rome' }, { ifRevision: rev })
    expect(a._source?.city).toBe('Rome')
    await expect(write).rejects.toMatchObject({ name: 'ObservedError', code: 'conflict' })
    expect(errors.map((e) => e.code)).toEqual(['conflict'])
    expect(a.pending).toBe(false)
    await waitFor(() => a._source?.n === 3, 2000)
    expect(a._source).toEqual({ n: 3, city: 'NYC', where: { lat: 1, lng: 2 } })
    expect(stored(driver)).toEqual(a._source)
  })

  it('writes to one document keep their order, and a removal shows at once', async () => {
    const { driver, a } = await setup()
    const writes = [a.update({ n: 2 }), a.update({ tags: ['x'] }), a.replace({ n: 9, city: 'Oslo' }), a.update({ n: 10 })]
    expect(a._source).toEqual({ n: 10, city: 'Oslo' })
    await Promise.all(writes)
    await waitFor(() => !a.pending, 2000)
    expect(stored(driver)).toEqual({ n: 10, city: 'Oslo' })
    const gone = a.remove()
    expect(a._source).toBeNull()
    await gone
    await waitFor(() => a.status === 'deleted' && !a.pending, 2000)
    expect(stored(driver)).toBeNull()
  })

  it('a confirmed write whose notification is lost is not left pending: the document is read after the gap timeout', async () => {
    const driver = memoryDriver()
    driver.seed('i', 'c', [{ _id: 'a', _source: { n: 1 } }])
    const client = new ObserverClient({ driver, gapTimeout: 30 })
    clients.push(client)
    const a = client.get<Taxi>('i', 'c', 'a')
    await a.ready()
    driver.faults.drop = 1
    await a.update({ n: 2 })
    driver.faults.drop = 0
    expect(a.pending).toBe(true)
    await waitFor(() => !a.pending, 2000, { what: 'the read that confirms it' })
    expect(a._source).toEqual({ n: 2 })
  })

  it('bad input gets bad_argument before any request, and nothing is shown', async () => {
    const { driver, a } = await setup()
    const writes: Array<() => Promise<void>> = [
      () => a.update(null as unknown as Taxi),
      () => a.replace([] as unknown as Taxi),
      () => a.update({ n: 2 }, { ifRevision: {} as unknown as string }),
    ]
    for (const w of writes) await expect(w()).rejects.toMatchObject({ code: 'bad_argument' })
    expect(a._source).toEqual({ n: 1, city: 'NYC', where: { lat: 1, lng: 2 } })
    expect(a.pending).toBe(false)
    const stoppedObserver: Observer<Taxi> = a
    stoppedObserver.stop()
    await expect(stoppedObserver.update({ n: 3 })).rejects.toMatchObject({ code: 'bad_argument' })
    expect(stored(driver)).toEqual({ n: 1, city: 'NYC', where: { lat: 1, lng: 2 } })
  })

  it("client.create shows an observed document at once, and a create of an existing id is refused and rolled back", async () => {
    const { client } = await setup()
    const b = client.get<Taxi>('i', 'c', 'b')
    await b.ready()
    expect(b.deleted).toBe(true)
    const created = client.create('i', 'c', { n: 4 }, 'b')
    expect(b._source).toEqual({ n: 4 })
    await expect(created).resolves.toBe('b')
    await waitFor(() => b.status === 'live' && !b.pending, 2000)
    await expect(client.create('i', 'c', { n: 5 }, 'b')).rejects.toMatchObject({ code: 'conflict' })
    expect(b._source).toEqual({ n: 4 })
    const id = await client.create('i', 'c', { n: 6 })
    expect(typeof id).toBe('string')
    expect(id.length).toBeGreaterThan(8)
  })

  it('a driver that does not write refuses at once, and the write is rolled back', async () => {
    const inner = memoryDriver()
    inner.seed('i', 'c', [{ _id: 'a', _source: { n: 1 } }])
    const { write: _w, ...rest } = inner
    const readOnly = Object.assign(Object.create(Object.getPrototypeOf(inner)), rest)
    const client = new ObserverClient({ driver: { ...readOnly, name: 'read-only', get: inner.get, mGet: inner.mGet, search: inner.search, watch: inner.watch } })
    clients.push(client)
    const a = client.get<Taxi>('i', 'c', 'a')
    await a.ready()
    await expect(a.update({ n: 2 })).rejects.toMatchObject({ code: 'write_failed' })
    expect(a._source).toEqual({ n: 1 })
  })
})

describe('document model: local writes as an overlay', () => {
  type S = DocState<never>
  const read = (doc: object | null, rev: string): S => {
    let s = step(initialDocState<never>(), { type: 'readSent', at: 0 }).state
    s = step(s, { type: 'readAnswered', doc: doc && { _id: 'a', _source: doc as never, _rev: rev } }).state
    return s
  }
  const shows = (effects: readonly { type: string }[]) => effects.filter((e) => e.type === 'show')

  it('the echo of a confirmed write renders nothing; a rebase renders the merged content; a refusal restores the server’s', () => {
    let s = read({ n: 1, c: 'x' }, 'r1')
    let r = step(s, { type: 'write', write: { n: 1, op: 'update', content: { n: 2 } } })
    expect(shows(r.effects)).toEqual([{ type: 'show', doc: { n: 2, c: 'x' }, quiet: false }])
    s = r.state
    // A remote change first: rebased.
    r = step(s, { type: 'event', e: { id: 'a', kind: 'upsert', doc: { n: 1, c: 'y' }, rev: 'r2', previousRev: 'r1' }, seq: 1 })
    expect(shows(r.effects)).toEqual([{ type: 'show', doc: { n: 2, c: 'y' }, quiet: false }])
    s = r.state
    // Answered at r3, then its echo: nothing renders, the write leaves.
    s = step(s, { type: 'writeAnswered', n: 1, rev: 'r3', at: 1 }).state
    r = step(s, { type: 'event', e: { id: 'a', kind: 'upsert', doc: { n: 2, c: 'y' }, rev: 'r3', previousRev: 'r2' }, seq: 2 })
    expect(shows(r.effects)).toEqual([])
    expect(r.state.pending).toEqual([])
    // A refused write: the server's content is shown again.
    r = step(r.state, { type: 'write', write: { n: 2, op: 'remove' } })
    expect(visibleOf(r.state)).toBeNull()
    r = step(r.state, { type: 'writeFailed', n: 2 })
    expect(shows(r.effects)).toEqual([{ type: 'show', doc: { n: 2, c: 'y' }, quiet: false }])
  })

  it('a document created here and never read: the answer asks for its first read (its echo alone cannot place it)', () => {
    let r = step(initialDocState<never>(), { type: 'write', write: { n: 1, op: 'replace', content: { n: 5 } } })
    expect(r.effects.filter((e) => e.type === 'read')).toEqual([])
    // Its echo, before or after the answer, waits for the first read: nothing places a creation on an unknown document.
    r = step(r.state, { type: 'event', e: { id: 'a', kind: 'upsert', doc: { n: 5 }, rev: 'r1', previousRev: null }, seq: 1 })
    r = step(r.state, { type: 'writeAnswered', n: 1, rev: 'r1', at: 2 })
    expect(r.effects.filter((e) => e.type === 'read')).toEqual([{ type: 'read' }])
    let s = step(r.state, { type: 'readSent', at: 2 }).state
    r = step(s, { type: 'readAnswered', doc: { _id: 'a', _source: { n: 5 } as never, _rev: 'r1' } })
    expect(r.state.pending).toEqual([])
    expect(shows(r.effects)).toEqual([])
    // A document already read asks nothing on an answer: its echo places itself.
    s = step(read({ n: 1 }, 'r1'), { type: 'write', write: { n: 1, op: 'replace', content: { n: 5 } } }).state
    expect(step(s, { type: 'writeAnswered', n: 1, rev: 'r2', at: 1 }).effects.filter((e) => e.type === 'read')).toEqual([])
  })

  it('an acknowledged write whose echo never comes leaves once a read sent after its answer lands', () => {
    let s = read({ n: 1 }, 'r1')
    s = step(s, { type: 'write', write: { n: 1, op: 'replace', content: { n: 5 } } }).state
    s = step(s, { type: 'writeAnswered', n: 1, rev: 'r2', at: 3 }).state
    s = step(s, { type: 'readWanted' }).state
    s = step(s, { type: 'readSent', at: 3 }).state
    const r = step(s, { type: 'readAnswered', doc: { _id: 'a', _source: { n: 5 } as never, _rev: 'r2' } })
    expect(r.state.pending).toEqual([])
    expect(shows(r.effects)).toEqual([])
  })
})
