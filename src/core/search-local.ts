/**
 * Local writes in a live search (rule 6 of `search-result.ts`, issue 16): a write or its rollback is placed at once by
 * the driver's client-side test of the query (`Driver.matcher`; none: a removal still leaves, anything else waits
 * for the server's news or a page). Until its writes are confirmed, a document's membership is what it shows, not
 * what news says; each page is overlaid with the writes the server had not answered when it was sent, and a page hit
 * emptied by local writes is placed by the page's content. The total moves by what the view counted the document as
 * (`countedAs`: a row, or a match past the last row), never by what a write showed that the view did not see. When
 * the last write of a document that is no row leaves, the server has what it shows: it is placed as the server's
 * news, and counted (`settledOutside`).
 *
 * Holds nothing of its own but the matcher once found: every decision reads the search's view as it is.
 */
import type { Observer } from './observer'
import type { LocalDoc, SearchHost } from './search-host'
import { placeable, type Row, type RowOrder, type ViewInput, type ViewState } from './search-view'
import type { CollectionRef, DocSource, DriverSearchSpec } from './types'

/** What an input is about, for the search's appear / disappear / delete events. */
export type About = { id: string; how: 'news' | 'content'; gone: boolean }

type Match = (source: DocSource, id: string) => boolean

/** What local placement needs from its search (`search-result.ts`). */
export interface LocalShell<T extends object> {
  /** The view as it is now. */
  view(): ViewState<T>
  /** The search's Observer for a row (or news a page read in flight holds), if any. */
  held(id: string): Observer<T> | undefined
  /** Holds an Observer for `id`, which may become a row. */
  hold(id: string): Observer<T>
  /** Whether news that `row` matches may make it a row. */
  mayPlace(row: Row<T>): boolean
  input(input: ViewInput<T>, about?: About): void
  lost(reason: string): void
}

export class LocalPlacement<T extends object> {
  /** The driver's client-side test of the query, once it has one. */
  private matcher?: Match

  constructor(
    private readonly host: Pick<SearchHost, 'driver' | 'pendingOf' | 'pendingIn'>,
    private readonly ref: CollectionRef,
    private readonly spec: DriverSearchSpec,
    private readonly order: RowOrder,
    private readonly shell: LocalShell<T>,
  ) {}

  /** The driver's client-side test of the query, looked up until it has one (Sanity's once groq-js is loaded). */
  private matches(): Match | undefined {
    return (this.matcher ??= this.host.driver.matcher?.(this.ref, this.spec))
  }

  /**
   * Whether a document with pending writes matches by what it shows (else undefined). Until its writes are
   * confirmed, the server's news of it tells an older state than the one shown (the news of the write's own
   * revision comes once it is confirmed, and then decides).
   */
  match(id: string): boolean | undefined {
    const match = this.matches()
    const doc = match && this.host.pendingOf(this.ref, id)
    return doc ? doc.visible !== null && match(doc.visible, id) : undefined
  }

  /** A local write (or its rollback) changed what a document of the collection shows. */
  changed(doc: LocalDoc, before: DocSource | null, after: DocSource | null): void {
    // Nothing to place, unless a row shows nothing: a row whose document went away while it had pending writes waited
    // for them (`contentChanged`), and they ended showing nothing too (kuzzle soak seed 1061871, under load).
    if (before === after && (after !== null || !this.shell.held(doc.id))) return
    const match = this.matches()
    if (match && !doc.pending && !this.isRow(doc.id)) return this.settledOutside(doc.id, after, match)
    if (match) return this.place(doc.id, after, after !== null && match(after, doc.id), this.countedAs(doc.id, before, match))
    // No client-side test of the query: a removal certainly leaves; content coming back (a removal rolled back)
    // is placed by the page, which the server's news would not bring (nothing changed there).
    if (after === null) this.place(doc.id, null, false, false)
    else if (before === null) this.shell.lost('a local write rolled back that this client cannot place')
  }

  /**
   * After a page read sent at stream point `at` (what the server stored then): each document with writes the server
   * had not answered by then goes where it shows.
   */
  overlay(at: number): void {
    const match = this.matches()
    if (!match) return
    // What the page counted each document as, decided on the page as answered, before any is placed. The server may
    // have applied a write before the page, though its answer came after the page was sent: where the page itself
    // says (a hit; or absent where its content would have been a row), that decides, not what was stored before the
    // write (memory soak seed 1030187: a complete page without the document was counted one short).
    const placed = [...this.host.pendingIn(this.ref, at)].map((doc) => ({ doc, was: this.countedAs(doc.id, doc.remote, match) }))
    for (const { doc, was } of placed) {
      const matches = doc.visible !== null && match(doc.visible, doc.id)
      if (matches !== was || this.shell.held(doc.id)) this.place(doc.id, doc.visible, matches, was)
    }
  }

  /**
   * The last write of a document that is no row left (confirmed or refused): the server has what it shows now. How
   * the view counted it (by a page read before or after the write was answered, by news, by the write) nothing
   * records, so it is placed as the server's news is, and counted (memory soak seed 1101413: a page read after the
   * write was answered counted it by the server's content; the write leaving subtracted it by what it had shown,
   * which the page never counted, and the total stayed one high).
   */
  private settledOutside(id: string, after: DocSource | null, match: Match): void {
    const matches = after !== null && match(after, id)
    if (matches && !this.shell.held(id) && this.shell.mayPlace({ _id: id, _source: after as T })) this.shell.hold(id)
    const hit = this.shell.held(id)
    const source = (hit ? hit.content : after) as T | null
    this.shell.input({ type: 'news', id, source, matches: matches && source !== null }, { id, how: 'news', gone: source === null })
  }

  /**
   * Whether the view counts a document as a match, its content being `content` as far as this search may have learnt
   * it. A row is counted. A document that is no row is not, where that content would have made it one (the prefix
   * invariant of `search-view.ts`: the search learnt otherwise, from a page or news since); past the last row only its
   * content can say.
   */
  private countedAs(id: string, content: DocSource | null, match: Match): boolean {
    if (this.isRow(id)) return true
    return content !== null && match(content, id) && !placeable(this.shell.view(), { _id: id, _source: content as T }, this.order)
  }

  private isRow(id: string): boolean {
    return this.shell.view().rows.some((r) => r._id === id)
  }

  private place(id: string, after: DocSource | null, matches: boolean, was: boolean): void {
    let hit = this.shell.held(id)
    if (!hit && matches && after !== null && placeable(this.shell.view(), { _id: id, _source: after as T }, this.order)) hit = this.shell.hold(id)
    const source = hit ? hit.content : after
    this.shell.input({ type: 'local', id, source: source as T | null, matches, was }, { id, how: 'news', gone: after === null })
  }
}
