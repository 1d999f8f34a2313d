/**
 * The Sanity backend: the app's own @sanity/client on the dev server's Sanity-protocol test server (which answers
 * CORS preflights), or on the real project that VITE_SANITY_PROJECT_ID names. Taxis are documents of `_type`
 * `yellow-taxi` in the client's dataset; filters are GROQ with parameters.
 */
import { createClient } from '@sanity/client'
import { sanityDriver } from 'vue-observed/sanity'
import type { Backend } from '../backend'
import { newTaxiId } from '../backend'
import type { SanityTarget } from '../config'
import { serverOutage, serverTraffic, setServerTraffic } from '../dev-api'
import { COLLECTION, makeTaxi, random, trafficUpdate, type Taxi } from '../taxis'

export function sanityBackend(target: SanityTarget): Backend {
  const client = createClient({
    // The embedded test server needs no project id; a real project does.
    ...(target.projectId ? { projectId: target.projectId } : {}),
    dataset: target.dataset,
    apiVersion: target.apiVersion,
    // Live views must not read stale data after a listener's welcome.
    useCdn: false,
    ...(target.apiHost ? { apiHost: target.apiHost, useProjectHostname: false } : {}),
    ...(target.token ? { token: target.token, ignoreBrowserTokenWarning: true } : {}),
  })
  const rnd = random(Date.now())
  return {
    name: 'sanity',
    driver: sanityDriver(client),
    index: '', // the client's dataset
    collection: COLLECTION,
    shared: true,
    canRestart: target.embedded,
    location: `${target.projectId ? `project ${target.projectId}, ` : ''}${target.apiHost ?? 'api.sanity.io'}${target.embedded ? ' (test server)' : ''}, dataset ${target.dataset}`,
    query({ status, borough, minFare }) {
      const clauses: string[] = []
      const params: Record<string, unknown> = {}
      if (status) (clauses.push('status == $status'), (params.status = status))
      if (borough) (clauses.push('borough == $borough'), (params.borough = borough))
      if (minFare > 0) (clauses.push('fare >= $minFare'), (params.minFare = minFare))
      return { query: clauses.join(' && ') || undefined, params }
    },
    async create() {
      const id = newTaxiId()
      await client.create({ _id: id, _type: COLLECTION, ...makeTaxi(rnd) })
      return id
    },
    async update(id) {
      const doc = await client.getDocument<Taxi & { _id: string; _type: string }>(id)
      if (doc) await client.patch(id).set({ ...trafficUpdate(rnd, doc) }).commit()
    },
    async remove(id) {
      await client.delete(id)
    },
    setTraffic: (rate) => setServerTraffic('sanity', rate),
    trafficRate: () => serverTraffic('sanity'),
    outage: (ms) => serverOutage('sanity', ms),
  }
}
