// A throwaway Redis Cluster of three masters (no replicas) on free loopback ports, for the tests and for trying the
// pipeline against a cluster by hand. Each node is a plain redis-server child process without persistence, with
// its cluster config file in one temporary folder; stop() kills the nodes and deletes the folder.
//   node dev/redis-cluster.ts     starts one, prints REDIS_ADDR, and stops it on Ctrl-C
import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { freePort } from './ports.ts'

export interface LocalRedisCluster {
  /** `host:port` of each master. */
  readonly nodes: readonly string[]
  /** The nodes joined by commas: what REDIS_ADDR takes. */
  readonly addr: string
  /** The folder holding each node's cluster config file. */
  readonly dir: string
  /** Kills the node `addr` (one of `nodes`) with SIGKILL, as a crash would; without persistence its keys are lost. */
  kill(addr: string): Promise<void>
  /** Starts the killed node `addr` again on its port, from its cluster config file, and waits for `cluster_state:ok`. */
  restart(addr: string): Promise<void>
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
  const children = new Map<number, ChildProcess>()
  const busPorts = new Map<number, number>()
  const exit = async (child: ChildProcess | undefined) => {
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return
    const exited = once(child, 'exit')
    child.kill('SIGKILL')
    await exited
  }
  const stop = async () => {
    await Promise.all([...children.values()].map(exit))
    rmSync(dir, { recursive: true, force: true })
  }
  const startNode = (port: number) => {
    children.set(
      port,
      spawn(
        'redis-server',
        [
          ...['--port', String(port), '--cluster-port', String(busPorts.get(port))],
          ...['--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`],
          ...['--save', '', '--appendonly', 'no', '--bind', '127.0.0.1', '--dir', dir],
        ],
        { stdio: 'ignore' },
      ),
    )
  }
  const clusterOk = async (ports: readonly number[], deadline: number) => {
    for (const port of ports) {
      await until(`cluster_state:ok on 127.0.0.1:${port}`, deadline, async () =>
        (await redisCli(['-p', String(port), 'CLUSTER', 'INFO'])).includes('cluster_state:ok'),
      )
    }
  }
  const portOf = (addr: string) => Number(addr.slice(addr.lastIndexOf(':') + 1))
  try {
    const ports: number[] = []
    for (let i = 0; i < masters; i++) {
      // The bus port is named too: the default (port + 10000) is past 65535 for most ephemeral ports.
      const [port, busPort] = [await freePort(), await freePort()]
      ports.push(port)
      busPorts.set(port, busPort)
      startNode(port)
    }
    const nodes = ports.map(port => `127.0.0.1:${port}`)
    for (const port of ports) {
      await until(`127.0.0.1:${port} to answer`, deadline, async () => {
        return (await redisCli(['-p', String(port), 'PING'])).trim() === 'PONG'
      })
    }
    await redisCli(['--cluster', 'create', ...nodes, '--cluster-replicas', '0', '--cluster-yes'])
    await clusterOk(ports, deadline)
    options.log?.(`Redis Cluster of ${masters} masters: ${nodes.join(',')} (config in ${dir})`)
    return {
      nodes,
      addr: nodes.join(','),
      dir,
      kill: addr => exit(children.get(portOf(addr))),
      restart: async addr => {
        const port = portOf(addr)
        await exit(children.get(port))
        startNode(port)
        await clusterOk(ports, Date.now() + (options.timeoutMs ?? 30_000))
      },
      stop,
    }
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
