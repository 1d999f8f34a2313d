/**
 * Scroll cursors of document:search with `scroll` and document:scroll: a snapshot of the matches taken at search time
 * (as an Elasticsearch scroll context is), paged by the search's `size`, forgotten once its TTL passes without a call
 * or once its last page is fetched (elasticsearch.ts `scroll`: the cache entry is deleted when fetched >= total).
 */
import { randomBytes } from 'node:crypto'
import type { Hit } from './es-query'

/** One open cursor. */
export interface ScrollCursor {
  readonly index: string
  readonly collection: string
  readonly hits: readonly Hit[]
  readonly size: number
  fetched: number
}

export class ScrollCursors {
  readonly #cursors = new Map<string, { cursor: ScrollCursor; expiresAt: number }>()

  /** Opens a cursor that lives `ttlMs` from now; returns its scroll id. */
  open(cursor: ScrollCursor, ttlMs: number): string {
    this.#sweep()
    const id = randomBytes(24).toString('base64url')
    this.#cursors.set(id, { cursor, expiresAt: Date.now() + ttlMs })
    return id
  }

  /** The cursor, unless it does not exist or has expired. */
  get(id: string): ScrollCursor | undefined {
    this.#sweep()
    return this.#cursors.get(id)?.cursor
  }

  /** Extends a cursor's life to `ttlMs` from now (each document:scroll call sets the TTL again). */
  touch(id: string, ttlMs: number): void {
    const entry = this.#cursors.get(id)
    if (entry) entry.expiresAt = Date.now() + ttlMs
  }

  close(id: string): void {
    this.#cursors.delete(id)
  }

  #sweep(): void {
    const now = Date.now()
    for (const [id, entry] of this.#cursors) if (entry.expiresAt <= now) this.#cursors.delete(id)
  }
}
