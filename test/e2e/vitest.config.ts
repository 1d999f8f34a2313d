/**
 * The end-to-end suite (`npm run test:e2e`): test/e2e/*.e2e.ts, apart from `npm test`. Each file starts the
 * playground's dev server and a headless chromium; files run one after the other (they share the machine's CPU with
 * a browser and two protocol servers).
 */
import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    root: fileURLToPath(new URL('../..', import.meta.url)),
    include: ['test/e2e/**/*.e2e.ts'],
    environment: 'node',
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
})
