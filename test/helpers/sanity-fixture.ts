/**
 * One Sanity-protocol test server for a test file: started before its tests, and after each test its clients closed,
 * its faults cleared, its listeners awaited closed and its documents wiped; stopped after all.
 */
import type { SanityClient } from '@sanity/client'
import { afterAll, afterEach, beforeAll } from 'vitest'
import type { ObserverClient } from '../../src'
import { startSanityServer, type SanityTestServer } from '../servers/sanity'
import { clientFor } from '../servers/sanity/test-client'
import { waitFor } from './wait-for'

/** Registers the hooks; `started` receives the server and a @sanity/client for it once it is up. */
export function useSanityServer(clients: ObserverClient[], started: (server: SanityTestServer, sanity: SanityClient) => void): void {
  let server: SanityTestServer | undefined
  beforeAll(async () => {
    server = await startSanityServer({ retryMs: 20 })
    started(server, clientFor(server))
  })
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close()
    server!.faults.clear()
    await waitFor(() => server!.openListeners === 0, 3000, { what: 'every listener closed' })
    server!.documents.wipe()
  })
  afterAll(async () => {
    await server?.stop()
  })
}
