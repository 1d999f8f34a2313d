// The frozen content an entry shows (src/core/patch.ts): copied safely, frozen at every level, and replaced on a
// change with the unchanged fields kept, so that a live search's rows can be handed out as they are.
import { describe, expect, it } from 'vitest'
import { frozenCopy, nextSnapshot } from '../../src/core/patch'

describe('frozen content', () => {
  it('frozenCopy copies plain data, frozen at every level, without __proto__ keys or symbols', () => {
    const input = JSON.parse('{"a":{"b":[1,{"c":2}]},"__proto__":{"polluted":true}}') as Record<string, unknown>
    ;(input as Record<symbol, unknown>)[Symbol('s')] = 1
    const copy = frozenCopy(input)
    expect(copy).toEqual({ a: { b: [1, { c: 2 }] } })
    expect(Object.hasOwn(copy, '__proto__')).toBe(false)
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype)
    expect(Object.getOwnPropertySymbols(copy)).toEqual([])
    const a = copy.a as { b: [number, { c: number }] }
    expect([Object.isFrozen(copy), Object.isFrozen(a), Object.isFrozen(a.b), Object.isFrozen(a.b[1])]).toEqual([true, true, true, true])
    expect(a).not.toBe(input.a)
    expect(() => frozenCopy(JSON.parse('['.repeat(70) + ']'.repeat(70)))).toThrow(/deeper/)
  })

  it('nextSnapshot keeps unchanged fields (and the whole value when nothing changed) and lists what changed', () => {
    const first = nextSnapshot(null, { a: { x: 1 }, b: [1], c: 'c' })
    expect(first.changes).toEqual(['a', 'b', 'c'])
    const same = nextSnapshot(first.value, { c: 'c', b: [1], a: { x: 1 } })
    expect(same.value).toBe(first.value)
    expect(same.changes).toEqual([])
    const next = nextSnapshot(first.value, { a: { x: 1 }, b: [2], d: { y: 1 } })
    expect(next.changes).toEqual(['b', 'd', 'c'])
    expect(next.value).toEqual({ a: { x: 1 }, b: [2], d: { y: 1 } })
    expect(next.value.a).toBe(first.value.a)
    expect(Object.isFrozen(next.value) && Object.isFrozen(next.value.d)).toBe(true)
    expect(Object.hasOwn(nextSnapshot(next.value, JSON.parse('{"__proto__":{"p":1},"a":{"x":1}}')).value, '__proto__')).toBe(false)
  })
})
