/**
 * What a read or a listener asked Sanity for. A server or proxy can answer anything, so every document it returns is
 * checked against the request before the core sees it: a document of another `_type`, an id not asked for, or a
 * draft the request left out would otherwise be shown as one of the collection's documents.
 *
 * The dataset cannot be checked here: documents and listener events do not name theirs; it is fixed by the URL.
 */

export interface Expected {
  /** The collection's `_type`. */
  readonly type: string
  /** Reads and watches by id: the ids asked for. */
  readonly ids?: ReadonlySet<string>
  /** Drafts and release versions were not asked for (a query on a client reading the `published` perspective). */
  readonly excludeDrafts: boolean
}

/** Whether an id names a draft or a release version rather than a published document. */
export function isDraftOrVersion(id: string): boolean {
  return id.startsWith('drafts.') || id.startsWith('versions.')
}

/** A value for a message, cut short: it came from the server. */
function shown(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value)
  return text.length > 100 ? `${text.slice(0, 100)}…` : text
}

/** Why a document is not one the request asked for; undefined when it is. */
export function mismatch(doc: { readonly _id?: unknown; readonly _type?: unknown }, expected: Expected): string | undefined {
  const id = doc._id
  if (typeof id !== 'string' || !id) return 'it has no _id'
  if (expected.ids && !expected.ids.has(id)) return `${shown(id)} was not asked for`
  if (doc._type !== expected.type) return `${shown(id)} has _type ${shown(doc._type)}, not ${shown(expected.type)}`
  if (expected.excludeDrafts && isDraftOrVersion(id)) return `${shown(id)} is a draft or a release version`
  return undefined
}
