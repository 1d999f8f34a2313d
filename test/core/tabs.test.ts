// Tabs that share one set of connections (issue 17), with in-process BroadcastChannel and Web Locks fakes: one
// leader runs the driver for every tab; followers' watches and reads are served by it; when the leader's tab closes
// or freezes another takes over, resyncs, and no update is lost; malformed messages are ignored.
import { afterEach, describe, expect, it, vi } from 'vitest'
import { ObserverClient, type Observer } from '../../src/core'
import { shareAcrossTabs, type TabSharing } from '../../src/core/tabs/lazy-shared-driver'
import { memoryDriver } from '../../src/drivers/memory'
import { FakeBrowser, tabDriver, type FakeTab } from '../helpers/fake-tabs'
import { staysEqual, waitFor } from '../helpers/wait-for'

const FAST = { heartbeat: 20, leaderTimeout: 150 }
const opened: Array<{ client: ObserverClient; tab: FakeTab }> = []

afterEach(() => {
  for (const { client, tab } of opened.splice(0)) {
    client.close()
    tab.close()
  }
})

interface Tab {
  tab: FakeTab
  client: ObserverClient
  sharing: TabSharing
  own: ReturnType<typeof tabDriver>
  /** Kills the tab: its page is gone, its connections with it. */
  kill(): void
}

function setup(n: number, seed = 3) {
  const backend = memoryDriver()
  backend.seed('i', 'c', Array.from({ length: seed }, (_, k) => ({ _id: `d${k}`, _source: { n: 0 } })))
  const browser = new FakeBrowser()
  const open = (): Tab => {
    const tab = browser.tab()
    const own = tabDriver(backend)
    const sharing = shareAcrossTabs(own.driver, FAST, tab.env)
    // The client over the tab's shared driver, as ObserverClient({ shareAcrossTabs }) builds it with the browser's APIs.
    const client = new ObserverClient({ driver: sharing.driver, backoff: { base: 20, cap: 100 }, gapTimeout: 50 })
    const close = client.close.bind(client)
    client.close = () => (close(), sharing.close())
    opened.push({ client, tab })
    return {
      tab,
      client,
      sharing,
      own,
      kill() {
        tab.close()
        own.cut()
        client.close()
      },
    }
  }
  const tabs = Array.from({ length: n }, open)
  return { backend, browser, tabs, open }
}

const leaders = (tabs: Tab[]) => tabs.filter((t) => !t.tab.closed && t.sharing.role === 'leader')

describe('tabs share one set of connections', () => {
  it('one leader holds the watches and makes the reads for every tab; followers go live and follow updates', async () => {
    const { backend, tabs } = setup(4)
    await waitFor(() => leaders(tabs).length === 1 && tabs.every((t) => t.sharing.role !== 'starting'), 2000, { what: 'one leader' })
    const [leader] = leaders(tabs)
    const observers = tabs.map((t) => t.client.get<{ n: number }>('i', 'c', 'd0'))
    const searches = tabs.map((t) => t.client.search<{ n: number }>('i', 'c', { query: {}, sort: '_id' }, { live: 'query', size: 10 }))
    await waitFor(() => observers.every((o) => o.status === 'live') && searches.every((s) => s.status === 'live'), 3000, { what: 'all live' })
    // Only the leader's own driver did anything: one id watch and one query watch for four tabs.
    for (const t of tabs) if (t !== leader) expect(t.own.stats).toEqual({ watchesOpened: 0, reads: 0 })
    expect(leader.own.openWatches).toBe(2)
    await backend.update('i', 'c', 'd0', { n: 7 })
    await backend.create('i', 'c', { n: 1 }, 'd9')
    await waitFor(() => observers.every((o) => o._source?.n === 7), 2000, { what: 'the update in every tab' })
    await waitFor(() => searches.every((s) => s.hits.map((h) => h._id).join() === 'd0,d1,d2,d9'), 2000, { what: 'the entry in every tab' })
    for (const t of tabs) if (t !== leader) expect(t.own.stats).toEqual({ watchesOpened: 0, reads: 0 })
  })

  it("a follower's read is served by the leader", async () => {
    const { tabs } = setup(2)
    await waitFor(() => leaders(tabs).length === 1 && tabs.every((t) => t.sharing.role !== 'starting'), 2000, { what: 'one leader' })
    const follower = tabs.find((t) => t.sharing.role === 'follower')!
    const leader = leaders(tabs)[0]
    const before = leader.own.stats.reads
    expect(await follower.client.read('i', 'c', 'd1')).toMatchObject({ _id: 'd1', _source: { n: 0 } })
    expect(await follower.client.read('i', 'c', 'nope')).toBeNull()
    expect((await follower.client.readSearch('i', 'c', { query: {}, sort: '_id' }, { size: 2 })).hits.map((h) => h._id)).toEqual(['d0', 'd1'])
    expect(leader.own.stats.reads - before).toBe(3)
    expect(follower.own.stats.reads).toBe(0)
  })

  it('the leader tab closed while changes stream: another takes over, resyncs, and no update is lost', async () => {
    const { backend, tabs } = setup(4)
    await waitFor(() => leaders(tabs).length === 1, 2000, { what: 'one leader' })
    const observers = new Map<Tab, Observer<{ n: number }>[]>(tabs.map((t) => [t, ['d0', 'd1', 'd2'].map((id) => t.client.get<{ n: number }>('i', 'c', id))]))
    await waitFor(() => [...observers.values()].flat().every((o) => o.status === 'live'), 3000, { what: 'all live' })
    const old = leaders(tabs)[0]
    let n = 0
    let streaming = true
    const stream = (async () => {
      while (streaming) {
        n++
        await backend.update('i', 'c', `d${n % 3}`, { n })
        await new Promise((r) => setTimeout(r, 3))
      }
    })()
    await waitFor(() => n > 20, 2000)
    old.kill()
    const rest = tabs.filter((t) => t !== old)
    await waitFor(() => leaders(rest).length === 1, 2000, { what: 'a new leader' })
    await waitFor(() => n > 80, 3000)
    streaming = false
    await stream
    const final = backend.snapshot<{ n: number }>('i', 'c')
    for (const t of rest) {
      await waitFor(() => observers.get(t)!.every((o, k) => o.status === 'live' && o._source?.n === final[k]._source.n), 3000, { what: 'converged' })
    }
    expect(final.map((d) => d._source.n).sort((a, b) => a - b).at(-1)).toBe(n)
    // The new leader's own driver holds the one watch now; the followers' still none.
    const leader = leaders(rest)[0]
    expect(leader.own.openWatches).toBe(1)
    for (const t of rest) if (t !== leader) expect(t.own.stats.watchesOpened).toBe(0)
  })

  it('a write made while no tab leads is read by the new leader (resync), not lost', async () => {
    const { backend, tabs } = setup(2)
    await waitFor(() => leaders(tabs).length === 1, 2000, { what: 'one leader' })
    const follower = tabs.find((t) => t.sharing.role !== 'leader')!
    const o = follower.client.get<{ n: number }>('i', 'c', 'd0')
    await waitFor(() => o.status === 'live', 2000)
    const old = leaders(tabs)[0]
    // The leader's connection is gone before the write, and the follower (busy: frozen for a moment) has not taken
    // over yet: the write reaches no watch.
    follower.tab.freeze()
    old.kill()
    await backend.update('i', 'c', 'd0', { n: 42 })
    await staysEqual(() => o._source?.n, 20, { what: "the frozen follower's document" })
    expect(o._source?.n).toBe(0)
    follower.tab.thaw()
    await waitFor(() => follower.sharing.role === 'leader', 2000, { what: 'the follower leads' })
    await waitFor(() => o._source?.n === 42 && o.status === 'live', 2000, { what: 'the missed write read' })
  })

  it('a frozen leader is replaced after its heartbeats go unanswered; when it thaws it follows', async () => {
    const { backend, browser, tabs } = setup(3)
    await waitFor(() => leaders(tabs).length === 1 && tabs.every((t) => t.sharing.role !== 'starting'), 2000, { what: 'one leader' })
    const all = tabs.map((t) => t.client.get<{ n: number }>('i', 'c', 'd0'))
    await waitFor(() => all.every((o) => o.status === 'live'), 2000)
    const old = leaders(tabs)[0]
    const frozenAt = Date.now()
    old.tab.freeze()
    await backend.update('i', 'c', 'd0', { n: 5 })
    const rest = tabs.filter((t) => t !== old)
    await waitFor(() => rest.some((t) => t.sharing.role === 'leader'), 3000, { what: 'a follower took over' })
    const took = Date.now() - frozenAt
    expect(took).toBeGreaterThanOrEqual(FAST.leaderTimeout)
    expect(rest.filter((t) => t.sharing.role === 'leader')).toHaveLength(1)
    await waitFor(() => rest.every((t) => all[tabs.indexOf(t)]._source?.n === 5), 2000, { what: 'the followers have the write' })
    const watchesSent = browser.posted.get('watch') ?? 0
    old.tab.thaw()
    await waitFor(() => old.sharing.role === 'follower', 2000, { what: 'the old leader steps down' })
    await backend.update('i', 'c', 'd0', { n: 6 })
    await waitFor(() => all.every((o) => o._source?.n === 6 && o.status === 'live'), 3000, { what: 'every tab converged' })
    // Thawed, the old leader answered heartbeats before it learnt it was replaced: the other follower kept to the
    // newer leader (only the old leader's own watch was sent, to the new one).
    expect((browser.posted.get('watch') ?? 0) - watchesSent).toBe(1)
    // The old leader let its watches go.
    expect(old.own.openWatches).toBe(0)
    expect(leaders(tabs)).toHaveLength(1)
  })

  it('malformed messages on the channel are ignored', async () => {
    const { backend, browser, tabs } = setup(2)
    await waitFor(() => leaders(tabs).length === 1 && tabs.every((t) => t.sharing.role !== 'starting'), 2000, { what: 'one leader' })
    const follower = tabs.find((t) => t.sharing.role === 'follower')!
    const o = follower.client.get<{ n: number }>('i', 'c', 'd0')
    await waitFor(() => o.status === 'live', 2000)
    const [name] = browser.names()
    const leaderId = (leaders(tabs)[0].sharing.driver as unknown as { id?: string }).id
    const garbage: unknown[] = [
      null,
      42,
      'beat',
      [],
      { v: 2, t: 'beat', from: 'x', leader: true },
      { v: 1, t: 'beat', from: '', leader: true },
      { v: 1, t: 'beat', from: 'x', leader: 'yes' },
      { v: 1, t: 'nope', from: 'x' },
      { v: 1, t: 'watch', from: 'x', to: 'y', wid: -1, ref: { index: 'i', collection: 'c' }, spec: { ids: [] } },
      { v: 1, t: 'watch', from: 'x', to: 'y', wid: 1, ref: null, spec: { ids: [] } },
      { v: 1, t: 'read', from: 'x', to: 'y', rid: 1, read: { op: 'drop', ref: { index: 'i', collection: 'c' } } },
      { v: 1, t: 'sink', from: 'x', to: 'y', wid: 1, call: { kind: 'explode' } },
      { v: 1, t: 'sink', from: 'x', to: 'y', wid: 1, call: { kind: 'error', err: { code: 'pwned', message: 'x', fatal: true } } },
      { v: 1, t: 'answer', from: 'x', to: 'y', rid: 1, ok: false, err: null },
      JSON.parse('{"v":1,"t":"sink","from":"x","to":"y","wid":1,"call":{"kind":"event","e":{"id":"d0","kind":"upsert","doc":{"__proto__":{"polluted":1}}}}}'),
    ]
    for (const data of garbage) browser.inject(name, data)
    // A well-formed message from a tab that is not the leader: not for us, ignored too.
    browser.inject(name, { v: 1, t: 'sink', from: 'intruder', to: 'anyone', wid: 1, call: { kind: 'error', err: { code: 'watch_failed', message: 'x', fatal: true } } })
    if (leaderId) browser.inject(name, { v: 1, t: 'answer', from: leaderId, to: 'someone-else', rid: 1, ok: true, value: null })
    await backend.update('i', 'c', 'd0', { n: 3 })
    await waitFor(() => o._source?.n === 3, 2000, { what: 'still following' })
    expect(o.status).toBe('live')
    expect(o.error).toBeNull()
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    expect(leaders(tabs)).toHaveLength(1)
  })

  it('the leader shares one driver watch between tabs following the same thing (reference counted)', async () => {
    const { tabs } = setup(3)
    await waitFor(() => leaders(tabs).length === 1, 2000, { what: 'one leader' })
    const leader = leaders(tabs)[0]
    const a = tabs.map((t) => t.client.get('i', 'c', 'd1'))
    await waitFor(() => a.every((o) => o.status === 'live'), 2000)
    expect(leader.own.openWatches).toBe(1)
    expect(leader.sharing.hubWatches).toBe(1)
    // Two tabs stop: the shared watch stays for the third; the third stops: it closes.
    a[0].stop()
    a[1].stop()
    await waitFor(() => leader.own.openWatches === 1 && a[2].status === 'live', 1000)
    a[2].stop()
    await waitFor(() => leader.own.openWatches === 0, 2000, { what: 'the shared watch closed with its last user' })
  })

  it("a follower's page hidden for good (pagehide) says goodbye: the leader releases its watches at once", async () => {
    const events = new EventTarget()
    vi.stubGlobal('addEventListener', events.addEventListener.bind(events))
    vi.stubGlobal('removeEventListener', events.removeEventListener.bind(events))
    try {
      const { tabs } = setup(2)
      await waitFor(() => leaders(tabs).length === 1 && tabs.every((t) => t.sharing.role !== 'starting'), 2000, { what: 'one leader' })
      const leader = leaders(tabs)[0]
      const follower = tabs.find((t) => t !== leader)!
      const mine = leader.client.get('i', 'c', 'd0')
      const theirs = follower.client.get('i', 'c', 'd1')
      await waitFor(() => mine.status === 'live' && theirs.status === 'live', 2000)
      expect(leader.own.openWatches).toBe(2)
      // The page goes: its client is never closed (no unmount), only pagehide fires.
      events.dispatchEvent(Object.assign(new Event('pagehide'), { persisted: false }))
      follower.tab.close()
      await waitFor(() => leader.own.openWatches === 1, 2000, { what: "the follower's watch released" })
      expect(mine.status).toBe('live')
    } finally {
      vi.unstubAllGlobals()
    }
  })

  it('ObserverClient({ shareAcrossTabs }) takes the browser APIs: two clients, one leader (onLeader once), the follower served', async () => {
    const backend = memoryDriver()
    backend.seed('i', 'c', [{ _id: 'a', _source: { n: 1 } }])
    const browser = new FakeBrowser()
    const roles: string[][] = [[], []]
    let led = 0
    const clients: ObserverClient[] = []
    const owns: Array<ReturnType<typeof tabDriver>> = []
    try {
      for (const k of [0, 1]) {
        const tab = browser.tab()
        vi.stubGlobal('BroadcastChannel', tab.env.BroadcastChannel)
        vi.stubGlobal('navigator', { locks: tab.env.locks })
        const own = tabDriver(backend)
        owns.push(own)
        const client = new ObserverClient({ driver: own.driver, shareAcrossTabs: { channel: 'app', heartbeat: 20, onLeader: () => led++, onRoleChange: (r) => roles[k].push(r) } })
        clients.push(client)
        opened.push({ client, tab })
        await waitFor(() => client.tabRole !== 'starting', 2000, { what: `client ${k} has a role` })
      }
      vi.unstubAllGlobals()
      expect(clients.map((c) => c.tabRole)).toEqual(['leader', 'follower'])
      expect(roles).toEqual([['leader'], ['follower']])
      expect(led).toBe(1)
      expect(browser.names()).toEqual(['app:v1'])
      const o = clients[1].get<{ n: number }>('i', 'c', 'a')
      await waitFor(() => o.status === 'live' && o._source?.n === 1, 2000)
      expect(owns[1].stats).toEqual({ watchesOpened: 0, reads: 0 })
      expect(owns[0].openWatches).toBe(1)
      o.stop()
      await waitFor(() => owns[0].openWatches === 0, 2000, { what: "the follower's watch released at the leader" })
    } finally {
      vi.unstubAllGlobals()
    }
  })

  it('without BroadcastChannel or Web Locks, each tab uses its own driver (role alone) and onLeader is called', async () => {
    const own = memoryDriver()
    let led = 0
    const roles: string[] = []
    const sharing = shareAcrossTabs(own, { onLeader: () => led++, onRoleChange: (r) => roles.push(r) }, null)
    expect(sharing.driver).toBe(own)
    expect(sharing.role).toBe('alone')
    await waitFor(() => led === 1)
    expect(roles).toEqual(['alone'])
    // The client's option, in Node (no navigator.locks): the same fallback.
    const client = new ObserverClient({ driver: own, shareAcrossTabs: true })
    expect(client.driver).toBe(own)
    expect(client.tabRole).toBe('alone')
    client.close()
  })
})
