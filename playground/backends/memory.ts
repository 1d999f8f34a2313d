import { memoryDriver, type MemoryDriver } from 'vue-observed/memory'
import { COLLECTION, INDEX, fleet, random, trafficUpdate, makeTaxi, type Taxi } from './taxis'

/** The playground's backend: the embedded memory driver, seeded with the fleet, plus the writes the buttons make. */
export interface Backend {
  driver: MemoryDriver
  create(): Promise<string>
  update(id: string): Promise<void>
  remove(id: string): Promise<void>
  /** Writes `perSecond` random updates per second until the returned function is called. */
  simulate(perSecond: number): () => void
}

export function memoryBackend(): Backend {
  const driver = memoryDriver({ latency: 20 })
  driver.seed(INDEX, COLLECTION, fleet())
  const rnd = random(7)
  let next = 301
  const ids = () => driver.snapshot<Taxi & Record<string, unknown>>(INDEX, COLLECTION)
  return {
    driver,
    async create() {
      const id = `taxi-${next++}`
      await driver.create(INDEX, COLLECTION, { ...makeTaxi(rnd) }, id)
      return id
    },
    async update(id) {
      const doc = (await driver.get({ index: INDEX, collection: COLLECTION }, id)) as { _source: Taxi } | null
      if (doc) await driver.update(INDEX, COLLECTION, id, { ...trafficUpdate(rnd, doc._source) })
    },
    async remove(id) {
      await driver.delete(INDEX, COLLECTION, id)
    },
    simulate(perSecond) {
      const timer = setInterval(() => {
        const docs = ids()
        if (!docs.length) return
        const doc = docs[Math.floor(rnd() * docs.length)]
        void driver.update(INDEX, COLLECTION, doc._id, { ...trafficUpdate(rnd, doc._source) })
      }, Math.max(1, 1000 / perSecond))
      return () => clearInterval(timer)
    },
  }
}
