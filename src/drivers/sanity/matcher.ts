/**
 * The Sanity driver's client-side matcher: the condition a search sends (`_type == $__type`, the draft exclusion of
 * the `published` perspective, the caller's filter with its params), evaluated on one document with groq-js, the
 * engine the listener router uses. Synchronous: groq-js's `evaluateSync` decides any filter that reads the document
 * alone, and the parse needs groq-js loaded, which every search and live query with a filter does first (it checks
 * the filter with it); before that, undefined.
 *
 * Undefined, too, for what the client cannot know as the server will: a dereference (`->`, another document), a
 * function of the server, the clock or the caller (`now()`, `identity()`, `sanity::dataset()`, geo, text search,
 * `documents::*`, `releases::*`…: only pure functions are evaluated), `match` (Content Lake tokenizes text with
 * its own analyzer), the fields the server sets on every write (`_rev`, `_createdAt`, `_updatedAt`, `_system`), and
 * the document read whole or by a computed key (`@ == $doc`, `@[$key]`), which would see those fields too.
 */
import type { ExprNode } from 'groq-js'
import type { CollectionRef, DocSource } from '../../core/types'
import { isDraftOrVersion } from './expected'
import { checkCondition, loadedGroq } from './filter-check'
import { readFilter, readParams } from './groq'

/** Perspectives whose searches evaluate the filter on the stored documents themselves. */
export type MatchablePerspective = 'raw' | 'published'

/** Functions that depend on nothing but their arguments, `namespace::name`. */
const PURE_FUNCTIONS = new Set([
  'global::coalesce',
  'global::count',
  'global::dateTime',
  'global::defined',
  'global::length',
  'global::lower',
  'global::path',
  'global::references',
  'global::round',
  'global::select',
  'global::string',
  'global::upper',
  'array::compact',
  'array::intersects',
  'array::join',
  'array::unique',
  'dateTime::add',
  'math::avg',
  'math::max',
  'math::min',
  'math::sum',
  'pt::text',
  'sanity::partOfRelease',
  'sanity::versionOf',
  'string::lower',
  'string::split',
  'string::startsWith',
  'string::upper',
])

/** Fields the server sets on every write: a local write cannot know their next values. */
const SERVER_FIELDS = new Set(['_rev', '_createdAt', '_updatedAt', '_system'])

/** Node types whose `expr` is evaluated with `@` bound to an element, not the document. */
const ELEMENT_SCOPES = new Set(['Filter', 'Map', 'FlatMap'])

/** Why a parsed condition cannot be decided in the client, or undefined when it can. */
export function undecidable(node: unknown, documentScope = true): string | undefined {
  if (Array.isArray(node)) {
    for (const child of node) {
      const found = undecidable(child, documentScope)
      if (found) return found
    }
    return undefined
  }
  if (typeof node !== 'object' || node === null) return undefined
  const n = node as ExprNode & Record<string, unknown>
  switch (n.type) {
    case 'Deref':
    case 'Context':
    case 'Everything':
    case 'Parent':
    case 'PipeFuncCall':
    case 'Projection':
      return `a ${n.type} node`
    case 'FuncCall': {
      const name = `${n.namespace}::${n.name}`
      if (!PURE_FUNCTIONS.has(name)) return `the function ${name}()`
      break
    }
    case 'OpCall':
      if (n.op === 'match') return 'the `match` operator'
      break
    case 'AccessAttribute':
      if (documentScope && SERVER_FIELDS.has(n.name) && (!n.base || n.base.type === 'This')) return `the server's field ${n.name}`
      // `@.field` reads one known field: the document is not read whole.
      if (n.base?.type === 'This') return undefined
      break
    case 'This':
      if (documentScope) return 'the document read whole (`@`)'
      break
  }
  for (const [key, child] of Object.entries(n)) {
    if (key === 'type') continue
    const found = undecidable(child, ELEMENT_SCOPES.has(n.type) && key === 'expr' ? false : documentScope)
    if (found) return found
  }
  return undefined
}

/** A document as the server would hold it: its id, and its `_type` (the collection's, for content without one). */
function documentOf(source: DocSource, id: string, type: string): Record<string, unknown> {
  return { ...source, _id: id, _type: typeof source._type === 'string' ? source._type : type }
}

/**
 * The matcher of a search's GROQ filter on a collection, or undefined when the client cannot decide it exactly (see
 * the module's comment), or when groq-js is not loaded yet. `perspective` undefined: the client reads another one
 * (drafts overlaid, a release stack), whose searches evaluate the filter on documents it does not hold.
 */
export function sanityMatcher(
  c: CollectionRef,
  query: unknown,
  rawParams: Record<string, unknown> | undefined,
  perspective: MatchablePerspective | undefined,
): ((source: DocSource, id: string) => boolean) | undefined {
  if (!perspective) return undefined
  const excludeDrafts = perspective === 'published'
  const type = c.collection
  let filter: string | undefined
  let params: Record<string, unknown>
  try {
    filter = readFilter(query)
    params = { ...readParams(rawParams), __type: type }
  } catch {
    return undefined // the search refuses it too
  }
  if (filter === undefined) {
    return (source, id) => {
      const doc = documentOf(source, id, type)
      return doc._type === type && !(excludeDrafts && isDraftOrVersion(id))
    }
  }
  const groq = loadedGroq()
  if (!groq) return undefined
  let tree: ExprNode
  try {
    tree = groq.parse(checkCondition(groq.parse, filter, excludeDrafts))
  } catch {
    return undefined
  }
  if (undecidable(tree) !== undefined) return undefined
  return (source, id) => {
    try {
      return groq.evaluateSync(tree, { params, root: documentOf(source, id, type) }).data === true
    } catch {
      return false // what the filter-check router does too; only pure, document-local nodes reach here
    }
  }
}
