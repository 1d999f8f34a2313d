/**
 * One watch of the driver contract on its dataset's shared listener (`connection.ts`): what it follows (its route),
 * where it reports (its sink), and whether the listener serves it yet. Closing it leaves the listener.
 */
import type { Watch, WatchSink, WatchSpec } from '../../core/types'
import { ObservedError } from '../../core/types'
import type { Connection } from './connection'
import { isSanityId } from './ids'
import type { Route } from './router'

export class Subscription implements Watch {
  /** Set once the route is known (a query's filter is checked and compiled first). */
  route: Route | null = null
  /** Id watches: the ids followed. */
  ids: Set<string> | undefined
  /** The sink has been told the watch is live (and not offline since). */
  live = false
  /** The sink has been told it is offline: its next ready says whether it resumed. */
  offline = false
  closed = false

  constructor(
    private readonly connection: Connection,
    route: Route | Promise<Route>,
    readonly sink: WatchSink,
    ids?: readonly string[],
  ) {
    if (ids) this.ids = new Set(ids.filter(isSanityId))
    if (!(route instanceof Promise)) {
      this.route = route
      connection.attach(this)
      return
    }
    route.then(
      (r) => {
        if (this.closed) return
        this.route = r
        connection.attach(this)
      },
      (err: unknown) => {
        if (this.closed) return
        this.closed = true
        sink.error(err instanceof ObservedError ? err : new ObservedError('watch_failed', `Sanity listener failed: ${String(err)}`))
      },
    )
  }

  /** Id watches: follows another id set at once (the listener follows the whole type). */
  update(spec: WatchSpec): Promise<void> {
    if (!('ids' in spec) || !this.ids) return Promise.reject(new ObservedError('bad_argument', 'A Sanity query watch cannot become an id watch'))
    if (!this.closed) this.connection.setIds(this, new Set(spec.ids.filter(isSanityId)))
    return Promise.resolve()
  }

  close(): void {
    if (this.closed) return
    this.closed = true
    this.connection.detach(this)
  }
}
