/**
 * What the memory driver keeps per collection so that a sorted window and a count need not read every document, as
 * a database's indexes do: a list in sort order for each sort asked for more than once, kept in order on every
 * write (one binary search and one splice), and the count of each query asked for, moved on every write by whether
 * the document matched before and after it. Bounded: past MAX_SORTS lists or MAX_COUNTS counts, the oldest goes.
 * Seeding a collection drops them (it writes without telling anyone).
 */

/** A stored document as a sorted list holds it. */
export interface IndexedRow<D> {
  readonly _id: string
  readonly _source: unknown
  readonly doc: D
}

type Order = (a: { _id: string; _source: unknown }, b: { _id: string; _source: unknown }) => number
type Match = (source: never, id: string) => boolean

/** Sorted lists kept per collection. */
export const MAX_SORTS = 4
/** Query counts kept per collection. */
export const MAX_COUNTS = 32

export class CollectionIndexes<D extends { source: unknown }> {
  /** Sorts asked for once, not indexed yet (a one-off search is served by a top-k selection instead). */
  private readonly askedOnce = new Set<string>()
  private readonly sorted = new Map<string, { order: Order; rows: IndexedRow<D>[] }>()
  private readonly counts = new Map<string, { match: Match; total: number }>()

  /**
   * The first `k` matches in the order of `sortKey`, walking its list; undefined the first time a sort is asked
   * for (the caller selects them itself).
   */
  window(sortKey: string, order: Order, docs: ReadonlyMap<string, D>, match: Match, k: number): IndexedRow<D>[] | undefined {
    let index = this.sorted.get(sortKey)
    if (!index) {
      if (!this.askedOnce.has(sortKey)) {
        this.askedOnce.add(sortKey)
        if (this.askedOnce.size > MAX_SORTS * 4) this.askedOnce.delete(this.askedOnce.values().next().value!)
        return undefined
      }
      const rows = [...docs].map(([id, doc]) => ({ _id: id, _source: doc.source, doc }))
      rows.sort(order)
      index = { order, rows }
      this.sorted.set(sortKey, index)
      if (this.sorted.size > MAX_SORTS) this.sorted.delete(this.sorted.keys().next().value!)
    }
    const hits: IndexedRow<D>[] = []
    if (k <= 0) return hits
    for (const row of index.rows) {
      if (!match(row._source as never, row._id)) continue
      hits.push(row)
      if (hits.length >= k) break
    }
    return hits
  }

  /**
   * The number of matches of a query (`queryKey` undefined: a query that cannot be keyed, counted every time).
   * `counted`: the caller just counted them while reading every document.
   */
  count(queryKey: string | undefined, match: Match, docs: ReadonlyMap<string, D>, counted?: number): number {
    const kept = queryKey === undefined ? undefined : this.counts.get(queryKey)
    if (kept) return kept.total
    let total = counted ?? 0
    if (counted === undefined) for (const [id, doc] of docs) if (match(doc.source as never, id)) total++
    if (queryKey !== undefined) {
      this.counts.set(queryKey, { match, total })
      if (this.counts.size > MAX_COUNTS) this.counts.delete(this.counts.keys().next().value!)
    }
    return total
  }

  /** One document written: each list keeps its order, each count moves. */
  write(id: string, before: D | undefined, after: D | undefined): void {
    for (const index of this.sorted.values()) {
      const rows = index.rows
      if (before) {
        const at = position(rows, { _id: id, _source: before.source }, index.order)
        if (rows[at]?._id === id) rows.splice(at, 1)
      }
      if (after) {
        const row = { _id: id, _source: after.source, doc: after }
        rows.splice(position(rows, row, index.order), 0, row)
      }
    }
    for (const kept of this.counts.values()) {
      const was = before !== undefined && kept.match(before.source as never, id)
      const is = after !== undefined && kept.match(after.source as never, id)
      if (was !== is) kept.total += is ? 1 : -1
    }
  }
}

/** Where `row` is or goes: the first row not before it (ties are broken by id, so each row has one place). */
function position<R extends { _id: string; _source: unknown }>(rows: readonly R[], row: { _id: string; _source: unknown }, order: Order): number {
  let lo = 0
  let hi = rows.length
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if (order(rows[mid], row) < 0) lo = mid + 1
    else hi = mid
  }
  return lo
}

/** A key for a query and its params, or undefined when it holds a function (a predicate cannot be keyed). */
export function queryKeyOf(query: unknown, params: unknown): string | undefined {
  let keyable = true
  const json = JSON.stringify([query ?? null, params ?? null], (_k, v: unknown) => {
    if (typeof v === 'function') keyable = false
    return v
  })
  return keyable ? json : undefined
}
