// A local single-node Apache Kafka (KRaft) for development and tests, run from the jars on Maven Central, and the
// pieces every other broker of the project is built from (jars, configuration, storage format, JVM arguments).
// Everything it writes lives under dev/kafka/.cache/ (git-ignored): lib/ (jars), data/ (log dirs), logs/.
import { spawn, spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { kafkaAnswers } from '../../src/kafka/cluster-admin.ts'

const here = dirname(fileURLToPath(import.meta.url))
/** The broker's version, from pom.xml: the one place it is written. */
export const KAFKA_VERSION =
  /<kafka\.version>([^<]+)</.exec(readFileSync(join(here, 'pom.xml'), 'utf8'))?.[1] ?? 'unknown'

export const paths = {
  cache: join(here, '.cache'),
  lib: join(here, '.cache', 'lib'),
  data: join(here, '.cache', 'data'),
  logs: join(here, '.cache', 'logs'),
  pid: join(here, '.cache', 'kafka.pid'),
  libMarker: join(here, '.cache', 'lib', `.kafka-${KAFKA_VERSION}`),
  serverProperties: join(here, 'server.properties'),
  log4j: join(here, 'log4j2.yaml'),
  pom: join(here, 'pom.xml'),
}

export const LOCAL_BROKER = '127.0.0.1:9092'

/** Answers true when the local broker answers a metadata request within `timeoutMs`. */
export function localBrokerAnswers(timeoutMs = 2000): Promise<boolean> {
  return kafkaAnswers({ clientId: 'event-pipeline', bootstrapBrokers: [LOCAL_BROKER] }, timeoutMs)
}

function has(command: string, args: string[]): boolean {
  const r = spawnSync(command, args, { stdio: 'ignore' })
  return r.status === 0
}

/** Why a broker of these jars cannot run here (one line: what to install), or undefined when it can. */
export function brokerToolsMissing(): string | undefined {
  const missing: string[] = []
  if (!has('java', ['-version'])) {
    missing.push('Java 17+ (brew install openjdk, sdk install java, or apt-get install openjdk-17-jre-headless)')
  }
  if (!existsSync(paths.libMarker) && !has('mvn', ['-v'])) {
    missing.push('Apache Maven (brew install maven, sdk install maven, or apt-get install maven)')
  }
  if (missing.length === 0) return undefined
  return `a Kafka broker of its own needs ${missing.join(' and ')}`
}

export function requireTools(): void {
  const missing = brokerToolsMissing()
  if (missing !== undefined) {
    throw new Error(`The local broker: ${missing}; install it, or set KAFKA_BROKERS to an existing Kafka cluster.`)
  }
}

export function fetchJars(log: (line: string) => void): void {
  if (existsSync(paths.libMarker)) return
  log(`fetching Apache Kafka ${KAFKA_VERSION} jars from Maven Central (once)…`)
  rmSync(paths.lib, { recursive: true, force: true })
  // Batch mode without -q: Maven prints one "Downloaded from central" line per jar, the progress a first run
  // (about 20 s) needs to show.
  const r = spawnSync(
    'mvn',
    [
      '-B',
      '-Dstyle.color=never',
      '-f',
      paths.pom,
      'dependency:copy-dependencies',
      `-DoutputDirectory=${paths.lib}`,
      '-DincludeScope=runtime',
    ],
    { stdio: ['ignore', 'inherit', 'inherit'] },
  )
  if (r.status !== 0)
    throw new Error(`mvn dependency:copy-dependencies failed (exit ${r.status}); see its output above`)
  writeFileSync(paths.libMarker, new Date().toISOString())
}

/**
 * A Kafka Uuid: 16 random bytes, base64url without padding. Passed as --cluster-id=ID because an id that starts
 * with '-' (one in 64) would otherwise be read as an option.
 */
export function newClusterId(): string {
  return randomBytes(16).toString('base64url')
}

export function javaArgs(args: string[]): string[] {
  return ['-cp', `${paths.lib}/*`, `-Dlog4j2.configurationFile=${paths.log4j}`, ...args]
}

/**
 * A broker's configuration: server.properties with `overrides` applied, each key replaced where the file sets it
 * and appended otherwise (`undefined` removes the key). The one way the project configures a broker: the local
 * broker runs the file as it is, a test's private broker and each node of the cluster (cluster.ts) set only
 * what differs, so a setting changed in the file reaches all of them.
 */
export function brokerProperties(overrides: Readonly<Record<string, string | undefined>> = {}): string {
  const pending = new Map(Object.entries(overrides))
  const lines: string[] = []
  for (const line of readFileSync(paths.serverProperties, 'utf8').split('\n')) {
    const key = /^([A-Za-z0-9_.-]+)=/.exec(line)?.[1]
    if (key === undefined || !pending.has(key)) {
      lines.push(line)
      continue
    }
    const value = pending.get(key)
    pending.delete(key)
    if (value !== undefined) lines.push(`${key}=${value}`)
  }
  while (lines.length > 0 && lines.at(-1) === '') lines.pop()
  for (const [key, value] of pending) if (value !== undefined) lines.push(`${key}=${value}`)
  return `${lines.join('\n')}\n`
}

/**
 * Formats one node's KRaft storage (the log dirs its `config` names, relative to `cwd`). `quorum` is
 * `['--standalone']` for a single node, `['--initial-controllers', 'id@host:port:directoryId,…']` (the same
 * value on every node) for a cluster whose controllers are all known up front.
 */
export function formatKraftStorage(
  config: string,
  cwd: string,
  clusterId: string,
  quorum: readonly string[],
  extra: readonly string[] = [],
): void {
  const r = spawnSync(
    'java',
    javaArgs(['kafka.tools.StorageTool', 'format', ...quorum, `--cluster-id=${clusterId}`, '-c', config, ...extra]),
    { cwd, encoding: 'utf8' },
  )
  if (r.status !== 0) throw new Error(`kafka-storage format failed: ${r.stderr || r.stdout}`)
}

/** The java arguments that run a broker with `config` and a heap between `heap.min` and `heap.max` MiB. */
export function brokerJvmArgs(config: string, heap: { min: number; max: number }): string[] {
  return [
    `-Xms${heap.min}m`,
    `-Xmx${heap.max}m`,
    '-XX:+UseG1GC',
    '-XX:MaxGCPauseMillis=20',
    '-Djava.awt.headless=true',
    ...javaArgs(['kafka.Kafka', config]),
  ]
}

function formatStorage(log: (line: string) => void): void {
  if (existsSync(join(paths.data, 'meta.properties'))) return
  log('formatting KRaft storage…')
  mkdirSync(paths.logs, { recursive: true })
  formatKraftStorage(paths.serverProperties, paths.cache, newClusterId(), ['--standalone'])
}

/** Whether `pid` is a live process (a zombie, dead but not yet reaped, counts as gone). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
  } catch {
    return false
  }
  try {
    // /proc/<pid>/stat: "pid (comm) state …"; comm may hold spaces and parentheses, the state follows the last ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z'
  } catch {
    return true
  }
}

export function runningPid(): number | undefined {
  if (!existsSync(paths.pid)) return undefined
  const pid = Number(readFileSync(paths.pid, 'utf8').trim())
  if (!Number.isInteger(pid) || pid <= 0) return undefined
  return processAlive(pid) ? pid : undefined
}

/** The last lines of a broker's logs (`logs/server.log`, then what the JVM printed) under `logs`. */
export function logTail(logs = paths.logs, lines = 30): string {
  const text = [join(logs, 'server.log'), join(logs, 'stdout.log')]
    .filter(existsSync)
    .map(f => readFileSync(f, 'utf8'))
    .join('\n')
  return text.split('\n').slice(-lines).join('\n')
}

export const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms))

/**
 * Starts the local broker unless one already answers on 127.0.0.1:9092, and returns once a metadata request
 * answers. Idempotent: a second call while the broker runs does nothing.
 */
export async function startLocalKafka(
  log: (line: string) => void = console.log,
  timeoutMs = 90_000,
): Promise<'already-running' | 'started'> {
  if (await localBrokerAnswers()) return 'already-running'
  requireTools()
  mkdirSync(paths.logs, { recursive: true })
  fetchJars(log)
  formatStorage(log)

  let pid = runningPid()
  if (pid === undefined) {
    const out = openSync(join(paths.logs, 'stdout.log'), 'a')
    const child = spawn('java', brokerJvmArgs(paths.serverProperties, { min: 256, max: 768 }), {
      cwd: paths.cache,
      detached: true,
      stdio: ['ignore', out, out],
    })
    closeSync(out)
    child.unref()
    pid = child.pid
    if (pid === undefined) throw new Error('could not spawn java')
    writeFileSync(paths.pid, String(pid))
    log(`started Kafka ${KAFKA_VERSION} (pid ${pid}), waiting for it to answer on ${LOCAL_BROKER}…`)
  }

  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (await localBrokerAnswers()) return 'started'
    if (runningPid() === undefined) {
      throw new Error(`the Kafka broker exited during start-up; last lines of its log:\n${logTail()}`)
    }
    await sleep(500)
  }
  throw new Error(`the Kafka broker did not answer within ${timeoutMs / 1000}s; last lines of its log:\n${logTail()}`)
}

/** Stops the broker this script started (SIGTERM, then SIGKILL after 30 s). */
export async function stopLocalKafka(log: (line: string) => void = console.log): Promise<boolean> {
  const pid = runningPid()
  if (pid === undefined) {
    rmSync(paths.pid, { force: true })
    return false
  }
  process.kill(pid, 'SIGTERM')
  const deadline = Date.now() + 30_000
  while (Date.now() < deadline && runningPid() !== undefined) await sleep(200)
  if (runningPid() !== undefined) {
    log('broker did not stop within 30 s, killing it')
    process.kill(pid, 'SIGKILL')
    while (runningPid() !== undefined) await sleep(100)
  }
  rmSync(paths.pid, { force: true })
  return true
}
