import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'
import vue from '@vitejs/plugin-vue'

const src = (p: string) => fileURLToPath(new URL(`./src/${p}`, import.meta.url))

export default defineConfig({
  plugins: [vue()],
  resolve: {
    alias: [
      { find: /^vue-observed$/, replacement: src('index.ts') },
      { find: /^vue-observed\/memory$/, replacement: src('drivers/memory.ts') },
      { find: /^vue-observed\/kuzzle$/, replacement: src('drivers/kuzzle.ts') },
      { find: /^vue-observed\/sanity$/, replacement: src('drivers/sanity.ts') },
    ],
  },
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/e2e/**', 'node_modules/**'],
    environment: 'node',
    testTimeout: 20_000,
  },
})
