/**
 * Where a resumed listener starts. `welcomeback` promises that every event missed since `Last-Event-ID` follows
 * (duplicates possible). Resuming right after that event keeps the promise only when events went out in log order;
 * this server's own delivery faults (a shorter delay overtaking a longer one, a reorder) can send a later event
 * before an earlier one, and a stream that closes in between would then resume past the earlier one for good.
 *
 * So, as a log-based server does with a low-water mark: when an event goes out while an earlier one of the same
 * listener is still on its way, the event's resume point is that earlier one. Events lost on the way (`drop`, a
 * cleared delay) count as gone out: the server does not know of the loss.
 *
 * States of one listener's event: in flight (handed to delivery) → gone (sent, lost, or sent to a closed stream).
 * `resumePoint(id)` is the oldest event in flight when `id` went out, or none (resume right after `id`).
 */

/** A position in a dataset's log: a transaction and the index of a change in it. */
export interface LogPosition {
  readonly transactionId: string
  readonly changeIndex: number
}

interface InFlight extends LogPosition {
  readonly seq: number
}

/** Resume points of the events of one server; `limit` bounds how many are kept (the oldest go first). */
export class ResumePoints {
  private readonly inFlight = new WeakMap<object, InFlight[]>()
  private readonly points = new Map<string, LogPosition>()
  private seq = 0

  constructor(private readonly limit: number) {}

  /** An event of `listener` is handed to delivery; call the returned `gone` when it is sent or lost. */
  start(listener: object, at: LogPosition): { gone(eventId?: string): void } {
    const list = this.inFlight.get(listener) ?? []
    this.inFlight.set(listener, list)
    const mark: InFlight = { transactionId: at.transactionId, changeIndex: at.changeIndex, seq: this.seq++ }
    list.push(mark)
    return {
      gone: (eventId) => {
        const i = list.indexOf(mark)
        if (i < 0) return // a duplicate's second copy
        list.splice(i, 1)
        // Marks are pushed in log order per listener: one still in flight with a lower seq precedes this event.
        const oldest = list[0]
        if (eventId === undefined || !oldest || oldest.seq > mark.seq) return
        this.points.set(eventId, { transactionId: oldest.transactionId, changeIndex: oldest.changeIndex })
        if (this.points.size > this.limit) this.points.delete(this.points.keys().next().value!)
      },
    }
  }

  /** Where a listener resuming from `eventId` starts, when that is before the event itself. */
  resumePoint(eventId: string): LogPosition | undefined {
    return this.points.get(eventId)
  }

  /** Forgets every resume point (the history they point into is gone). */
  clear(): void {
    this.points.clear()
  }
}
