/**
 * Installs a happy-dom window as the global DOM. Loaded with `node --import` before anything else, because
 * @vue/runtime-dom reads `document` once, when it is first imported.
 */
import { Window } from 'happy-dom'

const window = new Window({ url: 'http://localhost/' })
const g = globalThis as Record<string, unknown>
for (const key of ['window', 'document', 'Node', 'Element', 'HTMLElement', 'SVGElement', 'Text', 'Comment', 'DocumentFragment', 'MutationObserver']) {
  if (key === 'window') g.window = window
  else g[key] = (window as unknown as Record<string, unknown>)[key]
}
