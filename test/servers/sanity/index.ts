/** The Sanity-protocol test server: `startSanityServer()` and the types tests use with it. */
export { startSanityServer } from './server'
export type {
  RequestRecord,
  ResumeMode,
  SanityDocumentsApi,
  SanityEndpoint,
  SanityFaults,
  SanityServerOptions,
  SanityTestServer,
} from './server'
export type { EventMatcher } from './delivery'
export type { DocumentChange, DocumentInput, DocumentQuery, Mutation, MutationResult, SanityDocument, Transaction } from './store'
export { MutationError } from './store'
export type { PatchOperations } from './patch'
