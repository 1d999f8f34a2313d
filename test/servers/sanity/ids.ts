/** Identifiers the Sanity-protocol test server hands out: transaction ids (= revisions), document ids, listener names. */
import { randomBytes } from 'node:crypto'

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'

/** A random base62 string, shaped like Sanity's transaction ids and revisions (22 characters by default). */
export function randomId(length = 22): string {
  const bytes = randomBytes(length)
  let out = ''
  for (let i = 0; i < length; i++) out += ALPHABET[bytes[i] % ALPHABET.length]
  return out
}

/** Sanity's document id rule: letters, digits, `.`, `_` and `-`, not starting with `-`, at most 128 characters. */
export const DOCUMENT_ID = /^[A-Za-z0-9_.][A-Za-z0-9_.-]{0,127}$/
