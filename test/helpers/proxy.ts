// A TCP proxy in front of a real service, for fault tests: cut() refuses new connections and drops open ones
// (what a stopped server looks like to a client), blackhole() keeps every connection open but lets no byte
// through (what a network partition or a hung server looks like), hold() does the same but keeps the bytes for
// later (a partition that heals before TCP gives up: what was sent arrives late), restore() lets traffic through
// again on the same port.
import { once } from 'node:events'
import { createConnection, createServer, type Server, type Socket } from 'node:net'
import { Transform } from 'node:stream'
import type { Cleanup } from './resources.ts'

/** Which bytes a black hole swallows: both ways, or only the service's answers (requests still arrive). */
export type Blackhole = 'both' | 'replies'

export interface Proxy {
  readonly port: number
  /** Bytes swallowed by black holes so far: more than zero once a client has sent or awaited something. */
  readonly swallowed: number
  cut(): Promise<void>
  /**
   * From now on, bytes in the chosen direction are read and discarded; connections stay open, new ones are
   * accepted. Bytes already delivered stay delivered, bytes swallowed are lost for good.
   */
  blackhole(what?: Blackhole): void
  /** From now on, bytes in both directions wait; restore() delivers them, in order, then forwards again. */
  hold(): void
  /** Forwards again: after cut(), listens again; after blackhole(), lets new bytes through. */
  restore(): Promise<void>
}

export async function tcpProxy(t: Cleanup, targetHost: string, targetPort: number): Promise<Proxy> {
  const sockets = new Set<Socket>()
  let server: Server | undefined
  let port = 0
  let holding: Blackhole | undefined
  let swallowedBytes = 0
  let held = false
  const waiting: (() => void)[] = []

  // A pass-through stream that holds or drops what flows (see hold() and blackhole()), keeping pipe's backpressure.
  const gate = (dropping: () => boolean) =>
    new Transform({
      transform(chunk: Buffer, _encoding, done) {
        if (held) {
          waiting.push(() => done(null, chunk))
          return
        }
        if (!dropping()) return done(null, chunk)
        swallowedBytes += chunk.length
        done()
      },
    })

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
      client.pipe(gate(() => holding === 'both')).pipe(upstream)
      upstream.pipe(gate(() => holding !== undefined)).pipe(client)
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
    get swallowed() {
      return swallowedBytes
    },
    async cut() {
      const s = server
      server = undefined
      for (const socket of sockets) socket.destroy()
      sockets.clear()
      if (s) await new Promise(resolve => s.close(resolve))
    },
    blackhole(what = 'both') {
      holding = what
    },
    hold() {
      held = true
    },
    async restore() {
      holding = undefined
      held = false
      for (const release of waiting.splice(0)) release()
      if (server === undefined) await listen()
    },
  }
  t.after(() => proxy.cut())
  return proxy
}
