/**
 * The Nuxt module in a real Nuxt app (test/nuxt/): built with `nuxi build` against this repository's built package
 * (`npm run build` first), served from its built `.output/server/index.mjs` (in the OS temp directory) on the Sanity-protocol test server, loaded in
 * headless chromium. The server's HTML holds the data, hydration is silent, the browser's requests after load are
 * only the confirmations (one read of the documents, one per search, the listeners), and a live change then shows.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Page, Request } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { startSanityServer, type SanityTestServer } from '../servers/sanity'
import { staysEqual, waitFor } from '../helpers/wait-for'
import { freePort, launchBrowser, WAIT_MS } from './playground'

const repoRoot = fileURLToPath(new URL('../..', import.meta.url))
const appDir = join(repoRoot, 'test/nuxt')
// The build (Nuxt's generated sources and the built server and client) goes outside the repository: built vendor code
// does not belong in the source tree. test/nuxt/nuxt.config.ts reads these.
const buildRoot = join(tmpdir(), 'vue-observed-nuxt-e2e')
process.env.NUXT_E2E_BUILD_DIR = join(buildRoot, '.nuxt')
process.env.NUXT_E2E_OUTPUT_DIR = join(buildRoot, '.output')
const serverEntry = join(buildRoot, '.output/server/index.mjs')
const BUILD_MS = 240_000

/** Ten taxis: six with fare >= 20 (the live-query search), four below (the live-hits search). */
const TAXIS = Array.from({ length: 10 }, (_, i) => ({
  _id: `taxi-${i + 1}`,
  _type: 'taxi',
  driver: `Driver ${i + 1}`,
  fare: [31, 12.5, 25, 8, 40, 22, 15, 27, 9, 21][i],
}))
const DOCS = TAXIS.length
const SEARCHES = 2

let sanity: SanityTestServer
let nuxt: ChildProcess | undefined
let nuxtLog = ''
let origin = ''
let browser: Awaited<ReturnType<typeof launchBrowser>>
const pages: Page[] = []

function run(command: string, args: string[], cwd: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env: { ...process.env, NUXT_TELEMETRY_DISABLED: '1' }, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.on('data', (d) => (out += d))
    child.stderr.on('data', (d) => (out += d))
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs)
    child.on('error', reject)
    child.on('exit', (code, signal) => {
      clearTimeout(timer)
      if (code === 0) resolve()
      else reject(new Error(`${command} ${args.join(' ')} failed (${signal ?? code}):\n${out.slice(-4000)}`))
    })
  })
}

beforeAll(async () => {
  if (!existsSync(join(repoRoot, 'dist/nuxt.js'))) throw new Error('dist/nuxt.js is missing: run `npm run build` before the end-to-end suite')
  // NUXT_E2E_PREBUILT=1 reuses the last build when iterating on the test itself (never in CI).
  if (!(process.env.NUXT_E2E_PREBUILT && existsSync(serverEntry))) {
    const started = Date.now()
    await run(process.execPath, [join(repoRoot, 'node_modules/@nuxt/cli/bin/nuxi.mjs'), 'build'], appDir, BUILD_MS)
    console.info(`nuxt e2e: nuxi build took ${Date.now() - started} ms`)
  }

  sanity = await startSanityServer({ keepAliveMs: 0 })
  sanity.documents.load(TAXIS)
  const port = await freePort()
  origin = `http://127.0.0.1:${port}`
  nuxt = spawn(process.execPath, [serverEntry], {
    cwd: appDir,
    env: { ...process.env, HOST: '127.0.0.1', PORT: String(port), NUXT_PUBLIC_SANITY_API_HOST: sanity.url, NODE_ENV: 'production' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  nuxt.stdout!.on('data', (d) => (nuxtLog += d))
  nuxt.stderr!.on('data', (d) => (nuxtLog += d))
  await waitFor(() => fetch(`${origin}/spa`).then((r) => r.ok), WAIT_MS, { intervalMs: 50, what: `the Nuxt server on ${origin}` })
  browser = await launchBrowser()
  for (const blank of browser.context.pages()) await blank.close()
}, BUILD_MS + 60_000)

afterEach(async () => {
  for (const page of pages.splice(0)) await page.close().catch(() => undefined)
})

afterAll(async () => {
  await browser?.close()
  if (nuxt && nuxt.exitCode === null) {
    const exited = new Promise((resolve) => nuxt!.once('exit', resolve))
    nuxt.kill('SIGTERM')
    await exited
  }
  await sanity?.stop()
})

/** A page that records what the console says and every request to the Sanity server from the moment it opens. */
async function open(path: string, before?: (page: Page) => Promise<unknown>) {
  const page = await browser.context.newPage()
  await before?.(page)
  pages.push(page)
  page.setDefaultTimeout(WAIT_MS)
  const consoleMessages: string[] = []
  const requests: Request[] = []
  page.on('console', (m) => consoleMessages.push(`${m.type()}: ${m.text()}`))
  page.on('pageerror', (err) => consoleMessages.push(`pageerror: ${err.message}`))
  page.on('request', (r) => {
    if (r.url().startsWith(sanity.url)) requests.push(r)
  })
  await page.goto(`${origin}${path}`)
  return { page, consoleMessages, requests }
}

/** Waits until every composable of the page (10 documents, 2 searches) says `live`, the time it took from navigation. */
async function allLive(page: Page): Promise<number> {
  await page.waitForFunction((n) => document.querySelectorAll('[data-status="live"]').length === n, DOCS + SEARCHES, { timeout: WAIT_MS })
  return page.evaluate(() => performance.now())
}

const kinds = (requests: Request[]) =>
  requests.map((r) => new URL(r.url()).pathname.replace(/^\/v[^/]+/, '').replace(/\/data\/(\w+)\/.*/, '$1')).sort()

describe('Nuxt module (vue-observed/nuxt) in a built Nuxt app', () => {
  it('SSR hydration: the server HTML holds the data, and Nuxt payload carries it', async () => {
    const html = await (await fetch(`${origin}/`)).text()
    for (const t of TAXIS) expect(html).toContain(`${t.driver}: <span data-test="fare">${t.fare}</span>`)
    // The searches, sorted by fare: 6 at or above 20 (window of 5), 4 below.
    expect(html).toMatch(/<p data-test="total">6<\/p>/)
    expect(html).toMatch(/<p data-test="total">4<\/p>/)
    expect(html).toContain('client ready')
    const payload = /<script type="application\/json"[^>]*id="__NUXT_DATA__"[^>]*>(.*?)<\/script>/s.exec(html)?.[1]
    expect(payload).toBeDefined()
    expect(payload).toContain('vueObserved')
    expect(payload).toContain('Driver 10')
  })

  // One retry: CI once saw a fourth read (a page of a search) that no run since has shown; the message of a failing
  // attempt lists every read (its query and parameters) for whoever meets it next.
  it('hydrates with no hydration warning, then makes only the confirmations, then a live change shows', { retry: 1 }, async () => {
    // The documents as seeded (a retry follows an attempt that changed two of them).
    sanity.documents.load(TAXIS)
    // Every request to the Sanity server is held until the hydrated page has been checked: what it shows then came
    // from Nuxt's payload, not from a read.
    let release!: () => void
    const gate = new Promise<void>((resolve) => (release = resolve))
    const { page, consoleMessages, requests } = await open('/', async (p) => {
      await p.route(`${sanity.url}/**`, async (route) => {
        await gate
        await route.continue()
      })
    })
    // Hydrated and mounted (the client-only status badges are there), every composable pending, nothing answered.
    await page.waitForFunction((n) => document.querySelectorAll('[data-status="pending"]').length === n, DOCS + SEARCHES)
    const cards = await page.$$eval('[data-test=cards] li', (lis) => lis.map((li) => li.textContent?.trim()))
    expect(cards).toEqual(TAXIS.map((t) => `${t.driver}: ${t.fare}`))
    const hits = await page.$$eval('[data-search] li', (lis) => lis.map((li) => li.getAttribute('data-id')))
    expect(hits).toEqual(['taxi-5', 'taxi-1', 'taxi-8', 'taxi-3', 'taxi-6', 'taxi-7', 'taxi-2', 'taxi-9', 'taxi-4'])
    // A change made after the server rendered and before the browser's watch is up: the confirmation read shows it.
    sanity.documents.patch('taxi-3', { set: { fare: 26 } })
    release()
    const liveAt = await allLive(page)
    await page.waitForFunction(() => document.querySelector('[data-id="taxi-3"] [data-test=fare]')?.textContent === '26')
    const readRequests = () => requests.filter((r) => !r.url().includes('/data/listen/')).length
    // Nothing more is read once everything is live (bounded: longer than the pool's debounce and a listener's reconnect).
    await staysEqual(readRequests, 1500, { intervalMs: 20, what: 'reads after load' })
    const seen = kinds(requests)
    console.info(`nuxt e2e: hydrated page live ${liveAt.toFixed(0)} ms after navigation; requests: ${seen.join(', ')}`)
    // One batched read of the 10 documents (one collection), one read per search, and the listeners.
    const reads = requests.filter((r) => !r.url().includes('/data/listen/')).map((r) => decodeURIComponent(new URL(r.url()).pathname + new URL(r.url()).search))
    expect(seen.filter((k) => k !== 'listen'), `reads, in the order sent:\n${reads.join('\n')}`).toEqual(['doc', 'query', 'query'])
    expect(seen.filter((k) => k === 'listen').length).toBeGreaterThanOrEqual(1)
    expect(seen.filter((k) => k === 'listen').length).toBeLessThanOrEqual(1 + SEARCHES)
    expect(consoleMessages.filter((m) => /hydrat|mismatch/i.test(m))).toEqual([])
    expect(consoleMessages.filter((m) => /^(error|pageerror)/.test(m))).toEqual([])

    // Live: a document's change, and a document entering the live-query search (6 matches + taxi-2).
    sanity.documents.patch('taxi-2', { set: { fare: 50 } })
    await page.waitForFunction(() => document.querySelector('[data-id="taxi-2"] [data-test=fare]')?.textContent === '50')
    await page.waitForFunction(() => document.querySelector('[data-search="query"] li')?.getAttribute('data-id') === 'taxi-2')
    await page.waitForFunction(() => document.querySelector('[data-search="query"] [data-test=total]')?.textContent === '7')
  })

  it('measures the hydrated page against the browser-rendered one (/spa, ssr: false)', async () => {
    const rounds = 5
    const runs: Record<'hydrated' | 'spa', Array<{ onScreen: number; live: number; reads: number }>> = { hydrated: [], spa: [] }
    for (let i = 0; i < rounds; i++) {
      for (const [name, path] of [['hydrated', '/'], ['spa', '/spa']] as const) {
        const opened = await open(path, (page) =>
          // Data on screen: when the first card's fare enters the DOM, by the parser (server HTML) or by a render.
          page.addInitScript(() => {
            const w = window as unknown as { dataOnScreen?: number }
            new MutationObserver((_, observer) => {
              if (w.dataOnScreen === undefined && document.querySelector('[data-id="taxi-1"] [data-test=fare]')) {
                w.dataOnScreen = performance.now()
                observer.disconnect()
              }
            }).observe(document, { childList: true, subtree: true })
          }),
        )
        await opened.page.waitForSelector('[data-id="taxi-1"] [data-test=fare]')
        const live = await allLive(opened.page)
        const onScreen = await opened.page.evaluate(() => (window as unknown as { dataOnScreen: number }).dataOnScreen)
        runs[name].push({ onScreen, live, reads: opened.requests.filter((r) => !r.url().includes('/data/listen/')).length })
        await opened.page.close()
      }
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
    const report = (name: 'hydrated' | 'spa') =>
      `data on screen ${median(runs[name].map((r) => r.onScreen)).toFixed(0)} ms, all live ${median(runs[name].map((r) => r.live)).toFixed(0)} ms, ` +
      `reads ${runs[name].map((r) => r.reads).join('/')}`
    console.info(`nuxt e2e, medians of ${rounds} from navigation start: hydrated: ${report('hydrated')}; browser-rendered (/spa): ${report('spa')}`)
    // The same confirmations either way: hydration saves the wait for data, not the reads.
    for (const r of [...runs.hydrated, ...runs.spa]) expect(r.reads).toBe(1 + SEARCHES)
    // The hydrated page has its data before the browser-rendered one has even read it.
    expect(median(runs.hydrated.map((r) => r.onScreen))).toBeLessThan(median(runs.spa.map((r) => r.onScreen)))
  })
})
