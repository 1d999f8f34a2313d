/**
 * The document store of the Sanity-protocol test server: datasets of documents, and transactions that apply a list of
 * mutations atomically, stamping every touched document with the transaction id as its new `_rev`.
 */
import { QueryError, runQuery } from './groq'
import { DOCUMENT_ID, randomId } from './ids'
import { applyPatch, PATCH_KEYS, PatchError, type PatchOperations } from './patch'

/** A stored document: any JSON object with Sanity's system fields. */
export type SanityDocument = Record<string, unknown> & {
  _id: string
  _type: string
  _rev: string
  _createdAt: string
  _updatedAt: string
}

/** A document as clients send it in a create mutation (system fields optional, the server sets them). */
export type DocumentInput = Record<string, unknown> & { _id?: string; _type: string }

/** One mutation of a transaction, in the mutate endpoint's JSON shape. */
export type Mutation =
  | { readonly create: DocumentInput }
  | { readonly createOrReplace: DocumentInput & { _id: string } }
  | { readonly createIfNotExists: DocumentInput & { _id: string } }
  | { readonly delete: { readonly id: string } | DocumentQuery }
  | { readonly patch: PatchOperations & ({ readonly id: string } | DocumentQuery) }

/** A selection by GROQ query (`delete` and `patch` by query; @sanity/client sends `patch([ids])` as one). */
export interface DocumentQuery {
  readonly query: string
  readonly params?: Record<string, unknown>
}

/** How a transaction changed one document. `before`/`after` are null when it did not exist. */
export interface DocumentChange {
  readonly id: string
  readonly before: SanityDocument | null
  readonly after: SanityDocument | null
  /** The mutations of the transaction that touched this document. */
  readonly mutations: readonly Mutation[]
}

/** A committed transaction. */
export interface Transaction {
  readonly id: string
  readonly dataset: string
  /** ISO time of the commit. */
  readonly timestamp: string
  /** One entry per touched document, in first-touched order. */
  readonly changes: readonly DocumentChange[]
}

/** The per-mutation result the mutate endpoint returns. */
export interface MutationResult {
  readonly id: string
  readonly operation: 'create' | 'update' | 'delete' | 'none'
}

/** A mutation the server refuses; `status` is the HTTP status the endpoint answers with. */
export class MutationError extends Error {
  override readonly name = 'MutationError'
  constructor(
    message: string,
    readonly status: number,
    readonly index: number,
    readonly documentId?: string,
  ) {
    super(message)
  }
}

function clone<T>(value: T): T {
  return structuredClone(value)
}

/** Datasets of documents, created on first use. */
export class DocumentStore {
  private readonly datasets = new Map<string, Map<string, SanityDocument>>()

  /** The documents of a dataset (live map: do not mutate). */
  dataset(name: string): Map<string, SanityDocument> {
    let ds = this.datasets.get(name)
    if (!ds) {
      ds = new Map()
      this.datasets.set(name, ds)
    }
    return ds
  }

  /** A copy of one document, or null. */
  get(dataset: string, id: string): SanityDocument | null {
    const doc = this.dataset(dataset).get(id)
    return doc ? clone(doc) : null
  }

  /** Copies of every document of a dataset, by id. */
  all(dataset: string): SanityDocument[] {
    return [...this.dataset(dataset).values()].map(clone).sort((a, b) => (a._id < b._id ? -1 : a._id > b._id ? 1 : 0))
  }

  /** Puts documents in place without a transaction (seeding before anyone listens). Missing system fields are filled. */
  load(dataset: string, docs: readonly DocumentInput[]): SanityDocument[] {
    const ds = this.dataset(dataset)
    const now = new Date().toISOString()
    return docs.map((input) => {
      const doc = {
        _createdAt: now,
        _updatedAt: now,
        _rev: randomId(),
        ...clone(input),
        _id: input._id ?? randomId(),
      } as SanityDocument
      ds.set(doc._id, doc)
      return clone(doc)
    })
  }

  /** Removes every document of a dataset, or of all datasets, without a transaction. */
  wipe(dataset?: string): void {
    if (dataset === undefined) this.datasets.clear()
    else this.datasets.delete(dataset)
  }

  /**
   * Applies mutations atomically: either all succeed and the transaction is committed, or a `MutationError` is thrown
   * and nothing changes. A transaction that touches nothing (createIfNotExists of an existing document, delete of a
   * missing one) commits no change and gets no revision.
   */
  commit(
    dataset: string,
    mutations: readonly Mutation[],
    transactionId: string = randomId(),
  ): { transaction: Transaction; results: MutationResult[] } {
    if (!Array.isArray(mutations)) throw new MutationError('mutations must be an array', 400, 0)
    const ds = this.dataset(dataset)
    const staged = new Map<string, SanityDocument | null>()
    const touched = new Map<string, Mutation[]>()
    const results: MutationResult[] = []
    const current = (id: string) => (staged.has(id) ? staged.get(id)! : ds.get(id) ?? null)
    /** The ids a `delete` / `patch` selects: its `id`, or every document its `query` returns, as the dataset is now. */
    const select = (body: { id?: unknown; query?: unknown; params?: unknown }, kind: string, fail: (msg: string, status: number) => never): string[] => {
      if (typeof body.id === 'string') return [body.id]
      if (typeof body.query !== 'string') return fail(`${kind} requires an id or a query`, 400)
      const params = typeof body.params === 'object' && body.params !== null ? (body.params as Record<string, unknown>) : {}
      const ids = new Set([...ds.keys(), ...staged.keys()])
      const docs = [...ids].map(current).filter((d): d is SanityDocument => d !== null)
      let result: unknown
      try {
        result = runQuery(body.query, params, docs)
      } catch (err) {
        if (err instanceof QueryError) return fail(`Invalid query in ${kind}: ${err.message}`, 400)
        throw err
      }
      const list = Array.isArray(result) ? result : result === null || result === undefined ? [] : [result]
      return list.flatMap((d) => (typeof d === 'object' && d !== null && typeof (d as { _id?: unknown })._id === 'string' ? [(d as { _id: string })._id] : []))
    }
    const touch = (id: string, m: Mutation, doc: SanityDocument | null) => {
      staged.set(id, doc)
      const list = touched.get(id) ?? []
      list.push(m)
      touched.set(id, list)
    }

    mutations.forEach((m, index) => {
      const fail = (msg: string, status: number, id?: string): never => {
        throw new MutationError(msg, status, index, id)
      }
      if (typeof m !== 'object' || m === null) fail('Malformed mutation', 400)
      const kind = Object.keys(m)[0]
      const body = (m as Record<string, unknown>)[kind]
      if (typeof body !== 'object' || body === null) fail(`Malformed ${kind} mutation`, 400)
      switch (kind) {
        case 'create':
        case 'createOrReplace':
        case 'createIfNotExists': {
          const input = body as DocumentInput
          let id = input._id ?? (kind === 'create' ? randomId() : fail(`${kind} requires _id`, 400))
          // An `_id` ending in "." is a prefix: the server appends a random id (Sanity's Mutation API, `create`).
          if (kind === 'create' && typeof id === 'string' && id.endsWith('.')) id = `${id}${randomId()}`
          if (typeof id !== 'string' || !DOCUMENT_ID.test(id)) fail(`Invalid document ID "${String(id)}"`, 400, String(id))
          if (typeof input._type !== 'string' || !input._type) fail(`Document "${id}" needs a _type`, 400, id)
          const existing = current(id)
          if (existing && kind === 'create') fail(`Document by ID "${id}" already exists`, 409, id)
          if (existing && kind === 'createIfNotExists') {
            results.push({ id, operation: 'none' })
            return
          }
          const { _rev: _r, _createdAt, _updatedAt: _u, ...content } = clone(input)
          void _r
          void _u
          const doc = { ...content, _id: id } as SanityDocument
          // Replacing keeps the original creation time, as Sanity does.
          doc._createdAt = existing?._createdAt ?? (typeof _createdAt === 'string' ? _createdAt : '')
          touch(id, m, doc)
          results.push({ id, operation: existing ? 'update' : 'create' })
          return
        }
        case 'delete': {
          const sel = body as { id?: unknown; query?: unknown }
          for (const id of select(sel, 'delete', fail)) {
            if (!current(id)) {
              // By id, a missing document is a no-op result; a query only ever selects existing ones.
              results.push({ id, operation: 'none' })
              continue
            }
            touch(id, m, null)
            results.push({ id, operation: 'delete' })
          }
          return
        }
        case 'patch': {
          const patch = body as PatchOperations & { id?: unknown; query?: unknown; params?: unknown }
          // An operation the server does not apply is refused, never dropped (a 200 that changes nothing lies).
          for (const key of Object.keys(patch)) {
            if (!PATCH_KEYS.has(key)) fail(`Unknown patch operation "${key}"`, 400, typeof patch.id === 'string' ? patch.id : undefined)
          }
          for (const id of select(patch, 'patch', fail)) {
            const existing = current(id)
            if (!existing) fail(`Cannot modify document "${id}": it does not exist`, 404, id)
            if (patch.ifRevisionID !== undefined && patch.ifRevisionID !== existing!._rev) {
              fail(`Document "${id}" has unexpected revision ID ("${existing!._rev}"), expected "${patch.ifRevisionID}"`, 409, id)
            }
            let next: Record<string, unknown>
            try {
              next = applyPatch(existing!, patch)
            } catch (err) {
              if (err instanceof PatchError) fail(err.message, 400, id)
              throw err
            }
            // System fields are the server's.
            next!._id = existing!._id
            next!._type = typeof next!._type === 'string' && next!._type ? next!._type : existing!._type
            touch(id, m, next! as SanityDocument)
            results.push({ id, operation: 'update' })
          }
          return
        }
        default:
          fail(`Unsupported mutation type "${kind}"`, 400)
      }
    })

    const timestamp = new Date().toISOString()
    const changes: DocumentChange[] = []
    for (const [id, list] of touched) {
      const before = ds.get(id) ?? null
      const staging = staged.get(id) ?? null
      let after: SanityDocument | null = null
      if (staging) {
        after = {
          ...staging,
          _rev: transactionId,
          _createdAt: staging._createdAt || before?._createdAt || timestamp,
          _updatedAt: timestamp,
        }
      }
      if (!before && !after) continue // created and deleted in the same transaction
      changes.push({ id, before: before && clone(before), after: after && clone(after), mutations: list })
      if (after) ds.set(id, after)
      else ds.delete(id)
    }
    return { transaction: { id: transactionId, dataset, timestamp, changes }, results }
  }
}
