/**
 * `npm run dev` with the test servers' ports taken (another playground, a local Kuzzle): the dev server still comes
 * up, its Kuzzle and Sanity test servers on free ports; the terminal says so, and the page's config names the
 * ports actually bound.
 */
import { createServer, type AddressInfo, type Server } from 'node:net'
import { afterAll, describe, expect, it, vi } from 'vitest'
import type { PlaygroundConfig } from '../../playground/config'
import { startDevServer, type DevServer } from '../e2e/playground'

const busy: Server[] = []
let dev: DevServer | undefined
afterAll(async () => {
  await dev?.close()
  await Promise.all(busy.map((s) => new Promise((resolve) => s.close(resolve))))
})

/** Holds a port on 127.0.0.1, as another process would. */
async function occupy(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', resolve)
  })
  busy.push(server)
  return (server.address() as AddressInfo).port
}

describe('playground dev server with busy ports', () => {
  it('starts its test servers on free ports, says so, and tells the page', { timeout: 120_000 }, async () => {
    const kuzzlePort = await occupy()
    const sanityPort = await occupy()
    const said: string[] = []
    const log = vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void said.push(args.join(' ')))
    try {
      dev = await startDevServer({ PLAYGROUND_KUZZLE_PORT: String(kuzzlePort), PLAYGROUND_SANITY_PORT: String(sanityPort) })
    } finally {
      log.mockRestore()
    }

    const config = (await (await fetch(`${dev.url}/__playground/config`)).json()) as PlaygroundConfig
    expect(config.kuzzle.embedded).toBe(true)
    expect(config.kuzzle.port).not.toBe(kuzzlePort)
    expect(config.kuzzle.port).toBe(dev.backends.kuzzleServer?.port)
    const sanityUrl = new URL(config.sanity.apiHost ?? '')
    expect(Number(sanityUrl.port)).not.toBe(sanityPort)
    expect(config.sanity.apiHost).toBe(dev.backends.sanityServer?.url)

    expect(said).toContain(`[playground] Port ${kuzzlePort} is in use (Kuzzle-protocol test server), trying another one...`)
    expect(said).toContain(`[playground] Port ${sanityPort} is in use (Sanity-protocol test server), trying another one...`)
    expect(said).toContain(`[playground] Kuzzle-protocol test server on ws://127.0.0.1:${config.kuzzle.port}`)
    expect(said).toContain(`[playground] Sanity-protocol test server on ${config.sanity.apiHost}`)

    // The servers on the fallback ports answer.
    const res = await fetch(`${config.sanity.apiHost}/v2025-02-19/data/query/${config.sanity.dataset}?query=count(*)`)
    expect(res.status).toBe(200)
  })
})
