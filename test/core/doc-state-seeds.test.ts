/**
 * Soak and fault-suite seeds whose failure was one document's ordering of events, reads and pages, replayed as the
 * document model's inputs in order (src/core/doc-state.ts): no driver, no timer. test/SEEDS.md maps every seed to
 * the invariant it broke and to the test that guards it; the numbers below are those at the top of doc-state.ts.
 *
 * Revisions as each backend has them: memory numbers with a chain, Kuzzle numbers (timestamps) without one, Sanity
 * strings with a chain.
 */
import { describe, expect, it } from 'vitest'
import { initialDocState, isSettled, type DocEffect, type DocInput, type DocState } from '../../src/core/doc-state'
import type { Rev } from '../../src/core/types'
import { docInputs, kinds, run, shown, type Tag } from '../helpers/doc-model'

const { now, point, upsert, del, sent, answered, offer } = docInputs()
const wanted: DocInput<Tag> = { type: 'readWanted' }
const gapTimeout: DocInput<Tag> = { type: 'gapTimeout' }
const shows = (effects: DocEffect<Tag>[]) => effects.filter((e) => e.type === 'show')
/** [revision, tag] of every event told `applied` or `superseded`. */
const told = (effects: DocEffect<Tag>[], type: 'applied' | 'superseded') =>
  effects.filter((e): e is Extract<DocEffect<Tag>, { type: typeof type }> => e.type === type).map((e) => [e.e.rev, e.tag])
const decisions = (effects: DocEffect<Tag>[]) =>
  effects.filter((e): e is Extract<DocEffect<Tag>, { type: 'decision' }> => e.type === 'decision').map((e) => [e.e.rev, e.decision])

/** A document read at `rev` with content n: 1. */
function readAt(rev: Rev): DocState<Tag> {
  return run(initialDocState<Tag>(), sent(), answered(1, rev)).state
}

/** A document whose first read found it missing. */
function readMissing(): DocState<Tag> {
  return run(initialDocState<Tag>(), sent(), answered(null)).state
}

describe('memory seeds', () => {
  it('memory seed 20: a change held for a gap from an id watch and a query watch is told to both once a read fills the gap', () => {
    // Invariant 5 (and 3): each watch keeps its own copy of a held change, and the read that fills the gap answers
    // every copy, superseded (the revisions missed before it may have left the query and come back: issue 22, and
    // sanity seed 100288). Once, the read dropped the query watch's callback: its search never learnt of the entry.
    const held = run(readAt(1), upsert(3, 3, 2, 'id'), upsert(3, 3, 2, 'query'))
    expect(held.state.held.map((h) => h.tag)).toEqual(['id', 'query'])
    expect(shown(held.state)).toEqual({ n: 1 })
    const filled = run(held.state, gapTimeout, sent(), answered(3, 3))
    expect(kinds(filled.effects).filter((k) => k === 'read')).toHaveLength(1)
    expect(shown(filled.state)).toEqual({ n: 3 })
    expect(told(filled.effects, 'superseded')).toEqual([
      [3, 'id'],
      [3, 'query'],
    ])
    expect(told(filled.effects, 'applied')).toEqual([])
    expect(filled.state.held).toEqual([])
    expect(filled.state.reading).toBeNull()
  })

  it('memory seed 253: news that the document left a query, older than a read, still reaches its search', () => {
    // Invariant 5: a stale "left the query" is answered superseded (no newer news of the document comes from a
    // watch it no longer matches); it was dropped silently and the search kept the hit.
    const { state } = run(readAt(1), wanted, sent(), answered(3, 3))
    const late = run(state, upsert(2, 2, 1, 'query', false))
    expect(decisions(late.effects)).toEqual([[2, 'stale']])
    expect(told(late.effects, 'superseded')).toEqual([[2, 'query']])
    expect(shows(late.effects)).toEqual([])
    expect(shown(late.state)).toEqual({ n: 3 })
    // The same news while it still matched is followed by newer news from that watch: it goes unanswered.
    const matched = run(state, upsert(2, 2, 1, 'query', true))
    expect(told(matched.effects, 'superseded')).toEqual([])
    expect(told(matched.effects, 'applied')).toEqual([])
  })

  it('memory seed 597: events received before a read that finds the document missing do not bring it back', () => {
    // Invariant 3: the read supersedes every event received before it was sent; once they were replayed on top of
    // the missing document (no revision to order them) and the deleted document came back.
    const r = run(readAt(1), wanted, upsert(3, 2, 1, 'id'), sent(), answered(null))
    expect(shown(r.state)).toBeNull()
    expect(r.state.known).toMatchObject({ kind: 'missing', from: 'read' })
    expect(shows(r.effects)).toEqual([{ type: 'show', doc: null, quiet: false }])
    expect(told(r.effects, 'superseded')).toEqual([[2, 'id']])
    expect(told(r.effects, 'applied')).toEqual([])
    expect(kinds(r.effects)).not.toContain('notFound') // it existed
  })

  it('memory seed 74: a page offered while the own read of a document last read missing is in flight is shown until the read lands', () => {
    // Offers (invariant 3's reading): the own read decides, and until it lands a document not showing content shows
    // the page's. The page was ignored, and the search dropped the hit for good.
    const { state } = run(readMissing(), wanted, sent())
    const page = run(state, offer(7, 1, now()))
    expect(page.kept).toBe(false)
    expect(shown(page.state)).toEqual({ n: 7 })
    expect(page.state.known).toMatchObject({ kind: 'content', from: 'page' })
    expect(page.effects).toEqual([{ type: 'show', doc: { n: 7 }, quiet: false }])
    const read = run(page.state, answered(7, 1))
    expect(shown(read.state)).toEqual({ n: 7 })
    expect(read.state.known).toMatchObject({ kind: 'content', from: 'read', rev: 1 })
    expect(read.state.reading).toBeNull()
  })

  it("memory seed 181: the first read of a document a search already showed is a change (not quiet), so the search re-sorts", () => {
    // Legal states: a page's content shown while the first read is in flight is `provisional` (not settled); the read
    // that replaces it is announced as a change. It was applied quietly, and the search kept a stale order.
    const first = run(initialDocState<Tag>(), sent(), offer(4, 1, now()))
    expect(isSettled(first.state)).toBe(false)
    expect(first.effects).toEqual([{ type: 'show', doc: { n: 4 }, quiet: true }])
    const read = run(first.state, answered(6, 2))
    expect(isSettled(read.state)).toBe(true)
    expect(shows(read.effects)).toEqual([{ type: 'show', doc: { n: 6 }, quiet: false }])
    // The same when the page settled the document before its own read was sent.
    const paged = run(initialDocState<Tag>(), offer(4, 1, now()))
    expect(paged.effects).toEqual([{ type: 'show', doc: { n: 4 }, quiet: true }])
    const later = run(paged.state, wanted, sent(), answered(6, 2))
    expect(shows(later.effects)).toEqual([{ type: 'show', doc: { n: 6 }, quiet: false }])
  })
})

describe('memory soak seeds (the search view model era)', () => {
  it('memory seed 1090152: a late creation on a document a read found missing is placed by a read, not applied', () => {
    // Invariant 1: "missing" with no revision is the state both before a creation and after its deletion. The id
    // watch delivered, late, a creation and an update from before it last followed the document; the deletion came
    // while it did not follow it, so it never comes. Applied on the read's "missing", they showed a deleted document
    // live for good.
    const missing = run(initialDocState<Tag>(), sent())
    const late = run(missing.state, upsert(1, 21, null, 'id'), upsert(2, 22, 21, 'id'), answered(null))
    expect(shown(late.state)).toBeNull()
    expect(kinds(late.effects)).toContain('read')
    // The read sent after them supersedes them: still missing.
    const settled = run(late.state, sent(), answered(null))
    expect(shown(settled.state)).toBeNull()
    expect(told(settled.effects, 'superseded').map(([rev]) => rev)).toEqual([21, 22])
    // A creation the read shows is taken from it.
    const created = run(late.state, sent(), answered(2, 22))
    expect(shown(created.state)).toEqual({ n: 2 })
    // A creation after a deletion whose revision is known still applies at once (numbers compare).
    const deleted = run(readAt(5), del(6, 5))
    expect(shown(run(deleted.state, upsert(3, 7, null)).state)).toEqual({ n: 3 })
  })
})

describe('Kuzzle seeds (timestamp revisions, no chain)', () => {
  it('kuzzle seed 169: a page read before a read that found the document missing does not bring it back', () => {
    // Invariant 3: a change received before the read was sent is superseded by it even without a chain; content a
    // search read before that read started is older than it. Once, such events were ordered against a sync a
    // search started from inside them, and a deleted document came back.
    const before = now()
    const r = run(readAt(100), wanted, upsert(2, 200, undefined, 'id'), sent(), answered(null))
    expect(shown(r.state)).toBeNull()
    expect(told(r.effects, 'superseded')).toEqual([[200, 'id']])
    const page = run(r.state, offer(2, 200, before))
    expect(page.kept).toBe(true)
    expect(page.effects).toEqual([])
    expect(shown(page.state)).toBeNull()
  })

  it("kuzzle seed 236: a page older than the document's content is told so (kept), and content only an event gave is read again", () => {
    // Invariant 1, one comparison for offers too: the page's older revision does not replace the newer content, and
    // `kept` tells the search not to place the hit by the page's sort values. The hit kept its newer content at the
    // place the older page gave it, while matches not fetched sorted before it.
    const pageAt = now()
    const { state } = run(readAt(100), upsert(5, 200))
    expect(shown(state)).toEqual({ n: 5 })
    const page = run(state, offer(1, 100, pageAt))
    expect(page.kept).toBe(true)
    expect(shown(page.state)).toEqual({ n: 5 })
    expect(page.effects).toEqual([{ type: 'read' }]) // known newer only by an event's clock: a read confirms it
  })

  it('kuzzle seed 101603: a page read before the event that brought back a forgotten document is older than its content', () => {
    // Invariant 1 (stream points order a page against an event). The fix was the shell's (every event advances the
    // count, also for a document nobody held): the appearance's stream point is after the page's, so the page is
    // known older. At the same point the model could not tell, and the hit stayed at the older page's place.
    const pageAt = point()
    const appeared = run(initialDocState<Tag>(true), offer(8, 2, point(), true))
    expect(appeared.effects).toEqual([
      { type: 'show', doc: { n: 8 }, quiet: true },
      { type: 'read' }, // seen again through an event after its entry was disposed: a read settles it
    ])
    const page = run(appeared.state, sent(), offer(1, 1, pageAt))
    expect(page.kept).toBe(true)
    expect(shows(page.effects)).toEqual([])
    expect(shown(page.state)).toEqual({ n: 8 })
  })

  it('kuzzle seed 103332: a document whose own read is pending still says it shows newer content than an older page', () => {
    // Invariant 1: while its own read is in flight the document keeps the event's content and tells the search
    // (kept) that the page's sort values are older. It said nothing, and the search placed the hit by the page.
    const pageAt = point()
    const { state } = run(readAt(100), upsert(5, 200), wanted, sent())
    const page = run(state, offer(1, 100, pageAt))
    expect(page.kept).toBe(true)
    expect(page.effects).toEqual([])
    expect(shown(page.state)).toEqual({ n: 5 })
    const read = run(page.state, answered(5, 200))
    expect(shown(read.state)).toEqual({ n: 5 })
  })
})

describe('Sanity seeds (string revisions with a chain)', () => {
  it('sanity seed 1933: content a search offers at a revision the document has passed is ignored', () => {
    // Invariant 2: a string revision seen superseded is in the past for offers too (numbers compare; strings need
    // the memory). A search replaying an older appearance put the document back to older content.
    const { state } = run(readAt('r1'), upsert(2, 'r2', 'r1'), upsert(3, 'r3', 'r2'))
    const replay = run(state, offer(2, 'r2', now(), true))
    expect(replay.kept).toBe(true)
    expect(replay.effects).toEqual([])
    expect(shown(replay.state)).toEqual({ n: 3 })
  })

  it('sanity seed 1667: a creation delivered after the delete that followed it is stale', () => {
    // Invariant 2: the revision an applied change continued is passed, so its own event arriving late is stale. The
    // creation brought the deleted document back.
    const gone = run(readMissing(), del('r2', 'r1'))
    expect(gone.state.past).toContain('r1')
    const late = run(gone.state, upsert(1, 'r1', null, 'query', true))
    expect(decisions(late.effects)).toEqual([['r1', 'stale']])
    expect(kinds(late.effects)).toEqual(['decision']) // no show, no read: the chain places it
    expect(shown(late.state)).toBeNull()
  })

  it("sanity seed 1602: an event's content a search buffered during its page read is older than a read the document shows since", () => {
    // Invariant 3: content received before the read the document shows was sent is older than it. The search offered
    // the buffered event's content as current, and the document went back to content that no longer matched.
    const arrived = point()
    point() // another event (another document) before the read is sent
    const { state } = run(initialDocState<Tag>(), sent(), answered(2, 'r2'))
    const replay = run(state, offer(1, 'r1', arrived, true))
    expect(replay.kept).toBe(true)
    expect(replay.effects).toEqual([])
    expect(shown(replay.state)).toEqual({ n: 2 })
  })

  // The same with no other event between the buffered event and the read: the read is sent at the event's own stream
  // point (it covers the event), and the document never received an event itself (`lastSeq` 0). Found by the model
  // test above (offer refused only `seq < known.asOf`); the shell gives these numbers (query-pool counts the event,
  // the search buffers it at currentSeq(), the read is sent at currentSeq()).
  it('sanity seed 1602, same stream point: an event the read covers (received before it was sent) does not replace the read', () => {
    const arrived = point()
    const { state } = run(initialDocState<Tag>(), sent(), answered(2, 'r2'))
    const replay = run(state, offer(1, 'r1', arrived, true))
    expect(shown(replay.state)).toEqual({ n: 2 })
    expect(replay.kept).toBe(true)
    expect(replay.effects).toEqual([])
  })

  it('sanity seed 1514: a creation held for a gap does not apply once a later revision deletes the document', () => {
    // Invariants 1 and 2: the late creation cannot continue what is shown (held); once the document is deleted no
    // event can place it, so a read does, and supersedes it. Reordered create and delete left a deleted document live.
    const held = run(readAt('r2'), upsert(1, 'r1', null, 'query', true))
    expect(decisions(held.effects)).toEqual([['r1', 'held']])
    const gone = run(held.state, del('r3', 'r2', 'id'))
    expect(shown(gone.state)).toBeNull()
    expect(gone.state.held).toEqual([])
    expect(kinds(gone.effects)).toEqual(['decision', 'show', 'applied', 'read'])
    const read = run(gone.state, sent(), answered(null))
    expect(shown(read.state)).toBeNull()
    expect(shows(read.effects)).toEqual([])
    expect(told(read.effects, 'superseded')).toEqual([['r1', 'query']])
    expect(read.state.past).toContain('r1')
  })

  it('sanity seed 102728: a late change from before a deletion waits for its gap and a read, on a document read as missing', () => {
    // Invariant 1: a change from a revision a missing document does not know is held for its gap, not applied on a
    // guess (a missing document had no revision to order it by). A replaced listener resumed its history after the
    // document was read as deleted, and the stale change was applied.
    const held = run(readMissing(), upsert(2, 'r2', 'r1', 'id'))
    expect(decisions(held.effects)).toEqual([['r2', 'held']])
    expect(shown(held.state)).toBeNull()
    const read = run(held.state, gapTimeout, sent(), answered(null))
    // This entry never saw the document exist: not found, as its first read said.
    expect(kinds(read.effects)).toEqual(['read', 'notFound', 'superseded'])
    expect(told(read.effects, 'superseded')).toEqual([['r2', 'id']])
    expect(shown(read.state)).toBeNull()
    // An entry that saw the revision the change continues, then read the document as deleted: stale at once.
    const seen = run(readAt('r1'), wanted, sent(), answered(null))
    expect(shows(seen.effects)).toEqual([{ type: 'show', doc: null, quiet: false }])
    const late = run(seen.state, upsert(2, 'r2', 'r1', 'id'))
    expect(kinds(late.effects)).toEqual(['decision'])
    expect(decisions(late.effects)).toEqual([['r2', 'stale']])
    expect(shown(late.state)).toBeNull()
  })

  it("sanity seed 100726: a page hit whose document was missing and holds a change for its gap is shown while the gap's read is in flight", () => {
    // Invariant 3's reading, exposed by holding (seed 102728): the creation was lost, the next change waits for the
    // gap, and the page read meanwhile is shown until the read lands. The hit was dropped for having no content.
    const pageAt = now()
    const { state } = run(readMissing(), upsert(2, 'r2', 'r1', 'query', true), gapTimeout, sent())
    const page = run(state, offer(2, 'r2', pageAt))
    expect(page.kept).toBe(false)
    expect(page.effects).toEqual([{ type: 'show', doc: { n: 2 }, quiet: false }])
    const read = run(page.state, answered(2, 'r2'))
    expect(shown(read.state)).toEqual({ n: 2 })
    expect(read.state.known).toMatchObject({ kind: 'content', from: 'read', rev: 'r2' })
    expect(told(read.effects, 'superseded')).toEqual([['r2', 'query']])
    // The page before the gap's read is sent: not kept (the search keeps the hit), and a read settles the gap.
    const missing = readMissing()
    const earlyAt = now()
    const early = run(run(missing, upsert(2, 'r2', 'r1', 'query', true)).state, offer(2, 'r2', earlyAt))
    expect(early.kept).toBe(false)
    expect(early.effects).toEqual([{ type: 'read' }])
  })

  it('sanity seed 104805: events received before a read was sent do not apply after it, even once a delete follows', () => {
    // Invariant 3: the read supersedes them and passes their revisions (invariant 2); once they were applied after
    // the delete, as if the document had been re-created.
    const { state, effects } = run(initialDocState<Tag>(), upsert(1, 'r1', null, 'id'), upsert(2, 'r2', 'r1', 'id'), sent(), answered(3, 'r3'))
    expect(shown(state)).toEqual({ n: 3 })
    expect(told(effects, 'superseded')).toEqual([
      ['r1', 'id'],
      ['r2', 'id'],
    ])
    expect(state.past).toEqual(expect.arrayContaining(['r1', 'r2']))
    const gone = run(state, del('r4', 'r3', 'id'), upsert(1, 'r1', null, 'query', true), upsert(2, 'r2', 'r1', 'query', true))
    expect(shown(gone.state)).toBeNull()
    expect(decisions(gone.effects)).toEqual([
      ['r4', 'applied'],
      ['r1', 'stale'],
      ['r2', 'stale'],
    ])
    expect(kinds(gone.effects)).not.toContain('read')
  })

  it('sanity seed 104805 (under load) and 105805: a held creation whose later changes lead to a passed revision does not apply after a delete', () => {
    // Invariants 1 and 2: the same history arriving while the read is in flight is placed on its answer: the event of
    // the read's revision is a duplicate (its previous revision passed), the change before it is then stale, and the
    // creation no event can place is settled by a read.
    const { state, effects } = run(initialDocState<Tag>(), sent(), upsert(1, 'r1', null, 'id'), upsert(2, 'r2', 'r1', 'id'), upsert(3, 'r3', 'r2', 'id'), answered(3, 'r3'))
    expect(shown(state)).toEqual({ n: 3 })
    expect(decisions(effects).slice(3)).toEqual([
      ['r1', 'held'],
      ['r2', 'held'],
      ['r3', 'duplicate'],
    ])
    const gone = run(state, del('r4', 'r3', 'id'))
    expect(shown(gone.state)).toBeNull()
    expect(gone.state.held).toEqual([])
    expect(decisions(gone.effects)).toEqual([
      ['r4', 'applied'],
      ['r2', 'stale'],
    ])
    expect(kinds(gone.effects)).toContain('read')
    const read = run(gone.state, sent(), answered(null))
    expect(shown(read.state)).toBeNull()
    expect(shows(read.effects)).toEqual([])
    expect(told(read.effects, 'superseded')).toEqual([['r1', 'id']])
  })

  it('sanity seed 100288: an event held for a gap that a read fills is superseded, even at the read\'s revision', () => {
    // Invariants 3 and 5: the read supersedes the held event; its query watch's searches ask again (the revisions
    // missed may have left the query and come back). It was told applied, and a count stayed one short.
    const r = run(readAt('r1'), upsert(3, 'r3', 'r2', 'query', true), gapTimeout, sent(), answered(3, 'r3'))
    expect(shown(r.state)).toEqual({ n: 3 })
    expect(told(r.effects, 'superseded')).toEqual([['r3', 'query']])
    expect(told(r.effects, 'applied')).toEqual([])
  })

  it('sanity seed 102167: content a search offers from an event keeps the delete the document holds for its gap', () => {
    // Invariant 1: the offer fills the gap and the held delete applies on top, in chain order. The offered content
    // dropped the held delete, and the deleted document stayed.
    const held = run(readAt('r1'), del('r3', 'r2', 'id'))
    expect(decisions(held.effects)).toEqual([['r3', 'held']])
    const r = run(held.state, offer(2, 'r2', point(), true))
    expect(r.kept).toBe(false)
    expect(shows(r.effects)).toEqual([
      { type: 'show', doc: { n: 2 }, quiet: false },
      { type: 'show', doc: null, quiet: false },
    ])
    expect(told(r.effects, 'applied')).toEqual([['r3', 'id']])
    expect(shown(r.state)).toBeNull()
    expect(r.state.held).toEqual([])
  })

  it('sanity seed 102167: a document seen again through an event after its entry was disposed is read before it is trusted', () => {
    // Legal states (`forgotten`): what the disposed entry knew died with it, so content from an event alone may be a
    // late one. The released document's late change came back as an appearance and stayed.
    const r = run(initialDocState<Tag>(true), offer(2, 'r2', point(), true))
    expect(r.effects).toEqual([{ type: 'show', doc: { n: 2 }, quiet: true }, { type: 'read' }])
    const read = run(r.state, sent(), answered(null))
    expect(shown(read.state)).toBeNull()
    expect(read.effects).toEqual([{ type: 'show', doc: null, quiet: false }])
  })
})
