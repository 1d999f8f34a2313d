/**
 * `vue-observed/ssr`: moving `client.dehydrate()` (and Pinia's `pinia.state.value`) from the server's HTML to the
 * browser. devalue (an optional peer, the serialiser of SvelteKit and Nuxt) escapes `<`, U+2028 and U+2029 and keeps
 * dates and other non-JSON values: its output can be inlined in a `<script>`. A separate entry, so that apps without
 * SSR never need devalue.
 */
import { parse, stringify } from 'devalue'

const isPlain = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v) && [Object.prototype, null].includes(Object.getPrototypeOf(v))

// devalue refuses objects with an own `__proto__` key; documents may hold one (JSON allows it). They travel as
// entries and come back with the key defined as plain own data, never as a prototype.
const reducers = { ProtoKey: (v: unknown) => isPlain(v) && Object.hasOwn(v, '__proto__') && Object.entries(v) }
const revivers = {
  ProtoKey: (entries: unknown) => {
    const out: Record<string, unknown> = {}
    if (!Array.isArray(entries)) return out
    for (const entry of entries) {
      if (!Array.isArray(entry) || typeof entry[0] !== 'string') continue
      Object.defineProperty(out, entry[0], { value: entry[1], enumerable: true, writable: true, configurable: true })
    }
    return out
  },
}

/** Serialises a payload (`client.dehydrate()`, `pinia.state.value`) into text safe to inline in HTML. */
export function serializeState(payload: unknown): string {
  return stringify(payload, reducers)
}

/**
 * Reads text `serializeState` wrote. Malformed text gives `undefined` (with one console warning) rather than a
 * crash, and no text (a page rendered without state) `undefined` silently: the client then starts without hydration.
 */
export function parseState(text: string | null | undefined): unknown {
  if (text === null || text === undefined || text === '') return undefined
  try {
    return parse(text, revivers)
  } catch (err) {
    console.warn(`[vue-observed] Hydration state could not be parsed, ignored: ${(err as Error)?.message ?? err}`)
    return undefined
  }
}
