/**
 * The Sanity test server with the real @sanity/client as a fault target: writes from two clients, the server itself
 * (and silent loads: missed events) and the app's own client; faults from the server's knobs (reordered,
 * duplicated, delayed and lost events, streams cut politely or abruptly, resets, failed resumes, rejected
 * requests, a stopped and restarted server).
 */
import type { SanityClient } from '@sanity/client'
import { normalizeSort } from '../../src/core/sort'
import type { DocSource } from '../../src/core/types'
import { sanityDriver } from '../../src/drivers/sanity'
import { startSanityServer, type Mutation, type SanityEndpoint } from '../servers/sanity'
import { clientFor } from '../servers/sanity/test-client'
import type { FaultStep, ScheduleProfile, WriteOp } from './schedule'
import { flatten, plain, type AbstractQuery, type Target, type TargetFactory } from './target'

const TYPE = 'note'

/** GROQ filter and params of an abstract query. */
function groq(q: AbstractQuery): { query?: string; params?: Record<string, unknown> } {
  const w = q.where
  if (w === 'all') return {}
  if ('g' in w) return { query: 'g == $g', params: { g: w.g } }
  if ('nGte' in w) return { query: 'n >= $min', params: { min: w.nGte } }
  return { query: 'g in $groups', params: { groups: [...w.gIn] } }
}

/** A write as Sanity mutations (a replace of a missing document creates it: Sanity has no replace-if-exists). */
function mutations(w: WriteOp): Mutation[] {
  return flatten(w).map((x): Mutation => {
    switch (x.op) {
      case 'create':
        return { create: { _id: x.id, _type: TYPE, ...plain(x.body) } }
      case 'createOrReplace':
      case 'replace':
        return { createOrReplace: { _id: x.id, _type: TYPE, ...plain(x.body) } }
      case 'update':
        return { patch: { id: x.id, set: plain(x.patch) } }
      case 'delete':
        return { delete: { id: x.id } }
      default:
        throw new Error('pairs are flattened')
    }
  })
}

const profile: ScheduleProfile = {
  target: 'sanity',
  // 0, 1: clients; 2: the server itself (silent: a load without a transaction); 3: the app's own client.
  writers: 4,
  silentWriters: [2],
  steps: [25, 60],
  queries: 5,
  maxWait: 20,
  faults: [
    [2, (rng) => ({ t: 'fault', f: 'delay', n: rng.pick([0, 5, 20]) })],
    [2, (rng) => ({ t: 'fault', f: 'reorder', n: rng.int(2, 3) })],
    [2, (rng) => ({ t: 'fault', f: 'duplicate', n: rng.int(1, 3) })],
    [2, (rng) => ({ t: 'fault', f: 'drop', n: rng.int(1, 2) })],
    [2, (rng) => ({ t: 'fault', f: rng.chance(0.5) ? 'closeStreams' : 'cutStreams' })],
    [1, () => ({ t: 'fault', f: 'reset' })],
    [1, (rng) => ({ t: 'fault', f: 'resumeMode', n: rng.int(0, 2) })],
    [1, () => ({ t: 'fault', f: 'forgetHistory' })],
    [1, (rng) => ({ t: 'fault', f: 'reject', n: rng.int(0, 2) })],
    [
      1,
      (_rng, state) => {
        state.down = !state.down
        return { t: 'fault', f: state.down ? 'stop' : 'start' }
      },
    ],
    [1, () => ({ t: 'fault', f: 'calm' })],
  ],
}

const RESUME_MODES = ['resume', 'reset', 'welcome'] as const
const REJECTED: SanityEndpoint[] = ['doc', 'query', 'listen']

export const sanityTarget: TargetFactory = {
  name: 'sanity',
  profile,
  timing: { converge: 10_000, settle: 300, leak: 3000 },
  async create(schedule, rng) {
    const server = await startSanityServer({ retryMs: 20, keepAliveMs: 0 })
    server.documents.load(schedule.initial.map(({ id, body }) => ({ _id: id, _type: TYPE, ...plain(body) })))
    const [writerA, writerB, app, oracleClient]: SanityClient[] = [0, 1, 2, 3].map(() => clientFor(server))
    const driver = sanityDriver(app, { maxIdsPerWatch: rng.pick([undefined, 2, 3]) })
    const oracle = sanityDriver(oracleClient)
    const unrevealed = new Set<string>()
    let down = false

    const target: Target = {
      name: 'sanity',
      ref: { index: '', collection: TYPE },
      driver,
      clientOptions: { gapTimeout: 50, releaseDelay: 10, backoff: { base: 5, cap: 100 } },
      spec: (q) => ({ ...groq(q), sort: q.sort }),
      async write(by, w, silent) {
        const list = mutations(w)
        if (by !== 2) return (by === 0 ? writerA : by === 1 ? writerB : app).mutate(list as never)
        if (silent) {
          // Stored without a transaction: no listener hears of it.
          const docs = list.flatMap((m) => ('createOrReplace' in m ? [m.createOrReplace] : 'create' in m ? [m.create] : []))
          if (docs.length) server.documents.load(docs)
          for (const d of docs) unrevealed.add(d._id as string)
          // Patches and deletes have no silent form here: they go through a transaction.
          const rest = list.filter((m) => !('createOrReplace' in m) && !('create' in m))
          if (rest.length) server.documents.mutate(rest)
          return
        }
        server.documents.mutate(list)
      },
      async fault(step: FaultStep) {
        const f = server.faults
        const n = step.n ?? 0
        // A reorder holds events until enough arrive: let them go when the stream they would travel on ends (they
        // meet a closed stream; the resume starts from the oldest event still on its way, test/servers/sanity/resume.ts).
        const release = () => f.flush()
        switch (step.f) {
          case 'delay':
            f.delay(n)
            return
          case 'reorder':
            f.reorder(n)
            return
          case 'duplicate':
            f.duplicate(n)
            return
          case 'drop':
            // The matcher sees exactly the events it loses.
            f.drop(n, (e) => {
              unrevealed.add(e.documentId)
              return true
            })
            return
          case 'closeStreams':
          case 'cutStreams':
            release()
            f.closeStreams({ abrupt: step.f === 'cutStreams' })
            return
          case 'reset':
            release()
            f.reset()
            return
          case 'resumeMode':
            f.resumeMode = RESUME_MODES[n] ?? 'resume'
            return
          case 'forgetHistory':
            f.forgetHistory()
            return
          case 'reject':
            // 5xx: retried with backoff, never fatal.
            f.rejectNext(1, { status: 503, endpoint: REJECTED[n] })
            return
          case 'stop':
            if (!down) {
              release()
              down = true
              await server.stop()
            }
            return
          case 'start':
            if (down) {
              down = false
              await server.restart()
            }
            return
          case 'calm':
            f.delay(0)
            f.duplicate(0)
            f.drop(0)
            return
          default:
            throw new Error(`sanity target: unknown fault ${step.f}`)
        }
      },
      async heal() {
        const f = server.faults
        f.flush()
        f.delay(0)
        f.duplicate(0)
        f.drop(0)
        f.rejectNext(0)
        f.resumeMode = 'resume'
        if (down) {
          down = false
          await server.restart()
        }
      },
      unrevealed,
      async stored() {
        const out = new Map<string, DocSource>()
        for (const { _id, ...source } of server.documents.all()) if (source._type === TYPE) out.set(_id, source)
        return out
      },
      async search(q) {
        const page = await oracle.search({ index: '', collection: TYPE }, { ...groq(q), sort: normalizeSort(q.sort) }, { from: 0, size: 1000 })
        return page.hits
      },
      async leaks() {
        return server.openListeners ? [`Sanity server still has ${server.openListeners} open listener(s)`] : []
      },
      async close() {
        await server.stop()
      },
    }
    return target
  },
}
