/**
 * Convergence under random faults, Sanity test server with the real @sanity/client (listener over SSE: reordered,
 * duplicated, delayed and lost events, cut streams, resets, failed resumes, rejected requests, restarts). A
 * failure prints each failing seed with the command that replays it.
 */
import { describe } from 'vitest'
import { batchSuite } from './suite'
import { sanityTarget } from './target-sanity'

describe('convergence under faults: Sanity (@sanity/client over SSE)', () => {
  batchSuite(sanityTarget, { schedules: 200, concurrency: 6, msPerSchedule: 5_000 })
})
