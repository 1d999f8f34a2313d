/**
 * Convergence under random faults, Kuzzle test server with the real kuzzle-sdk (server fault knobs, dropped and
 * restarted connections, silent writes). A failure prints each failing seed with the command that replays it.
 */
import { describe } from 'vitest'
import { batchSuite } from './suite'
import { kuzzleTarget } from './target-kuzzle'

describe('convergence under faults: Kuzzle (kuzzle-sdk over WebSocket)', () => {
  batchSuite(kuzzleTarget, { schedules: 200, concurrency: 6, msPerSchedule: 5_000 })
})
