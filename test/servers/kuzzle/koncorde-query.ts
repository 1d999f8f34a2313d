/**
 * `lang: 'koncorde'` on document:search / count / *ByQuery: the Koncorde filter is translated into an Elasticsearch
 * query, as Kuzzle 2.56 does it (lib/service/storage/commons/queryTranslator.ts, reached from
 * baseController.translateKoncorde), and the result runs through the same Elasticsearch subset as any other query.
 * The translation is syntactic: no Koncorde validation first.
 *   equals → term, in → terms, range → range, ids → ids, exists "path" → exists, exists "path[value]" → bool.filter
 *   [exists, range gte/lte value], missing → bool.must_not exists, and → bool.filter, or → bool.should,
 *   not → bool.must_not, geo* → geo_* (which this server's subset then refuses), bool → 400
 *   koncorde_restricted_keyword, any other keyword → passed on unchanged.
 * As upstream, only the first key of each filter object is read.
 */
import { KuzzleApiError } from './errors'

type Json = Record<string, unknown>

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v)

/** baseController.translateKoncorde: a keyword the translator rejects becomes this 400. */
const restricted = (type: string, name: string) =>
  new KuzzleApiError('api.assert.koncorde_restricted_keyword', 400, `The ${type} "${name}" of Koncorde DSL is not supported for search queries.`, [type, name])

/** `path[json]` → path and value (parseKoncordePath). */
function existsClause(arg: unknown): Json {
  const field = isObject(arg) && 'field' in arg ? arg.field : arg
  const path = String(field)
  const open = path.indexOf('[')
  if (open < 0) return { exists: { field: path } }
  const close = path.lastIndexOf(']')
  if (close < 0) {
    const detail = `Invalid exists path "${path}": missing closing bracket`
    throw new KuzzleApiError('services.koncorde.elastic_translation_error', 400, `An error occured while translating a Koncorde filter to an Elasticsearch query: ${detail}`, [detail])
  }
  const name = path.slice(0, open)
  let value: unknown
  try {
    value = JSON.parse(path.slice(open + 1, close))
  } catch (e) {
    throw new KuzzleApiError('api.assert.koncorde_dsl_error', 400, (e as Error).message, [(e as Error).message])
  }
  if (!value) return { exists: { field: name } }
  return { bool: { filter: [{ exists: { field: name } }, { range: { [name]: { gte: value, lte: value } } }] } }
}

const CLAUSES: Record<string, (arg: unknown) => Json> = {
  equals: (arg) => ({ term: { ...(arg as Json) } }),
  in: (arg) => ({ terms: { ...(arg as Json) } }),
  range: (arg) => ({ range: { ...(arg as Json) } }),
  ids: (arg) => ({ ids: { ...(arg as Json) } }),
  exists: existsClause,
  missing: (field) => ({ bool: { must_not: [{ exists: { field } }] } }),
  geoBoundingBox: (arg) => ({ geo_bounding_box: { ...(arg as Json) } }),
  geoDistance: (arg) => ({ geo_distance: { ...(arg as Json) } }),
  geoDistanceRange: (arg) => ({ geo_distance_range: { ...(arg as Json) } }),
  geoPolygon: (arg) => ({ geo_polygon: { ...(arg as Json) } }),
}

function operands(name: string, arg: unknown): unknown[] {
  if (!Array.isArray(arg)) throw new KuzzleApiError('api.assert.koncorde_dsl_error', 400, `"${name}" must be an array of filters`, [name])
  return arg
}

/** Translates a Koncorde filter into an Elasticsearch query (an empty filter is an empty query). */
export function koncordeToEs(filter: unknown): Json {
  if (filter === undefined || filter === null) return {}
  if (!isObject(filter)) {
    throw new KuzzleApiError('api.assert.invalid_type', 400, 'Wrong type for argument "body.query" (expected: object)', ['body.query', 'object'])
  }
  const entries = Object.entries(filter)
  if (entries.length === 0) return {}
  return translate(filter)
}

function translate(filter: unknown): Json {
  if (!isObject(filter) || Object.keys(filter).length === 0) {
    throw new KuzzleApiError('api.assert.koncorde_dsl_error', 400, 'A Koncorde filter must be a non-empty object', [])
  }
  const [name, arg] = Object.entries(filter)[0]
  switch (name) {
    case 'and':
      return { bool: { filter: operands(name, arg).map(translate) } }
    case 'or':
      return { bool: { should: operands(name, arg).map(translate) } }
    case 'not':
      return { bool: { must_not: [translate(arg)] } }
    case 'bool':
      throw restricted('operator', 'bool')
    default:
      return Object.hasOwn(CLAUSES, name) ? CLAUSES[name](arg) : { [name]: arg }
  }
}
