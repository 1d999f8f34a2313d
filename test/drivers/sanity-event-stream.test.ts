/**
 * The driver's Server-Sent Events reader over real sockets: the text/event-stream rules (CR, LF and CRLF line ends,
 * even split across chunks; comments; `event`, `data`, `id`, `retry` fields; events without data dropped), status
 * refusals with their headers, the end of a stream, and the per-event size cap.
 */
import { createServer, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openEventStream, type EventStreamHandlers } from '../../src/drivers/sanity/event-stream'
import { waitFor } from '../helpers/wait-for'

let url: string
let respond: (res: ServerResponse) => void = () => undefined
const server = createServer((_req, res) => respond(res))

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`
})
afterAll(async () => {
  server.closeAllConnections()
  await new Promise<void>((resolve) => server.close(() => resolve()))
})

function record(maxEventSize = 1000) {
  const calls: Array<[string, ...unknown[]]> = []
  const handlers: EventStreamHandlers = {
    event: (type, data, id) => void calls.push(['event', type, data, id]),
    retry: (ms) => void calls.push(['retry', ms]),
    refused: (status, headers) => void calls.push(['refused', status, headers.get('retry-after')]),
    lost: () => void calls.push(['lost']),
    tooLarge: () => void calls.push(['tooLarge']),
  }
  const stream = openEventStream(url, { headers: {}, withCredentials: false, maxEventSize }, handlers)
  return { calls, stream }
}

/** Writes each piece in its own chunk, waiting a tick between them so they arrive apart. */
function pieces(parts: string[], end = true) {
  return async (res: ServerResponse) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    res.flushHeaders()
    for (const p of parts) {
      res.write(p)
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
    if (end) res.end()
  }
}

describe('the capped SSE reader', () => {
  it('parses events across chunks and line-end styles, then reports the end of the stream', async () => {
    respond = (res) => void pieces([': hello\r', '\nretry: 25\n\nevent: a\r\nda', 'ta: {"x":1}\r', '\nid: 7#x\r\rdata: plain\ndata: two\n', '\nevent: empty\n\nid: bad\0id\ndata: z\n\n'])(res)
    const r = record()
    await waitFor(() => r.calls.some((c) => c[0] === 'lost'), 3000)
    expect(r.calls).toEqual([
      ['retry', 25],
      ['event', 'a', '{"x":1}', '7#x'],
      ['event', 'message', 'plain\ntwo', '7#x'],
      ['event', 'message', 'z', '7#x'],
      ['lost'],
    ])
  })

  it('reports a refusal with its status and headers', async () => {
    respond = (res) => res.writeHead(503, { 'retry-after': '4' }).end('busy')
    const r = record()
    await waitFor(() => r.calls.length > 0, 3000)
    expect(r.calls).toEqual([['refused', 503, '4']])
  })

  it('drops the connection once an event holds more than the cap, in data lines or in one endless line', async () => {
    for (const parts of [['data: 0123456789\n'.repeat(10), 'data: 0123456789\n'.repeat(10)], ['data: ', 'x'.repeat(600), 'x'.repeat(600)]]) {
      respond = (res) => void pieces(parts, false)(res)
      const r = record(150)
      await waitFor(() => r.calls.length > 0, 3000)
      expect(r.calls).toEqual([['tooLarge']])
    }
  })

  it('reports nothing after close, and closes the connection', async () => {
    let gone = false
    let closing = false
    respond = (res) => {
      res.on('close', () => void (gone = true))
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      res.write('data: a\n\n')
      // The next events are written as the reader closes, whatever the load: none may be reported.
      void waitFor(() => closing, 3000).then(() => {
        if (!gone) res.write('data: b\n\ndata: c\n\n')
      })
    }
    const r = record()
    await waitFor(() => r.calls.length > 0, 3000)
    closing = true // the server writes on its next poll, after this synchronous close
    r.stream.close()
    await waitFor(() => gone, 3000, { what: 'the server sees the connection closed' })
    expect(r.calls).toEqual([['event', 'message', 'a', '']])
  })
})
