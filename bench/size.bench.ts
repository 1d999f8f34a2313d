/**
 * 5. Size: each package entry bundled, minified (esbuild) and gzipped (level 9), with the peers external (vue,
 * pinia, @vueuse/*, kuzzle-sdk, @sanity/client), in production mode. Baselines measured the same way, in the same
 * run: pinia, and @vueuse/core's useFetch.
 */
import { gzipSync } from 'node:zlib'
import { build, type Plugin } from 'esbuild'
import { bytes, log, report, times } from './lib/report'

/** The project root: bench/run.mjs says where it is (this file runs from a bundle in bench/.out). */
const root = process.env.BENCH_ROOT ?? process.cwd()
// Peers (optional ones too: groq-js is imported on a Sanity filter's first check, devalue by the ssr entry) stay imports.
const PEERS = ['vue', 'pinia', '@vueuse/*', 'kuzzle-sdk', '@sanity/client', '@vue/devtools-api', 'groq-js', 'devalue']

/**
 * Modules the library imports with `import()` only when an option asks for them (`shareAcrossTabs`'s
 * shared-driver.ts): a separate chunk in an app's build, measured on their own below, not in the entry's size.
 */
const lazyChunks: Plugin = {
  name: 'lazy-chunks',
  setup(b) {
    b.onResolve({ filter: /(^|\/)shared-driver$/ }, (args) =>
      args.kind === 'dynamic-import' && args.importer.includes('/tabs/') ? { path: args.path, external: true } : undefined,
    )
  },
}

/** Minified and gzipped size of a module exporting `source`, with `external` left as imports. */
async function size(source: string, external: string[]): Promise<{ min: number; gzip: number; files: Array<[string, number]> }> {
  const result = await build({
    stdin: { contents: source, resolveDir: root, loader: 'ts', sourcefile: 'entry.ts' },
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    external,
    define: { 'process.env.NODE_ENV': '"production"' },
    logLevel: 'error',
    metafile: true,
    plugins: [lazyChunks],
  })
  const code = result.outputFiles[0].contents
  const inputs = Object.values(result.metafile.outputs)[0]?.inputs ?? {}
  const files = Object.entries(inputs)
    .map(([file, { bytesInOutput }]) => [file, bytesInOutput] as [string, number])
    .sort((a, b) => b[1] - a[1])
  return { min: code.length, gzip: gzipSync(code, { level: 9 }).length, files }
}

// Pinia's own code: its devtools dependency stays external, as our @vueuse/core does.
const pinia = await size(`export * from 'pinia'`, ['vue', '@vue/devtools-api'])
const useFetch = await size(`export { useFetch } from '@vueuse/core'`, ['vue'])
const fmt = (s: { min: number; gzip: number }) => `${bytes(s.gzip)} (${bytes(s.min)} min)`
const gz = (s: { gzip: number }) => bytes(s.gzip)

const entries: Array<[string, string, number | null]> = [
  ['vue-observed (core + Vue layer)', './src/index.ts', 6000],
  ['  of which the core alone', './src/core/index.ts', null],
  ['vue-observed/memory', './src/drivers/memory.ts', null],
  ['vue-observed/kuzzle', './src/drivers/kuzzle.ts', null],
  ['vue-observed/sanity', './src/drivers/sanity.ts', null],
]
for (const [name, path, target] of entries) {
  const s = await size(`export * from '${path}'`, PEERS)
  if (target) log(`${name}: largest modules (minified bytes): ${s.files.slice(0, 8).map(([f, n]) => `${f.replace(/^src\//, '')} ${n}`).join(', ')}`)
  report({
    bench: 'size',
    measure: `${name.trim()}: min + gzip, peers external`,
    ours: fmt(s),
    baseline: target ? `pinia ${gz(pinia)}; useFetch ${gz(useFetch)}` : `pinia ${gz(pinia)}`,
    ratio: target ? `${times(s.gzip / pinia.gzip)} pinia; ${times(s.gzip / useFetch.gzip)} useFetch` : `${times(s.gzip / pinia.gzip)} pinia`,
    target: target ? `≤ ${bytes(target)}` : '',
    met: target ? s.gzip <= target : null,
  })
}

// shareAcrossTabs (issue 17): its code is a chunk loaded only when the option is set; the entries above hold only the
// small wrapper that loads it.
const tabs = await size(`export * from './src/core/tabs/shared-driver.ts'`, PEERS)
const core = await size(`export * from './src/core/index.ts'`, PEERS)
const wrapper = core.files.filter(([file]) => file.includes('src/core/tabs/')).reduce((n, [, b]) => n + b, 0)
report({
  bench: 'size',
  measure: 'shareAcrossTabs chunk (loaded lazily, only with the option): min + gzip',
  ours: fmt(tabs),
  baseline: '',
  ratio: '',
  target: 'not in the entries',
  met: core.files.every(([file]) => !/tabs\/(shared-driver|hub|leader-lock|messages)\.ts/.test(file)),
})
report({
  bench: 'size',
  measure: 'shareAcrossTabs wrapper in the core (minified bytes)',
  ours: bytes(wrapper),
  baseline: '',
  ratio: '',
  target: '',
  met: null,
})

// The devtools plugin (issue 19) is imported behind a development-only guard: a production build holds none of it.
const production = await size(`export * from './src/index.ts'`, PEERS)
const devtoolsBytes = production.files.filter(([file]) => file.includes('src/vue/devtools')).reduce((n, [, b]) => n + b, 0)
report({
  bench: 'size',
  measure: 'devtools plugin in a production build (minified bytes)',
  ours: bytes(devtoolsBytes),
  baseline: '',
  ratio: '',
  target: '0 B',
  met: devtoolsBytes === 0,
})
