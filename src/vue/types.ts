import type { DocSource } from '../core'

/**
 * A document as composables expose it, in Kuzzle's shape. `useObservedDocument`: `_source` is reactive and changed in
 * place. A live search's hits: `_source` is a frozen value, replaced on every change (the row stays the same object).
 */
export interface ObservedDoc<T extends object = DocSource> {
  readonly _id: string
  readonly _source: T
}
