/**
 * One line for any error the page shows: an ObservedError's message, or an SDK's error reduced to its status and
 * first line (SDK errors can carry whole request and response dumps).
 */
export function describeError(err: unknown): string {
  const e = err as { message?: unknown; statusCode?: unknown; status?: unknown }
  const message = typeof e?.message === 'string' && e.message ? e.message : String(err)
  const status = typeof e?.statusCode === 'number' ? e.statusCode : typeof e?.status === 'number' ? e.status : undefined
  const first = message.split('\n')[0].trim()
  const line = first.length > 200 ? `${first.slice(0, 199)}…` : first
  return status !== undefined && !line.includes(String(status)) ? `HTTP ${status}: ${line}` : line
}
