// @vitest-environment happy-dom
/**
 * The composables over the Sanity driver, the real @sanity/client and the Sanity-protocol test server: mounted
 * components converge through reordered, duplicated and lost events, and stop for good on `disconnect`.
 */
import type { SanityClient } from '@sanity/client'
import { mount, type VueWrapper } from '@vue/test-utils'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { defineComponent, h, ref } from 'vue'
import { createObserver, useObservedDocument, useObservedSearch } from '../../src'
import { sanityDriver } from '../../src/drivers/sanity'
import { waitFor } from '../helpers/wait-for'
import { startSanityServer, type SanityTestServer } from '../servers/sanity'
import { afterSdkRetry, clientFor, listenRequests } from '../servers/sanity/test-client'

interface Note {
  _type: string
  _rev: string
  n: number
}
interface Comment {
  _type: string
  authorId: string
  text: string
}

let server: SanityTestServer
let client: SanityClient
const wrappers: VueWrapper[] = []

function mountWith<T>(setup: () => T, render: (state: T) => ReturnType<typeof h>) {
  const plugin = createObserver({ driver: sanityDriver(client), gapTimeout: 150, backoff: { base: 50, cap: 200 } })
  let state!: T
  const wrapper = mount(
    defineComponent({
      setup() {
        state = setup()
        return () => render(state)
      },
    }),
    { global: { plugins: [plugin] } },
  )
  wrappers.push(wrapper)
  return { wrapper, state, plugin }
}

const docReads = () => server.requests.filter((r) => r.endpoint === 'doc').length

beforeAll(async () => {
  server = await startSanityServer({ retryMs: 20 })
  client = clientFor(server)
})

afterEach(async () => {
  for (const w of wrappers.splice(0)) w.unmount()
  server.faults.clear()
  await waitFor(() => server.openListeners === 0, 3000, { what: 'every listener closed' })
  server.documents.wipe()
})

afterAll(async () => {
  await server.stop()
})

describe('useObservedDocument over Sanity', () => {
  it('is live with the stored document and follows its changes', async () => {
    const stored = server.documents.create({ _id: 'n1', _type: 'note', n: 1 })
    const { wrapper, state } = mountWith(
      () => useObservedDocument<Note>('', 'note', 'n1'),
      (doc) => h('p', `${doc.status.value}:${doc.data.value?._source.n ?? '-'}`),
    )
    await waitFor(() => wrapper.text() === 'live:1', 3000)
    expect(state.data.value?._source).toMatchObject({ _type: 'note', _rev: stored._rev, n: 1 })
    server.documents.patch('n1', { set: { n: 2 } })
    await waitFor(() => wrapper.text() === 'live:2', 3000)
    expect(state.data.value?._source._rev).toBe(server.documents.get('n1')?._rev)
    server.documents.delete('n1')
    await waitFor(() => state.status.value === 'deleted', 3000)
  })

  it('converges through out-of-order and duplicated delivery, reassembling the chain without a refetch', async () => {
    server.documents.create({ _id: 'o', _type: 'note', n: 0 })
    const { state } = mountWith(
      () => useObservedDocument<Note>('', 'note', 'o'),
      (doc) => h('p', String(doc.data.value?._source.n)),
    )
    await waitFor(() => state.status.value === 'live' && state.data.value?._source.n === 0, 3000)
    const reads = docReads()
    const seen: number[] = []
    state.onChange((doc) => seen.push(doc._source.n))

    server.faults.reorder(3)
    for (let n = 1; n <= 3; n++) server.documents.patch('o', { set: { n } })
    server.faults.duplicate(2)
    for (let n = 4; n <= 5; n++) server.documents.patch('o', { set: { n } })

    await waitFor(() => state.data.value?._source.n === 5, 3000)
    expect(state.data.value?._source._rev).toBe(server.documents.get('o')?._rev)
    // Applied in revision order, once each, although delivered as 3, 2, 1, 4, 4, 5, 5.
    expect(seen).toEqual([1, 2, 3, 4, 5])
    expect(docReads()).toBe(reads)
  })

  it('refetches when a gap in the revision chain never fills', async () => {
    server.documents.create({ _id: 'g', _type: 'note', n: 0 })
    const { state } = mountWith(
      () => useObservedDocument<Note>('', 'note', 'g'),
      (doc) => h('p', String(doc.data.value?._source.n)),
    )
    await waitFor(() => state.status.value === 'live' && state.data.value?._source.n === 0, 3000)
    const reads = docReads()
    server.faults.drop(1)
    server.documents.patch('g', { set: { n: 1 } }) // lost
    server.documents.patch('g', { set: { n: 2, extra: true } }) // continues a revision the client never saw
    await waitFor(() => state.data.value?._source.n === 2, 3000)
    expect(docReads()).toBeGreaterThan(reads)
    expect(state.data.value?._source._rev).toBe(server.documents.get('g')?._rev)
    expect(state.status.value).toBe('live')
  })

  it('stops on disconnect and never reconnects', async () => {
    server.documents.create({ _id: 'd', _type: 'note', n: 0 })
    const { state } = mountWith(
      () => useObservedDocument<Note>('', 'note', 'd'),
      (doc) => h('p', doc.status.value),
    )
    await waitFor(() => state.status.value === 'live', 3000)
    const before = listenRequests(server)
    server.faults.disconnect('dataset deleted')
    await waitFor(() => state.status.value === 'error', 3000)
    expect(state.error.value).toMatchObject({ code: 'disconnected', fatal: true, message: 'dataset deleted' })
    server.documents.patch('d', { set: { n: 1 } })
    server.faults.clear()
    await afterSdkRetry(server, client)
    expect(listenRequests(server)).toBe(before)
    await waitFor(() => server.openListeners === 0, 3000)
    expect(state.status.value).toBe('error')
    expect(state.data.value?._source.n ?? 0).toBe(0)
  })

  it('shares listeners: 300 documents observed by id open one listener, none left after unmount', async () => {
    const ids = Array.from({ length: 300 }, (_, i) => `doc-${i}`)
    server.documents.load(ids.map((_id, n) => ({ _id, _type: 'note', n })))
    const before = server.listenRequests
    const { wrapper, state } = mountWith(
      () => ids.map((id) => useObservedDocument<Note>('', 'note', id)),
      (docs) => h('p', String(docs.filter((d) => d.status.value === 'live').length)),
    )
    await waitFor(() => wrapper.text() === '300', 5000)
    expect(server.openListeners).toBe(1)
    expect(server.listenRequests - before).toBe(1)
    server.documents.patch('doc-299', { set: { n: -1 } })
    await waitFor(() => state[299].data.value?._source.n === -1, 3000)
    wrapper.unmount()
    wrappers.splice(wrappers.indexOf(wrapper), 1)
    await waitFor(() => server.openListeners === 0, 3000)
  })
})

describe('useObservedSearch over Sanity', () => {
  it('keeps *[_type == "comment" && authorId != $ownerId] live, in order', async () => {
    server.documents.load([
      { _id: 'c1', _type: 'comment', authorId: 'owner', text: 'a' },
      { _id: 'c2', _type: 'comment', authorId: 'ann', text: 'b' },
      { _id: 'c3', _type: 'comment', authorId: 'bob', text: 'c' },
      { _id: 'p1', _type: 'post', authorId: 'ann', text: 'aa' },
    ])
    const ownerId = ref('owner')
    const { wrapper, state } = mountWith(
      () =>
        useObservedSearch<Comment>('', 'comment', () => ({ query: 'authorId != $ownerId', params: { ownerId: ownerId.value }, sort: 'text' }), {
          live: 'query',
        }),
      (s) => h('ul', s.hits.value.map((hit) => h('li', hit._source.text))),
    )
    const texts = () => wrapper.findAll('li').map((li) => li.text())
    await waitFor(() => state.status.value === 'live' && texts().join() === 'b,c', 3000)
    expect(state.total.value).toBe(2)

    server.documents.create({ _id: 'c4', _type: 'comment', authorId: 'cid', text: 'a0' }) // appears first
    server.documents.create({ _id: 'c5', _type: 'comment', authorId: 'owner', text: 'zz' }) // the owner's: never shown
    await waitFor(() => texts().join() === 'a0,b,c', 3000)
    server.documents.patch('c2', { set: { authorId: 'owner' } }) // stops matching
    await waitFor(() => texts().join() === 'a0,c', 3000)
    server.documents.patch('c3', { set: { text: '0' } }) // moves to the front
    await waitFor(() => texts().join() === '0,a0', 3000)
    server.documents.delete('c4')
    await waitFor(() => texts().join() === '0', 3000)
    expect(state.total.value).toBe(1)

    ownerId.value = 'bob' // re-targets: the owner's comments show, bob's do not
    await waitFor(() => texts().join() === 'a,b,zz', 3000)
  })
})
