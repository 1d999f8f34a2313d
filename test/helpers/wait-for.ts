/**
 * Waits until `condition` returns a truthy value (which is returned) or stops throwing, polling every `intervalMs`.
 * Rejects after `timeoutMs` with the last error, or a timeout error naming `what`. Use it instead of fixed sleeps.
 */
export async function waitFor<T>(
  condition: () => T | Promise<T>,
  timeoutMs = 2000,
  { intervalMs = 2, what = 'condition' }: { intervalMs?: number; what?: string } = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs
  let lastError: unknown
  for (;;) {
    try {
      const value = await condition()
      if (value) return value as NonNullable<T>
      lastError = undefined
    } catch (err) {
      lastError = err
    }
    if (Date.now() >= deadline) {
      if (lastError) throw lastError
      throw new Error(`waitFor: ${what} not met within ${timeoutMs} ms`)
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs))
  }
}

/**
 * The negative form of {@link waitFor}: polls `read` for `forMs` and fails as soon as its value differs from the
 * first one (naming `what`). For "nothing more happens" checks, with `forMs` longer than whatever would make it
 * happen (a backoff step, a debounce); it returns as soon as the bound is reached.
 */
export async function staysEqual<T>(read: () => T, forMs: number, { intervalMs = 2, what = 'value' }: { intervalMs?: number; what?: string } = {}): Promise<T> {
  const first = read()
  const deadline = Date.now() + forMs
  while (Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, intervalMs))
    const now = read()
    if (!Object.is(now, first)) throw new Error(`staysEqual: ${what} changed from ${String(first)} to ${String(now)} within ${forMs} ms`)
  }
  return first
}
