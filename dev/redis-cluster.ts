// A throwaway Redis Cluster of three masters (no replicas) on free loopback ports, for the tests and for trying the
// pipeline against a cluster by hand. Each node is a plain redis-server child process without persistence, with
// its cluster config file in one temporary folder; stop() kills the nodes and deletes the folder.
//   node dev/redis-cluster.ts     starts one, prints REDIS_ADDR, and stops it on Ctrl-C
import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'

export interface LocalRedisCluster {
  /** `host:port` of each master. */
  readonly nodes: readonly string[]
  /** The nodes joined by commas: what REDIS_ADDR takes. */
  readonly addr: string
  /** The folder holding each node's cluster config file. */
  readonly dir: string
  /** Kills every node and deletes the folder; safe to call more than once, and after a failed start. */
  stop(): Promise<void>
}

export interface RedisClusterOptions {
  /** How many masters (default 3, the fewest `redis-cli --cluster create` accepts). */
  readonly masters?: number
  /** How long the nodes may take to answer and agree that the cluster is ok (default 30 s). */
  readonly timeoutMs?: number
  readonly log?: (line: string) => void
}

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as { port: number }
  server.close()
  await once(server, 'close')
  return port
}

function redisCli(args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('redis-cli', [...args], { timeout: 10_000 }, (error, stdout, stderr) =>
      error ? reject(new Error(`redis-cli ${args.join(' ')}: ${stderr || error.message}`)) : resolve(stdout),
    )
  })
}

async function until(what: string, deadline: number, check: () => Promise<boolean>): Promise<void> {
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`Redis Cluster: timed out waiting for ${what}`)
    await sleep(100)
  }
}

/** Starts the nodes, joins them into one cluster and resolves once every node says `cluster_state:ok`. */
export async function startRedisCluster(options: RedisClusterOptions = {}): Promise<LocalRedisCluster> {
  const masters = options.masters ?? 3
  const deadline = Date.now() + (options.timeoutMs ?? 30_000)
  const dir = mkdtempSync(join(tmpdir(), 'ep-redis-cluster-'))
  const children: ChildProcess[] = []
  const stop = async () => {
    await Promise.all(
      children.map(async child => {
        if (child.exitCode === null && child.signalCode === null) {
          const exited = once(child, 'exit')
          child.kill('SIGKILL')
          await exited
        }
      }),
    )
    rmSync(dir, { recursive: true, force: true })
  }
  try {
    const ports: number[] = []
    for (let i = 0; i < masters; i++) {
      // The bus port is named too: the default (port + 10000) is past 65535 for most ephemeral ports.
      const [port, busPort] = [await freePort(), await freePort()]
      ports.push(port)
      const child = spawn(
        'redis-server',
        [
          ...['--port', String(port), '--cluster-port', String(busPort)],
          ...['--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`],
          ...['--save', '', '--appendonly', 'no', '--bind', '127.0.0.1', '--dir', dir],
        ],
        { stdio: 'ignore' },
      )
      children.push(child)
    }
    const nodes = ports.map(port => `127.0.0.1:${port}`)
    for (const port of ports) {
      await until(`127.0.0.1:${port} to answer`, deadline, async () => {
        return (await redisCli(['-p', String(port), 'PING'])).trim() === 'PONG'
      })
    }
    await redisCli(['--cluster', 'create', ...nodes, '--cluster-replicas', '0', '--cluster-yes'])
    for (const port of ports) {
      await until(`cluster_state:ok on 127.0.0.1:${port}`, deadline, async () =>
        (await redisCli(['-p', String(port), 'CLUSTER', 'INFO'])).includes('cluster_state:ok'),
      )
    }
    options.log?.(`Redis Cluster of ${masters} masters: ${nodes.join(',')} (config in ${dir})`)
    return { nodes, addr: nodes.join(','), dir, stop }
  } catch (error) {
    await stop()
    throw error
  }
}

if (import.meta.main) {
  const cluster = await startRedisCluster({ log: line => console.log(line) })
  console.log(`REDIS_ADDR=${cluster.addr} REDIS_CLUSTER=true`)
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      cluster.stop().then(() => process.exit(0))
    })
  }
}
