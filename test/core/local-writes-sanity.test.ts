/**
 * Local writes (issue 16) through the Sanity driver, the real @sanity/client and the Sanity-protocol test server:
 * an optimistic update merged as leaf paths and confirmed by the returned revision (its listener event changes no
 * field it wrote), replace and remove, a create of an existing id refused (conflict) and rolled back, and an update
 * with a stale `ifRevisionID` refused (rollback).
 */
import type { SanityClient } from '@sanity/client'
import { describe, expect, it } from 'vitest'
import { ObserverClient } from '../../src'
import { sanityDriver } from '../../src/drivers/sanity'
import { staysEqual, waitFor } from '../helpers/wait-for'
import type { SanityTestServer } from '../servers/sanity'
import { useSanityServer } from '../helpers/sanity-fixture'

type Note = { n: number; city?: string; where?: { lat: number; lng?: number } }

let server: SanityTestServer
let sanity: SanityClient
const clients: ObserverClient[] = []

useSanityServer(clients, (started, client) => {
  server = started
  sanity = client
})

function observe(id: string) {
  const client = new ObserverClient({ driver: sanityDriver(sanity), backoff: { base: 20, cap: 100 } })
  clients.push(client)
  return { client, note: client.get<Note>('', 'note', id) }
}

const stored = (id: string) => server.documents.get(id) as (Note & { _rev: string }) | undefined | null

describe('local writes over Sanity', () => {
  it('an optimistic update shows at once, merges objects, and is confirmed without changing a field it wrote again', async () => {
    server.documents.create({ _id: 'a', _type: 'note', n: 1, city: 'NYC', where: { lat: 1, lng: 2 } })
    const { note } = observe('a')
    await note.ready()
    const changes: string[][] = []
    note.on('change', (_s, c) => changes.push(c))
    const write = note.update({ n: 2, where: { lat: 3 } })
    expect(note._source).toMatchObject({ n: 2, city: 'NYC', where: { lat: 3, lng: 2 } })
    expect(note.pending).toBe(true)
    await write
    await waitFor(() => !note.pending, 3000, { what: 'confirmed' })
    await staysEqual(() => JSON.stringify(changes), 200)
    expect(changes[0]).toEqual(['n', 'where'])
    // Later changes are the server's own fields (_rev, _updatedAt), never one the write set.
    expect(changes.slice(1).flat().every((f) => f.startsWith('_'))).toBe(true)
    expect(stored('a')).toMatchObject({ n: 2, city: 'NYC', where: { lat: 3, lng: 2 } })
  })

  it('replace and remove are shown at once and stored', async () => {
    server.documents.create({ _id: 'b', _type: 'note', n: 1, city: 'NYC' })
    const { note } = observe('b')
    await note.ready()
    const replaced = note.replace({ n: 5 })
    expect(note._source).toEqual({ n: 5 })
    await replaced
    await waitFor(() => !note.pending && note._source?.n === 5 && !('city' in note._source), 3000)
    expect(stored('b')).toMatchObject({ n: 5 })
    expect(stored('b')).not.toHaveProperty('city')
    const removed = note.remove()
    expect(note._source).toBeNull()
    await removed
    await waitFor(() => note.status === 'deleted' && !note.pending, 3000)
    expect(stored('b') ?? null).toBeNull()
  })

  it('a create of an existing id and an update at a stale revision are refused and rolled back (rollback)', async () => {
    server.documents.create({ _id: 'c', _type: 'note', n: 1 })
    const { note, client } = observe('c')
    await note.ready()
    const created = client.create('', 'note', { n: 9 }, 'c')
    expect(note._source).toEqual({ n: 9 })
    await expect(created).rejects.toMatchObject({ code: 'conflict' })
    await waitFor(() => note._source?.n === 1 && !note.pending, 3000, { what: 'rolled back' })
    const rev = note._rev
    server.documents.patch('c', { set: { n: 2 } })
    await waitFor(() => note._source?.n === 2, 3000)
    await expect(note.update({ n: 50 }, { ifRevision: rev })).rejects.toMatchObject({ code: 'conflict' })
    await waitFor(() => note._source?.n === 2 && !note.pending, 3000)
    await note.update({ n: 51 }, { ifRevision: note._rev })
    await waitFor(() => stored('c')?.n === 51, 3000)
    // Sanity checks revisions on patches only: refused before any request elsewhere.
    await expect(note.remove({ ifRevision: note._rev })).rejects.toMatchObject({ code: 'bad_argument' })
  })
})
