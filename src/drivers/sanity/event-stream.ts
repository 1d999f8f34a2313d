/**
 * One Server-Sent Events connection over `fetch`, with a size cap per event.
 *
 * `client.listen()` reads the stream with an EventSource (the `eventsource` package in Node, a polyfill or the
 * browser's own elsewhere), and none of them bounds a line: a server or proxy that sends a line that never ends
 * grows memory until the tab dies. This reader counts what the current event holds (its data so far and the line
 * not yet ended) and drops the connection once that passes the cap. It parses the stream as the HTML standard says
 * (lines end with CR, LF or CRLF; `data`, `event`, `id`, `retry` fields; `:` comments), and does no reconnecting of
 * its own: the listener decides.
 */

/** What the connection reports. After `refused`, `lost` or `tooLarge` it is closed and reports nothing more. */
export interface EventStreamHandlers {
  /** A whole event: its type (`message` when unnamed), its data and the last event id seen on this stream. */
  event(type: string, data: string, lastEventId: string): void
  /** The server's reconnection delay (`retry:`), in ms. */
  retry(ms: number): void
  /** The server answered with a status other than 200. */
  refused(status: number, headers: Headers): void
  /** The connection failed, or the stream ended. */
  lost(reason: string): void
  /** An event grew past the cap: the connection was dropped. */
  tooLarge(): void
}

export interface EventStreamOptions {
  readonly headers: Record<string, string>
  readonly withCredentials: boolean
  /** The most characters an event may hold (its data and its longest line). */
  readonly maxEventSize: number
}

export interface EventStream {
  close(): void
}

/** Opens a connection to `url`; events and failures go to `handlers` until `close()`. */
export function openEventStream(url: string, options: EventStreamOptions, handlers: EventStreamHandlers): EventStream {
  const abort = new AbortController()
  let closed = false
  const close = () => {
    closed = true
    abort.abort()
  }
  const parser = new EventParser(options.maxEventSize, {
    event: (type, data, id) => !closed && handlers.event(type, data, id),
    retry: (ms) => !closed && handlers.retry(ms),
  })

  void (async () => {
    let response: Response
    try {
      response = await fetch(url, {
        headers: { Accept: 'text/event-stream', ...options.headers },
        credentials: options.withCredentials ? 'include' : 'same-origin',
        cache: 'no-store',
        signal: abort.signal,
      })
    } catch (err) {
      if (!closed) handlers.lost(String((err as Error)?.message ?? err))
      return
    }
    if (closed) {
      // Closed while the request was on its way: a fetch that ignored the abort (happy-dom's) answers all the same,
      // and its body must be cancelled, or the connection stays open.
      void response.body?.cancel().catch(() => undefined)
      return
    }
    if (response.status !== 200 || !response.body) {
      close()
      void response.body?.cancel().catch(() => undefined)
      handlers.refused(response.status, response.headers)
      return
    }
    const reader = response.body.getReader()
    const decoder = new TextDecoder()
    try {
      for (;;) {
        const { done, value } = await reader.read()
        if (closed) return
        if (done) break
        if (!parser.push(decoder.decode(value, { stream: true }))) {
          close()
          handlers.tooLarge()
          return
        }
      }
    } catch (err) {
      if (!closed) {
        close()
        handlers.lost(String((err as Error)?.message ?? err))
      }
      return
    }
    close()
    handlers.lost('the stream ended')
  })()

  return { close }
}

/** The text/event-stream parser, fed decoded text in any pieces. */
class EventParser {
  /** The line not yet ended, in pieces (joined once it ends, so a long line is not copied at every chunk). */
  private line: string[] = []
  private lineSize = 0
  private data: string[] = []
  private dataSize = 0
  private type = ''
  private lastEventId = ''
  /** The previous piece ended with CR: a LF starting this one belongs to it. */
  private afterCR = false

  constructor(
    private readonly maxEventSize: number,
    private readonly out: { event(type: string, data: string, id: string): void; retry(ms: number): void },
  ) {}

  /** Parses a piece of the stream; false once the current event is over the cap. */
  push(text: string): boolean {
    let start = 0
    if (this.afterCR && text.startsWith('\n')) start = 1
    this.afterCR = false
    const ends = /\r\n?|\n/g
    ends.lastIndex = start
    for (let m = ends.exec(text); m; m = ends.exec(text)) {
      const piece = text.slice(start, m.index)
      const line = this.line.length > 0 ? this.line.join('') + piece : piece
      this.line = []
      this.lineSize = 0
      this.field(line)
      if (this.dataSize > this.maxEventSize) return false
      start = m.index + m[0].length
      // A CR ending the piece may be the first half of a CRLF split across pieces.
      if (m[0] === '\r' && start === text.length) this.afterCR = true
    }
    if (start < text.length) {
      this.line.push(text.slice(start))
      this.lineSize += text.length - start
    }
    return this.lineSize + this.dataSize <= this.maxEventSize
  }

  private field(line: string): void {
    if (line === '') return this.dispatch()
    if (line.startsWith(':')) return
    const colon = line.indexOf(':')
    const name = colon < 0 ? line : line.slice(0, colon)
    let value = colon < 0 ? '' : line.slice(colon + 1)
    if (value.startsWith(' ')) value = value.slice(1)
    switch (name) {
      case 'data':
        this.data.push(value)
        this.dataSize += value.length + 1
        return
      case 'event':
        this.type = value
        return
      case 'id':
        if (!value.includes('\0')) this.lastEventId = value
        return
      case 'retry':
        if (/^\d+$/.test(value)) this.out.retry(Number(value))
        return
      default:
        return
    }
  }

  private dispatch(): void {
    const type = this.type || 'message'
    const hasData = this.data.length > 0
    const data = this.data.join('\n')
    this.data = []
    this.dataSize = 0
    this.type = ''
    if (hasData) this.out.event(type, data, this.lastEventId)
  }
}
