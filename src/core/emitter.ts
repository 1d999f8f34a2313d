type Listener = (...args: any[]) => void
/**
 * An object receiving several events, each through its method of the event's name, with the emitter as a last
 * argument (so that one sink serves many emitters, as a DOM listener reads `currentTarget`). See `subscribe`.
 */
export type Sink<Events extends { [K in keyof Events]: (...args: any[]) => void }, E> = {
  [K in keyof Events]?: (...args: [...Parameters<Events[K]>, E]) => void
}
type AnySink = { [event: string]: Listener | undefined }
/** What an event calls: a listener function or a sink. */
type Entry = Listener | AnySink
/** An event's listeners: the one listener itself (most events have at most one), or a Set once there are more. */
export type Slot = Entry | Set<Entry>

/**
 * Minimal typed event emitter: listeners are called in registration order; a throwing listener cannot break others.
 * A list may hold thousands of emitters (one observer per hit), most with no listener or one per event: nothing is
 * allocated until the first `on`, and an event with one listener holds just that function.
 */
export class Emitter<Events extends { [K in keyof Events]: (...args: any[]) => void }> {
  /**
   * Created by the first `on`: per event, its listener or a Set of them. Or, while one sink `subscribe`d alone is
   * all that listens (`soleEvents` set), that sink itself: most observers have exactly one (a row's search, a
   * composable), and then hold no slots object.
   */
  private slots: { [K in keyof Events]?: Slot } | AnySink | null = null
  /** The events of the sole sink held in `slots`; null when `slots` holds slots (or nothing). */
  private soleEvents: ReadonlyArray<keyof Events> | null = null

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
   * For the library's own adapters (the Vue composables, a search's rows): `sink`'s methods named after `events`
   * receive them, as listeners added now would, followed by this emitter, with no function made per event. Undone by
   * {@link unsubscribe}.
   */
  subscribe(sink: Sink<Events, this>, events: ReadonlyArray<keyof Events>): void {
    if (this.slots === null) {
      this.slots = sink as AnySink
      this.soleEvents = events
      return
    }
    for (const event of events) if (typeof sink[event] === 'function') this.addEntry(event, sink as AnySink)
  }

  unsubscribe(sink: Sink<Events, this>, events: ReadonlyArray<keyof Events>): void {
    if (this.soleEvents !== null) {
      if (this.slots === sink) this.removeAllListeners()
      return
    }
    for (const event of events) this.removeEntry(event, sink as AnySink)
  }

  /** The sole sink, if any, becomes an entry of each of its events in a slots object. */
  private spill(): { [K in keyof Events]?: Slot } {
    const events = this.soleEvents
    if (events === null) return (this.slots ??= this.newSlots()) as { [K in keyof Events]?: Slot }
    const sink = this.slots as AnySink
    const slots: { [K in keyof Events]?: Slot } = (this.slots = this.newSlots())
    this.soleEvents = null
    for (const event of events) if (typeof sink[event as string] === 'function') slots[event] = sink
    return slots
  }

  /**
   * A new, empty slots object. A subclass whose events are known may return a literal naming them all (each
   * undefined), so that the object holds them in place (an empty literal has room for four).
   */
  protected newSlots(): { [K in keyof Events]?: Slot } {
    return {}
  }

  private addEntry(event: keyof Events, entry: Entry): void {
    const slots = this.spill()
    const slot = slots[event]
    if (slot === undefined) slots[event] = entry
    else if (!(slot instanceof Set)) {
      if (slot !== entry) slots[event] = new Set<Entry>([slot, entry])
    } else slot.add(entry)
  }

  private removeEntry(event: keyof Events, entry: Entry): void {
    const slots = this.soleEvents === null ? (this.slots as { [K in keyof Events]?: Slot } | null) : this.spill()
    const slot = slots?.[event]
    if (slot === undefined) return
    if (slot instanceof Set) slot.delete(entry)
    // Not `delete`: that would turn the object into a slow dictionary.
    else if (slot === entry) slots![event] = undefined
  }

  protected emit<K extends keyof Events>(event: K, ...args: Parameters<Events[K]>): void {
    if (this.soleEvents !== null) return this.emitSole(event, args)
    const slots = this.slots as { [K in keyof Events]?: Slot } | null
    const slot = slots?.[event]
    if (slot === undefined) return
    // A Set visits listeners added during the loop and skips removed ones: no copy needed on this hot path.
    if (slot instanceof Set) this.emitFrom(slot, event, args)
    else this.emitAfter(slots!, event, args)
  }

  /** Calls the sole sink; then, as for a lone listener, whatever took its place or joined it meanwhile. */
  private emitSole(event: keyof Events, args: unknown[]): void {
    let sink: AnySink | undefined
    // It left and another sink came alone in its place: that one is called too.
    while (this.soleEvents !== null && this.slots !== sink) {
      sink = this.slots as AnySink
      if (!this.soleEvents.includes(event)) return
      call(sink, event, args, this)
    }
    // A listener added meanwhile spilled the sink into slots: it is called after the sink.
    if (this.soleEvents === null && this.slots !== null) this.emitAfter(this.slots as { [K in keyof Events]?: Slot }, event, args, sink)
  }

  /**
   * Calls an event's lone listener (unless it is `called`, called already), then whatever it added meanwhile, in
   * the order a Set's loop would.
   */
  private emitAfter(slots: { [K in keyof Events]?: Slot }, event: keyof Events, args: unknown[], called?: Entry): void {
    let slot = slots[event]
    while (slot !== undefined && slot !== called) {
      // Added meanwhile: it became a Set (`called` first, if still there).
      if (slot instanceof Set) return void this.emitFrom(slot, event, args, called)
      called = slot
      call(called, event, args, this)
      // removeAllListeners() meanwhile: what was added since is not this emit's (as with the Set it cleared).
      if (this.slots !== slots) return
      slot = slots[event]
    }
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
      call(listener, event, args, this)
    }
  }

  protected removeAllListeners(): void {
    this.slots = null
    this.soleEvents = null
  }
}

function call(entry: Entry, event: PropertyKey, args: unknown[], emitter: object): void {
  try {
    if (typeof entry === 'function') entry(...args)
    else entry[event as string]?.(...args, emitter)
  } catch (err) {
    // A user callback must not break delivery to the others nor the core's bookkeeping.
    queueMicrotask(() => {
      throw err
    })
  }
}
