// app/observed.driver.ts: a driver factory as default export, called once per request on the server and once in
// the browser (nuxt.config cannot hold functions). Auto-imports such as useRuntimeConfig work here.
import { createClient } from '@sanity/client'
import { sanityDriver } from 'vue-observed/sanity'

export default () => {
  const { sanityApiHost } = useRuntimeConfig().public
  return sanityDriver(
    createClient({ apiHost: sanityApiHost, useProjectHostname: false, dataset: 'production', apiVersion: '2025-02-19', useCdn: false }),
  )
}
