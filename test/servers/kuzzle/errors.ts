/** Kuzzle API errors as the real server reports them: `{ id, code, message, status, props }`. */

/** One Kuzzle API error, thrown by request handlers and serialized into the response frame's `error`. */
export class KuzzleApiError extends Error {
  constructor(
    /** Kuzzle error id, e.g. `services.storage.not_found`. */
    readonly id: string,
    /** HTTP-like status: 400, 401, 404, 412, 500... */
    readonly status: number,
    message: string,
    /** Values interpolated into the message, as Kuzzle sends them. */
    readonly props: string[] = [],
    /** The failures a MultipleErrorsError carries (kerror/errors/multipleErrorsError.ts): sent as `errors` and `count`. */
    readonly errors?: unknown[],
  ) {
    super(message)
  }

  /** The `error` object of a response frame. */
  toJSON(): { id: string; code: number; message: string; status: number; props: string[]; errors?: unknown[]; count?: number } {
    const json = { id: this.id, code: CODES[this.id] ?? 0, message: this.message, status: this.status, props: this.props }
    return this.errors === undefined ? json : { ...json, errors: this.errors, count: this.errors.length }
  }
}

// Numeric codes of the errors this server can produce: Kuzzle's (domain << 24) | (subdomain << 16) | error, from
// kuzzleio/kuzzle lib/kerror/codes/*.json (2.56).
const CODES: Record<string, number> = {
  'api.assert.missing_argument': 0x02010003,
  'api.assert.invalid_type': 0x02010001,
  'api.assert.invalid_argument': 0x02010002,
  'api.assert.body_required': 0x02010008,
  'api.assert.koncorde_dsl_error': 0x0201000e,
  'api.assert.koncorde_restricted_keyword': 0x0201000d,
  'api.process.action_not_found': 0x02020005,
  'api.process.overloaded': 0x02020002,
  'api.process.too_many_requests': 0x02020008,
  'api.process.incomplete_multiple_request': 0x0202000a,
  'api.process.controller_not_found': 0x02020004,
  'services.storage.unknown_scroll_id': 0x0101000e,
  'services.storage.unexpected_bad_request': 0x01010021,
  'api.assert.unexpected_argument': 0x02010007,
  'services.storage.scroll_duration_too_great': 0x0101002c,
  'services.storage.unknown_index': 0x01010001,
  'services.koncorde.elastic_translation_error': 0x01050001,
  'services.storage.unknown_collection': 0x01010002,
  'services.storage.get_limit_exceeded': 0x01010003,
  'services.storage.write_limit_exceeded': 0x01010004,
  'services.storage.not_found': 0x0101000b,
  'services.storage.document_already_exists': 0x01010011,
  'core.fatal.unexpected_error': 0x00000001,
  'core.realtime.invalid_scope': 0x00010004,
  'core.realtime.invalid_users': 0x00010005,
  'core.realtime.not_subscribed': 0x00010008,
  'security.token.invalid': 0x07010001,
  'security.token.expired': 0x07010006,
  'security.rights.unauthorized': 0x07030001,
}

export const errors = {
  missingArgument: (name: string) =>
    new KuzzleApiError('api.assert.missing_argument', 400, `Missing argument "${name}".`, [name]),
  invalidType: (name: string, expected: string) =>
    new KuzzleApiError('api.assert.invalid_type', 400, `Wrong type for argument "${name}" (expected: ${expected})`, [name, expected]),
  invalidArgument: (name: string, expected: string) =>
    new KuzzleApiError('api.assert.invalid_argument', 400, `Invalid argument "${name}". Expected: ${expected}`, [name, expected]),
  bodyRequired: () => new KuzzleApiError('api.assert.body_required', 400, 'The request must specify a body.'),
  koncorde: (message: string) => new KuzzleApiError('api.assert.koncorde_dsl_error', 400, message, [message]),
  actionNotFound: (controller: string, action: string) =>
    new KuzzleApiError('api.process.action_not_found', 404, `API action "${controller}":"${action}" not found`, [controller, action]),
  notFound: (id: string, index: string, collection: string) =>
    new KuzzleApiError('services.storage.not_found', 404, `Document "${id}" not found in "${index}":"${collection}".`, [id, index, collection]),
  unknownIndex: (index: string) =>
    new KuzzleApiError('services.storage.unknown_index', 412, `The index "${index}" does not exist.`, [index]),
  unknownCollection: (index: string, collection: string) =>
    new KuzzleApiError('services.storage.unknown_collection', 412, `The collection "${index}":"${collection}" does not exist.`, [index, collection]),
  // esWrapper.js maps Elasticsearch's "version conflict, document already exists" to this BadRequestError, without
  // placeholders: the message does not name the document.
  alreadyExists: () => new KuzzleApiError('services.storage.document_already_exists', 400, 'Document already exists.'),
  /** `strict: true` on an m* action with failures (documentController: kerror "incomplete_multiple_request"). */
  incompleteMultipleRequest: (action: string, failures: unknown[]) =>
    new KuzzleApiError('api.process.incomplete_multiple_request', 400, `At least one of the ${action} actions failed.`, [action], failures),
  controllerNotFound: (controller: string) =>
    new KuzzleApiError('api.process.controller_not_found', 404, `API controller "${controller}" not found.`, [controller]),
  unexpectedBadRequest: (message: string) => new KuzzleApiError('services.storage.unexpected_bad_request', 400, message, [message]),
  unexpectedArgument: (name: string, accepted: string) =>
    new KuzzleApiError('api.assert.unexpected_argument', 400, `Unexpected argument "${name}" (accepted arguments: ${accepted})`, [name, accepted]),
  unknownScrollId: () => new KuzzleApiError('services.storage.unknown_scroll_id', 404, 'Non-existing or expired scroll identifier.'),
  scrollDurationTooGreat: (ttl: string) =>
    new KuzzleApiError('services.storage.scroll_duration_too_great', 400, `Scroll duration "${ttl}" is too great.`, [ttl]),
  getLimitExceeded: () =>
    new KuzzleApiError('services.storage.get_limit_exceeded', 413, 'The number of documents returned by this request exceeds the configured server limit.'),
  writeLimitExceeded: () =>
    new KuzzleApiError('services.storage.write_limit_exceeded', 413, 'The number of documents edited by this request exceeds the configured server limit.'),
  /** What the test server answers for a request option Kuzzle has but it does not implement (never ignored). */
  unsupported: (name: string, what: string) =>
    new KuzzleApiError('api.assert.invalid_argument', 400, `Invalid argument "${name}". Expected: ${what} (the Kuzzle test server does not support it)`, [name, what]),
  invalidQuery: (message: string) => new KuzzleApiError('services.storage.invalid_query', 400, message, [message]),
  overloaded: () => new KuzzleApiError('api.process.overloaded', 503, 'Request discarded: Kuzzle Server is temporarily overloaded.'),
  tooManyRequests: () => new KuzzleApiError('api.process.too_many_requests', 429, 'Rejected: requests rate limit exceeded for this user.'),
  notSubscribed: (connectionId: string, roomId: string) =>
    new KuzzleApiError('core.realtime.not_subscribed', 412, `User "${connectionId}" has not subscribed to "${roomId}".`, [connectionId, roomId]),
  invalidScope: () => new KuzzleApiError('core.realtime.invalid_scope', 400, 'Invalid value for the "scope" parameter (allowed: "all", "in", "out", "none").'),
  invalidUsers: () => new KuzzleApiError('core.realtime.invalid_users', 400, 'Invalid value for the "users" parameter (allowed: "all", "in", "out", "none").'),
  /** What Kuzzle answers when a handler fails unexpectedly (a bug of this server, never a deliberate answer). */
  unexpected: (detail: string) => new KuzzleApiError('core.fatal.unexpected_error', 500, `Caught an unexpected error: ${detail}.`, [detail]),
  tokenInvalid: () => new KuzzleApiError('security.token.invalid', 401, 'Invalid token.'),
  tokenExpired: () => new KuzzleApiError('security.token.expired', 401, 'Token expired'),
  unauthorized: (controller: string, action: string) =>
    new KuzzleApiError('security.rights.unauthorized', 401, `Unauthorized: authentication required to execute the action "${controller}:${action}".`, [controller, action, '-1']),
}
