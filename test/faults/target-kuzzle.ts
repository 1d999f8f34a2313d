/**
 * The Kuzzle test server with the real kuzzle-sdk as a fault target: writes from two SDK clients, the server itself
 * (silent writes: missed events) and the app's own SDK; faults from the server's knobs (delayed and reordered
 * notifications, dropped connections, a stopped and restarted server) and the app disconnecting its SDK.
 */
import { Kuzzle, WebSocket as KuzzleWebSocket } from 'kuzzle-sdk'
import { normalizeSort } from '../../src/core/sort'
import type { DocSource } from '../../src/core/types'
import { kuzzleDriver } from '../../src/drivers/kuzzle'
import { waitFor } from '../helpers/wait-for'
import { startKuzzleServer } from '../servers/kuzzle'
import type { FaultStep, ScheduleProfile, WriteOp } from './schedule'
import { flatten, plain, type AbstractQuery, type Target, type TargetFactory } from './target'

const I = 'faults'
const C = 'docs'

/** Elasticsearch query of an abstract query (the driver translates it to Koncorde for live searches). */
function esQuery(q: AbstractQuery): Record<string, unknown> | undefined {
  const w = q.where
  if (w === 'all') return undefined
  if ('g' in w) return { term: { g: w.g } }
  if ('nGte' in w) return { range: { n: { gte: w.nGte } } }
  return { terms: { g: [...w.gIn] } }
}

const PROTOCOL_EVENTS = ['connect', 'reconnect', 'disconnect', 'networkError'] as const
const KUZZLE_EVENTS = ['connected', 'tokenExpired', 'reAuthenticated'] as const

function listenerCounts(k: Kuzzle): number[] {
  return [
    ...PROTOCOL_EVENTS.map((e) => k.protocol.listeners(e).length),
    ...KUZZLE_EVENTS.map((e) => (k as unknown as { listeners(e: string): unknown[] }).listeners(e).length),
  ]
}

const profile: ScheduleProfile = {
  target: 'kuzzle',
  // 0, 1: SDK clients; 2: the server itself; 3: the app's own SDK.
  writers: 4,
  silentWriters: [2],
  steps: [25, 60],
  queries: 5,
  maxWait: 20,
  faults: [
    [3, (rng) => ({ t: 'fault', f: 'delay', n: rng.pick([0, 5, 20]) })],
    [2, (rng) => ({ t: 'fault', f: 'reorder', n: rng.int(1, 2) })],
    [2, () => ({ t: 'fault', f: 'dropConnections' })],
    [
      2,
      (_rng, state) => {
        state.down = !state.down
        return { t: 'fault', f: state.down ? 'stop' : 'start' }
      },
    ],
    [1, () => ({ t: 'fault', f: 'appReconnect' })],
    [1, () => ({ t: 'fault', f: 'calm' })],
  ],
}

export const kuzzleTarget: TargetFactory = {
  name: 'kuzzle',
  profile,
  timing: { converge: 10_000, settle: 300, leak: 3000 },
  async create(schedule, rng) {
    const server = await startKuzzleServer()
    // The collection exists, as in a real deployment: Kuzzle refuses document actions on an unknown one (412).
    server.documents.createCollection(I, C)
    const sdks: Kuzzle[] = []
    const connect = async () => {
      const k = new Kuzzle(new KuzzleWebSocket('127.0.0.1', { port: server.port, reconnectionDelay: 20 }))
      // A request made while the connection is down fails at once instead of waiting in an offline queue.
      k.autoQueue = false
      sdks.push(k)
      await k.connect()
      return k
    }
    try {
      for (let i = 0; i < 3; i++) await connect()
    } catch (err) {
      for (const k of sdks) k.disconnect()
      await server.stop()
      throw err
    }
    const [writerA, writerB, app] = sdks
    const baseline = listenerCounts(app)
    for (const { id, body } of schedule.initial) server.documents.create(I, C, id, plain(body), { silent: true })
    const driver = kuzzleDriver(app, { maxIdsPerWatch: rng.pick([undefined, 2, 3]) })
    const oracle = kuzzleDriver(writerA)
    const unrevealed = new Set<string>()
    let down = false
    /** The app disconnected its SDK itself (no automatic reconnection then): it connects again once it can. */
    let appClosed = false
    let appDisconnects = 0
    const reopenApp = async () => {
      if (!appClosed || down) return
      appClosed = false
      await app.connect().catch(() => undefined)
    }

    const sdkWrite = (k: Kuzzle, w: WriteOp): Promise<unknown> => {
      switch (w.op) {
        case 'create':
          return k.document.create(I, C, plain(w.body), w.id)
        case 'createOrReplace':
          return k.document.createOrReplace(I, C, w.id, plain(w.body))
        case 'replace':
          return k.document.replace(I, C, w.id, plain(w.body))
        case 'update':
          return k.document.update(I, C, w.id, plain(w.patch))
        case 'delete':
          return k.document.delete(I, C, w.id)
        case 'pair':
          return Promise.all([sdkWrite(k, w.a), sdkWrite(k, w.b)])
      }
    }
    const serverWrite = (w: WriteOp, silent: boolean): void => {
      const options = { silent }
      for (const x of flatten(w)) {
        try {
          if (x.op === 'create') server.documents.create(I, C, x.id, plain(x.body), options)
          else if (x.op === 'createOrReplace') server.documents.createOrReplace(I, C, x.id, plain(x.body), options)
          else if (x.op === 'replace') server.documents.replace(I, C, x.id, plain(x.body), options)
          else if (x.op === 'update') server.documents.update(I, C, x.id, plain(x.patch), options)
          else if (x.op === 'delete') server.documents.delete(I, C, x.id, options)
          // A silent write notifies nobody: only a later write to the same document can reveal it.
          if (silent && x.op !== 'pair') unrevealed.add(x.id)
        } catch {
          // A missing document: the store decides.
        }
      }
    }

    const target: Target = {
      name: 'kuzzle',
      ref: { index: I, collection: C },
      driver,
      clientOptions: { gapTimeout: 50, releaseDelay: 10, backoff: { base: 5, cap: 100 } },
      spec: (q) => ({ query: esQuery(q), sort: q.sort }),
      async write(by, w, silent) {
        if (by === 2) return serverWrite(w, silent)
        return sdkWrite([writerA, writerB, app, app][by], w)
      },
      async fault(step: FaultStep) {
        switch (step.f) {
          case 'delay':
            server.faults.delayNotifications(step.n ?? 0)
            return
          case 'reorder':
            server.faults.reorderNotifications(step.n ?? 1)
            return
          case 'dropConnections':
            if (!down) server.faults.dropConnections()
            return
          case 'stop':
            if (!down) {
              down = true
              await server.stop()
            }
            return
          case 'start':
            if (down) {
              down = false
              await server.restart()
              await reopenApp()
            }
            return
          case 'appReconnect':
            // The app drops and reopens its own SDK connection (the driver must resubscribe). Not while the SDK
            // is connecting: its close() then makes its own socket error handler throw (kuzzle-sdk 7.17).
            if (!app.connected) return
            app.disconnect()
            appClosed = true
            appDisconnects++
            await reopenApp()
            return
          case 'calm':
            server.faults.delayNotifications(0)
            return
          default:
            throw new Error(`kuzzle target: unknown fault ${step.f}`)
        }
      },
      async heal() {
        server.faults.delayNotifications(0)
        // Reorder counts still pending would hold each next notification up to a second: cancel them.
        server.faults.reorderNotifications(-1e9)
        if (down) {
          down = false
          await server.restart()
        }
        await reopenApp()
        await waitFor(() => sdks.every((k) => k.connected), 5000, { what: 'every SDK client reconnected' })
      },
      unrevealed,
      async stored() {
        return new Map(server.documents.list(I, C).map((d) => [d._id, d._source as DocSource]))
      },
      async search(q) {
        const page = await oracle.search({ index: I, collection: C }, { query: esQuery(q), sort: normalizeSort(q.sort) }, { from: 0, size: 1000 })
        return page.hits
      },
      async leaks() {
        const out: string[] = []
        const subscriptions = server.subscriptionCount()
        if (subscriptions) out.push(`Kuzzle server still has ${subscriptions} subscription(s)`)
        // kuzzle.disconnect() leaves the SDK's own room bookkeeping behind (rooms gone server-side): only without it
        // are rooms the SDK still holds the driver's.
        const rooms = (app.realtime as unknown as { _subscriptions: Map<string, unknown[]> })._subscriptions
        if (rooms.size && appDisconnects === 0) out.push(`the app's SDK still holds ${rooms.size} room(s)`)
        const counts = listenerCounts(app)
        if (counts.some((n, i) => n > baseline[i])) out.push(`the app's SDK has more listeners than before: ${counts} vs ${baseline}`)
        return out
      },
      async close() {
        for (const k of sdks) k.disconnect()
        await server.stop()
      },
    }
    return target
  },
}
