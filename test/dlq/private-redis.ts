// A private redis-server on a free loopback port, for tests that fill Redis up: the shared one is never touched.
// It keeps nothing on disk (no RDB, no AOF), so it writes nowhere and needs no privilege.
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { Redis } from 'ioredis'
import { findTool } from '../../dev/tools.ts'
import { eventually } from '../helpers/kafka.ts'
import { freePort } from '../helpers/pipeline.ts'
import type { Cleanup } from '../helpers/resources.ts'

export interface PrivateRedis {
  readonly addr: string
  /** A client of its own, disconnected after the test. */
  readonly client: Redis
  readonly process: ChildProcess
}

const redisServer = findTool('redis-server')
/** Why a private Redis cannot be started here (no redis-server on the PATH), for a test's `skip`. */
export const noPrivateRedis: string | undefined = redisServer.missing

/** Starts redis-server with `args` (e.g. --maxmemory 2mb); killed after the test. */
export async function privateRedis(t: Cleanup, args: string[] = []): Promise<PrivateRedis> {
  if (redisServer.path === undefined) throw new Error(noPrivateRedis)
  const port = await freePort()
  const child = spawn(
    redisServer.path,
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...args],
    { stdio: 'ignore' },
  )
  const exited = once(child, 'exit')
  t.after(async () => {
    if (child.exitCode === null) child.kill('SIGKILL')
    await exited
  })
  const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, retryStrategy: () => 50 })
  client.on('error', () => {})
  t.after(() => client.disconnect())
  await eventually('private redis answers', async () => (await client.ping().catch(() => '')) === 'PONG', 10_000)
  return { addr: `127.0.0.1:${port}`, client, process: child }
}
