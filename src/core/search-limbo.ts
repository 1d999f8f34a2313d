/**
 * A live search's limbo (Firestore's limbo documents): news that a document matches, for a document no entry held
 * when it came (nothing could order it), is proven by the document's own read (rule 2 of `search-result.ts`).
 *
 * ## States, per document, only while its read is in flight
 * - `hidden`: a document this client let go of lately (its news may be the late one it left from): read before it
 *   is shown. At most MAX_LIMBO; past it the search reads its page instead.
 * - `proving`: a row shown at once on such news, until its read lands. A row's only: it goes with the row.
 * Each keeps the latest news of its document: a read proves the news when it shows the news' revision (or its
 * content, without revisions). A read finding the document gone, or showing the news that it left, drops it and
 * counts it out (`left`: news its hiding swallowed may have been its deletion, sanity soak seed 1112560); a read
 * showing something else, or later news applied on top, leaves membership to the backend (`lost`: the page is read).
 * "Latest" is by arrival: nothing orders news here, so only the read's agreement with it makes it the document's.
 */
import type { Observer } from './observer'
import { deepEqual } from './patch'
import type { SearchHost } from './search-host'
import type { CollectionRef, DocEvent } from './types'

/** Documents read before they are shown, at once; past this an appearance makes the page be read instead. */
export const MAX_LIMBO = 1_000

export interface LimboShell<T extends object> {
  /** A hidden document's read proved its news: the search places it (holding its own observer first). */
  proven(id: string, hit: Observer<T>): void
  /**
   * A hidden document's read found it gone, or its news said it left: the search counts it out (it may have counted
   * it as a match past its rows before it was hidden).
   */
  left(id: string): void
  /** Membership is the backend's to say: the search reads its page. */
  lost(reason: string): void
  /** True while `hit` is the search's row for `id`. */
  isRow(id: string, hit: Observer<T>): boolean
}

export class Limbo<T extends object> {
  private hidden = new Map<string, { hit: Observer<T>; news: DocEvent }>()
  private proving = new Map<string, DocEvent>()

  constructor(
    private readonly host: Pick<SearchHost, 'observe' | 'provenance'>,
    private readonly ref: CollectionRef,
    private readonly shell: LimboShell<T>,
  ) {}

  get size(): number {
    return this.hidden.size
  }

  /** Later news of a document in limbo: kept for its read to prove. True when the document is hidden (not a row). */
  news(e: DocEvent): boolean {
    const hidden = this.hidden.get(e.id)
    if (hidden) hidden.news = e
    else if (this.proving.has(e.id)) this.proving.set(e.id, e)
    return hidden !== undefined
  }

  /** Reads a document before its news can place it. */
  hide(e: DocEvent): void {
    if (this.hidden.size >= MAX_LIMBO) return this.shell.lost('too many appearances to prove one by one')
    const hit = this.host.observe<T>(this.ref, e.id, false)
    const limbo = { hit, news: e }
    this.hidden.set(e.id, limbo)
    void hit.refresh().then(() => {
      if (this.hidden.get(e.id) !== limbo) return
      this.hidden.delete(e.id)
      if (this.proves(hit, limbo.news)) this.shell.proven(e.id, hit)
      // Gone, or showing the news that it left: it left. The news is the last to arrive, not the last made (a late
      // one: Kuzzle soak seed 1151028), so anything else (other content, or the read failed) is the backend's to say.
      else if (hit.deleted || (left(limbo.news) && this.shows(hit, limbo.news))) this.shell.left(e.id)
      else this.shell.lost('an appearance its read did not prove')
      hit.stop()
    })
  }

  /** A row shown on news nothing ordered: its read must prove it. */
  prove(id: string, hit: Observer<T>, e: DocEvent): void {
    this.proving.set(id, e)
    void hit.refresh().then(() => {
      const news = this.proving.get(id)
      if (news === undefined || !this.shell.isRow(id, hit)) return
      this.proving.delete(id)
      // Gone: its delete removes the row.
      if (hit.content !== null && !this.proves(hit, news)) this.shell.lost('an appearance its read did not prove')
    })
  }

  /** The row left, or a page read proved it. */
  settled(id: string): void {
    this.proving.delete(id)
  }

  clear(): void {
    for (const { hit } of this.hidden.values()) hit.stop()
    this.hidden.clear()
    this.proving.clear()
  }

  /** The document's own read shows the revision (or content) the news said matches. */
  private proves(hit: Observer<T>, news: DocEvent): boolean {
    return !left(news) && this.shows(hit, news)
  }

  /** The document's own read shows the news' revision (or its content, without revisions). */
  private shows(hit: Observer<T>, news: DocEvent): boolean {
    if (hit.content === null || this.host.provenance(hit) !== 'read') return false
    return news.rev !== undefined ? hit._rev === news.rev : news.doc !== undefined && deepEqual(hit.content, news.doc)
  }
}

/** News that the document no longer matches. */
function left(news: DocEvent): boolean {
  return news.kind === 'delete' || news.inQuery === false
}
