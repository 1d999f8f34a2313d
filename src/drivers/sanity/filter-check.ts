/**
 * The caller's GROQ filter, checked with Sanity's own parser (groq-js) before it is sent, and the condition the
 * driver builds around it: `_type == $__type [&& not a draft or version] && (<filter>)`.
 *
 * The filter must parse on its own as one expression that reads only the current document: no pipeline (`|`), no
 * projection, no `*` (a subquery over the whole dataset) and no `^` (the scope outside the filter). The whole
 * condition is then parsed again and must be an `and` whose left side is exactly the driver's part and whose right
 * side is exactly the caller's filter, so no string escape, comment or bracket can move the filter out of its place.
 *
 * groq-js is an optional peer dependency, loaded on the first filter to check: apps that use no Sanity filter never
 * load it, and a bundler keeps it in a chunk of its own.
 */
import type { ExprNode } from 'groq-js'
import { ObservedError } from '../../core/types'

/** groq-js's parser. */
export type Parse = (query: string) => ExprNode
/** The groq-js module. */
export type Groq = typeof import('groq-js')

/** Node types a filter may not hold: they read other documents than the one being filtered, or shape a result. */
const FORBIDDEN: Record<string, string> = {
  Everything: 'a subquery over the dataset (`*`)',
  Parent: 'a parent scope (`^`)',
  PipeFuncCall: 'a pipeline (`|`)',
  Projection: 'a projection (`{…}`)',
}

let groqJs: Promise<Groq> | undefined
/** groq-js once loaded, for the synchronous paths (a search's client-side matcher). */
let groqLoaded: Groq | undefined

function loadParser(): Promise<Parse> {
  return loadGroq().then((groq) => groq.parse)
}

/** groq-js, loaded once on first use. */
function loadGroq(): Promise<Groq> {
  groqJs ??= import('groq-js').then(
    (groq) => (groqLoaded = groq),
    (err: unknown) => {
      groqJs = undefined // installing it later and retrying works
      throw new ObservedError(
        'unsupported_query',
        'Sanity query filters are checked with groq-js, an optional peer dependency of vue-observed: install it (npm install groq-js)',
        { fatal: true, cause: new Error(String((err as Error)?.message ?? err)) },
      )
    },
  )
  return groqJs
}

/** groq-js when a filter check or a watch has loaded it already, else undefined (nothing is loaded here). */
export function loadedGroq(): Groq | undefined {
  return groqLoaded
}

/**
 * A checked condition as a predicate on one document, evaluated client-side by groq-js as the listen endpoint would
 * evaluate it: true only when the filter gives `true`; an evaluation error counts as no match.
 */
export async function compileCondition(condition: string, params: Record<string, unknown>): Promise<(doc: Record<string, unknown>) => boolean> {
  const groq = await loadGroq()
  const tree = groq.parse(condition)
  return (doc) => {
    try {
      return groq.evaluateSync(tree, { params, root: doc }).data === true
    } catch {
      return false
    }
  }
}

function unsupported(message: string): ObservedError {
  return new ObservedError('unsupported_query', message, { fatal: true })
}

/** The first forbidden node in a tree, depth first. */
function forbiddenIn(node: unknown): string | undefined {
  if (Array.isArray(node)) {
    for (const child of node) {
      const found = forbiddenIn(child)
      if (found) return found
    }
    return undefined
  }
  if (typeof node !== 'object' || node === null) return undefined
  const type = (node as { type?: unknown }).type
  if (typeof type === 'string' && Object.hasOwn(FORBIDDEN, type)) return FORBIDDEN[type]
  for (const child of Object.values(node)) {
    const found = forbiddenIn(child)
    if (found) return found
  }
  return undefined
}

/** Parse trees compare by their JSON: groq-js trees are plain data (functions, dropped by JSON, aside). */
const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b)

/** The driver's own part of every collection condition. */
export function collectionCondition(excludeDrafts: boolean): string {
  return excludeDrafts ? '_type == $__type && !(_id in path("drafts.**")) && !(_id in path("versions.**"))' : '_type == $__type'
}

/**
 * The condition of a collection with the caller's filter (none: the collection's own), checked as described above.
 * Every refusal, a syntax error included, is a fatal `unsupported_query`: sending the filter again cannot help.
 */
export async function checkedCondition(filter: string | undefined, excludeDrafts: boolean, where = ''): Promise<string> {
  if (filter === undefined) return collectionCondition(excludeDrafts)
  return checkCondition(await loadParser(), filter, excludeDrafts, where)
}

/** {@link checkedCondition} with groq-js's parser at hand (synchronous). */
export function checkCondition(parse: Parse, filter: string | undefined, excludeDrafts: boolean, where = ''): string {
  const own = collectionCondition(excludeDrafts)
  if (filter === undefined) return own
  let tree: ExprNode
  try {
    tree = parse(`${filter}\n`) // groq-js wants a line end after a trailing comment, as the condition gives it
  } catch (err) {
    throw unsupported(syntaxError(filter, err, where))
  }
  const forbidden = forbiddenIn(tree)
  if (forbidden) throw unsupported(`A Sanity filter is one expression on the document; ${forbidden} is not allowed: ${filter}`)
  // The newline ends a trailing `//` comment before the driver's closing bracket.
  const condition = `${own} && (${filter}\n)`
  let whole: ExprNode | undefined
  try {
    whole = parse(condition)
  } catch {
    whole = undefined
  }
  if (whole?.type !== 'And' || whole.right.type !== 'Group' || !same(whole.left, parse(own)) || !same(whole.right.base, tree)) {
    throw unsupported(`The Sanity filter does not stay within its parentheses: ${filter}`)
  }
  return condition
}

/**
 * A syntax error of the caller's filter, positioned in that filter (it is parsed alone, so groq-js's position is
 * the caller's), with the line and a caret under the error.
 */
function syntaxError(filter: string, err: unknown, where: string): string {
  const e = err as { message?: unknown; position?: unknown }
  const detail = typeof e?.message === 'string' ? e.message.replace(/\s+at position \d+.*$/s, '') : String(err)
  if (typeof e?.position !== 'number') return `Invalid GROQ filter${where}: ${detail}`
  const position = Math.min(Math.max(e.position, 0), filter.length)
  const before = filter.slice(0, position).split('\n')
  const line = before.length
  const column = before[line - 1].length + 1
  const text = filter.split('\n')[line - 1]
  const gutter = `${line} | `
  return (
    `Invalid GROQ filter${where} at line ${line}, column ${column}: ${detail}\n` +
    `> ${gutter}${text}\n` +
    `  ${' '.repeat(gutter.length - 2)}| ${' '.repeat(column - 1)}^`
  )
}
