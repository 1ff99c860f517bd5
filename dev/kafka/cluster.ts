// A local Apache Kafka cluster of three KRaft nodes, each broker and controller at once and its own JVM, run from
// the same jars and base configuration as the single local broker (local-broker.ts). It exists to lose a node:
// topics are replicated three times with min.insync.replicas=2, so one node may die and acks=all writes go on.
//
// Everything a cluster writes is under its home folder: cluster.json (ports, cluster id), and per node
// node-<id>/ with server.properties, data/, logs/ and kafka.pid. The state is on disk, so `npm run kafka:stop --
// --brokers 3` finds the JVMs that `kafka:start` left running, and a test's cluster is one folder to delete.
import { spawn } from 'node:child_process'
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { kafkaAnswers, liveBrokerIds } from '../../src/kafka/cluster-admin.ts'
import {
  brokerJvmArgs,
  brokerProperties,
  fetchJars,
  formatKraftStorage,
  KAFKA_VERSION,
  logTail,
  newClusterId,
  paths,
  processAlive,
  requireTools,
  sleep,
} from './local-broker.ts'

/** Where `npm run kafka:start -- --brokers 3` keeps its cluster, and the ports it listens on. */
export const LOCAL_CLUSTER = {
  home: join(paths.cache, 'cluster'),
  brokerPorts: [9192, 9193, 9194],
  controllerPorts: [9195, 9196, 9197],
} as const

export interface ClusterLayout {
  clusterId: string
  nodes: { id: number; port: number; controllerPort: number; directoryId: string }[]
}

export interface ClusterOptions {
  /** The cluster's folder; created when missing. A folder that already holds a cluster is started as it was. */
  home: string
  /** One port per node for clients, and one per node for the controller quorum (same length). */
  brokerPorts: readonly number[]
  controllerPorts: readonly number[]
  /** Most heap of each JVM in MiB (default 384). */
  heapMb?: number
  log?: (line: string) => void
  /** How long start and restart wait for the nodes to answer (default 120 s). */
  timeoutMs?: number
}

export interface ClusterNode {
  readonly id: number
  /** host:port for clients. */
  readonly address: string
  /** The JVM's pid while it runs. */
  readonly pid: number | undefined
}

export interface KafkaCluster {
  readonly home: string
  /** Every node's client address, for KAFKA_BROKERS. */
  readonly bootstrap: readonly string[]
  nodes(): ClusterNode[]
  /** Ends the node's JVM with SIGKILL (no shutdown, no flush) and waits until it is gone. */
  kill(id: number): Promise<void>
  /** Starts a stopped node again on its data and waits until the cluster lists it as a live broker. */
  restart(id: number): Promise<void>
  /** Stops every node (SIGTERM, SIGKILL after 30 s). */
  stop(): Promise<void>
  /** Kills every node (SIGKILL) and deletes the home folder. */
  destroy(): Promise<void>
}

const layoutFile = (home: string) => join(home, 'cluster.json')
const nodeHome = (home: string, id: number) => join(home, `node-${id}`)
const address = (port: number) => `127.0.0.1:${port}`

/** The configuration of node `id`: the base server.properties with what makes it one node of three. */
export function nodeProperties(layout: ClusterLayout, id: number): string {
  const node = layout.nodes.find(n => n.id === id)
  if (node === undefined) throw new Error(`no node ${id} in the cluster`)
  const replicas = String(Math.min(3, layout.nodes.length))
  const minIsr = String(Math.min(2, layout.nodes.length))
  return brokerProperties({
    'node.id': String(id),
    listeners: `PLAINTEXT://${address(node.port)},CONTROLLER://${address(node.controllerPort)}`,
    'advertised.listeners': `PLAINTEXT://${address(node.port)}`,
    'controller.quorum.bootstrap.servers': layout.nodes.map(n => address(n.controllerPort)).join(','),
    'default.replication.factor': replicas,
    'min.insync.replicas': minIsr,
    'offsets.topic.replication.factor': replicas,
    'transaction.state.log.replication.factor': replicas,
    'transaction.state.log.min.isr': minIsr,
    'share.coordinator.state.topic.replication.factor': replicas,
    'share.coordinator.state.topic.min.isr': minIsr,
    // A killed node is fenced, and its partitions get new leaders, once it misses heartbeats for this long
    // (9 s by default); a leader that comes back takes its partitions again once it is in sync.
    'broker.heartbeat.interval.ms': '1000',
    'broker.session.timeout.ms': '6000',
  })
}

/** `--initial-controllers`: every node is a voter, named with the directory id its storage is formatted with. */
function initialControllers(layout: ClusterLayout): string {
  return layout.nodes.map(n => `${n.id}@${address(n.controllerPort)}:${n.directoryId}`).join(',')
}

function readLayout(home: string): ClusterLayout | undefined {
  const file = layoutFile(home)
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as ClusterLayout) : undefined
}

/** The pid in node-<id>/kafka.pid when that process still runs this node's configuration. */
function nodePid(home: string, id: number): number | undefined {
  const file = join(nodeHome(home, id), 'kafka.pid')
  if (!existsSync(file)) return undefined
  const pid = Number(readFileSync(file, 'utf8').trim())
  if (!Number.isInteger(pid) || pid <= 0 || !processAlive(pid)) return undefined
  try {
    // A recycled pid belongs to another program: only a JVM started with this node's config counts.
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8')
    return cmdline.includes(join(nodeHome(home, id), 'server.properties')) ? pid : undefined
  } catch {
    return pid
  }
}

function format(home: string, layout: ClusterLayout, log: (line: string) => void): void {
  log(`formatting KRaft storage of ${layout.nodes.length} nodes…`)
  for (const node of layout.nodes) {
    const dir = nodeHome(home, node.id)
    mkdirSync(join(dir, 'logs'), { recursive: true })
    const config = join(dir, 'server.properties')
    writeFileSync(config, nodeProperties(layout, node.id))
    formatKraftStorage(config, dir, layout.clusterId, ['--initial-controllers', initialControllers(layout)])
  }
  // Written last: a folder with cluster.json holds a formatted cluster.
  writeFileSync(layoutFile(home), `${JSON.stringify(layout, null, 2)}\n`)
}

function spawnNode(home: string, id: number, heapMb: number): number {
  const dir = nodeHome(home, id)
  const out = openSync(join(dir, 'logs', 'stdout.log'), 'a')
  const child = spawn('java', brokerJvmArgs(join(dir, 'server.properties'), { min: 128, max: heapMb }), {
    cwd: dir,
    detached: true,
    stdio: ['ignore', out, out],
  })
  closeSync(out)
  child.unref()
  if (child.pid === undefined) throw new Error('could not spawn java')
  writeFileSync(join(dir, 'kafka.pid'), String(child.pid))
  return child.pid
}

/** The cluster of `home` (formatted earlier), as a handle; starts nothing. */
export function openCluster(folder: string, options: Pick<ClusterOptions, 'heapMb' | 'log' | 'timeoutMs'> = {}) {
  // Absolute: a node's pid is recognised by the absolute path of its configuration in its command line.
  const home = resolve(folder)
  const layout = readLayout(home)
  if (layout === undefined) return undefined
  const nodes = layout.nodes
  const log = options.log ?? (() => {})
  const heapMb = options.heapMb ?? 384
  const timeoutMs = options.timeoutMs ?? 120_000
  const bootstrap = nodes.map(n => address(n.port))
  const connection = (addresses: readonly string[]) => ({
    clientId: 'event-pipeline-cluster',
    bootstrapBrokers: [...addresses],
  })

  /** Waits until every node in `ids` answers and each running node's metadata lists all of `ids` as live. */
  async function waitLive(ids: readonly number[], what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs
    const running = () => nodes.filter(n => nodePid(home, n.id) !== undefined)
    for (;;) {
      for (const id of ids) {
        if (nodePid(home, id) === undefined) {
          throw new Error(
            `Kafka node ${id} exited during ${what}; last lines of its log:\n${logTail(join(nodeHome(home, id), 'logs'))}`,
          )
        }
      }
      let ready = true
      for (const node of running()) {
        const listed = await liveBrokerIds(connection([address(node.port)]), 2000)
        if (listed === undefined || ids.some(id => !listed.includes(id))) {
          ready = false
          break
        }
      }
      if (ready) return
      if (Date.now() > deadline) {
        const tails = ids.map(id => `node ${id}:\n${logTail(join(nodeHome(home, id), 'logs'), 10)}`).join('\n')
        throw new Error(`the Kafka cluster did not list nodes ${ids} within ${timeoutMs / 1000}s (${what});\n${tails}`)
      }
      await sleep(500)
    }
  }

  async function stopNode(id: number, signal: NodeJS.Signals, graceMs: number): Promise<void> {
    const pid = nodePid(home, id)
    if (pid === undefined) return
    process.kill(pid, signal)
    const deadline = Date.now() + graceMs
    while (processAlive(pid) && Date.now() < deadline) await sleep(100)
    if (processAlive(pid)) {
      log(`node ${id} did not stop within ${graceMs / 1000} s, killing it`)
      process.kill(pid, 'SIGKILL')
      while (processAlive(pid)) await sleep(100)
    }
    rmSync(join(nodeHome(home, id), 'kafka.pid'), { force: true })
  }

  const cluster = {
    home,
    bootstrap,
    layout,
    nodes: () => nodes.map(n => ({ id: n.id, address: address(n.port), pid: nodePid(home, n.id) })),
    /** Starts every node that is not running and waits until all of them are live brokers. */
    async startAll(): Promise<void> {
      const started: number[] = []
      for (const node of nodes) {
        if (nodePid(home, node.id) !== undefined) continue
        const pid = spawnNode(home, node.id, heapMb)
        started.push(node.id)
        log(`started node ${node.id} (pid ${pid}) on ${address(node.port)}, controller ${address(node.controllerPort)}`)
      }
      if (started.length > 0) log(`waiting for ${bootstrap.join(', ')} to answer…`)
      await waitLive(
        nodes.map(n => n.id),
        'start-up',
      )
    },
    async kill(id: number): Promise<void> {
      const pid = nodePid(home, id)
      if (pid === undefined) throw new Error(`Kafka node ${id} is not running`)
      await stopNode(id, 'SIGKILL', 10_000)
    },
    async restart(id: number): Promise<void> {
      if (nodePid(home, id) !== undefined) throw new Error(`Kafka node ${id} is still running`)
      const pid = spawnNode(home, id, heapMb)
      log(`restarted node ${id} (pid ${pid})`)
      await waitLive([id], `the restart of node ${id}`)
    },
    async stop(): Promise<void> {
      await Promise.all(nodes.map(n => stopNode(n.id, 'SIGTERM', 30_000)))
    },
    async destroy(): Promise<void> {
      // The data goes too, so there is nothing to shut down cleanly for.
      await Promise.all(nodes.map(n => stopNode(n.id, 'SIGKILL', 10_000)))
      rmSync(home, { recursive: true, force: true })
    },
    /** Whether a client reaches the cluster through any of its nodes. */
    answers: (timeoutMs = 2000) => kafkaAnswers(connection(bootstrap), timeoutMs),
  }
  return cluster
}

/**
 * Starts the cluster of `options.home`, formatting it first when the folder holds none (then with the given
 * ports), and returns once every node is a live broker. Nodes already running are left as they are.
 */
export async function startCluster(options: ClusterOptions): Promise<KafkaCluster> {
  const log = options.log ?? (() => {})
  const home = resolve(options.home)
  if (options.brokerPorts.length !== options.controllerPorts.length || options.brokerPorts.length < 1) {
    throw new Error('a cluster needs one broker port and one controller port per node')
  }
  requireTools()
  fetchJars(log)
  if (readLayout(home) === undefined) {
    rmSync(home, { recursive: true, force: true })
    mkdirSync(home, { recursive: true })
    format(
      home,
      {
        clusterId: newClusterId(),
        nodes: options.brokerPorts.map((port, i) => ({
          id: i + 1,
          port,
          controllerPort: options.controllerPorts[i] as number,
          directoryId: newClusterId(),
        })),
      },
      log,
    )
  }
  const cluster = openCluster(home, options) as NonNullable<ReturnType<typeof openCluster>>
  log(`Kafka ${KAFKA_VERSION}, ${cluster.nodes.length} nodes under ${home}`)
  await cluster.startAll()
  return cluster
}

/** Stops the cluster of `home` when one is there; says whether any node was running. */
export async function stopCluster(home: string, log?: (line: string) => void): Promise<boolean> {
  const cluster = openCluster(home, log === undefined ? {} : { log })
  if (cluster === undefined) return false
  const running = cluster.nodes().some(n => n.pid !== undefined)
  await cluster.stop()
  return running
}
