/**
 * Kuzzle-protocol test server: `startKuzzleServer()` for tests, reusable by the playground's Vite plugin.
 * @module
 */
export { startKuzzleServer } from './server'
export type {
  KuzzleServerDocuments,
  KuzzleServerFaults,
  KuzzleServerOptions,
  KuzzleTestServer,
  LoggedRequest,
  WriteOptions,
} from './server'
export type { Source, StoredDocument } from './store'
