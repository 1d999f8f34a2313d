// The Nuxt app of test/e2e/nuxt.e2e.ts: the README's Nuxt setup on the Sanity-protocol test server, whose address
// the test gives at run time (NUXT_PUBLIC_SANITY_API_HOST). `vue-observed` resolves to this repository's own
// package (its built dist/, by package self-reference): run `npm run build` first.
export default defineNuxtConfig({
  modules: ['vue-observed/nuxt'],
  observed: { driver: '~/observed.driver' },
  // /spa: the same page rendered in the browser only, the not-hydrated baseline.
  routeRules: { '/spa': { ssr: false } },
  runtimeConfig: { public: { sanityApiHost: 'http://127.0.0.1:7513' } },
  // test/e2e/nuxt.e2e.ts builds outside the repository (the OS temp directory): no built code in the source tree.
  ...(process.env.NUXT_E2E_BUILD_DIR ? { buildDir: process.env.NUXT_E2E_BUILD_DIR } : {}),
  ...(process.env.NUXT_E2E_OUTPUT_DIR ? { nitro: { output: { dir: process.env.NUXT_E2E_OUTPUT_DIR } } } : {}),
  devtools: { enabled: false },
  telemetry: false,
  compatibilityDate: '2025-07-15',
})
