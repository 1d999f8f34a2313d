/** The page's side of the dev-only endpoints the playground's Vite plugin serves (servers-plugin.ts). */
import { DEV_API, type PlaygroundConfig } from './config'

async function call<T>(method: 'GET' | 'POST', path: string): Promise<T> {
  const response = await fetch(`${DEV_API}${path}`, { method })
  const body = (await response.json().catch(() => ({}))) as T & { error?: string }
  if (!response.ok) throw new Error(body.error ?? `${method} ${DEV_API}${path}: HTTP ${response.status}`)
  return body
}

/** Where Kuzzle and Sanity are; null when the page is not served by the playground's dev server. */
export async function fetchConfig(): Promise<PlaygroundConfig | null> {
  try {
    return await call<PlaygroundConfig>('GET', '/config')
  } catch {
    return null
  }
}

/** Sets the server-side traffic on a shared backend; resolves with the rate applied. */
export async function setServerTraffic(backend: 'kuzzle' | 'sanity', rate: number): Promise<number> {
  return (await call<{ rate: number }>('POST', `/traffic?backend=${backend}&rate=${rate}`)).rate
}

/** The server-side traffic rate of a shared backend. */
export async function serverTraffic(backend: 'kuzzle' | 'sanity'): Promise<number> {
  return (await call<PlaygroundConfig>('GET', '/config')).traffic[backend]
}

/** Stops an embedded test server for `ms`, then restarts it on the same port. */
export async function serverOutage(backend: 'kuzzle' | 'sanity', ms: number): Promise<void> {
  await call('POST', `/outage?backend=${backend}&ms=${ms}`)
}
