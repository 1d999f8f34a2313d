/**
 * Not a test: takes the README's screenshot of the playground (Kuzzle backend, traffic on). Skipped unless
 * PLAYGROUND_SCREENSHOT names the file to write:
 * `PLAYGROUND_SCREENSHOT=docs/playground.png npm run test:e2e -- readme-screenshot`.
 */
import { resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { COLLECTION, INDEX } from '../../playground/taxis'
import { waitFor } from '../helpers/wait-for'
import { startPlayground, waitForText } from './playground'

const target = process.env.PLAYGROUND_SCREENSHOT

describe.runIf(target)('README screenshot', () => {
  it('the playground on Kuzzle with simulated traffic', async () => {
    // The default ports, as the README describes `npm run dev`.
    const pg = await startPlayground({ PLAYGROUND_KUZZLE_PORT: '7512', PLAYGROUND_SANITY_PORT: '7513' })
    try {
      const page = await pg.open('kuzzle')
      await page.click('tbody tr[data-id]:nth-child(3)')
      await page.fill('[data-test=rate]', '20')
      const since = Date.now()
      await page.click('[data-test=traffic]')
      await waitForText(page, '[data-test=traffic]', 'Stop traffic (20/s, server-side)')
      await waitFor(() => pg.kuzzle.documents.list(INDEX, COLLECTION).filter((d) => Number(d._source.updatedAt) > since).length >= 40, 15_000, {
        what: '40 taxis moved',
        intervalMs: 50,
      })
      await waitForText(page, '[data-test=connection]', 'live')
      await page.screenshot({ path: resolve(target!), fullPage: true })
      expect(pg.backends.traffic.kuzzle.rate).toBe(20)
    } finally {
      await pg.close()
    }
  })
})
