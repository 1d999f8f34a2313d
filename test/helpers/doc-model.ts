/**
 * Inputs of the document model (src/core/doc-state.ts) for its tests: each test file gets its own stream of event
 * sequence numbers (`now()` is the last one), and helpers to run inputs in order and read what is shown.
 */
import { step, type DocEffect, type DocInput, type DocState } from '../../src/core/doc-state'
import type { DocEvent, Rev } from '../../src/core/types'

export type Tag = string

/** Runs inputs in order from `state`, collecting every effect. */
export function run(state: DocState<Tag>, ...inputs: DocInput<Tag>[]): { state: DocState<Tag>; effects: DocEffect<Tag>[]; kept?: boolean } {
  const effects: DocEffect<Tag>[] = []
  let kept: boolean | undefined
  for (const input of inputs) {
    const next = step(state, input)
    state = next.state
    effects.push(...next.effects)
    kept = next.kept
  }
  return { state, effects, kept }
}

/** Inputs for document `a` on one stream of sequence numbers. */
export function docInputs() {
  let seq = 0
  const ev = (e: Omit<DocEvent, 'id'>, tag: Tag = 'w'): DocInput<Tag> => ({ type: 'event', e: { id: 'a', ...e }, seq: ++seq, tag })
  return {
    /** The sequence number of the last event (or point) so far. */
    now: () => seq,
    /** A stream point with nothing received at it (a page or an event a search kept to itself). */
    point: () => ++seq,
    ev,
    upsert: (n: number, rev: Rev, previousRev?: Rev | null, tag?: Tag, inQuery?: boolean) =>
      ev({ kind: 'upsert', doc: { n }, rev, ...(previousRev === undefined ? {} : { previousRev }), ...(inQuery === undefined ? {} : { inQuery }) }, tag),
    del: (rev: Rev, previousRev?: Rev | null, tag?: Tag) => ev({ kind: 'delete', rev, ...(previousRev === undefined ? {} : { previousRev }) }, tag),
    sent: (): DocInput<Tag> => ({ type: 'readSent', at: seq }),
    answered: (n: number | null, rev?: Rev): DocInput<Tag> => ({
      type: 'readAnswered',
      doc: n === null ? null : { _id: 'a', _source: { n }, ...(rev === undefined ? {} : { _rev: rev }) },
    }),
    /** A search offers content {n} at revision `rev`, read (or, `fromEvent`, received) at stream point `at`. */
    offer: (n: number, rev: Rev, at: number, fromEvent = false): DocInput<Tag> => ({ type: 'offer', doc: { _id: 'a', _source: { n }, _rev: rev }, seq: at, fromEvent }),
  }
}

/** The content the model knows (null: missing or unknown). */
export const shown = (s: DocState<Tag>) => (s.known.kind === 'content' ? s.known.doc : null)
export const kinds = (effects: DocEffect<Tag>[]) => effects.map((e) => e.type)
/** The revisions of the events answered `applied` or `superseded`. */
export const told = (effects: DocEffect<Tag>[], type: 'applied' | 'superseded') =>
  effects.filter((e): e is Extract<DocEffect<Tag>, { type: typeof type }> => e.type === type).map((e) => e.e.rev)
