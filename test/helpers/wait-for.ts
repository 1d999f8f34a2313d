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
