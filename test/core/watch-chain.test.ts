// A query watch's revision chain per document (watch-chain.ts): whose total an event's `matchedBefore` can move.
// Synchronous: the chain's inputs in order, no driver, no timer.
import { describe, expect, it } from 'vitest'
import { WatchChain } from '../../src/core/watch-chain'
import type { DocEvent } from '../../src/core/types'

const upsert = (id: string, rev: number, previousRev: number | null, inQuery = true): DocEvent => ({ id, kind: 'upsert', rev, previousRev, inQuery, matchedBefore: true })
const reader = (name: string) => ({ name })
/** An event the listeners heard (applied by its entry, or news of a document nothing holds). */
const heard = (chain: WatchChain<object>, e: DocEvent) => {
  const proof = chain.event(e)
  chain.told(e)
  return proof
}

describe('WatchChain', () => {
  it("an event continuing the watch's own last event, which the listeners heard, is proven for every listener", () => {
    const chain = new WatchChain<object>(10)
    expect(heard(chain, upsert('a', 2, 1))).toBeNull()
    expect(heard(chain, upsert('a', 3, 2))).toBe('all')
  })

  it('sanity seed 1182394: an event continuing one the listeners never heard (its entry dropped it as stale) is proven for nobody', () => {
    const chain = new WatchChain<object>(10)
    // d6's creation arrives after its entry applied the update from another watch: stale, no listener hears it.
    expect(chain.event(upsert('d6', 1, null))).toBeNull()
    // The update says d6 matched before: before a creation no total here counted.
    expect(heard(chain, upsert('d6', 2, 1))).toBeNull()
    expect(heard(chain, upsert('d6', 3, 2))).toBe('all')
  })

  it('memory seed 1121148: a change after a write the watch never heard of (a silent creation) is proven for nobody', () => {
    const chain = new WatchChain<object>(10)
    // The document was created with no event (rev 10); its next change says it matched before: before what no total
    // counted.
    expect(chain.event(upsert('d7', 12, 10))).toBeNull()
    // A creation continues nothing.
    expect(chain.event(upsert('d8', 13, null))).toBeNull()
  })

  it("a page's hit is proven for the listener that read it, not for another (its total may predate that revision)", () => {
    const chain = new WatchChain<object>(10)
    const a = reader('a')
    chain.page('x', 4, a)
    expect(chain.event(upsert('x', 5, 4))).toBe(a)
    chain.told(upsert('x', 5, 4))
    // The watch has reported it since: a later page does not replace what the event gave.
    chain.page('x', 5, reader('b'))
    expect(chain.event(upsert('x', 6, 5))).toBe('all')
  })

  it('a revision skipped is told; a duplicate and a document that left are proven for nobody', () => {
    const chain = new WatchChain<object>(10)
    heard(chain, upsert('a', 2, 1))
    expect(chain.event(upsert('a', 4, 3))).toBe('skips')
    expect(chain.event(upsert('a', 4, 3))).toBeNull()
    heard(chain, upsert('b', 2, 1))
    expect(chain.event(upsert('b', 3, 2, false))).toBe('all')
    // It left: from whatever revision it reached elsewhere, its next news is a first one.
    expect(chain.event(upsert('b', 7, 6))).toBeNull()
  })

  it('stays within its cap (the oldest goes, and is then proven for nobody) and forgets everything on clear', () => {
    const chain = new WatchChain<object>(2)
    heard(chain, upsert('a', 1, null))
    heard(chain, upsert('b', 1, null))
    heard(chain, upsert('c', 1, null))
    expect(chain.size).toBe(2)
    expect(heard(chain, upsert('a', 2, 1))).toBeNull()
    expect(chain.event(upsert('c', 2, 1))).toBe('all')
    chain.clear()
    expect(chain.size).toBe(0)
    expect(chain.event(upsert('c', 3, 2))).toBeNull()
  })

  it("stays within its cap in all, however many readers read pages, and keeps no reader once it left or its pages' documents all moved on", () => {
    const chain = new WatchChain<object>(3)
    const readers = [reader('r1'), reader('r2'), reader('r3'), reader('r4'), reader('r5')]
    const ids = readers.flatMap((r, k) => ['x', 'y', 'z'].map((id) => `${id}${k}`))
    readers.forEach((r, k) => ['x', 'y', 'z'].forEach((id) => {
      chain.page(`${id}${k}`, 1, r)
      expect(chain.size).toBeLessThanOrEqual(3)
    }))
    expect(chain.size).toBe(3)
    const pages = (chain as unknown as { pages: Map<object, Map<string, number>> }).pages
    // What is kept is proven for the reader that read it; once every document moved on, no reader is kept.
    const proofs = ids.map((id) => heard(chain, upsert(id, 2, 1)))
    expect(proofs.filter((p) => p !== null)).toHaveLength(3)
    for (const [k, p] of proofs.entries()) if (p !== null) expect(p).toBe(readers[Math.floor(k / 3)])
    expect(pages.size).toBe(0)
    chain.page('w', 1, readers[0])
    chain.forget(readers[0])
    expect(pages.size).toBe(0)
    expect(heard(chain, upsert('w', 2, 1))).toBeNull()
  })
})
