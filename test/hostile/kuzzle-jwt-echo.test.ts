// Audit finding 9, Kuzzle side: a hostile server (or proxy) echoing the client's JWT into its error never puts the
// token into an ObservedError's message, its cause chain or its printed form.
import { inspect } from 'node:util'
import { describe, expect, it } from 'vitest'
import { toObservedError } from '../../src/drivers/kuzzle/documents'

const JWT = 'eyJhbGciOiJIUzI1NiJ9.eyJfaWQiOiJhZG1pbiJ9.c2lnbmF0dXJlLXRoYXQtbXVzdC1ub3QtbGVhaw'

/** Every string reachable from an error: message, stack, cause chain, own properties. */
function everything(err: unknown): string {
  const seen = new Set<unknown>()
  const out: string[] = []
  const walk = (v: unknown) => {
    if (typeof v === 'string') out.push(v)
    if (typeof v !== 'object' || v === null || seen.has(v)) return
    seen.add(v)
    for (const key of Object.getOwnPropertyNames(v)) walk((v as Record<string, unknown>)[key])
  }
  walk(err)
  return out.join('\n') + inspect(err, { depth: 10 })
}

describe('a Kuzzle server echoing the JWT into its errors (audit finding 9)', () => {
  for (const status of [400, 401, 403, 500, 503]) {
    it(`HTTP ${status}: the token is in no message, cause or printed form; status and the server's message stay`, () => {
      const sdkError = Object.assign(new Error(`Invalid request for token ${JWT}`), {
        name: 'KuzzleError',
        status,
        id: 'api.assert.invalid_argument',
        code: 0x02010001,
        props: [JWT],
        volatile: { jwt: JWT },
        stack: `KuzzleError: ${JWT}\n    at server`,
      })
      const err = toObservedError(sdkError, 'read_failed', 'Reading i/c/a failed')
      expect(everything(err)).not.toContain(JWT)
      expect(err.message).toContain('Invalid request for token [redacted]')
      expect(err.cause).toMatchObject({ status, id: 'api.assert.invalid_argument' })
    })
  }
})
