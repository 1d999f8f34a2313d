/**
 * GROQ for the Sanity-protocol test server, evaluated by groq-js (Sanity's own engine): whole queries for the query
 * endpoint, and the per-document predicate of a listener (only the query's top-level filter counts).
 */
import { evaluateSync, parse, type ExprNode } from 'groq-js'

/** A query the server cannot parse or run; answered as a 400 (query endpoint) or a `channelError` (listen). */
export class QueryError extends Error {
  override readonly name = 'QueryError'
  constructor(
    message: string,
    readonly query: string,
    readonly start = 0,
    readonly end = 0,
    readonly type: 'queryParseError' | 'queryError' = 'queryError',
  ) {
    super(message)
  }
}

function compile(query: string, params: Record<string, unknown>): ExprNode {
  if (typeof query !== 'string' || !query.trim()) throw new QueryError('The query is empty', String(query))
  try {
    return parse(query, { params })
  } catch (err) {
    // Sanity's queryParseError: a description and the span of the offending text (@sanity/client draws the code
    // frame from `query`, `start` and `end`, see its test/listen.test.ts "groq parse errors").
    const e = err as { message?: string; position?: number }
    const start = Math.min(typeof e.position === 'number' ? e.position : 0, query.length)
    const description = (e.message ?? String(err)).replace(/^Syntax error in GROQ query at position \d+: /, '')
    throw new QueryError(description, query, start, Math.min(start + 1, query.length), 'queryParseError')
  }
}

function run(tree: ExprNode, query: string, dataset: readonly unknown[], params: Record<string, unknown>): unknown {
  try {
    return evaluateSync(tree, { dataset, params }).data
  } catch (err) {
    throw new QueryError((err as Error).message ?? String(err), query)
  }
}

/** Runs a query over a dataset's documents. */
export function runQuery(query: string, params: Record<string, unknown>, documents: readonly unknown[]): unknown {
  return run(compile(query, params), query, documents, params)
}

/** Decides whether one document (or null, for "does not exist") matches a listener. */
export type DocumentPredicate = (doc: Record<string, unknown> | null) => boolean

/**
 * The predicate of a listen query: the filters applied directly to `*`, everything above them (projections, order,
 * slices) ignored, as Sanity's listener does. A query that does not start from `*` is refused.
 */
export function listenerPredicate(query: string, params: Record<string, unknown>): DocumentPredicate {
  const tree = compile(query, params)
  const chain: ExprNode[] = []
  let node: ExprNode | undefined = tree
  while (node && node.type !== 'Everything') {
    chain.push(node)
    node = (node as { base?: ExprNode }).base
  }
  if (!node) throw new QueryError('A listener query must be a filter on all documents, like *[_type == "post"]', query)
  // The contiguous run of Filter nodes right above `*`, rebuilt on top of a fresh `*`.
  let filter: ExprNode = { type: 'Everything' }
  for (let i = chain.length - 1; i >= 0 && chain[i].type === 'Filter'; i--) {
    filter = { type: 'Filter', base: filter, expr: (chain[i] as { expr: ExprNode }).expr } as ExprNode
  }
  return (doc) => {
    if (!doc) return false
    const result = run(filter, query, [doc], params)
    return Array.isArray(result) && result.length === 1
  }
}
