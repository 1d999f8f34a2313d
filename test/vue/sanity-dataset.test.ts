// @vitest-environment happy-dom
/**
 * The composables over Sanity when the dataset does not exist: a real Sanity answers channelError to the listener and
 * 404 to reads, so a component shows one fatal `not_found` naming the dataset instead of retrying.
 */
import type { SanityClient } from '@sanity/client'
import { mount, type VueWrapper } from '@vue/test-utils'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { defineComponent, h } from 'vue'
import { createObserver, useObservedDocument, useObservedSearch } from '../../src'
import { sanityDriver } from '../../src/drivers/sanity'
import { waitFor } from '../helpers/wait-for'
import { startSanityServer, type SanityTestServer } from '../servers/sanity'
import { clientFor } from '../servers/sanity/test-client'

let server: SanityTestServer
let client: SanityClient
const wrappers: VueWrapper[] = []

function mountWith<T>(setup: () => T) {
  const plugin = createObserver({ driver: sanityDriver(client), backoff: { base: 1, cap: 1 } })
  let state!: T
  const wrapper = mount(
    defineComponent({
      setup() {
        state = setup()
        return () => h('p')
      },
    }),
    { global: { plugins: [plugin] } },
  )
  wrappers.push(wrapper)
  return state
}

beforeAll(async () => {
  server = await startSanityServer({ retryMs: 20 })
  client = clientFor(server)
})

afterEach(async () => {
  for (const w of wrappers.splice(0)) w.unmount()
  await waitFor(() => server.openListeners === 0, 3000, { what: 'every listener closed' })
})

afterAll(async () => {
  await server.stop()
})

describe('a Sanity dataset that does not exist', () => {
  const notFound = { code: 'not_found', fatal: true, message: 'Sanity dataset "nope" not found' }

  it('useObservedDocument and useObservedSearch end in a fatal not_found naming the dataset', async () => {
    const doc = mountWith(() => useObservedDocument('nope', 'note', 'a'))
    const search = mountWith(() => useObservedSearch('nope', 'note', () => ({ query: 'n > 1' }), { live: 'query' }))
    await waitFor(() => doc.status.value === 'error' && search.status.value === 'error', 3000, { what: 'both in error' })
    expect(doc.error.value).toMatchObject(notFound)
    expect(search.error.value).toMatchObject(notFound)
  })
})
