/**
 * Issue 22, class 1, through the real @sanity/client and the Sanity-protocol test server with its reordering fault:
 * a document's creation, held back, arrives after its update and its deletion. No revision chain places a creation
 * on a document known deleted: the core reads instead of applying it on a guess (doc-state.ts, invariant 1).
 */
import type { SanityClient } from '@sanity/client'
import { expect, it } from 'vitest'
import { ObserverClient } from '../../src'
import { sanityDriver } from '../../src/drivers/sanity'
import { staysEqual, waitFor } from '../helpers/wait-for'
import type { SanityTestServer } from '../servers/sanity'
import { useSanityServer } from '../helpers/sanity-fixture'

let server: SanityTestServer
let sanity: SanityClient
const clients: ObserverClient[] = []

useSanityServer(clients, (started, client) => {
  server = started
  sanity = client
})

/** Creates, updates and deletes `x` while every delivery of its creation is held back; then lets the creation go. */
async function lateCreation(withSearch: boolean) {
  const listens = server.listenRequests
  const client = new ObserverClient({ driver: sanityDriver(sanity), gapTimeout: 50, backoff: { base: 20, cap: 100 } })
  clients.push(client)
  // An id watch (the observer) and, optionally, a query watch (a live search) follow the document.
  const observer = client.observer('', 'note', 'x').start()
  const search = withSearch ? client.searchResult('', 'note', { query: 'n >= 0', sort: 'n' }, { live: 'query' }).start() : null
  await observer.ready()
  await search?.ready()
  expect(observer.deleted).toBe(true)
  // One listener for the dataset: with the search, the one opened for the id watch has handed over to one that also
  // sends the document before each change (what the query watch needs), and no replaced listener is still open.
  await waitFor(() => server.openListeners === 1 && server.listenRequests === listens + (withSearch ? 2 : 1), 3000, { what: 'the listener open' })

  // Every delivery of the creation's transaction is held back until flushed; the one listener delivers it to the id
  // watch and, with the search, to the query watch too.
  let creation: string | undefined
  server.faults.reorder(1000, (e) => e.documentId === 'x' && (creation ??= e.transactionId) === e.transactionId)
  server.documents.create({ _id: 'x', _type: 'note', n: 1 })
  server.documents.patch('x', { set: { n: 2 } })
  // The update continues a revision never seen: held, then read after the gap timeout.
  await waitFor(() => observer.status === 'live' && (observer._source as { n: number } | null)?.n === 2, 3000, { what: 'the update, read' })
  server.documents.delete('x')
  await waitFor(() => observer.status === 'deleted' && (search?.hits.length ?? 0) === 0, 3000, { what: 'the deletion' })

  // Whatever the observer or the search shows from the flush on, even for a moment before a read settles it.
  const shown: string[] = []
  observer.on('change', (source) => void shown.push(`observer: ${JSON.stringify(source)}`))
  search?.on('hits', (hits) => void (hits.length > 0 && shown.push(`search: ${hits.map((h) => h._id).join()}`)))
  const reads = server.requests.filter((r) => r.endpoint === 'doc').length
  server.faults.flush()
  // The late creation is settled by a read, which finds the document gone.
  await waitFor(() => server.requests.filter((r) => r.endpoint === 'doc').length > reads, 3000, { what: 'a read for the late creation' })
  const state = () => JSON.stringify([observer.status, observer._source, search?.hits.length ?? 0, search?.total ?? 0])
  await staysEqual(state, 500, { what: 'the deleted document' })
  expect(state()).toBe(JSON.stringify(['deleted', null, 0, 0]))
  expect(shown).toEqual([])
}

it('a creation delivered after the deletion that followed it does not bring the document back', async () => {
  await lateCreation(false)
})

it('nor when a live search follows the document too (its query watch delivers the creation as well)', async () => {
  await lateCreation(true)
})
