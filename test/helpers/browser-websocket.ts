/**
 * Two gaps of happy-dom's WebSocket that browsers do not have, and that kuzzle-sdk's browser mode relies on: it
 * passes `null` subprotocols (browsers read it as none; happy-dom throws), and it reads `client.OPEN` on the
 * instance. Call in a happy-dom test file before creating a Kuzzle client.
 */
export function useBrowserLikeWebSocket(): void {
  const HappyWebSocket = globalThis.WebSocket
  if ((HappyWebSocket as { browserLike?: boolean }).browserLike) return
  class BrowserLikeWebSocket extends HappyWebSocket {
    static browserLike = true
    constructor(url: string | URL, protocols?: string | string[] | null) {
      super(url, protocols ?? undefined)
    }
  }
  for (const [name, value] of Object.entries({ CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 })) {
    Object.defineProperty(BrowserLikeWebSocket.prototype, name, { value })
  }
  globalThis.WebSocket = BrowserLikeWebSocket as typeof WebSocket
}
