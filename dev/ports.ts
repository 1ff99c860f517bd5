// A free TCP port on loopback, for the servers dev tools, tests and the benchmark start on their own.
import { once } from 'node:events'
import { createServer } from 'node:net'

/** A port nothing listens on now (the OS's pick); a caller races anyone else who asks at the same moment. */
export async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as { port: number }
  server.close()
  await once(server, 'close')
  return port
}
