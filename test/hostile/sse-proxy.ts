/**
 * An HTTP proxy for hostile-input tests: the real @sanity/client talks to it, it relays every request to the Sanity
 * test server, and the test injects raw text into the open listen streams (Server-Sent Events), between whole
 * events of the server's, so that what it writes is exactly what the client parses; or answers requests itself
 * (`intercept`), as a failing or hostile server would.
 */
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

/** An answer the proxy sends instead of relaying. */
export interface ProxyAnswer {
  readonly status: number
  readonly headers?: Record<string, string>
  readonly body: string
}

/** Decides, per request, whether the proxy answers it itself (an answer) or relays it (undefined). */
export type Interceptor = (req: IncomingMessage) => ProxyAnswer | undefined

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
  /**
   * Writes `bytes` bytes of `char` into the open listen streams whose URL contains `match`, in 1 MB chunks and
   * waiting for each to drain, with no newline: a line that never ends. Resolves once written or a stream closed.
   */
  flood(bytes: number, match?: string, char?: string): Promise<void>
  /** Answers matching requests with `interceptor` from now on; `null` relays everything again. */
  intercept(interceptor: Interceptor | null): void
  close(): Promise<void>
}

/** Starts a proxy on 127.0.0.1 (free port) to the server at `upstream` (`http://127.0.0.1:<port>`). */
export async function startSseProxy(upstream: string): Promise<SseProxy> {
  const target = new URL(upstream)
  const streams = new Set<Stream>()
  let interceptor: Interceptor | null = null
  const http: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const answer = interceptor?.(req)
    if (answer) {
      req.resume()
      res.writeHead(answer.status, answer.headers).end(answer.body)
      return
    }
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
    async flood(bytes, match, char = 'x') {
      const chunk = char.repeat(1024 * 1024)
      const targets = [...streams].filter((s) => match === undefined || s.url.includes(match))
      await Promise.all(
        targets.map(async ({ res }) => {
          for (let sent = 0; sent < bytes && !res.destroyed; sent += chunk.length) {
            if (!res.write(chunk)) await new Promise((resolve) => { res.once('drain', resolve); res.once('close', resolve) })
          }
        }),
      )
    },
    intercept(next) {
      interceptor = next
    },
    async close() {
      for (const s of streams) s.res.destroy()
      http.closeAllConnections()
      await new Promise<void>((resolve) => http.close(() => resolve()))
    },
  }
}
