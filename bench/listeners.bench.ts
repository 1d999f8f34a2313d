/**
 * 7. Sanity listeners (issue 17). One listener per (client, dataset): how many listeners 1,000 documents observed by
 * id and 20 distinct live searches open (Sanity test server, real @sanity/client), against the watches the core
 * opens (one listener each, what the driver did before); the cost of routing one event against 100 live queries
 * (groq-js evaluating each query's filter on the documents before and after the change); and the trade-off: the
 * share of events received that no watch hears (the listener follows whole types).
 */
import { createClient } from '@sanity/client'
import { ObserverClient } from '../src/core'
import { sanityDriver } from '../src/drivers/sanity'
import { startSanityServer } from '../test/servers/sanity'
import { log, median, ms, report, times, until } from './lib/report'

const server = await startSanityServer({ keepAliveMs: 0 })
const sanity = createClient({ projectId: 'bench', dataset: 'production', apiVersion: '2025-02-19', apiHost: server.url, useProjectHostname: false, useCdn: false })
const TYPES = ['note', 'post', 'comment', 'author']
const N = 1000
const docs = Array.from({ length: 5 * N }, (_, i) => ({ _id: `d${i}`, _type: TYPES[i % TYPES.length], n: i, tag: `t${i % 50}` }))
server.documents.load(docs)

// ---- listeners for 1,000 ids + 20 live queries ---------------------------------------------------------------------
const driver = sanityDriver(sanity)
const client = new ObserverClient({ driver })
const observers = Array.from({ length: N }, (_, i) => client.get('', TYPES[i % 3], `d${i * 4 + (i % 3)}`))
const searches = Array.from({ length: 20 }, (_, i) =>
  client.search('', TYPES[i % 3], { query: 'tag == $tag && n >= $min', params: { tag: `t${i}`, min: i }, sort: 'n' }, { size: 10, live: 'query' }),
)
await until(() => observers.every((o) => o.status === 'live') && searches.every((s) => s.status === 'live'), 30_000, 'everything live')
let last = -1
let stable = 0
await until(() => {
  stable = server.openListeners === last ? stable + 1 : 0
  last = server.openListeners
  return stable >= 20 && driver.openListeners === 1
}, 10_000, 'listener count settles')
const { idWatches, queryWatches } = client.stats()
const before = idWatches + queryWatches
report({
  bench: 'listeners',
  measure: '1,000 documents observed by id + 20 distinct live searches (Sanity): listeners open',
  ours: String(server.openListeners),
  baseline: `${before} (one per core watch: ${idWatches} id shards + ${queryWatches} queries, the driver before)`,
  ratio: `${times(before / server.openListeners)} fewer`,
  target: '1',
  met: server.openListeners === 1,
})

// ---- the trade-off: events received that no watch hears ---------------------------------------------------------
// Writes spread evenly over the dataset's documents of the watched types (and one unwatched type).
const stats0 = driver.listenerStats()
const WRITES = 2000
for (let i = 0; i < WRITES; i++) server.documents.patch(`d${(i * 7919) % docs.length}`, { set: { n: -i } })
const watchedWrites = Array.from({ length: WRITES }, (_, i) => docs[(i * 7919) % docs.length]).filter((d) => d._type !== 'author').length
await until(() => driver.listenerStats().events - stats0.events >= watchedWrites, 30_000, 'every event received')
const stats1 = driver.listenerStats()
const received = stats1.events - stats0.events
const unwatched = stats1.unwatched - stats0.unwatched
report({
  bench: 'listeners',
  measure: `events received that no watch hears (${WRITES} writes spread over 5,000 documents of 4 types, 3 watched)`,
  ours: `${((100 * unwatched) / received).toFixed(0)}% (${unwatched} of ${received})`,
  baseline: '0% (a listener per watch receives only its own)',
  ratio: '',
  target: '',
  met: null,
})
client.close()
await until(() => server.openListeners === 0, 10_000, 'listeners closed')

// ---- routing cost per event against 100 live queries ---------------------------------------------------------------
// 100 live-query watches of one type, each with its own filter, on one driver; the cost is measured inside the
// process, from the event's arrival to every sink called, by timing the routing of events already received.
{
  const routed = sanityDriver(sanity)
  let delivered = 0
  const sink = { ready: () => undefined, event: () => void delivered++, reset: () => undefined, offline: () => undefined, error: () => undefined }
  const watches = Array.from({ length: 100 }, (_, i) =>
    routed.watch({ index: '', collection: 'note' }, { query: { query: 'tag == $tag && n > $min', params: { tag: `t${i % 50}`, min: i }, sort: [] } }, { ...sink, ready: () => void ready++ }),
  )
  let ready = 0
  await until(() => ready === 100 && routed.openListeners === 1, 30_000, '100 query watches live')
  const rounds: number[] = []
  const EVENTS = 500
  for (let round = 0; round < 5; round++) {
    const events0 = routed.listenerStats().events
    const t0 = performance.now()
    let cpu = process.cpuUsage()
    for (let i = 0; i < EVENTS; i++) server.documents.patch(`d${i * 4}`, { set: { n: round * EVENTS + i } })
    await until(() => routed.listenerStats().events - events0 >= EVENTS, 30_000, 'events routed')
    cpu = process.cpuUsage(cpu)
    void t0
    rounds.push((cpu.user + cpu.system) / EVENTS)
  }
  // The same events with no query watch on the listener: what the server and the stream reading cost alone.
  for (const w of watches) w.close()
  const bare = sanityDriver(sanity)
  let bareReady = false
  const one = bare.watch({ index: '', collection: 'note' }, { ids: ['none'] }, { ...sink, ready: () => void (bareReady = true) })
  await until(() => bareReady, 10_000, 'bare listener live')
  const bareRounds: number[] = []
  for (let round = 0; round < 5; round++) {
    const events0 = bare.listenerStats().events
    let cpu = process.cpuUsage()
    for (let i = 0; i < EVENTS; i++) server.documents.patch(`d${i * 4}`, { set: { n: -round * EVENTS - i } })
    await until(() => bare.listenerStats().events - events0 >= EVENTS, 30_000, 'events received')
    cpu = process.cpuUsage(cpu)
    bareRounds.push((cpu.user + cpu.system) / EVENTS)
  }
  one.close()
  const perEvent = median(rounds) - median(bareRounds)
  log(`CPU per event with 100 query watches: ${rounds.map((v) => v.toFixed(0)).join(', ')} µs; none: ${bareRounds.map((v) => v.toFixed(0)).join(', ')} µs; ${delivered} deliveries`)
  report({
    bench: 'listeners',
    measure: 'routing one event against 100 live queries (groq-js on the documents before and after), CPU per event',
    ours: ms(perEvent / 1000),
    baseline: `${ms(median(bareRounds) / 1000)} (the same event, server and stream reading included, no query)`,
    ratio: '',
    target: '',
    met: null,
  })
}
await server.stop()
