/**
 * The playground's Vite plugin (dev server only): runs the Kuzzle-protocol and Sanity-protocol test servers inside
 * the `npm run dev` process, seeded with the taxi fleet, and serves a few dev-only endpoints under `/__playground`:
 *
 * - `GET  /__playground/config`: where the page finds Kuzzle and Sanity, and the traffic rates;
 * - `POST /__playground/traffic?backend=kuzzle|sanity&rate=N`: N updates per second written server-side (0 stops);
 * - `POST /__playground/outage?backend=…&ms=N`: stops the embedded server, listens again on the same port N ms later;
 * - `POST /__playground/reset?backend=…`: puts the seed fleet back in the embedded server (no notifications).
 *
 * Environment (process or `.env*` files next to package.json): `VITE_KUZZLE_HOST` (and `VITE_KUZZLE_PORT`,
 * `VITE_KUZZLE_SSL`) points at a real Kuzzle, `VITE_SANITY_PROJECT_ID` or `VITE_SANITY_API_HOST` (and
 * `VITE_SANITY_DATASET`, `VITE_SANITY_TOKEN`, `VITE_SANITY_API_VERSION`) at a real Sanity project; that backend's
 * test server is then not started. `PLAYGROUND_KUZZLE_PORT` / `PLAYGROUND_SANITY_PORT` move the test servers
 * (defaults 7512 / 7513; 0 picks free ports, as the end-to-end tests do). A port in use is replaced by a free one,
 * as Vite does for its own: the terminal says so and `/__playground/config` gives the page the port bound.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { fileURLToPath } from 'node:url'
import { loadEnv, runnerImport, type Plugin, type ViteDevServer } from 'vite'
import { DEV_API, type KuzzleTarget, type SanityTarget } from './config'
import type { BackendSettings, DevBackends } from './servers/index'

/** The plugin's name, by which the end-to-end tests find its {@link PlaygroundServersApi}. */
export const PLAYGROUND_SERVERS = 'vue-observed:playground-servers'

/** What the plugin exposes to code running in the same process (the end-to-end tests). */
export interface PlaygroundServersApi {
  /** The running backends; rejects if they could not start. Available once the dev server is created. */
  backends(): Promise<DevBackends>
}

const repoRoot = fileURLToPath(new URL('..', import.meta.url))
const ENV_PREFIXES = ['VITE_', 'PLAYGROUND_']
const DEFAULT_PORTS = { kuzzle: 7512, sanity: 7513 }
const SANITY_API_VERSION = '2025-02-19'

function port(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined || value === '') return fallback
  const n = Number(value)
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`${name} must be a port number, got "${value}"`)
  return n
}

/** Reads where each backend is from the environment. */
export function readSettings(env: Record<string, string>): BackendSettings {
  const kuzzle: KuzzleTarget = env.VITE_KUZZLE_HOST
    ? {
        host: env.VITE_KUZZLE_HOST,
        port: port(env.VITE_KUZZLE_PORT, 7512, 'VITE_KUZZLE_PORT'),
        ssl: /^(1|true|yes)$/i.test(env.VITE_KUZZLE_SSL ?? ''),
        embedded: false,
      }
    : { host: '127.0.0.1', port: port(env.PLAYGROUND_KUZZLE_PORT, DEFAULT_PORTS.kuzzle, 'PLAYGROUND_KUZZLE_PORT'), ssl: false, embedded: true }
  const realSanity = Boolean(env.VITE_SANITY_PROJECT_ID || env.VITE_SANITY_API_HOST)
  const sanity: SanityTarget = {
    ...(env.VITE_SANITY_PROJECT_ID ? { projectId: env.VITE_SANITY_PROJECT_ID } : {}),
    dataset: env.VITE_SANITY_DATASET || 'production',
    apiVersion: env.VITE_SANITY_API_VERSION || SANITY_API_VERSION,
    embedded: !realSanity,
    ...(env.VITE_SANITY_API_HOST ? { apiHost: env.VITE_SANITY_API_HOST.replace(/\/+$/, '') } : {}),
    ...(realSanity && env.VITE_SANITY_TOKEN ? { token: env.VITE_SANITY_TOKEN } : {}),
  }
  return { kuzzle, sanity, sanityPort: port(env.PLAYGROUND_SANITY_PORT, DEFAULT_PORTS.sanity, 'PLAYGROUND_SANITY_PORT') }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' })
  res.end(JSON.stringify(body))
}

/** The dev-only endpoints. */
async function handle(backends: DevBackends, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://playground')
  const route = `${req.method} ${url.pathname}`
  if (route === 'GET /config') return send(res, 200, backends.config())
  if (req.method !== 'POST') return send(res, 404, { error: `No ${route} here` })
  const name = url.searchParams.get('backend')
  if (name !== 'kuzzle' && name !== 'sanity') return send(res, 400, { error: 'backend must be kuzzle or sanity' })
  const backend = backends[name]
  switch (url.pathname) {
    case '/traffic':
      return send(res, 200, { rate: backends.traffic[name].set(Number(url.searchParams.get('rate') ?? 0)) })
    case '/outage': {
      if (!backend.outage) return send(res, 409, { error: `${name} is a real backend: no outage on demand` })
      const ms = Math.min(60_000, Math.max(0, Number(url.searchParams.get('ms') ?? 3000) || 0))
      // Answered at once: the server is going down, and will be back on its own.
      send(res, 202, { downMs: ms })
      backend.outage(ms).catch((err: Error) => console.error(`[playground] ${name} restart failed: ${err.message}`))
      return
    }
    case '/reset':
      if (!backend.embedded) return send(res, 409, { error: `${name} is a real backend: not reset` })
      await backend.reset()
      return send(res, 200, { ok: true })
    default:
      return send(res, 404, { error: `No ${route} here` })
  }
}

/**
 * The plugin. vite.config.ts adds it only when serving the playground, so `vite build` and the unit tests never
 * start a server; the servers' code is loaded at server start (through Vite's module runner), not with the config.
 */
export function playgroundServers(): Plugin & { api: PlaygroundServersApi } {
  let started: Promise<DevBackends> | undefined
  let env: Record<string, string> = {}
  const log = (message: string) => console.log(`[playground] ${message}`)

  return {
    name: PLAYGROUND_SERVERS,
    apply: 'serve',
    api: {
      backends: () => started ?? Promise.reject(new Error('The playground dev server is not created yet')),
    },
    config(user) {
      return {
        // `.env*` files beside package.json, where a developer looks first.
        envDir: user.envDir ?? repoRoot,
        // Pre-bundled at start-up, so that switching backends never triggers a dependency re-optimization (and a
        // full page reload) on first use. kuzzle-sdk resolves to its browser build (`browser` export condition).
        optimizeDeps: { include: ['vue', 'pinia', 'kuzzle-sdk', '@sanity/client'] },
      }
    },
    configResolved(config) {
      env = loadEnv(config.mode, config.envDir || repoRoot, ENV_PREFIXES)
    },
    async configureServer(server: ViteDevServer) {
      const settings = readSettings(env)
      started = (async () => {
        const { module } = await runnerImport<typeof import('./servers/index')>(fileURLToPath(new URL('./servers/index.ts', import.meta.url)), {
          configFile: false,
          root: repoRoot,
          logLevel: 'error',
        })
        return module.startBackends(settings, log)
      })()
      const backends = await started.catch((err: Error) => {
        throw new Error(`The playground's backends did not start: ${err.message}`, { cause: err })
      })
      const { kuzzle, sanity } = backends.config()
      log(kuzzle.embedded ? `Kuzzle-protocol test server on ws://127.0.0.1:${kuzzle.port}` : `Kuzzle at ${kuzzle.host}:${kuzzle.port}`)
      log(sanity.embedded ? `Sanity-protocol test server on ${sanity.apiHost}` : `Sanity ${sanity.projectId ? `project ${sanity.projectId} ` : ''}at ${sanity.apiHost ?? 'api.sanity.io'}, dataset ${sanity.dataset}`)
      server.httpServer?.once('close', () => void backends.close())
      server.middlewares.use(DEV_API, (req, res) => {
        handle(backends, req, res).catch((err: Error) => send(res, 500, { error: err.message }))
      })
    },
    async buildEnd() {
      // The dev server closes its plugins on close(), with or without an HTTP server (middleware mode).
      await (await started?.catch(() => undefined))?.close()
    },
  }
}
