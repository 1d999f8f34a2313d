/**
 * The document model (src/core/doc-state.ts) driven by its inputs in order: no driver, no timer. Each test names
 * the invariant it checks (numbered as at the top of doc-state.ts).
 */
import { describe, expect, it } from 'vitest'
import { MAX_HELD, PAST_REVS, initialDocState, isSettled, type DocState } from '../../src/core/doc-state'
import { docInputs, kinds, run, shown, told, type Tag } from '../helpers/doc-model'

const { now, upsert, del, sent, answered } = docInputs()

/** A document read at `rev` with content n: 1. */
function readAt(rev: string | number): DocState<Tag> {
  return run(initialDocState<Tag>(), sent(), answered(1, rev)).state
}

describe('document model', () => {
  it('starts unknown and unsettled; its first read settles it quietly (the status tells)', () => {
    const s0 = initialDocState<Tag>()
    expect(isSettled(s0)).toBe(false)
    const { state, effects } = run(s0, sent(), answered(1, 'r1'))
    expect(isSettled(state)).toBe(true)
    expect(shown(state)).toEqual({ n: 1 })
    expect(effects).toContainEqual({ type: 'show', doc: { n: 1 }, quiet: true })
  })

  it('invariant 1: an event applies on the revision it continues; a gap is held, then filled in chain order', () => {
    const { state, effects } = run(readAt('r1'), upsert(3, 'r3', 'r2'), upsert(4, 'r4', 'r3'))
    expect(shown(state)).toEqual({ n: 1 })
    expect(state.held).toHaveLength(2)
    const filled = run(state, upsert(2, 'r2', 'r1'))
    expect(shown(filled.state)).toEqual({ n: 4 })
    expect(filled.state.held).toHaveLength(0)
    expect(told(filled.effects, 'applied')).toEqual(['r2', 'r3', 'r4'])
    expect(kinds(effects)).not.toContain('read')
  })

  it('invariant 1: a gap not filled in time is settled by a read, which supersedes the held events', () => {
    const { state, effects } = run(readAt('r1'), upsert(3, 'r3', 'r2'), { type: 'gapTimeout' })
    expect(kinds(effects)).toContain('read')
    const after = run(state, sent(), answered(3, 'r3'))
    expect(shown(after.state)).toEqual({ n: 3 })
    expect(told(after.effects, 'superseded')).toEqual(['r3'])
  })

  it('duplicates are applied once; their news is still current', () => {
    const { state, effects } = run(readAt('r1'), upsert(2, 'r2', 'r1', 'id'), upsert(2, 'r2', 'r1', 'query'))
    expect(effects.filter((e) => e.type === 'show')).toHaveLength(1)
    expect(effects.filter((e) => e.type === 'applied').map((e) => (e as { tag: Tag }).tag)).toEqual(['id', 'query'])
    expect(shown(state)).toEqual({ n: 2 })
  })

  it('invariant 2: a revision seen superseded is in the past, whichever watch delivers it', () => {
    const { state } = run(readAt('r1'), upsert(2, 'r2', 'r1', 'id'), upsert(3, 'r3', 'r2', 'id'))
    const late = run(state, upsert(2, 'r2', 'r1', 'query'))
    expect(shown(late.state)).toEqual({ n: 3 })
    expect(late.effects).toContainEqual({ type: 'decision', e: expect.objectContaining({ rev: 'r2' }), decision: 'stale' })
  })

  it('issue 22 (1): a late creation after a deletion is not applied on a guess; a read settles it', () => {
    // Created (r0) and updated (r1) while the id watch was offline; the read returns r1; the deletion continues r1;
    // then the creation arrives late from a query watch, with no previous revision.
    const { state } = run(readAt('r1'), del('r2', 'r1', 'id'))
    expect(shown(state)).toBeNull()
    const late = run(state, upsert(0, 'r0', null, 'query'))
    expect(shown(late.state)).toBeNull()
    expect(kinds(late.effects)).toContain('read')
    expect(kinds(late.effects)).not.toContain('show')
    const settled = run(late.state, sent(), answered(null))
    expect(shown(settled.state)).toBeNull()
    expect(told(settled.effects, 'superseded')).toEqual(['r0'])
    // Its revision is now known passed: delivered again, it is stale at once.
    const again = run(settled.state, upsert(0, 'r0', null, 'query'))
    expect(kinds(again.effects)).not.toContain('read')
    expect(shown(again.state)).toBeNull()
  })

  it('issue 22 (1): a genuine re-creation after a deletion is shown once the read confirms it', () => {
    const { state } = run(readAt('r1'), del('r2', 'r1'))
    const created = run(state, upsert(5, 'r5', null), sent(), answered(5, 'r5'))
    expect(shown(created.state)).toEqual({ n: 5 })
  })

  it('issue 22 (1): a creation held while the document existed does not apply after its deletion', () => {
    // Events reach the document while its read is in flight; the read shows r3; the creation that began the chain
    // waits (a delete might continue what is shown), then the delete comes: nothing places the creation.
    const { state } = run(initialDocState<Tag>(), sent(), upsert(1, 'r1', null), upsert(2, 'r2', 'r1'), upsert(3, 'r3', 'r2'), answered(3, 'r3'))
    expect(shown(state)).toEqual({ n: 3 })
    const gone = run(state, del('r4', 'r3'))
    expect(shown(gone.state)).toBeNull()
    expect(gone.state.held).toHaveLength(0)
    expect(kinds(gone.effects)).toContain('read')
  })

  it('with numeric revisions, a re-creation newer than the deletion applies without a read', () => {
    const { state, effects } = run(readAt(1), upsert(9, 9, null), del(5, 1))
    expect(shown(state)).toEqual({ n: 9 })
    expect(kinds(effects)).not.toContain('read')
  })

  it('Kuzzle seed 720834: a change without a chain on a document read as missing is not applied on a guess', () => {
    // Clock revisions and no previous revision: a late notification of a deleted document.
    const missing = run(initialDocState<Tag>(), sent(), answered(null)).state
    const late = run(missing, upsert(2, 1000))
    expect(shown(late.state)).toBeNull()
    expect(kinds(late.effects)).toContain('read')
    expect(run(late.state, sent(), answered(null)).state.known.kind).toBe('missing')
  })

  it('without a chain, a numeric revision newer than a known deletion applies (a re-creation)', () => {
    const { state } = run(readAt(100), del(200))
    const created = run(state, upsert(7, 300))
    expect(shown(created.state)).toEqual({ n: 7 })
    expect(kinds(created.effects)).not.toContain('read')
  })

  it('invariant 3: a read supersedes every event received before it was sent, whatever its revision says', () => {
    // A revision "from the future" (a hostile server) does not freeze the document: the next read replaces it.
    const { state } = run(readAt(1), upsert(666, 9_999_999_999))
    expect(shown(state)).toEqual({ n: 666 })
    const read = run(state, sent(), answered(2, 2))
    expect(shown(read.state)).toEqual({ n: 2 })
  })

  it('invariant 3: events received after the read was sent are placed on its answer', () => {
    const s = run(readAt('r1'), sent(), upsert(3, 'r3', 'r2'), answered(2, 'r2'))
    expect(shown(s.state)).toEqual({ n: 3 })
    expect(told(s.effects, 'applied')).toEqual(['r3'])
  })

  it('invariant 3: events received before the read was sent are superseded, and their revisions passed', () => {
    const { state } = run(readAt('r1'))
    const wanted = run(state, { type: 'readWanted' }, upsert(2, 'r2', 'r1'), sent(), answered(3, 'r3'))
    expect(shown(wanted.state)).toEqual({ n: 3 })
    expect(told(wanted.effects, 'superseded')).toEqual(['r2'])
    expect(wanted.state.past).toContain('r2')
  })

  it('invariant 4: memory per document is bounded', () => {
    let s = readAt('r1')
    for (let i = 0; i < MAX_HELD + 10; i++) s = run(s, upsert(i, `x${i}`, `gap${i}`)).state
    expect(s.held.length).toBeLessThanOrEqual(MAX_HELD)
    expect(s.reading?.asked).toBe(true)
    let t = readAt('r0')
    for (let i = 1; i < 100; i++) t = run(t, upsert(i, `r${i}`, `r${i - 1}`)).state
    expect(t.past.length).toBe(PAST_REVS)
    expect(shown(t)).toEqual({ n: 99 })
  })

  it('invariant 5: every event is answered at most once; only stale news that it matched goes unanswered', () => {
    const inputs = [upsert(3, 'r3', 'r2', 't3'), upsert(2, 'r2', 'r1', 't2'), upsert(2, 'r2', 'r1', 't2b'), del('r4', 'r3', 't4'), del('r4', 'r3', 't4b'), upsert(1, 'r1', null, 't1')]
    const { effects } = run(readAt('r1'), ...inputs)
    const answered = effects.filter((e) => e.type === 'applied' || e.type === 'superseded').map((e) => (e as { tag: Tag }).tag)
    // t2b came after r3 was applied (stale news that it matched); t4b is a duplicate of the delete (current news).
    expect(answered.sort()).toEqual(['t2', 't3', 't4', 't4b'])
    // The creation r1 is older than what is known (r1 was passed): stale news that it matched, followed by newer.
    expect(effects).toContainEqual({ type: 'decision', e: expect.objectContaining({ rev: 'r1' }), decision: 'stale' })
  })

  it("issue 22 (2): a search's content never replaces newer content the document knows", () => {
    const { state } = run(readAt('r1'), upsert(2, 'r2', 'r1'))
    const page = run(state, { type: 'offer', doc: { _id: 'a', _source: { n: 1 }, _rev: 'r1' }, seq: now() - 1, fromEvent: false })
    expect(page.kept).toBe(true)
    expect(shown(page.state)).toEqual({ n: 2 })
    // Numeric: an older page is kept out too, and content no read confirmed is read again.
    const n = run(readAt(1), upsert(5, 5, 1))
    const older = run(n.state, { type: 'offer', doc: { _id: 'a', _source: { n: 3 }, _rev: 3 }, seq: now() - 1, fromEvent: false })
    expect(older.kept).toBe(true)
    expect(shown(older.state)).toEqual({ n: 5 })
    expect(kinds(older.effects)).toContain('read')
  })

  it("a search's page settles a new document; events that came meanwhile are placed on it", () => {
    const s0 = initialDocState<Tag>()
    const { state } = run(s0, upsert(2, 'r2', 'r1'), { type: 'offer', doc: { _id: 'a', _source: { n: 1 }, _rev: 'r1' }, seq: 0, fromEvent: false })
    expect(isSettled(state)).toBe(true)
    expect(shown(state)).toEqual({ n: 2 })
  })

  it('hydrated content shows until the first read, which confirms or replaces it', () => {
    const { state } = run(initialDocState<Tag>(), { type: 'hydrate', doc: { n: 1 }, rev: 'r1' })
    expect(isSettled(state)).toBe(false)
    expect(shown(state)).toEqual({ n: 1 })
    const read = run(state, sent(), answered(2, 'r2'))
    expect(isSettled(read.state)).toBe(true)
    expect(read.effects).toContainEqual({ type: 'show', doc: { n: 2 }, quiet: false })
  })

  it('the input state is never modified', () => {
    const s = readAt('r1')
    const frozen = JSON.stringify(s)
    run(s, upsert(3, 'r3', 'r2'), upsert(2, 'r2', 'r1'), del('r4', 'r3'), sent(), answered(null))
    expect(JSON.stringify(s)).toBe(frozen)
  })

  it("shown: the shell's equal frozen copy replaces the known content (held once), changing nothing else", () => {
    const s0 = readAt('r1')
    const doc = shown(s0)!
    const copy = Object.freeze({ ...doc })
    const { state, effects } = run(s0, { type: 'shown', doc, as: copy })
    expect(effects).toEqual([])
    expect(shown(state)).toBe(copy)
    expect(state.known).toMatchObject({ kind: 'content', rev: 'r1', from: 'read' })
    // Not the content known any more (a newer one came): nothing is replaced.
    const later = run(s0, upsert(2, 'r2', 'r1')).state
    expect(run(later, { type: 'shown', doc, as: copy }).state).toEqual(later)
  })

  it('invariant 1: a creation older only by the clock than content no read confirmed is read, not trusted to be stale', () => {
    // Kuzzle: content read at 1000; a deletion stamped 1020 by a node whose clock runs ahead; the document created
    // again, stamped 1012 by another node. The creation continues nothing known: only a read can place it.
    const gone = run(readAt(1000), del(1020)).state
    expect(gone.known.kind).toBe('missing')
    const { state, effects } = run(gone, upsert(5, 1012, null))
    expect(kinds(effects)).toContain('read')
    const after = run(state, sent(), answered(5, 1012))
    expect(shown(after.state)).toEqual({ n: 5 })
    // A change without a chain, older than what a read confirmed, is stale and not read again (the read stands).
    expect(kinds(run(readAt(1000), upsert(4, 990)).effects)).not.toContain('read')
  })
})
