/**
 * Tokens of the Kuzzle test server: real-looking JWTs (the SDK decodes the payload for `_id` and `exp`), signed
 * with a secret that lives as long as the server object, so tokens survive restart() as Kuzzle's do.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'

/** What a valid token says. */
export interface TokenInfo {
  readonly kuid: string
  /** Expiry, in ms since the epoch. */
  readonly expiresAt: number
}

// Standard base64 without padding: the SDK's decoder reads the standard alphabet, not base64url.
const b64 = (value: string | Buffer) => Buffer.from(value).toString('base64').replace(/=+$/, '')

/** Issues and verifies tokens; an expired or revoked token stays invalid. */
export class TokenIssuer {
  readonly #secret = randomBytes(32)
  readonly #revoked = new Set<string>()

  issue(kuid: string, ttlMs: number): { jwt: string; expiresAt: number } {
    const now = Date.now()
    const expiresAt = now + ttlMs
    const header = b64(JSON.stringify({ alg: 'HS256', typ: 'JWT' }))
    const payload = b64(JSON.stringify({ _id: kuid, iat: Math.floor(now / 1000), exp: Math.floor(expiresAt / 1000), jti: randomBytes(8).toString('hex') }))
    return { jwt: `${header}.${payload}.${this.#sign(`${header}.${payload}`)}`, expiresAt }
  }

  /** The token's content, or the reason it is not valid. */
  verify(jwt: unknown): TokenInfo | 'invalid' | 'expired' {
    if (typeof jwt !== 'string') return 'invalid'
    const parts = jwt.split('.')
    if (parts.length !== 3) return 'invalid'
    const expected = Buffer.from(this.#sign(`${parts[0]}.${parts[1]}`))
    const given = Buffer.from(parts[2])
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return 'invalid'
    let payload: { _id?: unknown; exp?: unknown }
    try {
      payload = JSON.parse(Buffer.from(parts[1], 'base64').toString('utf8'))
    } catch {
      return 'invalid'
    }
    if (typeof payload._id !== 'string' || typeof payload.exp !== 'number') return 'invalid'
    if (this.#revoked.has(jwt) || payload.exp * 1000 <= Date.now()) return 'expired'
    return { kuid: payload._id, expiresAt: payload.exp * 1000 }
  }

  /** Makes a token invalid from now on (logout, forced expiry). */
  revoke(jwt: string): void {
    this.#revoked.add(jwt)
  }

  #sign(data: string): string {
    return b64(createHmac('sha256', this.#secret).update(data).digest())
  }
}
