/**
 * A live search's page reads and counts (rules 3 and 4 of `search-result.ts`): when they go out, which answer still
 * counts, how a failure is retried, and the query watch's news that waits while a page is read.
 *
 * ## Legal states
 * - No read in flight: `token` names the last one sent (an answer carrying an older token is dropped), `buffered` is
 *   null. A read the view wants goes out at the end of the task (`sendSoon`), or after a backoff when the page itself
 *   made the view want it again (`later`, rule 4: a search index lagging behind its notifications must not loop).
 * - A read in flight (the view's `reading.at` is set): a live query's news waits in `buffered` (at most
 *   MAX_BUFFERED, past which `overflowed`: the news is lost and the page is read again once answered). Its answer goes
 *   to the shell (`answered`) with what was buffered; its failure to the shell (`failed`) and, unless it cannot
 *   succeed, to the collection's read gate, which retries it (one probe per step for the collection's searches).
 * - A count in flight is its own: at most one waits its 50 ms at a time (coalesced), and a count sent before the
 *   last page read only ends the count (the page is newer).
 * `restart` drops the read in flight and its news (a resync: what was buffered came before news was missed); `stop`
 * drops everything.
 */
import { backoffDelay } from './backoff'
import type { SearchHost, SearchStatus } from './search-host'
import type { ViewInput, ViewState } from './search-view'
import type { CollectionRef, DocEvent, DriverSearchSpec, Page } from './types'
import { ObservedError } from './types'
import { startReadClock } from './watch-timeout'

/** Membership events buffered while a page read is in flight; past this the page is read again instead. */
export const MAX_BUFFERED = 10_000

/** News that came while a page was read: the event, the stream point it came at, and whether its entry ordered it. */
export type Buffered = readonly [DocEvent, number, boolean]

/** What the page reads need from their search. */
export interface ReadsShell<T extends object> {
  readonly stopped: boolean
  readonly status: SearchStatus
  /** The view as it is now (whether it wants a read, and how many rows). */
  view(): ViewState<T>
  input(input: ViewInput<T>): void
  /** A page read sent at stream point `at` for `size` rows answered (its news: `takeBuffered`, once it is placed). */
  answered(page: Page, at: number, size: number): void
  /** Shows an error (the read goes on, or the view was told it failed). */
  fail(err: ObservedError): void
  /** No read is wanted or in flight any more: who waits for one is told. */
  settle(): void
}

export class PageReads<T extends object> {
  /** Names the last page read sent (or dropped): an answer with another one is not this search's any more. */
  private token = 0
  private sendQueued = false
  private retryTimer?: ReturnType<typeof setTimeout>
  private countTimer?: ReturnType<typeof setTimeout>
  /** Reads in a row that the page itself asked for again (rule 4). */
  private rereads = 0
  private buffered: Buffered[] | null = null
  private overflowed = false

  constructor(
    private readonly host: SearchHost,
    private readonly ref: CollectionRef,
    private readonly spec: DriverSearchSpec,
    private readonly live: boolean,
    private readonly margin: number,
    private readonly shell: ReadsShell<T>,
  ) {}

  /** After three reads in a row asked by their own page, the page's placement is accepted (rule 4). */
  get insisting(): boolean {
    return this.rereads >= 3
  }

  /** A page answered without asking for itself again. */
  settled(): void {
    this.rereads = 0
  }

  /** Keeps a live query's news while a page is read (true), or says none is read (false: place it now). */
  buffer(e: DocEvent, ordered: boolean): boolean {
    if (!this.buffered) return false
    if (this.buffered.length < MAX_BUFFERED) this.buffered.push([e, this.host.currentSeq(), ordered])
    else this.overflowed = true
    return true
  }

  /**
   * The news kept while the answered page was read, and whether some was lost, handed over once: news that comes
   * while the page is placed (its documents' entries apply what they held) is kept with it, not placed before it.
   */
  takeBuffered(): { buffered: readonly Buffered[] | null; overflowed: boolean } {
    const taken = { buffered: this.buffered, overflowed: this.overflowed }
    this.buffered = null
    this.overflowed = false
    return taken
  }

  /** Sends the read the view wants at the end of the task. */
  sendSoon(): void {
    if (this.sendQueued) return
    this.sendQueued = true
    queueMicrotask(() => {
      this.sendQueued = false
      this.send()
    })
  }

  /** Rule 4: the page itself asked to be read again; it goes after a backoff. */
  later(): void {
    if (this.rereads === 0) this.host.readAgain?.(this.ref, 'the page placed rows by older content, or ended short')
    clearTimeout(this.retryTimer)
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined
      this.send()
    }, backoffDelay(this.rereads++, this.host.backoff))
  }

  /** What the read must learn is new: one waiting for its backoff goes now. */
  expedite(): void {
    if (this.shell.view().reading?.at !== null || this.retryTimer === undefined) return
    clearTimeout(this.retryTimer)
    this.retryTimer = undefined
    this.sendSoon()
  }

  /** Drops the read in flight (its answer and what was buffered for it): a new one goes out. */
  restart(): void {
    this.buffered = null
    this.overflowed = false
    if (this.shell.view().reading?.at == null) return
    this.token++
    this.shell.input({ type: 'readFailed' })
    this.sendSoon()
  }

  /** Counts the matches again in 50 ms (coalesced). */
  countSoon(): void {
    clearTimeout(this.countTimer)
    this.countTimer = setTimeout(() => {
      const token = this.token
      this.shell.input({ type: 'countSent' })
      this.ask(0).then(
        // A count sent before the last page read may be older than it: it only ends the count.
        (page) => this.shell.input({ type: 'counted', total: token === this.token ? page?.total : undefined }),
        () => this.shell.input({ type: 'counted', total: undefined, failed: true }),
      )
    }, 50)
  }

  /** Nothing in flight counts any more; no timer is left. */
  stop(): void {
    this.token++
    this.buffered = null
    this.overflowed = false
    this.rereads = 0
    clearTimeout(this.retryTimer)
    clearTimeout(this.countTimer)
    this.retryTimer = undefined
    this.host.readGate(this.ref).forget(this)
  }

  /** Sends the page read the view wants, if it wants one and none is in flight. */
  private send(): void {
    if (this.shell.stopped || this.shell.view().reading?.at !== null) return
    clearTimeout(this.retryTimer)
    this.retryTimer = undefined
    const token = ++this.token
    const at = this.host.currentSeq()
    const size = this.shell.view().window + this.margin
    this.shell.input({ type: 'readSent', at })
    if (this.live) this.buffered ??= []
    // A first page that does not answer (queued behind a browser's connection limit) must not leave the search
    // `pending` without a word: past the watch timeout it says `reconnecting` and what to check; the read goes on.
    const clock =
      this.shell.status === 'pending'
        ? startReadClock(this.host.readTimeout ?? 0, this.host.driver.name, this.ref, (err) => {
            if (token === this.token && !this.shell.stopped && this.shell.status === 'pending') this.shell.fail(err)
          })
        : undefined
    this.ask(size).then(
      (page) => {
        clearTimeout(clock)
        if (token !== this.token || this.shell.stopped) return
        if (!page || !Array.isArray(page.hits)) return this.failed(new TypeError('search did not return { hits, total }'))
        this.host.readGate(this.ref).succeed()
        this.shell.answered(page, at, size)
      },
      (err: unknown) => {
        clearTimeout(clock)
        if (token === this.token && !this.shell.stopped) this.failed(err)
      },
    )
  }

  private failed(err: unknown): void {
    this.buffered = null
    this.overflowed = false
    const error =
      err instanceof ObservedError && err.code !== 'watch_failed'
        ? err
        : new ObservedError('read_failed', `Search in ${this.ref.index}/${this.ref.collection} failed: ${(err as Error)?.message ?? err}`, { cause: err })
    this.shell.input({ type: 'readFailed' })
    this.shell.fail(error)
    this.shell.settle()
    if (!error.fatal && error.code !== 'unsupported_query' && error.code !== 'bad_argument') {
      this.host.readGate(this.ref).fail(this, () => this.send(), error)
    }
  }

  /** The first `size` matches (0: only their count), from the driver, which may also throw at once. */
  private async ask(size: number): Promise<Page> {
    return this.host.driver.search(this.ref, this.spec, { from: 0, size })
  }
}
