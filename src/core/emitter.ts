/** Minimal typed event emitter: listeners are called in registration order; a throwing listener cannot break others. */
export class Emitter<Events extends { [K in keyof Events]: (...args: any[]) => void }> {
  private listeners = new Map<keyof Events, Set<Events[keyof Events]>>()

  /** Adds a listener; returns a function that removes it. */
  on<K extends keyof Events>(event: K, listener: Events[K]): () => void {
    let set = this.listeners.get(event)
    if (!set) this.listeners.set(event, (set = new Set()))
    set.add(listener)
    return () => this.off(event, listener)
  }

  off<K extends keyof Events>(event: K, listener: Events[K]): void {
    this.listeners.get(event)?.delete(listener)
  }

  protected emit<K extends keyof Events>(event: K, ...args: Parameters<Events[K]>): void {
    const set = this.listeners.get(event)
    if (!set) return
    // A Set visits listeners added during the loop and skips removed ones: no copy needed on this hot path.
    for (const listener of set) {
      try {
        ;(listener as (...a: unknown[]) => void)(...args)
      } catch (err) {
        // A user callback must not break delivery to the others nor the core's bookkeeping.
        queueMicrotask(() => {
          throw err
        })
      }
    }
  }

  protected removeAllListeners(): void {
    this.listeners.clear()
  }
}
