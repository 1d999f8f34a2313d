// @vitest-environment happy-dom
/**
 * The README's Kuzzle and Sanity examples, run as written against the protocol test servers with the real
 * kuzzle-sdk and @sanity/client (only the server address is changed).
 */
import { Kuzzle, WebSocket as KuzzleWebSocket } from 'kuzzle-sdk'
import { createPinia, setActivePinia } from 'pinia'
import { spawn } from 'node:child_process'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApp } from 'vue'
import { createObserver, ObserverClient } from '../../src'
import { kuzzleDriver } from '../../src/drivers/kuzzle'
import { useBrowserLikeWebSocket } from '../helpers/browser-websocket'
import { waitFor } from '../helpers/wait-for'
import { startKuzzleServer, type KuzzleTestServer } from '../servers/kuzzle'
import { startSanityServer, type SanityTestServer } from '../servers/sanity'
import { exampleDir, readmeExamples } from './examples'

useBrowserLikeWebSocket()
const blocks = readmeExamples()
const text = (selector: string) => document.querySelector(selector)?.textContent?.trim() ?? ''
const items = (selector: string) => [...document.querySelectorAll(selector)].map((e) => e.textContent?.trim())

/** Writes a setup example out, pointed at `replace`'s address and mounted on `mountOn`, with an App of `app`. */
function writeApp(dir: ReturnType<typeof exampleDir>, setup: string, replace: [string, string], mountOn: string, app: string) {
  expect(setup).toContain(replace[0])
  dir.write('main.ts', setup.replace(replace[0], replace[1]).replace(".mount('#app')", `.mount('${mountOn}')`))
  dir.write('App.vue', app)
}

describe('README: Kuzzle', () => {
  let server: KuzzleTestServer
  const dir = exampleDir('kuzzle')
  const I = 'nyc-open-data'
  const C = 'yellow-taxi'

  beforeAll(async () => {
    server = await startKuzzleServer()
    server.documents.create(I, C, 'aschen', { name: 'Aschen', city: 'Antalya' })
    server.documents.create(I, C, 'berthe', { name: 'Berthe', city: 'Montpellier' })
  })
  afterAll(async () => {
    dir.remove()
    await server?.stop()
  })

  it('setup, a document and a search into component state follow writes from another client', async () => {
    dir.write('TaxiCard.vue', blocks['kuzzle-document'])
    dir.write('TaxiList.vue', blocks['kuzzle-search'])
    writeApp(
      dir,
      `${blocks['kuzzle-setup']}\nexport { kuzzle }\n`,
      ["new WebSocket('localhost', { port: 7512 })", `new WebSocket('127.0.0.1', { port: ${server.port} })`],
      '#kuzzle-app',
      `<script setup lang="ts">
import TaxiCard from './TaxiCard.vue'
import TaxiList from './TaxiList.vue'
</script>
<template><div id="k-card"><TaxiCard id="aschen" /></div><div id="k-list"><TaxiList /></div></template>
`,
    )
    document.body.innerHTML = '<div id="kuzzle-app"></div>'
    const { kuzzle } = await import(/* @vite-ignore */ dir.path('main.ts'))
    await waitFor(() => text('#k-card') === 'Aschen drives in Antalya', 3000, { what: 'document rendered' })
    await waitFor(() => items('#k-list li').join() === 'Aschen', 3000, { what: 'search rendered' })

    server.documents.update(I, C, 'berthe', { city: 'Antalya' })
    await waitFor(() => items('#k-list li').join() === 'Aschen,Berthe', 3000, { what: 'Berthe enters the search' })
    server.documents.update(I, C, 'aschen', { city: 'Istanbul' })
    await waitFor(() => text('#k-card') === 'Aschen drives in Istanbul', 3000, { what: 'document follows the update' })
    await waitFor(() => items('#k-list li').join() === 'Berthe', 3000, { what: 'Aschen leaves the search' })
    server.documents.delete(I, C, 'aschen')
    await waitFor(() => text('#k-card') === 'This taxi was deleted.', 3000, { what: 'delete shown' })
    server.documents.create(I, C, 'aschen', { name: 'Aschen', city: 'Antalya' })
    await waitFor(() => text('#k-card') === 'Aschen drives in Antalya', 3000, { what: 'document re-created' })
    kuzzle.disconnect()
  })

  it("on('change') into a Pinia store, stopped with the store", async () => {
    dir.write('store.ts', blocks['kuzzle-store'])
    const { useTaxiStore } = await import(/* @vite-ignore */ dir.path('store.ts'))
    const kuzzle = new Kuzzle(new KuzzleWebSocket('127.0.0.1', { port: server.port }))
    await kuzzle.connect()
    const app = createApp({ render: () => null })
    const pinia = createPinia()
    app.use(pinia).use(createObserver({ driver: kuzzleDriver(kuzzle), releaseDelay: 0 }))
    setActivePinia(pinia)
    const store = app.runWithContext(() => useTaxiStore())
    await waitFor(() => store.name === 'Aschen', 3000, { what: 'store filled' })
    server.documents.update(I, C, 'aschen', { name: 'Aschen B.' })
    await waitFor(() => store.name === 'Aschen B.', 3000, { what: 'store follows the change' })
    server.documents.delete(I, C, 'aschen')
    await waitFor(() => store.name === null, 3000, { what: 'store follows the delete' })
    expect(server.subscriptionCount()).toBeGreaterThan(0)
    store.$dispose()
    await waitFor(() => server.subscriptionCount() === 0, 3000, { what: 'subscription released on $dispose' })
    kuzzle.disconnect()
  })

  it('the store with Pinia installed: main.ts and App.vue as written render the store and follow a write', async () => {
    // Its own folder: main.ts and App.vue of the setup test are already loaded under the shared one.
    const storeDir = exampleDir('kuzzle-store')
    if (!server.documents.list(I, C).some((d: { _id: string }) => d._id === 'aschen')) server.documents.create(I, C, 'aschen', { name: 'Aschen', city: 'Antalya' })
    else server.documents.update(I, C, 'aschen', { name: 'Aschen' })
    storeDir.write('taxi-store.ts', blocks['kuzzle-store'])
    writeApp(
      storeDir,
      `${blocks['kuzzle-store-main']}\nexport { kuzzle }\n`,
      ["new WebSocket('localhost', { port: 7512 })", `new WebSocket('127.0.0.1', { port: ${server.port} })`],
      '#kuzzle-store-app',
      blocks['kuzzle-store-app'],
    )
    document.body.innerHTML = '<div id="kuzzle-store-app"></div>'
    const { kuzzle } = await import(/* @vite-ignore */ storeDir.path('main.ts'))
    try {
      await waitFor(() => text('#kuzzle-store-app p') === 'Aschen', 3000, { what: 'store rendered' })
      server.documents.update(I, C, 'aschen', { name: 'Aschen C.' })
      await waitFor(() => text('#kuzzle-store-app p') === 'Aschen C.', 3000, { what: 'store follows the change' })
    } finally {
      kuzzle.disconnect()
      storeDir.remove()
    }
  })

  it('kuzzle-esm: the CommonJS SDK imported from a Node ES module, run by node itself', { timeout: 30_000 }, async () => {
    const script = blocks['kuzzle-esm']
    expect(script).toContain("new WebSocket('localhost', { port: 7512 })")
    const file = dir.write('script.mjs', script.replace("new WebSocket('localhost', { port: 7512 })", `new WebSocket('127.0.0.1', { port: ${server.port} })`))
    // Node's own ESM loader, not Vite's: named imports of kuzzle-sdk fail there, the default one works.
    const out = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [file], { stdio: ['ignore', 'pipe', 'pipe'] })
      let stdout = ''
      let stderr = ''
      child.stdout.on('data', (d) => (stdout += d))
      child.stderr.on('data', (d) => (stderr += d))
      child.on('close', (code) => resolve({ code, stdout, stderr }))
    })
    expect(out.stderr).toBe('')
    expect(out.code).toBe(0)
    expect(out.stdout.trim()).toMatch(/^Aschen/)
  })
})

describe('README: Sanity', () => {
  let server: SanityTestServer
  const dir = exampleDir('sanity')

  beforeAll(async () => {
    server = await startSanityServer({ retryMs: 20 })
    server.documents.load([
      { _id: 'c1', _type: 'comment', authorId: 'owner', text: 'mine', _createdAt: '2026-01-01T00:00:00Z' },
      { _id: 'c2', _type: 'comment', authorId: 'ana', text: 'first', _createdAt: '2026-01-02T00:00:00Z' },
    ])
  })
  afterAll(async () => {
    dir.remove()
    await server?.stop()
  })

  it("setup and the comments listener: others' comments, live, newest first", async () => {
    dir.write('Comments.vue', blocks['sanity-comments'])
    writeApp(
      dir,
      blocks['sanity-setup'],
      ["useCdn: false })", `useCdn: false, apiHost: '${server.url}', useProjectHostname: false })`],
      '#sanity-app',
      `<script setup lang="ts">
import Comments from './Comments.vue'
</script>
<template><div id="s-comments"><Comments owner-id="owner" /></div></template>
`,
    )
    document.body.innerHTML = '<div id="sanity-app"></div>'
    await import(/* @vite-ignore */ dir.path('main.ts'))
    await waitFor(() => items('#s-comments p').join() === 'first', 3000, { what: 'comments rendered' })
    server.documents.create({ _id: 'c3', _type: 'comment', authorId: 'bo', text: 'second', _createdAt: '2026-01-03T00:00:00Z' })
    server.documents.create({ _id: 'c4', _type: 'comment', authorId: 'owner', text: 'mine too', _createdAt: '2026-01-04T00:00:00Z' })
    await waitFor(() => items('#s-comments p').join() === 'second,first', 3000, { what: 'a new comment appears first' })
    server.documents.patch('c2', { set: { text: 'first, edited' } })
    await waitFor(() => items('#s-comments p').join() === 'second,first, edited', 3000, { what: 'an edit shows' })
    server.documents.delete('c3')
    await waitFor(() => items('#s-comments p').join() === 'first, edited', 3000, { what: 'a deleted comment leaves' })
  })

  it('sanity-local-api: apiHost + useProjectHostname: false reach a local API', async () => {
    const source = blocks['sanity-local-api']
    expect(source).toContain("apiHost: 'http://localhost:3333'")
    dir.write('local.ts', source.replace("apiHost: 'http://localhost:3333'", `apiHost: '${server.url}'`))
    const { driver } = await import(/* @vite-ignore */ dir.path('local.ts'))
    const client = new ObserverClient({ driver })
    server.documents.create({ _id: 'local-1', _type: 'comment', authorId: 'lee', text: 'from the local API', _createdAt: '2026-01-05T00:00:00Z' })
    const comment = client.get<{ text: string }>('', 'comment', 'local-1')
    await comment.ready()
    expect(comment._source?.text).toBe('from the local API')
    comment.stop()
    client.close()
  })
})
