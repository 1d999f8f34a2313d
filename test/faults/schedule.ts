/**
 * Fault schedules: what writers, faults and observers do, in order, generated from a seed. A schedule is plain JSON,
 * so a failing one can be printed, shrunk by removing steps, and kept as a regression test.
 */
import { Rng } from './prng'

export type TargetName = 'memory' | 'kuzzle' | 'sanity'

/** A document body as schedules write it; each target adds what its backend needs (Sanity's `_type`). */
export interface Body {
  n: number
  g: 'a' | 'b' | 'c'
  tag?: string
  nested?: { x: number }
}

/** One write. `update` is a partial change (merged by the backend); `replace` drops the fields it does not name. */
export type WriteOp =
  | { readonly op: 'create' | 'createOrReplace' | 'replace'; readonly id: string; readonly body: Body }
  | { readonly op: 'update'; readonly id: string; readonly patch: Partial<Body> }
  | { readonly op: 'delete'; readonly id: string }
  /** Two changes in one transaction (Sanity: one mutate call; elsewhere two writes back to back). */
  | { readonly op: 'pair'; readonly a: WriteOp; readonly b: WriteOp }

/** A fault, by the name its target gives it, with an optional argument (a count, a delay, a probability). */
export interface FaultStep {
  readonly t: 'fault'
  readonly f: string
  readonly n?: number
}

export type Step =
  /** A write by writer `by` (a target's clients, in its order); `silent` writes notify nobody (missed events). */
  | { readonly t: 'write'; readonly by: number; readonly w: WriteOp; readonly silent?: boolean }
  /** Lets timers run: events are delivered, reads answer, gaps time out. */
  | { readonly t: 'wait'; readonly ms: number }
  /** Waits for the writes in flight. */
  | { readonly t: 'settle' }
  /** Observes one document in a slot (what the slot held is stopped first: a re-target). */
  | { readonly t: 'get'; readonly slot: number; readonly id: string }
  /** Observes several documents at once (`client.mGet`). */
  | { readonly t: 'mget'; readonly slot: number; readonly ids: readonly string[] }
  /** A live search in a slot (what the slot held is stopped first). `q` indexes the target's queries. */
  | { readonly t: 'search'; readonly slot: number; readonly q: number; readonly live: 'hits' | 'query'; readonly size: number }
  | { readonly t: 'stop' | 'start' | 'next' | 'refresh'; readonly slot: number }
  /** A local write through the first observer of a document slot (`update`, `replace` or `remove`); none otherwise. */
  | { readonly t: 'local'; readonly slot: number; readonly w: LocalOp }
  | FaultStep

/** A local write, as an observer makes it. */
export type LocalOp =
  | { readonly op: 'update'; readonly patch: Partial<Body> }
  | { readonly op: 'replace'; readonly body: Body }
  | { readonly op: 'remove' }

export interface Schedule {
  readonly seed: number
  readonly target: TargetName
  /** The id space writes and observers draw from. */
  readonly ids: readonly string[]
  /** Documents stored before anything observes (no events). */
  readonly initial: ReadonlyArray<{ readonly id: string; readonly body: Body }>
  readonly steps: readonly Step[]
}

/** How a target shapes its schedules. */
export interface ScheduleProfile {
  readonly target: TargetName
  /** Writers the target has (step `by` is below this). */
  readonly writers: number
  /** Writers that can write silently (no notification), if any. */
  readonly silentWriters?: readonly number[]
  /** Steps per schedule. */
  readonly steps: readonly [number, number]
  /** Number of queries the target translates (`search.q` is below this). */
  readonly queries: number
  /** Faults with their weights; `fault(rng, state)` returns the step (or null to skip). */
  readonly faults: ReadonlyArray<readonly [number, (rng: Rng, state: FaultState) => FaultStep | null]>
  /** Longest `wait` step, ms. */
  readonly maxWait: number
}

/** What a fault generator may look at: faults that need an end (a server down, a link cut) keep their state here. */
export interface FaultState {
  down: boolean
  readonly stepsLeft: number
}

const GROUPS = ['a', 'b', 'c'] as const
const SLOTS = 6
/** Schedules write through the observers too (local writes): `LOCAL_WRITES=0` turns it off to replay older seeds. */
const LOCAL_WRITES = process.env.LOCAL_WRITES !== '0'

export function randomBody(rng: Rng): Body {
  const body: Body = { n: rng.int(0, 9), g: rng.pick(GROUPS) }
  if (rng.chance(0.4)) body.tag = rng.pick(['x', 'y', 'zz', 'é', 'long-tag-value'])
  if (rng.chance(0.5)) body.nested = { x: rng.int(0, 5) }
  return body
}

function randomPatch(rng: Rng): Partial<Body> {
  return rng.weighted<Partial<Body>>([
    [4, { n: rng.int(0, 9) }],
    [2, { g: rng.pick(GROUPS) }],
    [1, { nested: { x: rng.int(0, 5) } }],
    [1, { tag: rng.pick(['x', 'y']) }],
    [1, { n: rng.int(0, 9), g: rng.pick(GROUPS) }],
  ])
}

function randomWrite(rng: Rng, ids: readonly string[], nested = true): WriteOp {
  const id = rng.pick(ids)
  const op = rng.weighted<string>([
    [2, 'create'],
    [1, 'createOrReplace'],
    [2, 'replace'],
    [6, 'update'],
    [2, 'delete'],
    [nested ? 1 : 0, 'pair'],
  ])
  switch (op) {
    case 'create':
    case 'createOrReplace':
    case 'replace':
      return { op, id, body: randomBody(rng) }
    case 'update':
      return { op, id, patch: randomPatch(rng) }
    case 'delete':
      return { op, id }
    default: {
      const a = randomWrite(rng, ids, false)
      let b = randomWrite(rng, ids, false)
      for (let i = 0; i < 4 && 'id' in b && 'id' in a && b.id === a.id; i++) b = randomWrite(rng, ids, false)
      return { op: 'pair', a, b }
    }
  }
}

/** Generates the schedule of `seed` for a target. Same seed and profile, same schedule. */
export function generateSchedule(seed: number, profile: ScheduleProfile): Schedule {
  const rng = new Rng(seed)
  const idCount = rng.int(3, 8)
  const ids = Array.from({ length: idCount }, (_, i) => `d${i}`)
  const initial = ids.filter(() => rng.chance(0.6)).map((id) => ({ id, body: randomBody(rng) }))
  const steps: Step[] = []
  const count = rng.int(profile.steps[0], profile.steps[1])
  const state: FaultState = { down: false, stepsLeft: count }
  const writeWeight = rng.pick([4, 8, 14])
  const faultWeight = rng.pick([1, 3, 6])
  const churnWeight = rng.pick([2, 4])
  const live: boolean[] = Array.from({ length: SLOTS }, () => false)
  const randomSearch = (slot: number): Step => ({
    t: 'search',
    slot,
    q: rng.int(0, profile.queries - 1),
    live: rng.chance(0.7) ? 'query' : 'hits',
    size: rng.pick([2, 3, 5, 20]),
  })
  // Something observes from the start: most schedules open a few slots first.
  for (let slot = 0; slot < rng.int(1, 4); slot++) {
    steps.push(rng.chance(0.5) ? { t: 'get', slot, id: rng.pick(ids) } : randomSearch(slot))
    live[slot] = true
  }
  for (let i = 0; i < count; i++) {
    ;(state as { stepsLeft: number }).stepsLeft = count - i
    const kind = rng.weighted<string>([
      [writeWeight, 'write'],
      [LOCAL_WRITES ? 1 : 0, 'local'],
      [faultWeight, 'fault'],
      [churnWeight, 'churn'],
      [3, 'wait'],
      [0.5, 'settle'],
    ])
    if (kind === 'write') {
      const silent = profile.silentWriters?.length ? rng.chance(0.08) : false
      const by = silent ? rng.pick(profile.silentWriters!) : rng.int(0, profile.writers - 1)
      steps.push(silent ? { t: 'write', by, w: randomWrite(rng, ids), silent } : { t: 'write', by, w: randomWrite(rng, ids) })
    } else if (kind === 'local') {
      const w = randomWrite(rng, ids)
      const op: LocalOp =
        w.op === 'update' ? { op: 'update', patch: w.patch } : w.op === 'delete' ? { op: 'remove' } : w.op === 'pair' ? { op: 'remove' } : { op: 'replace', body: w.body }
      steps.push({ t: 'local', slot: rng.int(0, SLOTS - 1), w: op })
    } else if (kind === 'wait') {
      steps.push({ t: 'wait', ms: rng.int(0, profile.maxWait) })
    } else if (kind === 'settle') {
      steps.push({ t: 'settle' })
    } else if (kind === 'fault') {
      const make = rng.weighted(profile.faults.map(([w, f]) => [w, f] as const))
      const step = make(rng, state)
      if (step) steps.push(step)
    } else {
      const slot = rng.int(0, SLOTS - 1)
      const action = rng.weighted<string>([
        [3, 'get'],
        [1, 'mget'],
        [3, 'search'],
        [live[slot] ? 3 : 0, 'stop'],
        [live[slot] ? 0 : 2, 'start'],
        [live[slot] ? 1 : 0, 'next'],
        [live[slot] ? 1 : 0, 'refresh'],
      ])
      if (action === 'get') steps.push({ t: 'get', slot, id: rng.pick(ids) })
      else if (action === 'mget') steps.push({ t: 'mget', slot, ids: ids.filter(() => rng.chance(0.5)).slice(0, 4) })
      else if (action === 'search') steps.push(randomSearch(slot))
      else steps.push({ t: action as 'stop' | 'start' | 'next' | 'refresh', slot })
      live[slot] = action !== 'stop'
    }
  }
  return { seed, target: profile.target, ids, initial, steps }
}

/** Number of fault steps in a schedule. */
export function faultCount(schedule: Schedule): number {
  return schedule.steps.filter((s) => s.t === 'fault').length
}
