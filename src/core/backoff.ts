/** Reconnection delays: exponential, capped, with jitter so that many clients do not retry in lockstep. */
export interface BackoffOptions {
  /** First delay in ms (default 250). */
  base?: number
  /** Longest delay in ms (default 30 000). */
  cap?: number
  /** Source of randomness in [0, 1), for reproducible tests. */
  random?: () => number
}

/** Delay before retry number `attempt` (0-based): a random value in [d/2, d] where d = min(cap, base * 2^attempt). */
export function backoffDelay(attempt: number, options: BackoffOptions = {}): number {
  const { base = 250, cap = 30_000, random = Math.random } = options
  const ceiling = Math.min(cap, base * 2 ** Math.min(attempt, 30))
  return Math.round(ceiling / 2 + random() * (ceiling / 2))
}
