/**
 * Convergence under random faults, memory driver (its fault knobs). A failure prints each failing seed with the
 * command that replays it; see batch.ts for the environment variables.
 */
import { describe } from 'vitest'
import { batchSuite } from './suite'
import { memoryTarget } from './target-memory'

describe('convergence under faults: memory driver', () => {
  batchSuite(memoryTarget, { schedules: 200, concurrency: 4 })
})
