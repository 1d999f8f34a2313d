import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'
import vue from '@vitejs/plugin-vue'
import { playgroundServers } from './playground/servers-plugin'

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url))

/** Package entries: `vue-observed`, one per driver, `vue-observed/ssr` and the Nuxt module `vue-observed/nuxt`. */
const entries: Record<string, string> = Object.fromEntries(
  Object.entries({
    index: 'src/index.ts',
    memory: 'src/drivers/memory.ts',
    kuzzle: 'src/drivers/kuzzle.ts',
    sanity: 'src/drivers/sanity.ts',
    ssr: 'src/ssr.ts',
    nuxt: 'src/nuxt.ts',
  })
    .filter(([, path]) => existsSync(here(path)))
    .map(([name, path]) => [name, here(path)]),
)

const alias = [
  { find: /^vue-observed$/, replacement: here('src/index.ts') },
  { find: /^vue-observed\/(memory|kuzzle|sanity)$/, replacement: here('src/drivers/$1.ts') },
  { find: /^vue-observed\/ssr$/, replacement: here('src/ssr.ts') },
]

export default defineConfig(({ command }) => ({
  // `npm run dev` serves the playground; `npm run build` builds the library; vitest runs the tests.
  root: command === 'serve' && !process.env.VITEST ? here('playground') : undefined,
  // The playground's Kuzzle and Sanity test servers run inside the dev server only.
  plugins: command === 'serve' && !process.env.VITEST ? [vue(), playgroundServers()] : [vue()],
  resolve: { alias },
  build: {
    outDir: here('dist'),
    emptyOutDir: false,
    sourcemap: true,
    minify: false,
    target: 'es2022',
    lib: { entry: entries, formats: ['es'], fileName: (_format, name) => `${name}.js` },
    rollupOptions: {
      external: [/^vue$/, /^pinia$/, /^@vueuse\//, /^@vue\/devtools-api/, /^kuzzle-sdk/, /^@sanity\//, /^groq-js/, /^devalue$/, /^@nuxt\//, /^nuxt(\/|$)/, /^node:/],
    },
  },
  test: {
    root: here('.'),
    include: ['test/**/*.test.ts'],
    exclude: ['test/e2e/**', 'node_modules/**'],
    environment: 'node',
    testTimeout: 20_000,
    hookTimeout: 20_000,
  },
}))
