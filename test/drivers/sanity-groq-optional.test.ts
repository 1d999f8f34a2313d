/**
 * groq-js is an optional peer dependency, loaded only when a filter must be checked: without it, a filter is refused
 * with an error that says what to install, before any request. (No test server here: it runs groq-js itself.)
 */
import { createClient } from '@sanity/client'
import { describe, expect, it, vi } from 'vitest'
import { sanityDriver } from '../../src/drivers/sanity'

vi.mock('groq-js', () => {
  throw new Error("Cannot find package 'groq-js'")
})

describe('without groq-js installed', () => {
  it('a search or a query watch with a filter is refused with a clear, fatal error', async () => {
    // Nothing listens on port 9: a request would fail as read_failed / watch_failed, not as unsupported_query.
    const client = createClient({ projectId: 'test', dataset: 'production', apiVersion: '2025-02-19', apiHost: 'http://127.0.0.1:9', useProjectHostname: false, useCdn: false })
    const driver = sanityDriver(client)
    const ref = { index: '', collection: 'note' }
    const refusal = { code: 'unsupported_query', fatal: true, message: expect.stringMatching(/install it \(npm install groq-js\)/) }
    await expect(driver.search(ref, { query: 'n > 0', sort: [] }, { from: 0, size: 5 })).rejects.toMatchObject(refusal)
    const error = await new Promise((resolve) => {
      const noop = () => undefined
      driver.watch(ref, { query: { query: 'n > 0', sort: [] } }, { ready: noop, event: noop, reset: noop, offline: noop, error: resolve })
    })
    expect(error).toMatchObject(refusal)
  })
})
