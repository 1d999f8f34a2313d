/**
 * Leader election with the Web Locks API: the tab holding the lock `name` is the leader. The others queue for it,
 * so that when the leader's tab closes (the browser releases its locks) the next one gets it at once. A leader that
 * stops answering (a frozen or hung tab keeps its lock) is replaced with `steal`, by one follower only: the one that
 * gets the `name:takeover` lock.
 */

/** The part of `navigator.locks` used here. */
export interface LockManagerLike {
  request(name: string, options: { ifAvailable?: boolean; steal?: boolean; signal?: AbortSignal }, callback: (lock: unknown) => Promise<unknown>): Promise<unknown>
}

export class LeaderLock {
  private release: (() => void) | undefined
  private queued: AbortController | undefined
  private stopped = false
  private holding = false

  constructor(
    private readonly locks: LockManagerLike,
    private readonly name: string,
    private readonly events: { leader(): void; lost(): void },
  ) {}

  get isLeader(): boolean {
    return this.holding
  }

  /** Queues for the lock (the leader's tab closing hands it to the first in line). */
  start(): void {
    if (this.stopped || this.holding || this.queued) return
    const queued = new AbortController()
    this.queued = queued
    this.hold({ signal: queued.signal }, () => this.queued === queued && (this.queued = undefined))
  }

  /**
   * The leader stopped answering: takes the lock from it, if no other follower is already doing so. Resolves true
   * when this tab is now the leader.
   */
  async takeOver(): Promise<boolean> {
    if (this.stopped || this.holding) return this.holding
    let took = false
    await this.locks
      .request(`${this.name}:takeover`, { ifAvailable: true }, async (lock) => {
        if (!lock || this.stopped || this.holding) return
        this.queued?.abort()
        this.queued = undefined
        took = true
        await new Promise<void>((granted) => this.hold({ steal: true }, granted))
      })
      .catch(() => undefined)
    return took && this.holding
  }

  /** Lets go of the lock (or of its place in line) for good. */
  stop(): void {
    this.stopped = true
    this.queued?.abort()
    this.queued = undefined
    this.release?.()
  }

  private hold(options: { signal?: AbortSignal; steal?: boolean }, granted: () => void): void {
    let mine = false
    this.locks
      .request(this.name, options, (lock) => {
        granted()
        if (!lock || this.stopped) return Promise.resolve()
        mine = true
        this.holding = true
        return new Promise<void>((resolve) => {
          this.release = () => {
            this.release = undefined
            resolve()
          }
          this.events.leader()
        })
      })
      .then(
        () => this.lose(mine),
        // Aborted in line (a takeover, or stop), or stolen from us by a follower that found us frozen.
        () => {
          granted()
          this.lose(mine)
        },
      )
  }

  private lose(wasMine: boolean): void {
    if (!wasMine) return
    this.holding = false
    this.release = undefined
    if (this.stopped) return
    this.events.lost()
    // Back in line, as a follower.
    this.start()
  }
}
