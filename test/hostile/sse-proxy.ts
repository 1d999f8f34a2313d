/**
 * An HTTP proxy for hostile-input tests: the real @sanity/client talks to it, it relays every request to the Sanity
 * test server, and the test injects raw text into the open listen streams (Server-Sent Events), between whole
 * events of the server's, so that what it writes is exactly what the client parses.
 */
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

interface Stream {
  readonly url: string
  readonly res: ServerResponse
  /** Upstream text not yet forwarded (an incomplete event). */
  pending: string
}

export interface SseProxy {
  /** `http://127.0.0.1:<port>`: the client's `apiHost`. */
  readonly url: string
  /** Listen streams open now. */
  readonly streams: number
  /** Writes raw text into the open listen streams whose URL contains `match` (all when absent). Returns how many. */
  inject(text: string, match?: string): number
  close(): Promise<void>
}

/** Starts a proxy on 127.0.0.1 (free port) to the server at `upstream` (`http://127.0.0.1:<port>`). */
export async function startSseProxy(upstream: string): Promise<SseProxy> {
  const target = new URL(upstream)
  const streams = new Set<Stream>()
  const http: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const forward = request(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers)
        if (!String(up.headers['content-type'] ?? '').startsWith('text/event-stream')) {
          up.pipe(res)
          return
        }
        res.flushHeaders()
        const stream: Stream = { url: req.url ?? '', res, pending: '' }
        streams.add(stream)
        up.setEncoding('utf8')
        up.on('data', (chunk: string) => {
          // Whole events only (they end with a blank line), so injected text never lands inside one.
          stream.pending += chunk
          const end = stream.pending.lastIndexOf('\n\n')
          if (end < 0) return
          res.write(stream.pending.slice(0, end + 2))
          stream.pending = stream.pending.slice(end + 2)
        })
        const done = () => {
          streams.delete(stream)
          res.end()
        }
        up.on('end', done)
        up.on('error', done)
        res.on('close', () => {
          streams.delete(stream)
          up.destroy()
        })
      },
    )
    forward.on('error', () => {
      if (!res.headersSent) res.writeHead(502)
      res.end()
    })
    req.pipe(forward)
  })
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
  const port = (http.address() as AddressInfo).port
  return {
    url: `http://127.0.0.1:${port}`,
    get streams() {
      return streams.size
    },
    inject(text, match) {
      let n = 0
      for (const s of streams) {
        if (match !== undefined && !s.url.includes(match)) continue
        s.res.write(text)
        n++
      }
      return n
    },
    async close() {
      for (const s of streams) s.res.destroy()
      http.closeAllConnections()
      await new Promise<void>((resolve) => http.close(() => resolve()))
    },
  }
}
