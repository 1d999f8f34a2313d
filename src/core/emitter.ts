type Listener = (...args: any[]) => void
/** An object receiving several events, each through its method of the event's name (see `subscribe`). */
type Sink = { [event: string]: Listener | undefined }
/** What an event calls: a listener function or a sink. */
type Entry = Listener | Sink
/** An event's listeners: the one listener itself (most events have at most one), or a Set once there are more. */
export type Slot = Entry | Set<Entry>

/**
 * Minimal typed event emitter: listeners are called in registration order; a throwing listener cannot break others.
 * A list may hold thousands of emitters (one observer per hit), most with no listener or one per event: nothing is
 * allocated until the first `on`, and an event with one listener holds just that function.
 */
export class Emitter<Events extends { [K in keyof Events]: (...args: any[]) => void }> {
  /** Created by the first `on`: per event, its listener or a Set of them. */
  private slots: { [K in keyof Events]?: Slot } | null = null

  /** Adds a listener; returns a function that removes it. */
  on<K extends keyof Events>(event: K, listener: Events[K]): () => void {
    this.addEntry(event, listener)
    // A bound function is smaller than a closure over (event, listener) and its context.
    return this.off.bind(this, event, listener) as () => void
  }

  off<K extends keyof Events>(event: K, listener: Events[K]): void {
    this.removeEntry(event, listener)
  }

  /**
   * For the library's own adapters (the Vue composables): `sink`'s methods named after events receive them, as
   * listeners added now would, with no function made per event. Undone by {@link unsubscribe}.
   */
  subscribe(sink: Partial<Events>, events: ReadonlyArray<keyof Events>): void {
    for (const event of events) if (typeof sink[event] === 'function') this.addEntry(event, sink as Sink)
  }

  unsubscribe(sink: Partial<Events>, events: ReadonlyArray<keyof Events>): void {
    for (const event of events) this.removeEntry(event, sink as Sink)
  }

  /**
   * A new, empty slots object. A subclass whose events are known may return a literal naming them all (each
   * undefined), so that the object holds them in place (an empty literal has room for four).
   */
  protected newSlots(): { [K in keyof Events]?: Slot } {
    return {}
  }

  private addEntry(event: keyof Events, entry: Entry): void {
    const slots: { [K in keyof Events]?: Slot } = (this.slots ??= this.newSlots())
    const slot = slots[event]
    if (slot === undefined) slots[event] = entry
    else if (!(slot instanceof Set)) {
      if (slot !== entry) slots[event] = new Set<Entry>([slot, entry])
    } else slot.add(entry)
  }

  private removeEntry(event: keyof Events, entry: Entry): void {
    const slots = this.slots
    const slot = slots?.[event]
    if (slot === undefined) return
    if (slot instanceof Set) slot.delete(entry)
    // Not `delete`: that would turn the object into a slow dictionary.
    else if (slot === entry) slots![event] = undefined
  }

  protected emit<K extends keyof Events>(event: K, ...args: Parameters<Events[K]>): void {
    const slots = this.slots
    let slot = slots?.[event]
    if (slot === undefined) return
    // A Set visits listeners added during the loop and skips removed ones: no copy needed on this hot path. A lone
    // listener gives the same order: whatever it adds meanwhile is called after it, as a Set's loop would.
    while (!(slot instanceof Set)) {
      const called: Entry = slot
      call(called, event, args)
      // removeAllListeners() meanwhile: what was added since is not this emit's (as with the Set it cleared).
      if (this.slots !== slots) return
      slot = slots![event]
      if (slot === undefined || slot === called) return
      // Added while it ran: it became a Set (`called` first, if still there), or it left and another came.
      if (slot instanceof Set) return void this.emitFrom(slot, event, args, called)
    }
    this.emitFrom(slot, event, args)
  }

  /** Calls a Set's listeners, after `skipFirst` when it leads the Set (it was called already). */
  private emitFrom(set: Set<Entry>, event: keyof Events, args: unknown[], skipFirst?: Entry): void {
    let first = true
    for (const listener of set) {
      if (first && listener === skipFirst) {
        first = false
        continue
      }
      first = false
      call(listener, event, args)
    }
  }

  protected removeAllListeners(): void {
    this.slots = null
  }
}

function call(entry: Entry, event: PropertyKey, args: unknown[]): void {
  try {
    if (typeof entry === 'function') entry(...args)
    else entry[event as string]?.(...args)
  } catch (err) {
    // A user callback must not break delivery to the others nor the core's bookkeeping.
    queueMicrotask(() => {
      throw err
    })
  }
}
