/** The memory backend: the embedded in-page store, seeded with the fleet. One per tab: tabs do not share it. */
import { memoryDriver } from 'vue-observed/memory'
import type { Backend } from '../backend'
import { newTaxiId } from '../backend'
import { COLLECTION, INDEX, fleet, makeTaxi, random, trafficUpdate, type Taxi } from '../taxis'

export function memoryBackend(): Backend {
  // A little latency, as from a server, so that pending states and asynchronous updates are visible.
  const driver = memoryDriver({ latency: 20 })
  driver.seed(INDEX, COLLECTION, fleet())
  const rnd = random(7)
  let timer: ReturnType<typeof setInterval> | undefined
  let rate = 0
  const move = async (id: string) => {
    const doc = (await driver.get({ index: INDEX, collection: COLLECTION }, id)) as { _source: Taxi } | null
    if (doc) await driver.update(INDEX, COLLECTION, id, { ...trafficUpdate(rnd, doc._source) })
  }
  return {
    name: 'memory',
    driver,
    index: INDEX,
    collection: COLLECTION,
    shared: false,
    canRestart: false,
    location: 'in this tab',
    query({ status, borough, minFare }) {
      const clauses = [
        ...(status ? [{ equals: { status } }] : []),
        ...(borough ? [{ equals: { borough } }] : []),
        ...(minFare > 0 ? [{ range: { fare: { gte: minFare } } }] : []),
      ]
      return { query: clauses.length ? { and: clauses } : {} }
    },
    async create() {
      const id = newTaxiId()
      await driver.create(INDEX, COLLECTION, { ...makeTaxi(rnd) }, id)
      return id
    },
    update: move,
    async remove(id) {
      await driver.delete(INDEX, COLLECTION, id)
    },
    async setTraffic(perSecond) {
      clearInterval(timer)
      timer = undefined
      rate = Math.max(0, Math.min(500, Math.round(perSecond) || 0))
      if (rate > 0) {
        // Written in the page: the memory store lives here.
        timer = setInterval(() => {
          const docs = driver.snapshot<Taxi & Record<string, unknown>>(INDEX, COLLECTION)
          if (!docs.length) return
          const doc = docs[Math.floor(rnd() * docs.length)]
          void driver.update(INDEX, COLLECTION, doc._id, { ...trafficUpdate(rnd, doc._source) })
        }, 1000 / rate)
      }
      return rate
    },
    async trafficRate() {
      return rate
    },
    async outage() {
      throw new Error('The memory store lives in this tab: there is no server to stop')
    },
  }
}
