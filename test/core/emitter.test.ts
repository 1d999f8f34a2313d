// The core's emitter keeps one listener per event as the function itself and a Set beyond: the order and the
// "added during emit is called, removed during emit is not" rules hold across both forms.
import { describe, expect, it, vi } from 'vitest'
import { Emitter } from '../../src/core/emitter'

type Events = { ping: (n: number) => void; pong: () => void }
class Probe extends Emitter<Events> {
  fire(n: number) {
    this.emit('ping', n)
  }
  clear() {
    this.removeAllListeners()
  }
}

describe('Emitter', () => {
  it('calls listeners in registration order, once each, and off() or the returned function removes one', () => {
    const e = new Probe()
    const seen: string[] = []
    const a = (n: number) => seen.push(`a${n}`)
    const b = (n: number) => seen.push(`b${n}`)
    e.on('ping', a)
    e.on('ping', a)
    e.fire(1)
    const offB = e.on('ping', b)
    e.fire(2)
    offB()
    e.fire(3)
    e.off('ping', a)
    e.fire(4)
    e.on('ping', b)
    e.fire(5)
    expect(seen).toEqual(['a1', 'a2', 'b2', 'a3', 'b5'])
  })

  it('calls a listener added by a lone listener during the emit, as a Set would, but not one removed', () => {
    const e = new Probe()
    const seen: string[] = []
    const late = (n: number) => seen.push(`late${n}`)
    e.on('ping', (n) => {
      seen.push(`first${n}`)
      if (n === 1) e.on('ping', late)
    })
    e.fire(1)
    expect(seen).toEqual(['first1', 'late1'])

    const f = new Probe()
    const order: string[] = []
    const second = () => order.push('second')
    const first = () => {
      order.push('first')
      f.off('ping', second)
    }
    f.on('ping', first)
    f.on('ping', second)
    f.fire(0)
    expect(order).toEqual(['first'])
  })

  it('calls the replacement of a lone listener that removed itself, and nothing added after removeAllListeners', () => {
    const e = new Probe()
    const seen: string[] = []
    const next = () => seen.push('next')
    const once = () => {
      seen.push('once')
      e.off('ping', once)
      e.on('ping', next)
    }
    e.on('ping', once)
    e.fire(0)
    expect(seen).toEqual(['once', 'next'])

    const f = new Probe()
    const after = vi.fn()
    f.on('ping', () => {
      f.clear()
      f.on('ping', after)
    })
    f.fire(0)
    expect(after).not.toHaveBeenCalled()
    f.fire(1)
    expect(after).toHaveBeenCalledOnce()
  })

  it('a subscribed sink receives the events it has methods for, in registration order with listeners, until unsubscribed', () => {
    const e = new Probe()
    const seen: string[] = []
    e.on('ping', (n) => seen.push(`before${n}`))
    const sink = {
      ping(this: { tag: string }, n: number) {
        seen.push(`${this.tag}${n}`)
      },
      tag: 'sink',
    }
    e.subscribe(sink, ['ping', 'pong'])
    e.on('ping', (n) => seen.push(`after${n}`))
    e.fire(1)
    e.unsubscribe(sink, ['ping', 'pong'])
    e.fire(2)
    expect(seen).toEqual(['before1', 'sink1', 'after1', 'before2', 'after2'])
  })

  it('a sink subscribed alone gets its events (and the emitter) only, and keeps its place once others come', () => {
    const e = new Probe()
    const f = new Probe()
    const seen: string[] = []
    // One sink for two emitters: the last argument says which one emits.
    const sink = {
      ping(n: number, from: Probe) {
        seen.push(`sink${n}${from === e ? 'e' : 'f'}`)
        // A listener added by the sole sink during the emit is called after it, as with a Set.
        if (n === 1 && from === e) e.on('ping', (m) => seen.push(`late${m}`))
      },
      pong: () => seen.push('pong'),
    }
    e.subscribe(sink, ['ping'])
    f.subscribe(sink, ['ping', 'pong'])
    e.fire(1)
    f.fire(2)
    // e's sink is not subscribed to pong, which it has a method for.
    ;(e as unknown as { emit(k: string): void }).emit('pong')
    ;(f as unknown as { emit(k: string): void }).emit('pong')
    e.fire(3)
    e.unsubscribe(sink, ['ping'])
    f.unsubscribe(sink, ['ping', 'pong'])
    e.fire(4)
    f.fire(5)
    expect(seen).toEqual(['sink1e', 'late1', 'sink2f', 'pong', 'sink3e', 'late3', 'late4'])
  })

  it('a sole sink that leaves and lets another in during the emit: the other is called, as a lone listener replaced', () => {
    const e = new Probe()
    const seen: string[] = []
    const second = { ping: (n: number) => seen.push(`second${n}`) }
    const first = {
      ping(n: number) {
        seen.push(`first${n}`)
        e.unsubscribe(first, ['ping'])
        e.subscribe(second, ['ping'])
      },
    }
    e.subscribe(first, ['ping'])
    e.fire(1)
    e.fire(2)
    expect(seen).toEqual(['first1', 'second1', 'second2'])
  })

  it('keeps delivering when a listener throws, and rethrows outside', async () => {
    const e = new Probe()
    const thrown: unknown[] = []
    const onError = (err: unknown) => thrown.push(err)
    process.on('uncaughtException', onError)
    try {
      const b = vi.fn()
      e.on('ping', () => {
        throw new Error('boom')
      })
      e.on('ping', b)
      e.fire(1)
      expect(b).toHaveBeenCalledWith(1)
      await new Promise((r) => setTimeout(r, 0))
    } finally {
      process.off('uncaughtException', onError)
    }
    expect(thrown).toHaveLength(1)
  })
})
