/**
 * The devtools plugin costs a production build nothing: the library's main entry holds only a guarded dynamic
 * import of it, and an app bundled in production mode (the bundler replacing process.env.NODE_ENV, as Vite, webpack
 * and esbuild do) drops that branch, so neither the plugin nor @vue/devtools-api is in the app.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build as esbuild } from 'esbuild'
import { afterAll, describe, expect, it } from 'vitest'
import { build as viteBuild } from 'vite'

const root = fileURLToPath(new URL('../..', import.meta.url))
/** A string only the devtools module holds (its inspector id). */
const MARKER = 'vue-observed:inspector'
const PEERS = ['vue', 'pinia', '@vueuse/*', 'kuzzle-sdk', '@sanity/client', 'groq-js', '@vue/devtools-api']
const out = mkdtempSync(join(tmpdir(), 'vue-observed-devtools-'))
afterAll(() => rmSync(out, { recursive: true, force: true }))

/** An app importing `entry`, bundled by esbuild for the browser with NODE_ENV set to `mode`. */
async function appBundle(entry: string, mode: 'production' | 'development', inputs: string[] = []): Promise<string> {
  const result = await esbuild({
    stdin: { contents: `export * from ${JSON.stringify(entry)}`, resolveDir: root, loader: 'ts' },
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    write: false,
    external: PEERS,
    define: { 'process.env.NODE_ENV': JSON.stringify(mode) },
    logLevel: 'error',
    metafile: true,
  })
  for (const output of Object.values(result.metafile.outputs)) {
    for (const [file, { bytesInOutput }] of Object.entries(output.inputs)) if (bytesInOutput > 0) inputs.push(file)
  }
  return result.outputFiles.map((f) => f.text).join('\n')
}

describe('devtools: production build', () => {
  it('the library build keeps the devtools plugin out of its main entry (a chunk loaded in development only)', async () => {
    await viteBuild({ root, configFile: join(root, 'vite.config.ts'), logLevel: 'error', build: { outDir: out, emptyOutDir: true, sourcemap: false } })
    const index = readFileSync(join(out, 'index.js'), 'utf8')
    expect(index).not.toContain(MARKER)
    expect(index).not.toMatch(/from\s*["']@vue\/devtools-api/)
    // The only way in is the guarded dynamic import.
    expect(index).toMatch(/process\.env\.NODE_ENV !== "production"[^]*?import\("\.\/devtools-[\w-]+\.js"\)/)
    const chunk = readdirSync(out).find((f) => /^devtools-.*\.js$/.test(f))!
    expect(readFileSync(join(out, chunk), 'utf8')).toContain(MARKER)

    // An app bundling the built library in production mode has none of it; in development it has it.
    const prod = await appBundle(join(out, 'index.js'), 'production')
    expect(prod).not.toContain(MARKER)
    expect(prod).not.toContain('@vue/devtools-api')
    expect(await appBundle(join(out, 'index.js'), 'development')).toContain(MARKER)
  }, 60_000)

  it('an app bundling the sources in production mode contains no devtools code', async () => {
    const inputs: string[] = []
    const prod = await appBundle('./src/index.ts', 'production', inputs)
    // Neither the plugin nor the registry of which component owns which observer.
    expect(inputs.filter((f) => /src\/vue\/(devtools|owners)/.test(f))).toEqual([])
    expect(inputs).toContain('src/vue/lifecycle.ts')
    expect(prod).not.toContain(MARKER)
    expect(prod).not.toContain('devtools-api')
    const dev = await appBundle('./src/index.ts', 'development')
    expect(dev).toContain(MARKER)
  }, 60_000)
})
