/**
 * GROQ filters that try to leave the parentheses the driver puts them in (`\u{…}` escapes that hide a quote from a
 * hand-written lexer, `) || true || (`, comments, pipelines, subqueries, projections, parent scopes), through the real
 * @sanity/client against the Sanity test server (groq-js, Sanity's own engine). Each is refused before any request,
 * or stays inside: no search and no listener ever yields a document of another `_type`, nor a draft when the client
 * reads the published perspective. Filters with parentheses, quotes and escapes inside strings keep working.
 */
import type { SanityClient } from '@sanity/client'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { DocEvent, ObservedError, Watch } from '../../src/core/types'
import { sanityDriver, type SanityDriver } from '../../src/drivers/sanity'
import { waitFor } from '../helpers/wait-for'
import { startSanityServer, type SanityTestServer } from '../servers/sanity'
import { clientFor } from '../servers/sanity/test-client'

let server: SanityTestServer
let sanity: SanityClient
let driver: SanityDriver
const watches: Watch[] = []
const ref = { index: '', collection: 'note' }

const ATTACKS: Record<string, string> = {
  'a \\u{…} escape hiding a quote': String.raw`"\u{"(" }" == 1) || true || ("\u{")"}" == 1`,
  'a closing parenthesis': ') || true || (',
  'an or across the parenthesis': '_type == "note") || (_type == "secret"',
  'a comment hiding the closing bracket': 'true) || true //',
  'a comment eating the rest of the line': 'true // ) || true || (',
  'a pipeline': 'true | order(_id)',
  'a pipeline out of the filter': 'true] | order(_id) [0...100] | [true',
  'a subquery over the dataset': 'count(*[_type == "secret"]) > 0',
  'a parent scope': '^._type == "note"',
  'a projection': '@{_type}._type == "note"',
}

beforeAll(async () => {
  server = await startSanityServer({ retryMs: 20 })
  sanity = clientFor(server)
  driver = sanityDriver(sanity)
})
afterEach(async () => {
  for (const w of watches.splice(0)) w.close()
  await waitFor(() => server.openListeners === 0, 3000, { what: 'every listener closed' })
  server.documents.wipe()
})
afterAll(async () => {
  await server.stop()
})

function seed(): void {
  server.documents.load([
    { _id: 'n1', _type: 'note', title: 'plain' },
    { _id: 'drafts.n1', _type: 'note', title: 'draft' },
    { _id: 's1', _type: 'secret', title: 'secret' },
  ])
}

/** A query watch recording events and errors. */
function watchQuery(query: string) {
  const events: DocEvent[] = []
  const errors: ObservedError[] = []
  let ready = false
  const w = driver.watch(ref, { query: { query, sort: [] } }, {
    ready: () => void (ready = true),
    event: (e) => void events.push(e),
    reset: () => undefined,
    offline: () => undefined,
    error: (e) => void errors.push(e),
  })
  watches.push(w)
  return { events, errors, isReady: () => ready }
}

describe('GROQ filters that try to escape their parentheses', () => {
  it.each(Object.entries(ATTACKS))('%s: a search is refused or returns published notes only', async (_name, filter) => {
    seed()
    const before = server.requests.length
    const outcome = await driver.search(ref, { query: filter, sort: [] }, { from: 0, size: 100 }).then(
      (page) => page,
      (err: ObservedError) => err,
    )
    if ('code' in outcome) {
      expect(outcome).toMatchObject({ code: 'unsupported_query', fatal: true })
      expect(server.requests.length).toBe(before)
    } else {
      expect(outcome.hits.map((h) => h._id)).toEqual(outcome.hits.length ? ['n1'] : [])
      expect(outcome.total).toBeLessThanOrEqual(1)
    }
  })

  it.each(Object.entries(ATTACKS))('%s: a listener is refused or follows published notes only', async (_name, filter) => {
    const before = server.listenRequests
    const w = watchQuery(filter)
    await waitFor(() => w.isReady() || w.errors.length > 0, 3000, { what: 'ready or refused' })
    if (w.errors.length > 0) {
      expect(w.errors[0]).toMatchObject({ code: 'unsupported_query', fatal: true })
      expect(server.listenRequests).toBe(before)
      return
    }
    server.documents.create({ _id: 's2', _type: 'secret', title: 'secret' })
    server.documents.create({ _id: 'drafts.n2', _type: 'note', title: 'draft' })
    server.documents.create({ _id: 'n3', _type: 'note', title: 'plain' })
    await waitFor(() => w.events.some((e) => e.id === 'n3'), 3000, { what: 'the note event' })
    expect(w.events.map((e) => e.id)).toEqual(['n3'])
  })

  it('filters with parentheses, quotes, escapes and comments inside strings still match what they say', async () => {
    server.documents.load([
      { _id: 'p1', _type: 'note', title: 'a) || (b"' },
      { _id: 'p2', _type: 'note', title: "c'(d" },
      { _id: 'p3', _type: 'note', title: 'é // not a comment' },
      { _id: 'p4', _type: 'secret', title: 'a) || (b"' },
    ])
    const search = async (query: string) =>
      (await driver.search(ref, { query, sort: [{ field: '_id', order: 'asc' }] }, { from: 0, size: 10 })).hits.map((h) => h._id)
    expect(await search(String.raw`title == "a) || (b\""`)).toEqual(['p1'])
    expect(await search(String.raw`title == 'c\'(d'`)).toEqual(['p2'])
    expect(await search(String.raw`title == "\u00e9 // not a comment" // a real comment`)).toEqual(['p3'])
    expect(await search(String.raw`title in ["a) || (b\"", "c'(d"] && !(_id in ["p2"])`)).toEqual(['p1'])
  })
})
