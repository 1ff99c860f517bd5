// A TCP proxy in front of a real service, for fault tests: cut() refuses new connections and drops open ones
// (what a stopped server looks like to a client), restore() lets traffic through again on the same port.
import { once } from 'node:events'
import { createConnection, createServer, type Server, type Socket } from 'node:net'
import type { Cleanup } from './resources.ts'

export interface Proxy {
  readonly port: number
  cut(): Promise<void>
  restore(): Promise<void>
}

export async function tcpProxy(t: Cleanup, targetHost: string, targetPort: number): Promise<Proxy> {
  const sockets = new Set<Socket>()
  let server: Server | undefined
  let port = 0

  async function listen(): Promise<void> {
    const s = createServer(client => {
      const upstream = createConnection({ host: targetHost, port: targetPort })
      sockets.add(client)
      sockets.add(upstream)
      const drop = () => {
        client.destroy()
        upstream.destroy()
        sockets.delete(client)
        sockets.delete(upstream)
      }
      client.on('error', drop).on('close', drop)
      upstream.on('error', drop).on('close', drop)
      client.pipe(upstream).pipe(client)
    })
    s.listen(port, '127.0.0.1')
    await once(s, 'listening')
    port = (s.address() as { port: number }).port
    server = s
  }

  await listen()
  const proxy: Proxy = {
    get port() {
      return port
    },
    async cut() {
      const s = server
      server = undefined
      for (const socket of sockets) socket.destroy()
      sockets.clear()
      if (s) await new Promise(resolve => s.close(resolve))
    },
    async restore() {
      if (server === undefined) await listen()
    },
  }
  t.after(() => proxy.cut())
  return proxy
}
