/**
 * What the peers benchmark (bench/peers.bench.ts, issue 23) needs from each library: the same list component
 * mounted over the same documents, changed from the server side, with its notifications and renders counted.
 * bench/lib/peer-observed.ts and bench/lib/peer-tanstack.ts implement it.
 */
import { createApp, type Component, type Plugin } from 'vue'
import { createNullApp, textOf } from './null-renderer'

/** One document as the server holds it. `fare` is the sort field (descending). */
export interface PeerDoc {
  id: string
  name: string
  fare: number
}

/** What a row shows. */
export const peerRowText = (d: { name: string; fare: number }) => `${d.name}|${d.fare}`

export interface Peer {
  readonly name: string
  /** Renders of row components and of the window list component, since creation. */
  readonly renders: { rows: number; list: number }
  /**
   * Notifications the client received from the server side (a driver sink's `event`, a sync's change callback):
   * how many, when the last one arrived, and when the event loop was next free after it (a `setImmediate` queued
   * at its arrival: its synchronous work and microtasks are done).
   */
  readonly notified: { count: number; at: number; idle: number }
  /** Mounts the app: the window list, sorted by `fare` descending, `size` rows. */
  mount(renderer?: Renderer): void
  /** What a list shows (0: the window, 1: the additional live query), and how many rows. */
  text(list: 0 | 1): string
  rows(list: 0 | 1): number
  /** Shows or removes a second live query (the `size` first by `fare` ascending) in the same app. */
  showExtra(on: boolean): void
  /** A server-side write: sets one document's fare. */
  write(id: string, fare: number): Promise<void>
  unmount(): void
}

/**
 * Where an app renders: happy-dom (bench/dom.ts), or plain objects (lib/null-renderer.ts: for heap per row, so that
 * the DOM implementation's own memory does not blur the libraries').
 */
export type Renderer = 'dom' | 'null'

export interface MountedApp {
  text(list: 0 | 1): string
  rows(list: 0 | 1): number
  unmount(): void
}

/** Mounts `root` (a component rendering a div of one or two lists) with `plugins`. */
export function mountApp(root: Component, renderer: Renderer, plugins: Plugin[] = []): MountedApp {
  if (renderer === 'null') {
    const { app, container } = createNullApp(root)
    for (const p of plugins) app.use(p)
    app.mount(container)
    const list = (i: 0 | 1) => container.children[0]?.children[i]
    return {
      text: (i) => (list(i) ? textOf(list(i)!) : ''),
      rows: (i) => list(i)?.children.length ?? 0,
      unmount: () => app.unmount(),
    }
  }
  const container = document.createElement('div')
  document.body.appendChild(container)
  const app = createApp(root)
  for (const p of plugins) app.use(p)
  app.mount(container as unknown as Element)
  const list = (i: 0 | 1) => container.firstElementChild?.children[i]
  return {
    text: (i) => list(i)?.textContent ?? '',
    rows: (i) => list(i)?.children.length ?? 0,
    unmount() {
      app.unmount()
      container.remove()
    },
  }
}

/** Queues the notification bookkeeping of {@link Peer.notified}. */
export function noteNotification(notified: { count: number; at: number; idle: number }): void {
  notified.count++
  notified.at = performance.now()
  const count = notified.count
  setImmediate(() => {
    if (notified.count === count) notified.idle = performance.now()
  })
}
