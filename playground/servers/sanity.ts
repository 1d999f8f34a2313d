/**
 * The Sanity side of the dev server: the embedded Sanity-protocol test server (seeded with the fleet as documents of
 * `_type: 'yellow-taxi'`), or a real project reached through @sanity/client from Node (writes need a token).
 */
import { createRequire } from 'node:module'
import { startSanityServer, type SanityTestServer } from '../../test/servers/sanity'
import type { SanityTarget } from '../config'
import { COLLECTION, fleet, type Taxi } from '../taxis'
import type { FleetBackend, FleetDoc } from './fleet-backend'

/** The embedded server, with its test API (`server`) and dataset for the end-to-end tests. */
export interface EmbeddedSanity extends FleetBackend {
  readonly server: SanityTestServer
  readonly dataset: string
}

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** The fleet as Sanity documents: the collection is the `_type`. */
export function sanityFleet(): Array<Record<string, unknown> & { _id: string; _type: string }> {
  return fleet().map((d) => ({ _id: d._id, _type: COLLECTION, ...d._source }))
}

/** A Sanity document back into the playground's shape (system fields left out). */
function toFleetDoc(raw: Record<string, unknown>): FleetDoc {
  const { _id, _type, _rev, _createdAt, _updatedAt, ...source } = raw
  void _type, void _rev, void _createdAt, void _updatedAt
  return { _id: String(_id), _source: source as unknown as Taxi }
}

/** Starts the Sanity-protocol test server on 127.0.0.1:`port` (0: a free port), seeded with the fleet. */
export async function embeddedSanity(port: number, dataset: string): Promise<EmbeddedSanity> {
  // Listeners get a keep-alive often enough that a proxy or the browser never times a quiet stream out.
  const server = await startSanityServer({ port, keepAliveMs: 10_000 })
  const seed = () => {
    server.documents.wipe(dataset)
    server.documents.load(sanityFleet(), dataset)
  }
  seed()
  return {
    name: 'sanity',
    embedded: true,
    server,
    dataset,
    async list() {
      return server.documents.all(dataset).filter((d) => d._type === COLLECTION).map((d) => toFleetDoc(d))
    },
    async update(id, change) {
      server.documents.patch(id, { set: { ...change } }, dataset)
    },
    async reset() {
      seed()
    },
    async outage(downMs) {
      await server.stop()
      await wait(downMs)
      await server.restart()
    },
    close: () => server.stop(),
  }
}

/** A real project: seeds the dataset when it has no taxi and a token is given; writes need that token. */
export async function remoteSanity(target: SanityTarget, log: (message: string) => void): Promise<FleetBackend> {
  // Required only for a real project (and not imported: Vite's module runner that loaded this file is closed by now).
  const { createClient } = createRequire(import.meta.url)('@sanity/client') as typeof import('@sanity/client')
  const client = createClient({
    ...(target.projectId ? { projectId: target.projectId } : {}),
    dataset: target.dataset,
    apiVersion: target.apiVersion,
    useCdn: false,
    ...(target.apiHost ? { apiHost: target.apiHost, useProjectHostname: false } : {}),
    ...(target.token ? { token: target.token } : {}),
  })
  const ready = (async () => {
    if (!target.token) return
    const count = await client.fetch<number>('count(*[_type == $type])', { type: COLLECTION })
    if (count > 0) return
    const tx = client.transaction()
    for (const doc of sanityFleet()) tx.createIfNotExists(doc)
    await tx.commit({ visibility: 'async' })
    log(`seeded ${sanityFleet().length} taxis into dataset ${target.dataset}`)
  })()
  ready.catch((err) => log(`Sanity: ${(err as Error).message}`))
  return {
    name: 'sanity',
    embedded: false,
    async list() {
      await ready
      const docs = await client.fetch<Array<Record<string, unknown>>>('*[_type == $type][0...1000]', { type: COLLECTION })
      return docs.map(toFleetDoc)
    },
    async update(id, change) {
      if (!target.token) throw new Error('Writing to a real Sanity project needs VITE_SANITY_TOKEN')
      await ready
      await client.patch(id).set({ ...change }).commit({ visibility: 'async' })
    },
    async reset() {
      throw new Error('Resetting a real Sanity project is not supported')
    },
    async close() {},
  }
}
