/**
 * The README's environment variables: VITE_KUZZLE_HOST / VITE_KUZZLE_PORT and VITE_SANITY_API_HOST /
 * VITE_SANITY_TOKEN point the playground at backends it does not run. Stand-ins for "a real Kuzzle" and "a real
 * Sanity project": protocol test servers started here, outside the dev server, which must then start none.
 */
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { COLLECTION, INDEX } from '../../playground/taxis'
import { waitFor } from '../helpers/wait-for'
import { startKuzzleServer, type KuzzleTestServer } from '../servers/kuzzle'
import { startSanityServer, type SanityTestServer } from '../servers/sanity'
import { launchBrowser, startDevServer, waitForText, ARTIFACTS, type DevServer } from './playground'

let kuzzle: KuzzleTestServer
let sanity: SanityTestServer
let dev: DevServer
let browser: Awaited<ReturnType<typeof launchBrowser>>
const pages: Page[] = []

beforeAll(async () => {
  kuzzle = await startKuzzleServer()
  // `taxis` exists, as a real project's dataset would: the test server creates none on first use.
  sanity = await startSanityServer({ token: 'dev-token', datasets: ['taxis'] })
  const taxi = (driver: string, fare: number) => ({ driver, status: 'available', borough: 'Queens', position: { lat: 40.7, lon: -73.8 }, fare, updatedAt: 1 })
  kuzzle.documents.create(INDEX, COLLECTION, 'cab-1', taxi('Remote One', 10))
  kuzzle.documents.create(INDEX, COLLECTION, 'cab-2', taxi('Remote Two', 20))
  dev = await startDevServer({
    VITE_KUZZLE_HOST: '127.0.0.1',
    VITE_KUZZLE_PORT: String(kuzzle.port),
    VITE_SANITY_API_HOST: sanity.url,
    VITE_SANITY_DATASET: 'taxis',
    VITE_SANITY_TOKEN: 'dev-token',
  })
  browser = await launchBrowser()
})

afterAll(async () => {
  await browser?.close()
  await dev?.close()
  await kuzzle?.stop()
  await sanity?.stop()
})

async function open(backend: 'kuzzle' | 'sanity'): Promise<Page> {
  const page = await browser.context.newPage()
  pages.push(page)
  page.setDefaultTimeout(15_000)
  await page.goto(`${dev.url}/?backend=${backend}`)
  await waitForText(page, '[data-test=list-status]', 'live')
  return page
}

async function screenshotOnFailure(name: string, run: () => Promise<void>): Promise<void> {
  try {
    await run()
  } catch (err) {
    for (const [i, page] of pages.entries()) await page.screenshot({ path: `${ARTIFACTS}/real-${name}-${i + 1}.png` }).catch(() => undefined)
    throw err
  }
}

describe('environment variables point the playground at other backends', () => {
  it('starts no test server of its own and says where it is connected', async () => {
    const config = dev.backends.config()
    expect(config.kuzzle).toMatchObject({ host: '127.0.0.1', port: kuzzle.port, embedded: false })
    expect(config.sanity).toMatchObject({ apiHost: sanity.url, dataset: 'taxis', embedded: false })
    expect(dev.backends.kuzzleServer).toBeUndefined()
    expect(dev.backends.sanityServer).toBeUndefined()
  })

  it('Kuzzle: shows the host\'s documents, and server-side traffic writes to it through kuzzle-sdk', () =>
    screenshotOnFailure('kuzzle', async () => {
      const page = await open('kuzzle')
      await waitForText(page, '[data-test=list-count]', '2 of 2')
      expect(await page.textContent('[data-test=where]')).toContain(`ws://127.0.0.1:${kuzzle.port}`)
      expect(await page.$('[data-test=outage]')).toBeNull()
      dev.backends.traffic.kuzzle.set(20)
      try {
        await waitFor(() => kuzzle.documents.list(INDEX, COLLECTION).every((d) => d._source.updatedAt !== 1), 15_000, {
          what: 'both taxis moved by the traffic',
          intervalMs: 50,
        })
      } finally {
        dev.backends.traffic.kuzzle.set(0)
      }
    }))

  it('Sanity: the dev server seeds an empty dataset with the token, and the page reads and writes it', () =>
    screenshotOnFailure('sanity', async () => {
      await waitFor(() => sanity.documents.all('taxis').length === 300, 15_000, { what: 'the dataset seeded', intervalMs: 50 })
      const page = await open('sanity')
      await waitForText(page, '[data-test=list-count]', '25 of 300')
      await page.click('[data-test=create]')
      await waitForText(page, '[data-test=fleet-total]', '301 taxis')
      expect(sanity.documents.all('taxis')).toHaveLength(301)
    }))
})
