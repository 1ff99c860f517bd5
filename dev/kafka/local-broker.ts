// A local single-node Apache Kafka (KRaft) for development and tests, run from the jars on Maven Central.
// Everything it writes lives under dev/kafka/.cache/ (git-ignored): lib/ (jars), data/ (log dirs), logs/.
import { spawn, spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { kafkaAnswers } from '../../src/kafka/admin.ts'

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

function requireTools(): void {
  const missing: string[] = []
  if (!has('java', ['-version'])) missing.push('Java 17+ (e.g. `apt-get install openjdk-17-jre-headless`)')
  if (!existsSync(paths.libMarker) && !has('mvn', ['-v'])) missing.push('Apache Maven (e.g. `apt-get install maven`)')
  if (missing.length > 0) {
    throw new Error(
      `The local Kafka broker needs ${missing.join(' and ')}; install ${missing.length > 1 ? 'them' : 'it'}, or set KAFKA_BROKERS to an existing Kafka cluster.`,
    )
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

function formatStorage(log: (line: string) => void): void {
  if (existsSync(join(paths.data, 'meta.properties'))) return
  log('formatting KRaft storage…')
  mkdirSync(paths.logs, { recursive: true })
  const clusterId = newClusterId()
  const r = spawnSync(
    'java',
    javaArgs([
      'kafka.tools.StorageTool',
      'format',
      '--standalone',
      `--cluster-id=${clusterId}`,
      '-c',
      paths.serverProperties,
    ]),
    { cwd: paths.cache, encoding: 'utf8' },
  )
  if (r.status !== 0) throw new Error(`kafka-storage format failed: ${r.stderr || r.stdout}`)
}

export function runningPid(): number | undefined {
  if (!existsSync(paths.pid)) return undefined
  const pid = Number(readFileSync(paths.pid, 'utf8').trim())
  if (!Number.isInteger(pid) || pid <= 0) return undefined
  try {
    process.kill(pid, 0)
    return pid
  } catch {
    return undefined
  }
}

function logTail(lines = 30): string {
  const file = join(paths.logs, 'server.log')
  const stdout = join(paths.logs, 'stdout.log')
  const text = [file, stdout]
    .filter(existsSync)
    .map(f => readFileSync(f, 'utf8'))
    .join('\n')
  return text.split('\n').slice(-lines).join('\n')
}

const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms))

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
    const child = spawn(
      'java',
      [
        '-Xms256m',
        '-Xmx768m',
        '-XX:+UseG1GC',
        '-XX:MaxGCPauseMillis=20',
        '-Djava.awt.headless=true',
        ...javaArgs(['kafka.Kafka', paths.serverProperties]),
      ],
      { cwd: paths.cache, detached: true, stdio: ['ignore', out, out] },
    )
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
