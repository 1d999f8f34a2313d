/**
 * Issue 22, class 2, through the real @sanity/client and the Sanity-protocol test server with its reordering fault:
 * a live search's hit must never show content older than what the core knows of its document.
 *
 * The interleaving (each step waited for, no timer decides it):
 * 1. A live search reads its window again; the server answers at once (no document matches yet), but the answer is
 *    held in transit (`holdResponses`).
 * 2. `x` is created (revision r1). The search's query watch delivers the creation; nobody holds `x`, so the search
 *    buffers it as news for after its page, at stream point X (the event's number).
 * 3. `x` is updated (r2); every delivery of that change is held back by the reordering fault.
 * 4. An observer of `x` starts: its own read goes out at stream point X (no event came since the creation) and
 *    finds r2, which it shows.
 * 5. The page's answer lands; the search replays the buffered creation: an appearance offering r1's content at
 *    stream point X, which the read (sent at X, so it covers the creation) already superseded.
 * 6. The held update r2 is delivered at last: it is a duplicate of what the read gave.
 *
 * On 588b864 the appearance replaced the read's newer content (an offer was refused only when strictly older than
 * the read, `seq < contentSeq`), and the late r2 was then dropped as stale (r2 was a revision it had shown): the hit
 * and the observer showed n: 1 for good, the server n: 2, and nothing read again. The document model keeps out an
 * event a read covers (`offer` in doc-state.ts, invariant 3; test/SEEDS.md, sanity seed 1602 at the same stream
 * point): the search reads again and shows n: 2. Without that rule the late r2 would still repair the content on the
 * model (a search's content does not pass the revision it replaced), so the test also records any moment where
 * older content is shown after the read.
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

it("a search hit does not take back content older than its document's read (a change held in transit, a page answered late)", async () => {
  const client = new ObserverClient({ driver: sanityDriver(sanity), gapTimeout: 50, backoff: { base: 20, cap: 100 } })
  clients.push(client)
  // What the core heard, in order: events for `x` (and through which watch), and the reads of `x` sent.
  const heard: string[] = []
  client.onTrace((t) => {
    if (t.type === 'event' && t.id === 'x') heard.push(`event ${t.kind} ${t.rev} via ${t.via}`)
    else if (t.type === 'read' && t.phase === 'sent' && t.ids.includes('x')) heard.push('read of x sent')
  })
  const search = client.searchResult('', 'note', { query: 'n >= 0', sort: 'n' }, { live: 'query' }).start()
  await search.ready()
  expect(search.hits).toEqual([])
  await waitFor(() => server.openListeners === 1, 3000, { what: "the search's listener open" })

  // 1. The window is read again; the answer (no hits) is computed now and held in transit.
  server.faults.holdResponses(1, { endpoint: 'query' })
  void search.refresh()
  await waitFor(() => server.faults.heldResponses === 1, 3000, { what: "the search's page read, held" })

  // 2. The creation reaches the search's query watch while the page is in transit.
  const r1 = server.documents.create({ _id: 'x', _type: 'note', n: 1 })._rev
  await waitFor(() => heard.includes(`event upsert ${r1} via query`), 3000, { what: 'the creation, heard by the query watch' })

  // 3. The update is committed; every delivery of it is held back.
  server.faults.reorder(1000, (e) => e.documentId === 'x')
  const r2 = server.documents.patch('x', { set: { n: 2 } })._rev

  // 4. An observer of `x` reads it: the read goes out with no event received since the creation, and finds r2.
  const observer = client.observer<{ n: number }>('', 'note', 'x').start()
  await waitFor(() => observer.status === 'live' && observer._source?.n === 2, 3000, { what: "the observer's read (n: 2)" })
  expect(heard).toEqual([`event upsert ${r1} via query`, 'read of x sent'])
  // From now on the core knows n: 2. Whatever shows older content, even for a moment, is recorded.
  const older: string[] = []
  observer.on('change', (source) => void (source.n < 2 && older.push(`observer: n ${source.n}`)))
  search.on('hits', (hits) => {
    for (const h of hits) if ((h._source as { n: number } | null)?.n !== 2) older.push(`hit ${h._id}: ${JSON.stringify(h._source)}`)
  })

  // 5. The page lands and the search replays the creation it buffered; 6. then the update arrives, late.
  server.faults.releaseResponses()
  await waitFor(() => search.hits.length === 1 && search.status === 'live', 3000, { what: 'x in the search' })
  server.faults.flush()
  await waitFor(() => heard.includes(`event upsert ${r2} via query`), 3000, { what: 'the held update, delivered' })

  // The hit is its document's entry: both show what the server stores, and stay so.
  const state = () => JSON.stringify({ hits: search.hits.map((h) => [h._id, (h._source as { n: number } | null)?.n]), observer: observer._source?.n })
  const stored = JSON.stringify({ hits: [['x', server.documents.get('x')?.n]], observer: server.documents.get('x')?.n })
  await waitFor(() => state() === stored, 2000, { what: 'the hit and the observer showing what the server stores' }).catch(() => undefined)
  expect(state()).toBe(stored)
  await staysEqual(state, 300, { what: 'the hit and the observer' })
  expect(search.total).toBe(1)
  expect(older).toEqual([])
})
