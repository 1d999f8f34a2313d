import type { DocSource } from '../core'

/** A document as composables expose it, in Kuzzle's shape. `_source` is reactive and replaced in place. */
export interface ObservedDoc<T extends object = DocSource> {
  readonly _id: string
  readonly _source: T
}
