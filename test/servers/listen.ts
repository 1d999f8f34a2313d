/**
 * Where the protocol test servers listen. A server that the fault suite stops and restarts must get its port back;
 * a port the OS picked (`listen(0)`) comes from the ephemeral range (32768-60999 on Linux), where any outgoing
 * connection of the same machine (an SDK's, a test's) may take it while the server is down, and the restart fails
 * with EADDRINUSE. So a new server takes a free port below that range, and a restart waits a little for its own.
 * New servers take those ports in turn from a random start, not at random: a port is handed out again only once
 * every other one of the range was (soak seed 1152675: a server started by another schedule drew the port of one
 * stopped for a fault, which then could not start again).
 */
import type { Server } from 'node:http'

const LOW = 20_000
const HIGH = 32_000
let next = LOW + Math.floor(Math.random() * (HIGH - LOW))

function candidate(): number {
  const port = next
  next = next + 1 < HIGH ? next + 1 : LOW
  return port
}

function listenOnce(server: Server, port: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const failed = (err: NodeJS.ErrnoException) => {
      server.off('listening', listening)
      if (err.code === 'EADDRINUSE') resolve(false)
      else reject(err)
    }
    const listening = () => {
      server.off('error', failed)
      resolve(true)
    }
    server.once('error', failed)
    server.once('listening', listening)
    server.listen(port, '127.0.0.1')
  })
}

/** Listens on `port`, or when it is 0 on a free port below the ephemeral range; returns the port. */
export async function listenOnLoopback(server: Server, port: number): Promise<number> {
  if (port !== 0) {
    // A restart: its port may still be held for a moment (a connection closing); bounded retries.
    for (let attempt = 0; attempt < 20; attempt++) {
      if (await listenOnce(server, port)) return port
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    throw Object.assign(new Error(`listen EADDRINUSE: 127.0.0.1:${port} stayed in use for 1 s`), { code: 'EADDRINUSE' })
  }
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = candidate()
    if (await listenOnce(server, port)) return port
  }
  throw new Error('no free port below the ephemeral range after 100 tries')
}
