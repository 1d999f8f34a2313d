/**
 * The end-to-end harness: the playground's Vite dev server, created from the project's vite.config.ts on a free
 * port with its Kuzzle and Sanity test servers on free ports, and Debian's chromium driven by playwright-core with
 * a fresh profile. Tests reach the test servers' own APIs (server-side writes, stop / restart) through the plugin.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { createServer as createNetServer, type AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium, type BrowserContext, type Page } from 'playwright-core'
import { createServer, type ViteDevServer } from 'vite'
import type { BackendName } from '../../playground/config'
import { PLAYGROUND_SERVERS, type PlaygroundServersApi } from '../../playground/servers-plugin'
import type { DevBackends } from '../../playground/servers/index'
import type { KuzzleTestServer } from '../servers/kuzzle'
import type { SanityTestServer } from '../servers/sanity'

const repoRoot = fileURLToPath(new URL('../..', import.meta.url))
/** Where a failing test's screenshots go (gitignored). */
export const ARTIFACTS = join(repoRoot, 'test/e2e/artifacts')
/** Debian's chromium unless CHROMIUM_PATH names another. */
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium'
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
]
/** Bound of every wait on the page: long enough for a loaded CI machine, short enough to fail before vitest. */
export const WAIT_MS = 15_000

/** A running playground and a browser on it. */
export interface Playground {
  /** The page's origin, e.g. `http://127.0.0.1:43123`. */
  readonly url: string
  readonly backends: DevBackends
  readonly kuzzle: KuzzleTestServer
  readonly sanity: SanityTestServer
  /** The Sanity dataset the playground uses. */
  readonly dataset: string
  /**
   * Opens a page on a backend and waits until its list shows live rows (unless `live: false`); `search` adds URL
   * parameters (e.g. `share=0`).
   */
  open(backend: BackendName, options?: { search?: string; live?: boolean }): Promise<Page>
  /** Pages opened since the last `reset()`. */
  readonly pages: readonly Page[]
  /** Saves a screenshot of every open page into {@link ARTIFACTS}, named after `name`. */
  screenshot(name: string): Promise<string[]>
  /** Closes the pages, stops the traffic and puts the seed fleet back into both test servers. */
  reset(): Promise<void>
  close(): Promise<void>
}

/** Starts the playground's dev server (with its test servers, on free ports unless `env` says) and chromium. */
export async function startPlayground(env: { PLAYGROUND_KUZZLE_PORT?: string; PLAYGROUND_SANITY_PORT?: string } = {}): Promise<Playground> {
  const server = await startDevServer(env)
  const cleanups: Array<() => Promise<unknown>> = [() => server.close()]
  try {
    const browser = await launchBrowser()
    cleanups.push(() => browser.close())
    const kuzzle = server.backends.kuzzleServer
    const sanity = server.backends.sanityServer
    if (!kuzzle || !sanity) throw new Error('The end-to-end tests need the embedded test servers: unset VITE_KUZZLE_HOST / VITE_SANITY_*')
    return playground({ url: server.url, backends: server.backends, kuzzle, sanity, context: browser.context, cleanups })
  } catch (err) {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined)
    throw err
  }
}

/** The playground's dev server, listening. */
export interface DevServer {
  /** The page's origin, e.g. `http://127.0.0.1:43123`. */
  readonly url: string
  readonly backends: DevBackends
  close(): Promise<void>
}

/**
 * The project's dev server (vite.config.ts) on a free port, its test servers on free ports, with `env` as the only
 * VITE_KUZZLE_* / VITE_SANITY_* variables. vite.config.ts serves the playground only outside vitest (VITEST set means
 * "running the unit tests"), so that variable is lifted while the config loads.
 */
export async function startDevServer(env: Record<string, string> = {}): Promise<DevServer> {
  const saved = { ...process.env }
  for (const name of Object.keys(process.env)) if (/^VITE_(KUZZLE|SANITY)_/.test(name)) delete process.env[name]
  Object.assign(process.env, { PLAYGROUND_KUZZLE_PORT: '0', PLAYGROUND_SANITY_PORT: '0' }, env)
  delete process.env.VITEST
  let vite: ViteDevServer
  try {
    vite = await createServer({
      configFile: join(repoRoot, 'vite.config.ts'),
      mode: 'development',
      logLevel: 'warn',
      clearScreen: false,
      // Its own pre-bundled dependencies, so that a developer's `npm run dev` and this run never re-optimize each other's.
      cacheDir: join(repoRoot, 'node_modules/.vite-e2e'),
      server: { host: '127.0.0.1', port: await freePort(), strictPort: true, hmr: false, watch: null },
    })
  } finally {
    for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name]
    Object.assign(process.env, saved)
  }
  try {
    const plugin = vite.config.plugins.find((p) => p.name === PLAYGROUND_SERVERS) as unknown as { api: PlaygroundServersApi } | undefined
    if (!plugin) throw new Error(`vite.config.ts did not add the ${PLAYGROUND_SERVERS} plugin when serving`)
    const backends = await plugin.api.backends()
    await vite.listen()
    const { port } = vite.httpServer!.address() as AddressInfo
    return { url: `http://127.0.0.1:${port}`, backends, close: () => vite.close() }
  } catch (err) {
    await vite.close()
    throw err
  }
}

/** Debian's chromium, headless, on a fresh profile (removed by `close()`). */
export async function launchBrowser(): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  const profile = await mkdtemp(join(tmpdir(), 'vue-observed-e2e-'))
  try {
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1280, height: 860 },
    })
    return {
      context,
      async close() {
        await context.close()
        await rm(profile, { recursive: true, force: true })
      },
    }
  } catch (err) {
    await rm(profile, { recursive: true, force: true })
    throw err
  }
}

/** A port free now (Vite reads port 0 as "its default", 5173). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createNetServer()
    probe.once('error', reject)
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo
      probe.close(() => resolve(port))
    })
  })
}

function playground(o: {
  url: string
  backends: DevBackends
  kuzzle: KuzzleTestServer
  sanity: SanityTestServer
  context: BrowserContext
  cleanups: Array<() => Promise<unknown>>
}): Playground {
  const pages: Page[] = []
  // The persistent context opens with one blank page: tests open their own.
  for (const blank of o.context.pages()) void blank.close()
  return {
    url: o.url,
    backends: o.backends,
    kuzzle: o.kuzzle,
    sanity: o.sanity,
    dataset: o.backends.config().sanity.dataset,
    pages,
    async open(backend, options = {}) {
      const page = await o.context.newPage()
      pages.push(page)
      page.setDefaultTimeout(WAIT_MS)
      await page.goto(`${o.url}/?backend=${backend}${options.search ? `&${options.search}` : ''}`)
      await page.waitForSelector(`nav [data-backend="${backend}"].active`)
      if (options.live === false) return page
      await waitForText(page, '[data-test=list-status]', 'live')
      await page.waitForSelector('tbody tr[data-id]')
      return page
    },
    async screenshot(name) {
      await mkdir(ARTIFACTS, { recursive: true })
      const slug = name.replace(/[^a-z0-9]+/gi, '-').replace(/^-|-$/g, '').slice(0, 100)
      const files: string[] = []
      for (const [i, page] of pages.entries()) {
        if (page.isClosed()) continue
        const file = join(ARTIFACTS, `${slug}-page${i + 1}.png`)
        await page.screenshot({ path: file, fullPage: true }).then(() => files.push(file), () => undefined)
      }
      return files
    },
    async reset() {
      for (const page of pages.splice(0)) await page.close().catch(() => undefined)
      o.backends.traffic.kuzzle.set(0)
      o.backends.traffic.sanity.set(0)
      // A test that failed mid-outage leaves a server down: bring it back.
      for (const server of [o.kuzzle, o.sanity]) if (!(await isListening(server))) await server.restart()
      await o.backends.kuzzle.reset()
      await o.backends.sanity.reset()
    },
    async close() {
      for (const cleanup of o.cleanups.reverse()) await cleanup().catch(() => undefined)
    },
  }
}

/** Whether a test server is up: a stopped one refuses connections. */
function isListening(server: KuzzleTestServer | SanityTestServer): Promise<boolean> {
  return fetch(server.url.replace(/^ws/, 'http')).then(
    () => true,
    () => false,
  )
}

/** Waits until the element's trimmed text equals `text` (or one of `text`). */
export async function waitForText(page: Page, selector: string, text: string | readonly string[], timeout = WAIT_MS): Promise<string> {
  const wanted = typeof text === 'string' ? [text] : [...text]
  const handle = await page.waitForFunction(
    ([sel, expected]) => {
      const actual = document.querySelector(sel)?.textContent?.trim()
      return actual !== undefined && expected.includes(actual) ? actual : false
    },
    [selector, wanted] as const,
    { timeout },
  )
  return (await handle.jsonValue()) as string
}

/** The ids of the list's rows, in order. */
export function rowIds(page: Page): Promise<string[]> {
  return page.$$eval('tbody tr[data-id]', (rows) => rows.map((r) => r.getAttribute('data-id') ?? ''))
}

/** The fare a row shows, or null when the row is not there. */
export function rowFare(page: Page, id: string): Promise<string | null> {
  return page.$eval(`tbody tr[data-id="${id}"] [data-test=fare]`, (cell) => cell.textContent?.trim() ?? null).catch(() => null)
}
