/**
 * 6. Outage politeness (requests counted, not timed). The Sanity test server refuses document reads with 503 for
 * 3 s while 500 documents are observed through the real @sanity/client: how many document requests reach it, at
 * most how many per backoff step, and on average per second. The baseline is hand-wired code: each document
 * retried on its own backoff schedule (same base, cap and jitter), as apps do with one `getDocument` per
 * component. Then 100 live searches whose listeners are refused with 500 for 3 s: listen requests.
 */
import { createClient } from '@sanity/client'
import { ObserverClient, backoffDelay } from '../src/core'
import { sanityDriver } from '../src/drivers/sanity'
import { startSanityServer } from '../test/servers/sanity'
import { log, report, until } from './lib/report'

const DOCS = 500
const OUTAGE = 3000
const BACKOFF = { base: 250, cap: 30_000 }

const server = await startSanityServer()
server.documents.load(Array.from({ length: DOCS }, (_, n) => ({ _id: `doc-${n}`, _type: 'note', n })))
const sanity = createClient({
  projectId: 'bench',
  dataset: 'production',
  apiVersion: '2025-02-19',
  apiHost: server.url,
  useProjectHostname: false,
  useCdn: false,
})
const ids = Array.from({ length: DOCS }, (_, n) => `doc-${n}`)
const docRequests = () => server.requests.filter((r) => r.endpoint === 'doc')

/** Document requests made during an outage of OUTAGE ms that starts with `start()`, and their times. */
async function duringOutage(start: () => () => boolean): Promise<{ count: number; steps: number[] }> {
  server.clearRequests()
  server.faults.refuseFor(OUTAGE, { endpoint: 'doc', status: 503 })
  const t0 = Date.now()
  const done = start()
  await until(() => Date.now() - t0 >= OUTAGE, OUTAGE + 1000, 'the outage')
  const during = docRequests().length
  // Per step: requests made within 50 ms of each other are one step.
  const times = server.requests.filter((r) => r.endpoint === 'doc').map((r) => r.at)
  const steps: number[] = []
  let last = -Infinity
  for (const at of times) {
    if (at - last > 50) steps.push(0)
    steps[steps.length - 1]++
    last = at
  }
  await until(done, 60_000, 'every document read after the outage')
  return { count: during, steps }
}

// ---- ours: the core client over the Sanity driver -----------------------------------------------------------------
const ours = await duringOutage(() => {
  const client = new ObserverClient({ driver: sanityDriver(sanity), backoff: BACKOFF })
  const observers = client.mGet('', 'note', ids)
  return () => {
    const ok = observers.every((o) => o.status === 'live')
    if (ok) client.close()
    return ok
  }
})

// ---- baseline: one retry schedule per document ---------------------------------------------------------------------
const naive = await duringOutage(() => {
  let read = 0
  for (const id of ids) {
    let attempt = 0
    const get = (): void => {
      sanity.withConfig({ maxRetries: 0 }).getDocument(id).then(
        () => void read++,
        () => setTimeout(get, backoffDelay(attempt++, BACKOFF)),
      )
    }
    get()
  }
  return () => read === DOCS
})

log(`ours: ${ours.count} requests in steps of ${ours.steps.join(', ')}; per document: ${naive.count}`)
const limit = sanityDriver(sanity).maxIdsPerRead ?? 500
const perStepTarget = Math.ceil(DOCS / limit)
report({
  bench: 'outage',
  measure: `500 documents observed (Sanity), document reads refused with 503 for 3 s: requests during the outage`,
  ours: String(ours.count),
  baseline: `${naive.count} (a retry schedule per document)`,
  ratio: `${(naive.count / Math.max(ours.count, 1)).toFixed(0)}× fewer`,
  target: `≤ ${(OUTAGE / 1000) * 10} (10/s)`,
  met: ours.count <= (OUTAGE / 1000) * 10,
})
report({
  bench: 'outage',
  measure: `the same: most requests in one backoff step (read-size limit ${limit})`,
  ours: String(Math.max(...ours.steps)),
  baseline: String(Math.max(...naive.steps)),
  ratio: '',
  target: `≤ ${perStepTarget}`,
  met: Math.max(...ours.steps) <= perStepTarget,
})

// ---- 100 live searches, listeners refused -------------------------------------------------------------------------
{
  const client = new ObserverClient({ driver: sanityDriver(sanity), backoff: BACKOFF })
  const before = server.listenRequests
  server.faults.refuseFor(OUTAGE, { endpoint: 'listen', status: 500 })
  const t0 = Date.now()
  const searches = Array.from({ length: 100 }, (_, k) => client.search('', 'note', { query: `n >= ${k}`, sort: 'n' }, { live: 'query', size: 5 }))
  await until(() => Date.now() - t0 >= OUTAGE, OUTAGE + 1000, 'the outage')
  const during = server.listenRequests - before
  await until(() => searches.every((s) => s.status === 'live'), 60_000, 'every search live after the outage')
  client.close()
  report({
    bench: 'outage',
    measure: '100 live searches (Sanity), listeners refused with 500 for 3 s: listen requests during the outage',
    ours: String(during),
    baseline: '100 (one per search, before any retry)',
    ratio: '',
    target: '≤ 110 (one probe per step)',
    met: during <= 110,
  })
}

await server.stop()
