/**
 * A live search as a view over the documents it shows (Firestore's View): what its page reads and its query watch
 * said about membership, in the query's sort order. `stepView(state, input, compare)` returns the next state and
 * the effects its shell carries out. No timers, no I/O, no revisions: every content it is given is what the
 * document's own state shows (`doc-state.ts` placed it, with the one comparison that decides "newer").
 *
 * `search-result.ts` is its shell: it reads pages and counts, holds one document per row, and feeds news only once
 * the document's entry ordered it (issue 14).
 *
 * ## Legal states
 * - `rows`: the first matches in sort order as far as the core knows, each with the content it is placed by. The
 *   prefix invariant: every match that sorts before the last row is a row. Rows past the window are spares (at most
 *   `margin` asked for): an exit moves one up without a read.
 * - `window`: how many rows are shown (the size, grown by each `next()`); 0 before the first page.
 * - `complete`: the rows are every match (the last page was shorter than asked): any match can then be placed.
 * - `total` and `uncounted`: the matches as the last page or count said, moved by the news since; `uncounted`
 *   when the server's count was unusable (more may exist, how many is unknown).
 * - `unsure`: rows whose membership nothing proved since their content changed (a document read gave it, not the
 *   query watch: Firestore's limbo). The next page read settles them.
 * - `reading`: a page read wanted (`at` null) or in flight since stream point `at`; news received meanwhile waits
 *   in `since` and is placed on its answer. `again`: something was learnt after it was sent that it cannot know.
 *   (The shell, `search-result.ts`, holds the query watch's raw events during a read instead, and replays them
 *   through the documents' entries once the page is placed: their content must be ordered against the page's.)
 * - `counting`: a count is `wanted` (news left the total ambiguous: a change past the rows) or `sent`;
 *   `countAgain`: news came once it was sent, which it may not include: counted again once it is answered.
 *   `countedSince`: a count set the total since the last page: a row leaving after it may already be left out of
 *   it (its news came late), so the row's exit is counted again rather than only subtracted.
 * - `live`: the rows follow the query (`live: 'query'`). Otherwise (`live: 'hits'`) the rows are what the pages
 *   returned: no news, a row whose content moves stays a row, a row whose document is gone leaves and is not
 *   replaced (only `grow` reads).
 *
 * ## Rules (each transition keeps them)
 * 1. The window shows `rows[0, window)`; fewer only when `complete` says no more match.
 * 2. One rule for reading the page again ({@link proven}): whenever the view cannot prove its window — fewer rows
 *    than the window while more match, an unsure row, news lost (a resync, a read that superseded an event, more
 *    news during a read than `since` keeps). The answer replaces the rows.
 * 3. News that a document matches places it among the rows when it sorts before the last row (or the rows are
 *    complete); past the last row it only counts, and not even that when the server said the document matched as
 *    much before the change (`matchedBefore`, given only when the change continues a revision the total counted:
 *    `watch-chain.ts`). News that it does not match removes it. A row whose content
 *    moves past the last row leaves the rows unless they are complete (its place among matches not fetched is
 *    unknown). A row whose document is gone leaves.
 * 4. Nothing per document outlives the rows: a document that is not a row is not remembered, and a live view holds
 *    at most `margin` rows past the window (an entry pushes the last spare out).
 * 5. A row's exit subtracts from the total, unless a count is under way: that count (or the one after it, for news
 *    after it was sent) settles the total, as the entries it was asked for were not added.
 * 6. A page's hits known gone since it was read (null content) are not rows and not counted; a count contradicting
 *    complete rows (more or fewer matches than rows) makes them incomplete and the page is read again.
 * 7. A local write not answered yet is placed at once by the driver's client-side test (`local`), and the total moves
 *    by what it did to the document's matching (no count: the server does not have it yet); the server's news of
 *    it, when it comes, places it as any news.
 */

import { countOf } from './guards'

/** A document as a search places it: its id and the content its document shows. */
export interface Row<S = unknown> {
  readonly _id: string
  readonly _source: S
}

/** Orders rows as the query's sort does (ties broken by id), as `comparator` in sort.ts returns. */
export type RowOrder = (a: Row, b: Row) => number

/** News of a query watch, once the document placed it; held during a page read. */
export interface News<S = unknown> {
  readonly id: string
  /** The content the document now shows; null when it is gone. */
  readonly source: S | null
  /** Whether the document matches the query after the change (false once gone). */
  readonly matches: boolean
  /** Whether it matched before the change, when the server said: equal to `matches`, the total did not move. */
  readonly matchedBefore?: boolean
}

/** A page read in flight (or wanted). */
export interface PageReading<S = unknown> {
  readonly at: number | null
  readonly since: readonly News<S>[]
  readonly again: boolean
}

/** One search's view. */
export interface ViewState<S = unknown> {
  readonly rows: readonly Row<S>[]
  readonly window: number
  readonly complete: boolean
  readonly total: number
  readonly uncounted: boolean
  readonly unsure: readonly string[]
  readonly reading: PageReading<S> | null
  readonly counting: false | 'wanted' | 'sent'
  readonly countAgain: boolean
  readonly countedSince: boolean
  readonly live: boolean
}

/** What the view is told. */
export type ViewInput<S = unknown> =
  /** Start, `refresh()`, or the query watch is live (again): the page must be read. */
  | { readonly type: 'readWanted' }
  /** `next()`: the window grows by `by` rows (read only if the rows do not hold them). */
  | { readonly type: 'grow'; readonly by: number }
  /** The page read was sent when events were at `at`. */
  | { readonly type: 'readSent'; readonly at: number }
  /**
   * The page's answer, `asked` rows from the first. `rows`: each hit with the content its document shows once
   * offered; `moved`: ids whose document showed newer content than the page, with other sort values (the page
   * placed them by old ones).
   */
  | { readonly type: 'pageAnswered'; readonly rows: readonly Row<S>[]; readonly total: unknown; readonly asked: number; readonly moved: readonly string[] }
  /** The page read failed (the shell retries it behind its gate). */
  | { readonly type: 'readFailed' }
  /** The query watch's news of one document. */
  | ({ readonly type: 'news' } & News<S>)
  /** A row's content changed from another source (its own read or watch): `proven` when a watch's news says it still matches. */
  | { readonly type: 'content'; readonly id: string; readonly source: S | null; readonly proven: boolean }
  /** News was lost (a resync, a read superseded an event): nothing shown can be proven until the page is read. */
  | { readonly type: 'lost' }
  /**
   * A local write (or its rollback) changed what document `id` shows, before the server has it: `matches` by its new
   * content, `was` by what the server stores of it as far as known (the driver's client-side test of the query).
   */
  | { readonly type: 'local'; readonly id: string; readonly source: S | null; readonly matches: boolean; readonly was: boolean }
  /** The count went out: news from now on may not be in it. */
  | { readonly type: 'countSent' }
  /** A count's answer (undefined: failed, or older than a page read since: only ends it). */
  | { readonly type: 'counted'; readonly total: unknown; readonly failed?: boolean }

/** What the shell does. `show`: the window or the total changed (the shell diffs it for appear/disappear). */
export type ViewEffect = { readonly type: 'read'; readonly size: number } | { readonly type: 'count' } | { readonly type: 'show' }

/** News kept during a page read; past this the page is read again once answered. */
export const MAX_SINCE = 10_000

/** A view before its first page, showing `size` rows. */
export function initialView<S>(size: number, live = true): ViewState<S> {
  return { rows: [], window: size, complete: false, total: 0, uncounted: false, unsure: [], reading: null, counting: false, countAgain: false, countedSince: false, live }
}

/** The rows shown. */
export function shownRows<S>(v: ViewState<S>): readonly Row<S>[] {
  return v.rows.length > v.window ? v.rows.slice(0, v.window) : v.rows
}

/** True when more matches exist than are shown. */
export function hasMore(v: ViewState<unknown>): boolean {
  return v.uncounted || v.total > Math.min(v.rows.length, v.window)
}

/** Rule 2: the view can show its window without asking the backend. */
export function proven(v: ViewState<unknown>): boolean {
  return (!v.live || v.complete || v.rows.length >= v.window) && v.unsure.length === 0
}

/** Rule 3: news that a document not among the rows matches, with this content, would place it among them. */
export function placeable<S>(v: ViewState<S>, row: Row<S>, order: RowOrder): boolean {
  if (v.complete) return true
  const last = v.rows[v.rows.length - 1]
  return last !== undefined && order(row, last) < 0
}

/** The transition function; `margin` spare rows are asked beyond the window. The input state is never modified. */
export function stepView<S>(
  state: ViewState<S>,
  input: ViewInput<S>,
  order: RowOrder,
  margin = 0,
): { state: ViewState<S>; effects: ViewEffect[] } {
  const t = new ViewTransition(state, order, margin)
  t.run(input)
  return { state: t.s, effects: t.effects }
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] }

class ViewTransition<S> {
  readonly s: Mutable<ViewState<S>>
  readonly effects: ViewEffect[] = []
  private readonly before: readonly Row<S>[]
  private readonly totalBefore: number
  private readonly uncountedBefore: boolean

  constructor(
    state: ViewState<S>,
    private readonly order: RowOrder,
    private readonly margin: number,
  ) {
    this.s = { ...state }
    this.before = shownRows(state)
    this.totalBefore = state.total
    this.uncountedBefore = state.uncounted
  }

  run(input: ViewInput<S>): void {
    switch (input.type) {
      case 'readWanted':
      case 'lost':
        // A read in flight may predate what is to be learnt: read again once it is answered.
        if (this.s.reading?.at != null) this.s.reading = { ...this.s.reading, again: true }
        this.wantRead()
        return
      case 'grow':
        this.s.window += Math.max(0, input.by)
        // A `hits` view reads only to grow: when more match than its rows hold.
        if (!this.s.live && this.s.rows.length < this.s.window && hasMore(this.s)) this.wantRead()
        break
      case 'readSent':
        if (this.s.reading) this.s.reading = { at: input.at, since: [], again: false }
        return
      case 'pageAnswered':
        this.answered(input.rows, input.total, input.asked, input.moved)
        break
      case 'readFailed':
        // Wanted still: the shell's retry sends it again.
        if (this.s.reading) this.s.reading = { at: null, since: [], again: false }
        return
      case 'news':
        if (this.s.reading?.at != null) this.hold(input)
        else this.place(input)
        break
      case 'content':
        this.content(input.id, input.source, input.proven)
        break
      case 'local':
        this.local(input.id, input.source, input.matches, input.was)
        break
      case 'countSent':
        if (this.s.counting) this.s.counting = 'sent'
        return
      case 'counted':
        this.counted(input.total, input.failed === true)
        break
    }
    this.trim()
    if (!proven(this.s)) this.wantRead()
    this.showIfChanged()
  }

  /**
   * Rule 4: a live view keeps at most `margin` spare rows; an entry pushes the last one out (any prefix of the rows
   * keeps the prefix invariant; they are then not every match).
   */
  private trim(): void {
    const cap = this.s.window + this.margin
    if (!this.s.live || this.s.window === 0 || this.s.rows.length <= cap) return
    const rows = this.s.rows.slice(0, cap)
    this.s.rows = rows
    this.s.complete = false
    if (this.s.unsure.length) this.s.unsure = this.s.unsure.filter((id) => rows.some((r) => r._id === id))
  }

  private wantRead(): void {
    const r = this.s.reading
    if (!r) {
      this.s.reading = { at: null, since: [], again: false }
      this.effects.push({ type: 'read', size: this.s.window + this.margin })
    }
  }

  private hold(news: News<S>): void {
    const r = this.s.reading!
    if (r.since.length < MAX_SINCE) this.s.reading = { ...r, since: [...r.since, news] }
    else this.s.reading = { ...r, again: true }
  }

  private answered(rows: readonly Row<S>[], total: unknown, asked: number, moved: readonly string[]): void {
    const r = this.s.reading
    if (!r || r.at === null) return
    this.s.reading = null
    const seen = new Set<string>()
    const unique = rows.filter((row) => !seen.has(row._id) && seen.add(row._id))
    // Hits known gone since the page was read: the page counted them, they no longer match (rule 5).
    const next = unique.filter((row) => row._source !== null)
    const gone = unique.length - next.length
    next.sort(this.order)
    this.s.rows = next
    const count = countOf(total)
    // A short page ends the matches whatever its total says; a full one whose count it holds is every match too.
    this.s.complete = rows.length < asked || (count !== undefined && count <= unique.length)
    this.s.total = count === undefined || this.s.complete ? next.length : Math.max(count - gone, next.length)
    this.s.uncounted = count === undefined && !this.s.complete
    this.s.countedSince = false
    // Documents the page placed by older content than they show: their place is the backend's to say.
    this.s.unsure = moved.filter((id) => seen.has(id))
    for (const news of r.since) this.place(news)
    if (r.again) this.wantRead()
  }

  /** Rule 3. `counts`: the news leaves the total to a count when it cannot tell (a local write's caller moves it). */
  private place(news: News<S>, counts = true): void {
    const at = rowIndex(this.s.rows, news.id)
    const was = at >= 0
    // A copy without it (slice and splice: a 5,000-row `hits` view places a row on each of its changes).
    const rows = this.s.rows.slice()
    if (was) rows.splice(at, 1)
    // A document that is no row needs a count only if its matching may have changed: not when the server says it
    // stayed as it was (that change moves no total, in whatever order it arrives).
    const moves = news.matchedBefore !== (news.matches && news.source !== null)
    if (!news.matches || news.source === null) {
      if (was) {
        this.s.rows = rows
        // A count under way settles the total (it was asked after entries it did not add): this exit goes with it.
        // Complete rows are every match: they are the total.
        if (this.s.counting && counts && !this.s.complete) this.count()
        else this.s.total = Math.max(rows.length, this.s.total - 1)
        this.s.unsure = this.s.unsure.filter((id) => id !== news.id)
        if (counts && this.s.countedSince && !this.s.complete && this.s.live) this.count()
      } else if (counts && moves && !this.s.complete) this.count()
      return
    }
    const row: Row<S> = { _id: news.id, _source: news.source }
    const last = rows[rows.length - 1]
    // A `hits` view keeps a row wherever its content moves it.
    const fits = this.s.complete || !this.s.live || (last !== undefined && this.order(row, last) < 0)
    if (fits) {
      rows.splice(insertionPoint(rows, row, this.order), 0, row)
      this.s.rows = rows
      this.s.unsure = this.s.unsure.filter((id) => id !== news.id)
      if (this.s.complete && !was && counts) this.s.total++
      else if (counts && moves && !was) this.count()
    } else {
      // Past the last row: it may have matched already, beyond the rows, or just started to.
      this.s.rows = rows
      if (was) this.s.unsure = this.s.unsure.filter((id) => id !== news.id)
      if (counts && moves && !was) this.count()
    }
  }

  /**
   * Rule 7. A local write is placed at once, as news whose count is known: a row counts one; a document that is not
   * a row moves the total by its matching before and after. A page read meanwhile knows nothing of it: the shell
   * places it again on the answer.
   */
  private local(id: string, source: S | null, matches: boolean, was: boolean): void {
    const isRow = this.s.rows.some((r) => r._id === id)
    const total = this.s.total
    this.place({ id, source, matches: matches && source !== null }, false)
    const delta = isRow ? (matches ? 0 : -1) : Number(matches) - Number(was)
    this.s.total = Math.max(Math.min(this.s.rows.length, this.s.window), total + delta)
  }

  private content(id: string, source: S | null, proven: boolean): void {
    if (rowIndex(this.s.rows, id) < 0) return
    if (source === null) return this.place({ id, source: null, matches: false })
    // Placed by its new content; whether it still matches, only news or a page can say.
    this.place({ id, source, matches: true })
    if (!proven && rowIndex(this.s.rows, id) >= 0 && !this.s.unsure.includes(id)) this.s.unsure = [...this.s.unsure, id]
  }

  private counted(total: unknown, failed: boolean): void {
    this.s.counting = false
    const again = this.s.countAgain
    this.s.countAgain = false
    if (again) this.count()
    const count = countOf(total)
    if (count === undefined) {
      // Rule 5: the exits left to a count that failed are settled otherwise: complete rows are every match; else the
      // page is read (behind the shell's backoff), which counts.
      if (this.s.complete) this.s.total = this.s.rows.length
      else if (failed && !again) this.wantRead()
      return
    }
    // Complete rows that a count contradicts are not every match (news was missed): the page is read again.
    if (this.s.complete && this.s.live && count !== this.s.rows.length && !again) {
      this.s.complete = false
      this.wantRead()
    }
    // A count may be older than news placed since it was asked: it never drops a row, the next page settles it.
    this.s.total = Math.max(count, Math.min(this.s.rows.length, this.s.window))
    this.s.uncounted = false
    this.s.countedSince = true
  }

  /** Asks for a count once; news while one is in flight asks again once it is answered. */
  private count(): void {
    if (!this.s.counting) {
      this.effects.push({ type: 'count' })
      this.s.counting = 'wanted'
    } else if (this.s.counting === 'sent') this.s.countAgain = true
  }

  private showIfChanged(): void {
    const now = shownRows(this.s)
    // Membership and order: a row's content renders through its own document.
    const same = now.length === this.before.length && now.every((row, i) => row._id === this.before[i]._id)
    if (!same || this.s.total !== this.totalBefore || this.s.uncounted !== this.uncountedBefore) this.effects.push({ type: 'show' })
  }
}

/** Where row `id` is in `rows`, or -1 (a plain loop: it runs on every change of a row, over every row). */
function rowIndex<S>(rows: readonly Row<S>[], id: string): number {
  for (let i = 0; i < rows.length; i++) if (rows[i]._id === id) return i
  return -1
}

function insertionPoint<S>(rows: readonly Row<S>[], row: Row<S>, order: RowOrder): number {
  let lo = 0
  let hi = rows.length
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if (order(rows[mid], row) <= 0) lo = mid + 1
    else hi = mid
  }
  return lo
}
