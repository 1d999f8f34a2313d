import { it } from 'vitest'
import { runSchedule } from './runner'
import { kuzzleTarget } from './target-kuzzle'
import { memoryTarget } from './target-memory'
import type { TargetFactory } from './target'
import { generateSchedule, type Schedule } from './schedule'

import { RealtimeController } from 'kuzzle-sdk'
const P = RealtimeController.prototype as any
const sub = P.subscribe, unsub = P.unsubscribe
P.subscribe = function (i: any, c: any, f: any, cb: any, o: any) { const p = sub.call(this, i, c, f, cb, o); p.then((id: string) => log(`SDK subscribed ${id.slice(0, 8)} ${JSON.stringify(f)}`), (e: any) => log(`SDK subscribe failed ${e.message.slice(0, 60)} connected=${this.kuzzle.connected} state=${this.kuzzle.protocol.state}`)); return p }
P.unsubscribe = function (id: string, o: any) { log(`SDK unsubscribe ${id.slice(0, 8)}`); const p = unsub.call(this, id, o); p.catch((e: any) => log(`SDK unsubscribe failed ${e.message}`)); return p }
import { Kuzzle } from 'kuzzle-sdk'
const KP = Kuzzle.prototype as any
const logged = new WeakSet()
const kconnect = KP.connect, kdisconnect = KP.disconnect
KP.connect = function () { log(`SDK connect() state=${this.protocol.state}`); if (!logged.has(this)) { logged.add(this); this.on('connected', () => log('SDK event connected')); this.on('disconnected', () => log('SDK event disconnected')); this.on('reconnected', () => log('SDK event reconnected')); this.on('networkError', (e: any) => log('SDK event networkError ' + e?.message)) } return kconnect.call(this).then(() => log('SDK connect() resolved'), (e: any) => { log('SDK connect() rejected ' + e.message); throw e }) }
KP.disconnect = function () { log('SDK disconnect()'); return kdisconnect.call(this) }
const base = process.env.TARGET === 'kuzzle' ? kuzzleTarget : memoryTarget
const schedule: Schedule = process.env.SCHEDULE_JSON ? JSON.parse(process.env.SCHEDULE_JSON) : generateSchedule(Number(process.env.DSEED), base.profile)
const t0 = performance.now()
const log = (s: string) => console.log(`${(performance.now() - t0).toFixed(1)} ${s}`)
let n = 0
const factory: TargetFactory = {
  ...base,
  async create(s, rng) {
    const t = await base.create(s, rng)
    const d = t.driver
    const wrapped = {
      name: d.name,
      maxIdsPerWatch: d.maxIdsPerWatch,
      get: d.get.bind(d),
      queryKey: d.queryKey?.bind(d),
      async mGet(c: any, ids: any) { const r = await d.mGet(c, ids); log(`mGet ${ids} -> ${JSON.stringify(r.map((x) => [x._id, x._rev]))}`); return r },
      async search(c: any, spec: any, page: any) { const r = await d.search(c, spec, page); log(`search ${JSON.stringify(spec.query)} -> ${JSON.stringify(r.hits.map((h: any) => [h._id, h._rev]))}`); return r },
      watch(c: any, spec: any, sink: any) {
        const name = `w${++n} ` + JSON.stringify(spec).slice(0, 50)
        log(`watch ${name}`)
        const w = d.watch(c, spec, {
          ready: (i: any) => { log(`${name} ready ${JSON.stringify(i)}`); sink.ready(i) },
          event: (e: any) => { log(`${name} event ${JSON.stringify({ ...e, doc: undefined })}`); sink.event(e) },
          reset: () => { log(`${name} reset`); sink.reset() },
          offline: () => { log(`${name} offline`); sink.offline() },
          error: (err: any) => { log(`${name} error ${err.message}`); sink.error(err) },
        })
        return { update: w.update ? (s2: any) => { log(`${name} update ${JSON.stringify(s2)}`); return w.update!(s2) } : undefined, close: () => { log(`${name} close`); w.close() } }
      },
    }
    return { ...t, driver: wrapped, spec: t.spec, write: t.write, fault: t.fault, heal: t.heal, stored: t.stored, search: t.search, leaks: t.leaks, close: t.close, unrevealed: t.unrevealed } as any
  },
}
it('debug', { timeout: 60000 }, async () => {
  const r = await runSchedule(factory, schedule, { trace: true, converge: Number(process.env.CONVERGE ?? 2000) })
  console.log(r.trace.join('\n'))
  console.log(r.divergences.join('\n'))
  console.log(r.leaks.join('\n')); console.log(r.errors.join('\n'))
})
