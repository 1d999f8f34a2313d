type Listener = (...args: any[]) => void
/** An event's listeners: the one listener itself (most events have at most one), or a Set once there are more. */
type Slot = Listener | Set<Listener>

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
    const slots: { [K in keyof Events]?: Slot } = (this.slots ??= {})
    const slot = slots[event]
    if (slot === undefined) slots[event] = listener
    else if (typeof slot === 'function') {
      if (slot !== listener) slots[event] = new Set<Listener>([slot as Listener, listener])
    } else slot.add(listener)
    // A bound function is smaller than a closure over (event, listener) and its context.
    return this.off.bind(this, event, listener) as () => void
  }

  off<K extends keyof Events>(event: K, listener: Events[K]): void {
    const slots = this.slots
    const slot = slots?.[event]
    if (slot === undefined) return
    if (typeof slot !== 'function') slot.delete(listener)
    // Not `delete`: that would turn the object into a slow dictionary.
    else if (slot === listener) slots![event] = undefined
  }

  protected emit<K extends keyof Events>(event: K, ...args: Parameters<Events[K]>): void {
    const slots = this.slots
    let slot = slots?.[event]
    if (slot === undefined) return
    // A Set visits listeners added during the loop and skips removed ones: no copy needed on this hot path. A lone
    // listener gives the same order: whatever it adds meanwhile is called after it, as a Set's loop would.
    while (typeof slot === 'function') {
      const called: Listener = slot
      call(called, args)
      // removeAllListeners() meanwhile: what was added since is not this emit's (as with the Set it cleared).
      if (this.slots !== slots) return
      slot = slots![event]
      if (slot === undefined || slot === called) return
      // Added while it ran: it became a Set (`called` first, if still there), or it left and another came.
      if (typeof slot !== 'function') return void this.emitFrom(slot, args, called)
    }
    this.emitFrom(slot, args)
  }

  /** Calls a Set's listeners, after `skipFirst` when it leads the Set (it was called already). */
  private emitFrom(set: Set<Listener>, args: unknown[], skipFirst?: Listener): void {
    let first = true
    for (const listener of set) {
      if (first && listener === skipFirst) {
        first = false
        continue
      }
      first = false
      call(listener, args)
    }
  }

  protected removeAllListeners(): void {
    this.slots = null
  }
}

function call(listener: Listener, args: unknown[]): void {
  try {
    listener(...args)
  } catch (err) {
    // A user callback must not break delivery to the others nor the core's bookkeeping.
    queueMicrotask(() => {
      throw err
    })
  }
}
