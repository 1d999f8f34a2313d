/**
 * The playground's shared backends as the dev server runs them: the Kuzzle-protocol and Sanity-protocol test
 * servers on 127.0.0.1 (or real ones the environment names), and the traffic simulator of each. Loaded lazily by
 * the Vite plugin (servers-plugin.ts), so that the library build and the unit tests never load the test servers.
 */
import type { KuzzleTarget, PlaygroundConfig, SanityTarget } from '../config'
import type { FleetBackend } from './fleet-backend'
import { embeddedKuzzle, remoteKuzzle, type EmbeddedKuzzle } from './kuzzle'
import { embeddedSanity, remoteSanity, type EmbeddedSanity } from './sanity'
import { Traffic } from './traffic'

/** Where each backend is: `embedded` targets get a test server on 127.0.0.1 at their port (0: a free one). */
export interface BackendSettings {
  kuzzle: KuzzleTarget
  sanity: SanityTarget
  /** Port of the embedded Sanity test server (its `apiHost` is known once it listens). */
  sanityPort: number
}

/** The running backends. */
export interface DevBackends {
  readonly kuzzle: FleetBackend
  readonly sanity: FleetBackend
  /** The embedded Kuzzle test server, when it runs. */
  readonly kuzzleServer: EmbeddedKuzzle['server'] | undefined
  /** The embedded Sanity test server and its dataset, when it runs. */
  readonly sanityServer: EmbeddedSanity['server'] | undefined
  readonly traffic: Record<'kuzzle' | 'sanity', Traffic>
  /** What the page is told (ports as actually bound). */
  config(): PlaygroundConfig
  close(): Promise<void>
}

/**
 * Starts an embedded test server on `port`, or, when that port is taken (another playground, a local Kuzzle), on
 * a free one, saying so as Vite does for its own port. The page learns the port bound from `config()`.
 */
export async function onPortOrFree<T>(what: string, port: number, start: (port: number) => Promise<T>, log: (message: string) => void): Promise<T> {
  try {
    return await start(port)
  } catch (err) {
    if ((err as { code?: unknown }).code !== 'EADDRINUSE' || port === 0) throw err
    log(`Port ${port} is in use (${what}), trying another one...`)
    return start(0)
  }
}

/** Starts (or connects to) both backends. */
export async function startBackends(settings: BackendSettings, log: (message: string) => void): Promise<DevBackends> {
  const [kuzzle, sanity] = await Promise.all([
    settings.kuzzle.embedded
      ? onPortOrFree('Kuzzle-protocol test server', settings.kuzzle.port, embeddedKuzzle, log)
      : remoteKuzzle(settings.kuzzle, log),
    settings.sanity.embedded
      ? onPortOrFree('Sanity-protocol test server', settings.sanityPort, (port) => embeddedSanity(port, settings.sanity.dataset), log)
      : remoteSanity(settings.sanity, log),
  ])
  const traffic = { kuzzle: new Traffic(kuzzle, log), sanity: new Traffic(sanity, log) }
  const kuzzleServer = 'server' in kuzzle ? (kuzzle as EmbeddedKuzzle).server : undefined
  const sanityServer = 'server' in sanity ? (sanity as EmbeddedSanity).server : undefined
  return {
    kuzzle,
    sanity,
    kuzzleServer,
    sanityServer,
    traffic,
    config: () => ({
      kuzzle: kuzzleServer ? { ...settings.kuzzle, host: '127.0.0.1', port: kuzzleServer.port } : settings.kuzzle,
      sanity: sanityServer ? { ...settings.sanity, apiHost: sanityServer.url } : settings.sanity,
      traffic: { kuzzle: traffic.kuzzle.rate, sanity: traffic.sanity.rate },
    }),
    async close() {
      traffic.kuzzle.set(0)
      traffic.sanity.set(0)
      await Promise.all([kuzzle.close(), sanity.close()])
    },
  }
}
