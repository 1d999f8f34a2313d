/**
 * Several listeners behind one watch, for an id set whose listen URL would be too long for one: the watch is ready
 * when every listener is, offline while any is reconnecting, resumed only if every one resumed, and the first error
 * closes them all.
 */
import type { ObservedError, Watch, WatchSink } from '../../core/types'

interface Member {
  watch: Watch | null
  live: boolean
  offline: boolean
}

/** One watch over several member watches. */
export class WatchGroup implements Watch {
  private readonly members: Member[]
  private live = false
  private closed = false
  /** Whether every member that went offline since the group was last live came back resumed. */
  private allResumed = true

  /** `open` creates member `i` on the sink it is given. */
  constructor(count: number, open: (i: number, sink: WatchSink) => Watch, private readonly sink: WatchSink) {
    this.members = Array.from({ length: count }, () => ({ watch: null, live: false, offline: false }))
    for (const [i, m] of this.members.entries()) {
      if (this.closed) break // a member failed while opening: the rest is not needed
      const w = open(i, this.memberSink(m))
      if (this.closed) w.close()
      else m.watch = w
    }
  }

  close(): void {
    this.closed = true
    for (const m of this.members) {
      const w = m.watch
      m.watch = null
      w?.close()
    }
  }

  private memberSink(m: Member): WatchSink {
    return {
      ready: (info) => {
        if (this.closed) return
        m.live = true
        if (m.offline) {
          m.offline = false
          this.allResumed &&= info?.resumed === true
        }
        if (!this.members.every((x) => x.live && !x.offline)) return
        const resumed = this.live && this.allResumed
        this.live = true
        this.allResumed = true
        this.sink.ready(resumed ? { resumed: true } : undefined)
      },
      event: (e) => {
        if (!this.closed) this.sink.event(e)
      },
      reset: () => {
        if (!this.closed && this.live) this.sink.reset()
      },
      offline: () => {
        if (this.closed) return
        const wasUp = this.live && !this.members.some((x) => x.offline)
        m.offline = true
        if (wasUp) this.sink.offline()
      },
      error: (err: ObservedError) => {
        if (this.closed) return
        this.close()
        this.sink.error(err)
      },
    }
  }
}
