/**
 * The search view model (src/core/search-view.ts): its rules checked with the model's inputs in order, no driver,
 * no timer. Rows are sorted by `n` ascending.
 */
import { describe, expect, it } from 'vitest'
import { comparator, normalizeSort } from '../../src/core/sort'
import { hasMore, initialView, placeable, proven, shownRows, stepView, type ViewEffect, type ViewInput, type ViewState } from '../../src/core/search-view'

type S = { n: number }
const order = comparator(normalizeSort('n'))
const row = (id: string, n: number) => ({ _id: id, _source: { n } })
const ids = (v: ViewState<S>) => shownRows(v).map((r) => r._id)

/** Runs inputs from `state`, collecting every effect. */
function run(state: ViewState<S>, inputs: ViewInput<S>[], margin = 0) {
  const effects: ViewEffect[] = []
  for (const input of inputs) {
    const r = stepView(state, input, order, margin)
    state = r.state
    effects.push(...r.effects)
  }
  return { state, effects }
}

/** A view of window `size` whose first page answered `rows` out of `total` matches. */
function loaded(size: number, rows: Array<[string, number]>, total: number, margin = 0) {
  const asked = size + margin
  return run(
    initialView<S>(size),
    [{ type: 'readWanted' }, { type: 'readSent', at: 1 }, { type: 'pageAnswered', rows: rows.map(([id, n]) => row(id, n)), total, asked, moved: [] }],
    margin,
  ).state
}

const news = (id: string, n: number | null, matches = n !== null): ViewInput<S> => ({ type: 'news', id, source: n === null ? null : { n }, matches })

describe('search view', () => {
  it('asks for its window and its spares, then shows the window of the answer', () => {
    const first = run(initialView<S>(2), [{ type: 'readWanted' }], 1)
    expect(first.effects).toEqual([{ type: 'read', size: 3 }])
    const page = run(first.state, [{ type: 'readSent', at: 1 }, { type: 'pageAnswered', rows: [row('b', 2), row('a', 1), row('c', 3)], total: 9, asked: 3, moved: [] }], 1)
    expect(ids(page.state)).toEqual(['a', 'b'])
    expect(page.state).toMatchObject({ total: 9, complete: false })
    expect(hasMore(page.state)).toBe(true)
    expect(page.effects).toEqual([{ type: 'show' }])
  })

  it('a short page is every match: any match is placed and counted without asking', () => {
    const v = loaded(5, [['a', 1], ['b', 2]], 2)
    expect(v.complete).toBe(true)
    const r = run(v, [news('z', 10)])
    expect(ids(r.state)).toEqual(['a', 'b', 'z'])
    expect(r.state.total).toBe(3)
    expect(r.effects).toEqual([{ type: 'show' }])
    expect(hasMore(r.state)).toBe(false)
  })

  it('an entry pushes the last row out of the window, into the spares, without a page read', () => {
    const v = loaded(2, [['a', 1], ['b', 3]], 5)
    const r = run(v, [news('x', 2)], 1)
    expect(ids(r.state)).toEqual(['a', 'x'])
    expect(r.state.rows.map((x) => x._id)).toEqual(['a', 'x', 'b'])
    // Whether it matched before (beyond the rows) the event does not say: one count, no page.
    expect(r.effects).toEqual([{ type: 'count' }, { type: 'show' }])
    expect(proven(r.state)).toBe(true)
  })

  it('an exit moves a spare up without a read; with no spare left, the window is read again', () => {
    const v = loaded(2, [['a', 1], ['b', 2], ['c', 3]], 5, 1)
    const exit = run(v, [news('a', 1, false)], 1)
    expect(ids(exit.state)).toEqual(['b', 'c'])
    expect(exit.state.total).toBe(4)
    expect(exit.effects).toEqual([{ type: 'show' }])
    const again = run(exit.state, [news('b', null)], 1)
    expect(ids(again.state)).toEqual(['c'])
    expect(again.effects).toEqual([{ type: 'read', size: 3 }, { type: 'show' }])
  })

  it('a row moving past the last row leaves the rows (its place is the backend’s to say), unless they are complete', () => {
    const v = loaded(2, [['a', 1], ['b', 2], ['c', 3]], 5, 1)
    const moved = run(v, [news('a', 50)], 1)
    expect(moved.state.rows.map((x) => x._id)).toEqual(['b', 'c'])
    expect(moved.state.total).toBe(5)
    const complete = loaded(3, [['a', 1], ['b', 2]], 2)
    expect(ids(run(complete, [news('a', 50)]).state)).toEqual(['b', 'a'])
  })

  it('news past the last row only counts; news that a document beyond the rows left only counts', () => {
    const v = loaded(2, [['a', 1], ['b', 2]], 5)
    const far = run(v, [news('y', 100)])
    expect(far.effects).toEqual([{ type: 'count' }])
    const left = run(v, [news('y', 100, false)])
    expect(left.effects).toEqual([{ type: 'count' }])
    // Asked once until answered.
    expect(run(v, [news('y', 100), news('w', 101)]).effects).toEqual([{ type: 'count' }])
  })

  it('news the server says left a document matching as it was (matchedBefore) moves no total: no count', () => {
    const v = loaded(2, [['a', 1], ['b', 3], ['c', 4]], 5, 1)
    const stayed = (id: string, n: number, matches = true): ViewInput<S> => ({ type: 'news', id, source: { n }, matches, matchedBefore: matches })
    // An entry from beyond the rows, a change beyond them, a change of a document that never matched.
    const entry = run(v, [stayed('x', 2)], 1)
    expect(ids(entry.state)).toEqual(['a', 'x'])
    expect(entry.state.total).toBe(5)
    expect(entry.effects).toEqual([{ type: 'show' }])
    expect(run(v, [stayed('y', 100)], 1).effects).toEqual([])
    expect(run(v, [stayed('y', 100, false)], 1).effects).toEqual([])
    // Said to have started or stopped matching: counted as before.
    expect(run(v, [{ type: 'news', id: 'y', source: { n: 100 }, matches: true, matchedBefore: false }], 1).effects).toEqual([{ type: 'count' }])
    expect(run(v, [{ type: 'news', id: 'y', source: null, matches: false, matchedBefore: true }], 1).effects).toEqual([{ type: 'count' }])
  })

  it('a count moves the total, never the rows; a count that changes nothing shows nothing', () => {
    const v = loaded(2, [['a', 1], ['b', 2]], 5)
    expect(run(v, [{ type: 'counted', total: 5 }]).effects).toEqual([])
    const r = run(v, [{ type: 'counted', total: 7 }])
    expect(r.state.total).toBe(7)
    expect(r.effects).toEqual([{ type: 'show' }])
    expect(run(v, [{ type: 'counted', total: 0 }]).state.rows.length).toBe(2)
    expect(run(v, [{ type: 'counted', total: Infinity }]).state.total).toBe(5)
  })

  it('news during a page read waits and is placed on its answer', () => {
    const v = loaded(2, [['a', 1], ['b', 2]], 2)
    const r = run(v, [
      { type: 'readWanted' },
      { type: 'readSent', at: 5 },
      news('a', null),
      { type: 'pageAnswered', rows: [row('a', 1), row('b', 2)], total: 2, asked: 2, moved: [] },
    ])
    expect(ids(r.state)).toEqual(['b'])
    expect(r.state.total).toBe(1)
  })

  it('news lost while a page read is in flight reads again once it is answered', () => {
    const v = loaded(2, [['a', 1], ['b', 2]], 2)
    const r = run(v, [{ type: 'readWanted' }, { type: 'readSent', at: 5 }, { type: 'lost' }])
    expect(r.effects.filter((e) => e.type === 'read')).toHaveLength(1)
    const answered = run(r.state, [{ type: 'pageAnswered', rows: [row('a', 1)], total: 1, asked: 2, moved: [] }])
    expect(answered.effects).toContainEqual({ type: 'read', size: 2 })
  })

  it('a row the page placed by older content than its document shows is unsure: the page is read again', () => {
    const v = run(initialView<S>(2), [{ type: 'readWanted' }, { type: 'readSent', at: 1 }])
    const r = run(v.state, [{ type: 'pageAnswered', rows: [row('a', 1), row('b', 2)], total: 4, asked: 2, moved: ['b'] }])
    expect(r.state.unsure).toEqual(['b'])
    expect(r.effects).toContainEqual({ type: 'read', size: 2 })
    // Its news settles it.
    expect(run(r.state, [news('b', 2)]).state.unsure).toEqual([])
  })

  it('content a read gave a row, with no news that it still matches, makes the row unsure (limbo)', () => {
    const v = loaded(2, [['a', 1], ['b', 2]], 2)
    const r = run(v, [{ type: 'content', id: 'a', source: { n: 1 }, proven: false }])
    expect(r.state.unsure).toEqual(['a'])
    expect(r.effects).toEqual([{ type: 'read', size: 2 }])
    // Content that a watch's news proves only places the row.
    expect(run(v, [{ type: 'content', id: 'a', source: { n: 3 }, proven: true }]).effects).toEqual([{ type: 'show' }])
  })

  it('next() grows the window: from the spares if they hold it, else by a read', () => {
    const v = loaded(1, [['a', 1], ['b', 2], ['c', 3]], 9, 2)
    const grown = run(v, [{ type: 'grow', by: 1 }], 2)
    expect(ids(grown.state)).toEqual(['a', 'b'])
    expect(grown.effects).toEqual([{ type: 'show' }])
    const more = run(grown.state, [{ type: 'grow', by: 2 }], 2)
    expect(more.effects).toEqual([{ type: 'read', size: 6 }, { type: 'show' }])
  })

  it('a window keeps its size through entries and exits', () => {
    let v = loaded(3, [['a', 1], ['b', 2], ['c', 3], ['d', 4], ['e', 5]], 20, 2)
    // Spares enough for the two entries (each pushes one out past the window and its spares).
    for (const input of [news('x', 0), news('y', 1.5), news('a', null), news('x', 9, false), news('b', 99)]) {
      v = run(v, [input], 4).state
      expect(shownRows(v)).toHaveLength(3)
    }
    expect(ids(v)).toEqual(['y', 'c', 'd'])
  })

  it('memory is the rows: a document that leaves them is not remembered', () => {
    let v = loaded(2, [['a', 1], ['b', 2]], 2)
    for (let i = 0; i < 1000; i++) v = run(v, [news(`t${i}`, 0.5), news(`t${i}`, null)], 1).state
    expect(v.rows.map((r) => r._id)).toEqual(['a', 'b'])
    expect(JSON.stringify(v).length).toBeLessThan(300)
  })

  it('the input state is never modified', () => {
    const v = loaded(2, [['a', 1], ['b', 2]], 5)
    const copy = JSON.stringify(v)
    run(v, [news('x', 0), { type: 'readWanted' }, { type: 'readSent', at: 3 }, news('a', null), { type: 'counted', total: 1 }])
    expect(JSON.stringify(v)).toBe(copy)
  })

  it('page hits known gone since the read (null content) are neither rows nor counted; the next match is read', () => {
    const v = run(initialView<S>(2), [{ type: 'readWanted' }, { type: 'readSent', at: 1 }])
    const r = run(v.state, [{ type: 'pageAnswered', rows: [row('a', 1), { _id: 'b', _source: null as unknown as S }], total: 4, asked: 2, moved: [] }])
    expect(ids(r.state)).toEqual(['a'])
    expect(r.state).toMatchObject({ total: 3, complete: false })
    expect(r.effects).toContainEqual({ type: 'read', size: 2 })
  })

  it('news during a count in flight counts again once it is answered; before it is sent, it is the same count', () => {
    const v = loaded(2, [['a', 1], ['b', 2]], 5)
    const wanted = run(v, [news('y', 100), news('w', 101)])
    expect(wanted.effects).toEqual([{ type: 'count' }])
    const sent = run(wanted.state, [{ type: 'countSent' }, news('z', 102)])
    expect(sent.state.countAgain).toBe(true)
    const answered = run(sent.state, [{ type: 'counted', total: 7 }])
    expect(answered.state.total).toBe(7)
    expect(answered.effects).toEqual([{ type: 'count' }, { type: 'show' }])
  })

  it('a row leaving after a count set the total is counted again (the count may have left it out already)', () => {
    const v = run(loaded(1, [['a', 1], ['b', 2]], 5, 1), [{ type: 'counted', total: 4 }], 1).state
    const r = run(v, [news('b', null)], 1)
    expect(r.state.total).toBe(3)
    expect(r.effects).toContainEqual({ type: 'count' })
    // Right after a page, its total counted the row: subtracting is enough.
    expect(run(loaded(1, [['a', 1], ['b', 2]], 5, 1), [news('b', null)], 1).effects).not.toContainEqual({ type: 'count' })
  })

  it('a count contradicting complete rows makes them incomplete and reads the page again', () => {
    const v = loaded(5, [['a', 1], ['b', 2]], 2)
    const r = run(v, [{ type: 'counted', total: 3 }])
    expect(r.state.complete).toBe(false)
    expect(r.effects).toContainEqual({ type: 'read', size: 5 })
  })

  it('rule 4: a live view holds at most its spares past the window; an entry pushes the last one out, and the rows are then not every match', () => {
    const v = loaded(2, [['a', 1], ['b', 2], ['c', 3]], 3, 1)
    expect(v.complete).toBe(true)
    const r = run(v, [news('x', 0)], 1)
    expect(r.state.rows.map((x) => x._id)).toEqual(['x', 'a', 'b'])
    expect(r.state).toMatchObject({ complete: false, total: 4 })
    expect(ids(r.state)).toEqual(['x', 'a'])
  })

  it('placeable: before the last row, or anywhere once the rows are complete', () => {
    const v = loaded(2, [['a', 1], ['b', 3]], 5)
    expect(placeable(v, row('x', 2), order)).toBe(true)
    expect(placeable(v, row('x', 4), order)).toBe(false)
    expect(placeable(loaded(5, [['a', 1]], 1), row('x', 99), order)).toBe(true)
  })

  it("a 'hits' view: a row moves anywhere, a row gone is not replaced, only growing reads", () => {
    const start = initialView<S>(2, false)
    const v = run(start, [{ type: 'readWanted' }, { type: 'readSent', at: 1 }, { type: 'pageAnswered', rows: [row('a', 1), row('b', 2)], total: 5, asked: 2, moved: [] }]).state
    const moved = run(v, [{ type: 'content', id: 'a', source: { n: 50 }, proven: true }])
    expect(ids(moved.state)).toEqual(['b', 'a'])
    const gone = run(v, [{ type: 'content', id: 'a', source: null, proven: true }])
    expect(ids(gone.state)).toEqual(['b'])
    expect(gone.effects).toEqual([{ type: 'show' }])
    expect(run(gone.state, [{ type: 'grow', by: 2 }]).effects).toContainEqual({ type: 'read', size: 4 })
  })

  it('an exit while a count is under way is left to that count (the entries it was asked for were not added)', () => {
    const v = loaded(1, [['a', 1], ['b', 2]], 5)
    const entered = run(v, [news('x', 0)])
    expect(entered.state.total).toBe(5)
    const exited = run(entered.state, [news('x', null)])
    expect(exited.state.total).toBe(5)
    expect(exited.effects).not.toContainEqual({ type: 'count' }) // the wanted count goes out after it
    const sent = run(entered.state, [{ type: 'countSent' }, news('x', null)])
    expect(sent.state).toMatchObject({ total: 5, countAgain: true })
  })

  it('a count that fails settles nothing: complete rows are the total, and an incomplete view reads its page (memory soak seed 991541)', () => {
    // Complete (a short page): an exit while a count is under way is subtracted, and a failed count leaves it so.
    const complete = loaded(20, [['a', 1], ['b', 2], ['c', 3]], 3)
    const counting = run(complete, [news('x', 9, false), { type: 'countSent' }, news('b', null), { type: 'counted', total: undefined, failed: true }])
    expect(counting.state).toMatchObject({ total: 2, complete: true })
    expect(ids(counting.state)).toEqual(['a', 'c'])
    // Incomplete: the exit was left to the count; the count failed, so the page is read, which counts.
    const partial = loaded(1, [['a', 1], ['b', 2]], 5, 1)
    const failed = run(partial, [news('x', 0), news('x', null), { type: 'countSent' }, { type: 'counted', total: undefined, failed: true }], 1)
    expect(failed.effects).toContainEqual({ type: 'read', size: 2 })
    // News after the count was sent asks for another count first; only if that one fails too is the page read.
    const again = run(partial, [news('x', 0), { type: 'countSent' }, news('x', null), { type: 'counted', total: undefined, failed: true }], 1)
    expect(again.effects.filter((e) => e.type === 'read')).toEqual([])
    expect(again.state.counting).toBe('wanted')
  })
})
