/**
 * Simulated traffic on a shared backend: N taxis move per second, written from the dev server so that every tab
 * (and every driver instance) sees them as writes from someone else.
 */
import { random, trafficUpdate } from '../taxis'
import type { FleetBackend, FleetDoc } from './fleet-backend'

/** Ticks per second at most; higher rates write several updates per tick. */
const TICKS_PER_SECOND = 20
/** How often the simulator re-reads the fleet (taxis created or deleted meanwhile). */
const REFRESH_MS = 2000
/** Highest rate accepted, in updates per second. */
export const MAX_RATE = 500

/** Writes `rate` random updates per second to one backend until the rate is set back to 0. */
export class Traffic {
  #rate = 0
  #timer: ReturnType<typeof setInterval> | undefined
  #fleet: FleetDoc[] = []
  #readAt = 0
  #reading: Promise<void> | undefined
  #owed = 0
  #lastError = ''
  readonly #rnd = random(42)

  constructor(
    private readonly backend: FleetBackend,
    private readonly log: (message: string) => void,
  ) {}

  get rate(): number {
    return this.#rate
  }

  /** Sets the rate (updates per second, 0 stops), clamped to [0, {@link MAX_RATE}]. Returns the rate applied. */
  set(rate: number): number {
    this.#rate = Number.isFinite(rate) ? Math.min(MAX_RATE, Math.max(0, Math.round(rate))) : 0
    clearInterval(this.#timer)
    this.#timer = undefined
    this.#owed = 0
    if (this.#rate > 0) this.#timer = setInterval(() => this.#tick(), 1000 / TICKS_PER_SECOND)
    return this.#rate
  }

  #tick(): void {
    if (Date.now() - this.#readAt > REFRESH_MS) this.#refresh()
    this.#owed += this.#rate / TICKS_PER_SECOND
    while (this.#owed >= 1 && this.#fleet.length > 0) {
      this.#owed--
      const i = Math.floor(this.#rnd() * this.#fleet.length)
      const taxi = this.#fleet[i]
      const change = trafficUpdate(this.#rnd, taxi._source)
      this.#fleet[i] = { _id: taxi._id, _source: { ...taxi._source, ...change } }
      this.backend.update(taxi._id, change).then(
        () => (this.#lastError = ''),
        (err: Error) => {
          // Deleted meanwhile (or the backend is down): forget it until the next read.
          this.#fleet = this.#fleet.filter((t) => t._id !== taxi._id)
          if (err.message !== this.#lastError) this.log(`traffic on ${this.backend.name}: ${(this.#lastError = err.message)}`)
        },
      )
    }
    if (this.#fleet.length === 0) this.#owed = 0
  }

  #refresh(): void {
    if (this.#reading) return
    this.#readAt = Date.now()
    this.#reading = this.backend
      .list()
      .then((docs) => {
        this.#fleet = docs
      })
      .catch((err: Error) => this.log(`traffic on ${this.backend.name}: ${err.message}`))
      .finally(() => (this.#reading = undefined))
  }
}
