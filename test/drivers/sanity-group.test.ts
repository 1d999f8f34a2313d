/**
 * WatchGroup: several listeners behind one watch (the Sanity driver's split of long id sets), driven by hand.
 */
import { describe, expect, it } from 'vitest'
import { ObservedError, type WatchSink } from '../../src/core/types'
import { WatchGroup } from '../../src/drivers/sanity/group'

function setup(count: number) {
  const calls: string[] = []
  const members: WatchSink[] = []
  let closed = 0
  const outer: WatchSink = {
    ready: (info) => calls.push(info?.resumed ? 'ready(resumed)' : 'ready'),
    event: (e) => calls.push(`event:${e.id}`),
    reset: () => calls.push('reset'),
    offline: () => calls.push('offline'),
    error: (err) => calls.push(`error:${err.code}`),
  }
  const group = new WatchGroup(
    count,
    (_i, sink) => {
      members.push(sink)
      return { close: () => void closed++ }
    },
    outer,
  )
  return { calls, members, group, closed: () => closed }
}

describe('WatchGroup', () => {
  it('is ready once every member is, and passes events through', () => {
    const { calls, members } = setup(2)
    members[0].ready()
    members[0].event({ id: 'a', kind: 'delete' })
    expect(calls).toEqual(['event:a'])
    members[1].ready()
    expect(calls).toEqual(['event:a', 'ready'])
  })

  it('goes offline once, and is resumed only if every member resumed', () => {
    const { calls, members } = setup(3)
    for (const m of members) m.ready()
    members[0].offline()
    members[1].offline()
    members[0].ready({ resumed: true })
    members[1].ready({ resumed: true })
    members[2].offline()
    members[2].ready()
    members[2].offline()
    members[2].ready({ resumed: true })
    expect(calls).toEqual(['ready', 'offline', 'ready(resumed)', 'offline', 'ready', 'offline', 'ready(resumed)'])
    members[0].offline()
    members[1].offline()
    members[1].ready({ resumed: true })
    members[0].ready()
    expect(calls.slice(-2)).toEqual(['offline', 'ready'])
  })

  it('forwards reset only when live', () => {
    const { calls, members } = setup(2)
    members[0].ready()
    members[0].reset()
    members[1].ready()
    members[1].reset()
    expect(calls).toEqual(['ready', 'reset'])
  })

  it('closes every member on the first error and reports it once', () => {
    const { calls, members, closed, group } = setup(3)
    members[1].error(new ObservedError('channel_error', 'bad', { fatal: true }))
    members[2].error(new ObservedError('watch_failed', 'late'))
    members[0].ready()
    expect(calls).toEqual(['error:channel_error'])
    expect(closed()).toBe(3)
    group.close()
    expect(closed()).toBe(3)
  })

  it('stops opening members when one fails while opening', () => {
    const calls: string[] = []
    let opened = 0
    let closed = 0
    new WatchGroup(
      3,
      (_i, sink) => {
        opened++
        sink.error(new ObservedError('unsupported_query', 'too large', { fatal: true }))
        return { close: () => void closed++ }
      },
      { ready() {}, event() {}, reset() {}, offline() {}, error: (e) => calls.push(e.code) },
    )
    expect([opened, closed, calls]).toEqual([1, 1, ['unsupported_query']])
  })
})
