// Promise 8: bad arguments are refused with clear bad_argument errors; hostile documents and malformed frames give
// an error status or are dropped, never crash, never write outside the document.
import { afterEach, describe, expect, it } from 'vitest'
import { ObservedError, ObserverClient } from '../../src/core'
import { memoryDriver } from '../../src/drivers/memory'
import { instrument } from '../helpers/instrumented-driver'
import { waitFor } from '../helpers/wait-for'

const clients: ObserverClient[] = []
afterEach(() => {
  for (const c of clients.splice(0)) c.close()
})
function setup() {
  const inner = memoryDriver()
  const driver = instrument(inner)
  const client = new ObserverClient({ driver })
  clients.push(client)
  return { inner, driver, client }
}

function thrown(fn: () => unknown): ObservedError {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(ObservedError)
    return err as ObservedError
  }
  throw new Error('expected a throw')
}

function nested(depth: number): Record<string, unknown> {
  let d: Record<string, unknown> = { leaf: 1 }
  for (let k = 0; k < depth; k++) d = { x: d }
  return d
}

describe('bad arguments', () => {
  const { client } = setup()
  const cases: Array<[string, () => unknown, RegExp]> = [
    ['empty id', () => client.get('i', 'c', ''), /document id must be a non-empty string, got ""/],
    ['numeric id', () => client.get('i', 'c', 42 as unknown as string), /document id must be a non-empty string, got number/],
    ['null id', () => client.observer('i', 'c', null as unknown as string), /document id must be a non-empty string, got null/],
    ['id too long', () => client.get('i', 'c', 'x'.repeat(513)), /513 characters long; at most 512/],
    ['empty collection', () => client.get('i', '', 'a'), /collection must be a non-empty string/],
    ['index not a string', () => client.get(undefined as unknown as string, 'c', 'a'), /index must be a string, got undefined/],
    ['ids not an array', () => client.mGet('i', 'c', 'a' as unknown as string[]), /ids must be an array of strings/],
    ['an empty id among ids', () => client.mGet('i', 'c', ['a', '']), /document id must be a non-empty string/],
    ['size 0', () => client.search('i', 'c', {}, { size: 0 }), /size must be an integer from 1 to 10000, got number 0/],
    ['size 1.5', () => client.search('i', 'c', {}, { size: 1.5 }), /size must be an integer from 1 to 10000/],
    ['size too big', () => client.search('i', 'c', {}, { size: 10_001 }), /size must be an integer from 1 to 10000/],
    ['unknown live mode', () => client.search('i', 'c', {}, { live: 'all' as 'hits' }), /live must be 'hits' or 'query', got "all"/],
    ['search not an object', () => client.search('i', 'c', [] as unknown as object), /search must be an object like \{ query, sort \}/],
    ['bad sort direction', () => client.search('i', 'c', { sort: { n: 'up' as 'asc' } }), /Sort on "n" must be 'asc' or 'desc', got "up"/],
  ]
  for (const [name, fn, message] of cases) {
    it(`${name}: ObservedError bad_argument`, () => {
      const err = thrown(fn)
      expect(err.code).toBe('bad_argument')
      expect(err.message).toMatch(message)
      expect(client.stats()).toEqual({ documents: 0, idWatches: 0, queryWatches: 0 })
    })
  }

  it('a client without a driver says how to make one', () => {
    expect(() => new ObserverClient({} as never)).toThrow(/needs a driver: new ObserverClient\(\{ driver: memoryDriver\(\) \}\)/)
  })
})

describe('prototype pollution', () => {
  const polluted = () => ({}) as Record<string, unknown>

  it('a stored document with a __proto__ key does not pollute Object.prototype', async () => {
    const { inner, client } = setup()
    inner.seed('i', 'c', [{ _id: 'a', _source: JSON.parse('{"n":1,"__proto__":{"polluted":"yes"},"nested":{"__proto__":{"deep":"yes"}}}') }])
    const o = client.get<Record<string, unknown>>('i', 'c', 'a')
    await o.ready()
    expect(o.status).toBe('live')
    expect(polluted().polluted).toBeUndefined()
    expect(polluted().deep).toBeUndefined()
    expect(Object.getPrototypeOf(o._source)).toBe(Object.prototype)
    expect(Object.getPrototypeOf(o._source!.nested)).toBe(Object.prototype)
    expect((o._source as Record<string, unknown>).polluted).toBeUndefined()
    expect(o._source!.n).toBe(1)
    o.stop()
  })

  it('an event carrying __proto__ keys does not pollute either, and other fields apply', async () => {
    const { inner, client } = setup()
    inner.seed('i', 'c', [{ _id: 'a', _source: { n: 1, nested: { k: 1 } } }])
    const o = client.get<Record<string, unknown>>('i', 'c', 'a')
    await o.ready()
    await inner.replace('i', 'c', 'a', JSON.parse('{"n":2,"__proto__":{"polluted":"yes"},"nested":{"k":2,"__proto__":{"deep":"yes"}}}'))
    await waitFor(() => o._source?.n === 2, 1000)
    expect(polluted().polluted).toBeUndefined()
    expect(polluted().deep).toBeUndefined()
    expect(Object.getPrototypeOf(o._source)).toBe(Object.prototype)
    expect(Object.getPrototypeOf(o._source!.nested)).toBe(Object.prototype)
    expect((o._source!.nested as Record<string, unknown>).k).toBe(2)
    o.stop()
  })

  it('constructor and prototype keys stay inside the document', async () => {
    const { inner, client } = setup()
    inner.seed('i', 'c', [{ _id: 'a', _source: { n: 1, constructor: { prototype: { polluted: 'yes' } }, prototype: { polluted: 'yes' } } }])
    const o = client.get<Record<string, unknown>>('i', 'c', 'a')
    await o.ready()
    expect(o.status).toBe('live')
    expect(polluted().polluted).toBeUndefined()
    expect((Object as unknown as Record<string, unknown>).polluted).toBeUndefined()
    expect(Object.getPrototypeOf(o._source)).toBe(Object.prototype)
    await inner.replace('i', 'c', 'a', { n: 2, constructor: { prototype: { polluted: 'again' } } })
    await waitFor(() => o._source?.n === 2, 1000)
    expect(polluted().polluted).toBeUndefined()
    expect(Object.prototype.constructor).toBe(Object)
    o.stop()
  })
})

describe('absurd documents', () => {
  it('a document nested deeper than 64 levels, read first: status error, other documents keep working', async () => {
    const { inner, client } = setup()
    inner.seed('i', 'c', [
      { _id: 'deep', _source: nested(100) },
      { _id: 'ok', _source: { n: 1 } },
    ])
    const deep = client.get('i', 'c', 'deep')
    const ok = client.get<{ n: number }>('i', 'c', 'ok')
    await waitFor(() => ok.status === 'live', 1000, { what: 'ok live' })
    await waitFor(() => deep.status !== 'pending', 1000, { what: 'deep settled' })
    expect(deep.status).toBe('error')
    expect(deep.error?.code).toBe('bad_event')
    expect(deep.error?.message).toMatch(/deeper than 64 levels/)
    await inner.update('i', 'c', 'ok', { n: 2 })
    await waitFor(() => ok._source?.n === 2, 1000)
    deep.stop()
    ok.stop()
  })

  it('a document becoming deeper than 64 levels through an event: status error, then recovery on a sane write', async () => {
    const { inner, client } = setup()
    inner.seed('i', 'c', [{ _id: 'a', _source: { n: 1 } }])
    const o = client.get<Record<string, unknown>>('i', 'c', 'a')
    const errors: string[] = []
    o.on('error', (e) => errors.push(e.code))
    await o.ready()
    await inner.replace('i', 'c', 'a', nested(100))
    await waitFor(() => o.status === 'error', 1000, { what: 'status error' })
    expect(o.error?.code).toBe('bad_event')
    expect(o._source).toEqual({ n: 1 })
    await inner.replace('i', 'c', 'a', { n: 3 })
    await waitFor(() => o.status === 'live', 1000, { what: 'recovered' })
    expect(o._source).toEqual({ n: 3 })
    expect(errors).toEqual(['bad_event'])
    o.stop()
  })

  it('a search whose page holds a too-deep document does not hang nor crash', async () => {
    const { inner, client } = setup()
    inner.seed('i', 'c', [
      { _id: 'deep', _source: { n: 1, body: nested(100) } },
      { _id: 'ok', _source: { n: 2 } },
    ])
    const s = client.search('i', 'c', { sort: 'n' })
    await waitFor(() => s.status !== 'pending', 1000, { what: 'search settled' })
    expect(['live', 'error']).toContain(s.status)
    expect(s.hits.map((h) => h._id)).toContain('ok')
    s.stop()
  })
})

describe('malformed frames', () => {
  async function live() {
    const ctx = setup()
    ctx.inner.seed('i', 'c', [{ _id: 'a', _source: { n: 1 } }])
    const o = ctx.client.get<{ n: number }>('i', 'c', 'a')
    await o.ready()
    return { ...ctx, o, sink: ctx.driver.watches[0].sink }
  }

  it('a null event on an id watch is dropped, not thrown', async () => {
    const { o, sink } = await live()
    expect(() => sink.event(null as never)).not.toThrow()
    expect(() => sink.event(undefined as never)).not.toThrow()
    expect(o._source).toEqual({ n: 1 })
    expect(o.status).toBe('live')
  })

  it('an event without a string id is dropped', async () => {
    const { o, sink } = await live()
    expect(() => sink.event({ id: 7 as unknown as string, kind: 'upsert', doc: { n: 9 } })).not.toThrow()
    expect(() => sink.event({ kind: 'upsert', doc: { n: 9 } } as never)).not.toThrow()
    expect(o._source).toEqual({ n: 1 })
  })

  it('an upsert without a body gives a bad_event error and keeps the content', async () => {
    const { o, sink } = await live()
    expect(() => sink.event({ id: 'a', kind: 'upsert', doc: 'nope' as never })).not.toThrow()
    expect(o._source).toEqual({ n: 1 })
    expect(o.status).toBe('error')
    expect(o.error?.code).toBe('bad_event')
  })

  it('an event for an unknown id is ignored', async () => {
    const { o, sink, client } = await live()
    expect(() => sink.event({ id: 'nobody', kind: 'upsert', doc: { n: 5 }, rev: 99, previousRev: 98 })).not.toThrow()
    expect(() => sink.event({ id: 'nobody', kind: 'delete', rev: 100 })).not.toThrow()
    expect(client.stats().documents).toBe(1)
    expect(o._source).toEqual({ n: 1 })
  })

  it('a driver whose mGet returns garbage gives read_failed, not a crash', async () => {
    const inner = memoryDriver()
    inner.seed('i', 'c', [{ _id: 'a', _source: { n: 1 } }])
    const driver = instrument(inner)
    driver.mGet = async () => 'garbage' as never
    const client = new ObserverClient({ driver, backoff: { base: 1000, cap: 1000 } })
    clients.push(client)
    const o = client.get('i', 'c', 'a')
    await o.ready()
    expect(o.status).toBe('error')
    expect(o.error?.code).toBe('read_failed')
    o.stop()
  })
})
