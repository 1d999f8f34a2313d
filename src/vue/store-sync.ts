import { reactive, toRaw } from 'vue'
import { cloneSafe, isPlainObject, ObservedError, replaceInPlace, type DocSource } from '../core'
import type { ObservedDoc } from './types'

/**
 * Any Pinia store (option or setup): `$state` gives the keys and their types; only `$patch` writes, so devtools
 * and `$subscribe` see every write.
 */
export interface PatchableStore<S extends object = any> {
  readonly $state: S
  $patch(mutator: (state: any) => void): void
}

/** Where a composable writes into a Pinia store: `store.$state[key]`. `key` is a key of the state. */
export interface StoreTarget<S extends object = any, K extends string = string> {
  store: PatchableStore<S>
  key: K
}

/** A search kept in a store: as an array in sort order (default), or as an object keyed by `_id`. */
export interface SearchStoreTarget<S extends object = any, K extends string = string, A extends 'array' | 'map' = 'array' | 'map'>
  extends StoreTarget<S, K> {
  as?: A
}

/** The document type held by a state property typed `ObservedDoc<T> | null` (or `{ _source: T }` alike). */
export type DocumentOf<V> = [NonNullable<V>] extends [{ _source: infer T extends object }] ? T : DocSource

/** The hit type held by a state property typed as a search writes it: `ObservedDoc<T>[]`, or a map by `_id`. */
export type HitOf<V, A extends 'array' | 'map'> = A extends 'map'
  ? [V] extends [Record<string, infer D>] ? DocumentOf<D> : DocSource
  : [V] extends [ReadonlyArray<infer D>] ? DocumentOf<D> : DocSource

/** What a search writes at its key: the hits in order, or a map by `_id`. */
export type StoredHits<T extends object, A extends 'array' | 'map'> = A extends 'map' ? Record<string, ObservedDoc<T>> : ObservedDoc<T>[]

/** The state keys of `S` that can hold a document (`ObservedDoc<T> | null`): what `store.key` of a document accepts. */
export type DocumentStoreKey<S> = {
  [K in keyof S]-?: [ObservedDoc<DocumentOf<S[K]>> | null] extends [S[K]] ? K : never
}[keyof S] & string

/** The state keys of `S` that can hold a search's hits, as an array (`as: 'array'`) or a map by `_id` (`as: 'map'`). */
export type SearchStoreKey<S, A extends 'array' | 'map'> = {
  [K in keyof S]-?: [StoredHits<HitOf<S[K], A>, A>] extends [S[K]] ? K : never
}[keyof S] & string

// Assigning to these on the state would replace its prototype or shadow what Vue and Pinia rely on.
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype'])

/**
 * Refuses a key that is not a plain own property of the store's state (`bad_argument`): prototype keys, and keys
 * the state does not declare (an inherited one such as `toString` would be shadowed, an undeclared one would
 * escape SSR state transfer and devtools' state tree).
 */
function checkStoreKey({ store, key }: StoreTarget): void {
  if (typeof key !== 'string' || key === '' || FORBIDDEN_KEYS.has(key)) {
    throw new ObservedError('bad_argument', `Invalid store key ${JSON.stringify(key)}: use a property declared in the store's state`)
  }
  const state = (store as { $state?: object }).$state
  if (state && typeof state === 'object' && !Object.hasOwn(state, key)) {
    throw new ObservedError('bad_argument', `The store has no state property "${key}": declare it in the store's state`)
  }
}

type Copy = { _id: string; _source: Record<string, unknown> }

/**
 * Keeps store copies of documents, written through `$patch`. Copies are the store's own plain objects (the
 * store makes them reactive); a change patches only the fields that differ.
 */
export class StoreWriter {
  private copies = new Map<string, Copy>()
  /** Whether the copies the store already held were looked for (once, before the first write). */
  private adopted = false

  constructor(private readonly target: StoreTarget) {
    checkStoreKey(target)
  }

  /**
   * Before the first write, the documents the state already holds at the key (Pinia hydrated them from the server's
   * state, written there by this same writer) become the copies: the store keeps one source, patched in place, so a
   * hydrated document that the observer confirms is not written again.
   */
  private adopt(): void {
    if (this.adopted) return
    this.adopted = true
    const held: unknown = toRaw((this.target.store.$state as Record<string, unknown>)[this.target.key])
    const values = Array.isArray(held) ? held : held && typeof held === 'object' && !('_source' in held) ? Object.values(held) : [held]
    for (const value of values) {
      const copy = toRaw(value) as Copy | null
      if (copy && typeof copy === 'object' && typeof copy._id === 'string' && isPlainObject(toRaw(copy._source))) {
        this.copies.set(copy._id, copy)
      }
    }
  }

  /** Writes one document (or null) at the key. Called inside `$patch` so every copy update is one patch. */
  writeDocument(doc: ObservedDoc<object> | null): void {
    this.adopt()
    this.target.store.$patch((state) => {
      state[this.target.key] = doc ? this.copyOf(doc) : null
    })
    if (!doc) this.copies.clear()
  }

  /** Writes the hits' membership and order at the key (array or map). */
  writeHits(hits: ReadonlyArray<ObservedDoc<object>>, as: 'array' | 'map' = 'array'): void {
    this.adopt()
    this.target.store.$patch((state) => {
      const next = new Map<string, Copy>()
      const list = hits.map((hit) => {
        const copy = this.copyOf(hit)
        next.set(hit._id, copy)
        return copy
      })
      this.copies = next
      state[this.target.key] = as === 'map' ? Object.fromEntries(list.map((c) => [c._id, c])) : list
    })
  }

  /** Patches one held document's fields in place. */
  patch(id: string, source: object): void {
    const copy = this.copies.get(id)
    if (!copy) return
    this.target.store.$patch(() => {
      // The store holds `copy` raw; its reactive proxy is the one the store's readers track.
      replaceInPlace(reactive(copy)._source, source as Record<string, unknown>)
    })
  }

  private copyOf(doc: ObservedDoc<object>): Copy {
    const held = this.copies.get(doc._id)
    if (held) {
      replaceInPlace(reactive(held)._source, doc._source as Record<string, unknown>)
      return held
    }
    const copy = { _id: doc._id, _source: cloneSafe(doc._source as Record<string, unknown>) }
    this.copies.set(doc._id, copy)
    return copy
  }
}
