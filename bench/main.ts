// `npm run bench`: throughput and latency of the pipeline against its baseline and its ceilings, measured in the
// same run on the real local Kafka, PostgreSQL and SQLite (issue 5). See docs/performance.md.
//
//   npm run bench                      200,000 events, 3 runs of everything, 1,000,000-event memory check
//   npm run bench -- --quick           50,000 events, shorter HTTP runs, no INFO drain, no 1M memory check (< 3 min)
//   options: --events N  --runs N  --only drain,naive,copy,latency,http,read,rss  --rss-events N
//            --http-seconds N  --log-level info|warn  --cpu-prof (a profile of every worker in .tmp/bench-profiles/)
//
// Everything it creates (topics, consumer groups, databases, SQLite files, Redis keys) is named bench-*/ep_bench_*
// and removed at the end, also when a step fails.
import { cpus, freemem, totalmem } from 'node:os'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { Redis } from 'ioredis'
import { nodeFlags } from '../src/cli/node-flags.ts'
import { createStore } from '../src/store/index.ts'
import { ceilingRows, loadWithCopy } from './copy-ceiling.ts'
import {
  createPostgresDatabase,
  dropPostgresDatabases,
  type Found,
  inspectPostgres,
  inspectSqlite,
  mismatches,
  postgresVersion,
  sqliteFile,
  uniqueName,
  vacuumAnalyze,
} from './databases.ts'
import { loadGenerator, runHttp } from './http.ts'
import { brokers, createTopic, deleteGroups, deleteTopics, prefill, type Sent, steadyLoad } from './kafka.ts'
import { Results, type Target, table, targetsTable, writeJson } from './report.ts'
import { type SpawnOptions, startDrain, startServer } from './spawn.ts'
import { percentile } from './stats.ts'
import type { DrainRequest, DrainResult } from './workers/protocol.ts'
import { generateWorkload, type Workload } from './workload.ts'

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    events: { type: 'string' },
    runs: { type: 'string' },
    only: { type: 'string' },
    'rss-events': { type: 'string' },
    'http-seconds': { type: 'string' },
    'log-level': { type: 'string' },
    'cpu-prof': { type: 'boolean', default: false },
  },
})

const quick = args.quick ?? false
const settings = {
  events: Number(args.events ?? (quick ? 50_000 : 200_000)),
  runs: Math.max(1, Number(args.runs ?? 3)),
  partitions: 3,
  httpSeconds: Number(args['http-seconds'] ?? (quick ? 2 : 10)),
  httpConnections: 64,
  latencySeconds: quick ? 2 : 10,
  // Records produced in the first seconds of the steady load are not counted: the group may still be handing
  // out partitions (KIP-848 assigns them over a few heartbeats) and the consumer's code is still being compiled.
  latencyWarmupSeconds: quick ? 1 : 2,
  naiveMaxRecords: quick ? 1000 : 10_000,
  warmupSeconds: quick ? 0.5 : 1,
  naiveMaxMs: quick ? 3000 : 20_000,
  rssEvents: Number(args['rss-events'] ?? (quick ? 0 : 1_000_000)),
  // WARN by default: at INFO every applied event and every HTTP request writes a log line, which on this machine
  // costs more than the work measured. drain.postgres.info measures the consumer at INFO in the same run.
  logLevel: (args['log-level'] ?? process.env['LOG_LEVEL'] ?? 'warn').toLowerCase(),
}
const sections = new Set(
  (args.only ?? 'drain,naive,copy,latency,http,read,rss').split(',').map(s => s.trim().toLowerCase()),
)
const resultsDir = fileURLToPath(new URL('./results/', import.meta.url))
// Under the git-ignored .tmp/: profiles are large and only worth keeping while they are being read.
const profilesDir = fileURLToPath(new URL('../.tmp/bench-profiles/', import.meta.url))
// Every worker runs with the Node flags the pipeline ships with (src/cli/node-flags.ts), like `npm run pipeline`.
// BENCH_NODE_FLAGS adds Node flags to every worker (e.g. --trace-gc), for diagnosis.
const spawnOptions: SpawnOptions = {
  execArgv: [
    ...nodeFlags,
    ...(args['cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${profilesDir}`] : []),
    ...(process.env['BENCH_NODE_FLAGS'] ?? '').split(' ').filter(f => f !== ''),
  ],
}

/**
 * The memory check's second variant: the consumer started with these flags instead of the pipeline's (default:
 * none, i.e. Node's own heap sizing), to show what the shipped flags buy. BENCH_RSS_FLAGS replaces them.
 */
const otherFlags = (process.env['BENCH_RSS_FLAGS'] ?? '').split(' ').filter(f => f !== '')
const otherLabel = otherFlags.length > 0 ? otherFlags.join(' ') : "Node's default heap sizing"

// ---------------------------------------------------------------------------------------------------------------
// Progress and cleanup

const began = performance.now()
const tty = process.stderr.isTTY
let transient = false
function say(line: string): void {
  if (transient) process.stderr.write('\r\x1b[K')
  transient = false
  process.stderr.write(`[${((performance.now() - began) / 1000).toFixed(1).padStart(6)}s] ${line}\n`)
}
/** A line that the next one replaces (on a terminal), for progress counters. */
function status(line: string): void {
  if (!tty) return
  process.stderr.write(`\r\x1b[K[${((performance.now() - began) / 1000).toFixed(1).padStart(6)}s] ${line}`)
  transient = true
}

const created = {
  topics: [] as string[],
  groups: [] as string[],
  databases: [] as string[],
  files: [] as (() => void)[],
}
const dlqKeys: string[] = []

async function cleanup(): Promise<void> {
  say('cleaning up topics, groups, databases, files and Redis keys')
  await deleteTopics(created.topics).catch(error => say(`could not delete topics: ${(error as Error).message}`))
  await deleteGroups(created.groups)
  await dropPostgresDatabases(created.databases).catch(error => say(`could not drop: ${(error as Error).message}`))
  for (const remove of created.files) remove()
  if (dlqKeys.length > 0) {
    const [host, port] = (process.env['REDIS_ADDR'] ?? '127.0.0.1:6379').split(':')
    const redis = new Redis({ host, port: Number(port), password: process.env['REDIS_PASSWORD'] || undefined })
    await redis.del(...dlqKeys).catch(() => {})
    redis.disconnect()
  }
}

async function freshTopic(records?: Workload): Promise<string> {
  const topic = uniqueName('bench').replaceAll('_', '-')
  await createTopic(topic, settings.partitions)
  created.topics.push(topic)
  if (records !== undefined) {
    const started = performance.now()
    await prefill(topic, records.records, sent => status(`pre-filling ${topic}: ${sent.toLocaleString()} records`))
    const seconds = (performance.now() - started) / 1000
    say(`pre-filled ${topic} with ${records.records.length.toLocaleString()} records in ${seconds.toFixed(1)} s`)
  }
  return topic
}

function freshGroup(): string {
  const group = uniqueName('bench-group')
  created.groups.push(group)
  return group
}

function freshDlqKey(): string {
  const key = `${uniqueName('bench')}:dlq`
  dlqKeys.push(key)
  return key
}

async function freshPostgres(): Promise<string> {
  const db = await createPostgresDatabase()
  created.databases.push(db.name)
  return db.url
}

function freshSqlite(): string {
  const file = sqliteFile()
  created.files.push(file.remove)
  return file.path
}

function endOffsets(workload: Workload): Record<string, number> {
  const end: Record<string, number> = {}
  for (const r of workload.records) end[r.partition] = Math.max(end[r.partition] ?? 0, r.offset + 1)
  return end
}

// ---------------------------------------------------------------------------------------------------------------
// The measurements

const results = new Results()
results.define({
  id: 'drain.postgres',
  label: 'drain → PostgreSQL',
  unit: 'events/s',
  compareTo: [
    { id: 'naive.postgres', kind: 'baseline' },
    { id: 'copy.postgres', kind: 'ceiling' },
  ],
})
results.define({
  id: 'drain.postgres.info',
  label: 'drain → PostgreSQL, LOG_LEVEL=info',
  unit: 'events/s',
  compareTo: [{ id: 'drain.postgres', kind: 'reference' }],
  note: 'the same drain with one "event applied" log line per record (stdout to /dev/null)',
})
results.define({
  id: 'drain.sqlite',
  label: 'drain → SQLite',
  unit: 'events/s',
  compareTo: [{ id: 'naive.postgres', kind: 'baseline' }],
})
results.define({
  id: 'naive.postgres',
  label: 'naive consumer → PostgreSQL',
  unit: 'events/s',
  note: 'one record per transaction and per offset commit; runs on the first records of the same topic',
})
results.define({
  id: 'copy.postgres',
  label: 'COPY + merge → PostgreSQL',
  unit: 'events/s',
  note: 'COPY FROM STDIN (text) into temp staging tables, then one INSERT … ON CONFLICT per table, one transaction',
})
results.define({ id: 'latency.postgres', label: 'e2e latency → PostgreSQL', unit: 'events/s offered' })
results.define({ id: 'latency.sqlite', label: 'e2e latency → SQLite', unit: 'events/s offered' })
results.define({
  id: 'http.produce.single',
  label: 'POST /produce, 1 event',
  unit: 'req/s',
  compareTo: [{ id: 'http.noop.single', kind: 'ceiling' }],
})
results.define({ id: 'http.noop.single', label: 'no-op Fastify POST, 1 event', unit: 'req/s' })
results.define({
  id: 'http.produce.batch',
  label: 'POST /produce, 100 events',
  unit: 'events/s',
  compareTo: [{ id: 'http.noop.batch', kind: 'ceiling' }],
})
results.define({ id: 'http.noop.batch', label: 'no-op Fastify POST, 100 events', unit: 'events/s' })
results.define({
  id: 'read.orders',
  label: 'GET /orders/{id}',
  unit: 'req/s',
  compareTo: [{ id: 'read.constant', kind: 'ceiling' }],
})
results.define({ id: 'read.constant', label: 'constant Fastify GET', unit: 'req/s' })
results.define({ id: 'rss.drain', label: 'consumer peak RSS, large drain', unit: 'MB' })
results.define({
  id: 'rss.drain.other',
  label: 'consumer peak RSS, large drain, other heap flags',
  unit: 'MB',
  note: `the same drain with ${otherLabel} instead of ${nodeFlags.join(' ')} (see docs/performance.md)`,
})
results.define({ id: 'rss.main', label: 'consumer peak RSS, main drain', unit: 'MB' })

const fingerprints = new Map<string, string>()
let readDatabase: string | undefined

function check(what: string, workload: Workload, found: Found, result?: DrainResult): void {
  const wrong = mismatches(workload.expected, found)
  if (result !== undefined && result.deadLettered > 0) wrong.push(`${result.deadLettered} records dead-lettered`)
  if (wrong.length > 0) {
    const problem = `${what}: the store does not hold what the workload requires: ${wrong.join('; ')}`
    results.problems.push(problem)
    say(`PROBLEM ${problem}`)
  }
  if (found.fingerprint !== undefined) fingerprints.set(what, found.fingerprint)
}

function drainRequest(topic: string, databaseUrl: string, extra: Partial<DrainRequest> = {}): DrainRequest {
  return {
    kind: 'pipeline',
    topic,
    partitions: settings.partitions,
    groupId: freshGroup(),
    databaseUrl,
    dlqKey: freshDlqKey(),
    logLevel: settings.logLevel,
    ...extra,
  }
}

async function drain(
  label: string,
  request: DrainRequest,
  total: number,
  options: SpawnOptions = spawnOptions,
): Promise<DrainResult> {
  const handle = startDrain(
    request,
    handled => status(`${label}: ${handled.toLocaleString()} / ${total.toLocaleString()}`),
    options,
  )
  const result = await handle.result
  const rate = (result.handled / result.ms) * 1000
  say(
    `${label}: ${result.handled.toLocaleString()} records in ${(result.ms / 1000).toFixed(2)} s = ` +
      `${Math.round(rate).toLocaleString()} events/s, consumer CPU ${((result.cpuMs * 1000) / result.handled).toFixed(1)} µs/event, ` +
      `peak RSS ${(result.peakRssBytes / 2 ** 20).toFixed(0)} MB`,
  )
  return result
}

async function drainPostgres(
  run: number,
  topic: string,
  workload: Workload,
  logLevel = settings.logLevel,
): Promise<void> {
  const url = await freshPostgres()
  const main = logLevel === settings.logLevel
  const result = await drain(
    `drain → PostgreSQL${main ? '' : ` at ${logLevel}`} ${run}`,
    drainRequest(topic, url, { endOffsets: endOffsets(workload), logLevel }),
    workload.records.length,
  )
  const rate = (result.handled / result.ms) * 1000
  results.add(main ? 'drain.postgres' : 'drain.postgres.info', rate, {
    cpuUsPerEvent: (result.cpuMs * 1000) / result.handled,
  })
  if (main) results.add('rss.main', result.peakRssBytes / 2 ** 20)
  check(`drain.postgres${main ? '' : `.${logLevel}`}#${run}`, workload, await inspectPostgres(url, run === 1), result)
  if (main) readDatabase = url
  else await dropPostgresDatabases([url.slice(url.lastIndexOf('/') + 1)])
}

async function drainSqlite(run: number, topic: string, workload: Workload): Promise<void> {
  const path = freshSqlite()
  const result = await drain(
    `drain → SQLite ${run}`,
    drainRequest(topic, `sqlite:${path}`, { endOffsets: endOffsets(workload) }),
    workload.records.length,
  )
  results.add('drain.sqlite', (result.handled / result.ms) * 1000, {
    cpuUsPerEvent: (result.cpuMs * 1000) / result.handled,
  })
  check(`drain.sqlite#${run}`, workload, inspectSqlite(path), result)
}

async function naive(run: number, topic: string): Promise<void> {
  const url = await freshPostgres()
  const request: DrainRequest = {
    ...drainRequest(topic, url),
    kind: 'naive',
    maxRecords: settings.naiveMaxRecords,
    maxMs: settings.naiveMaxMs,
  }
  const result = await drain(`naive → PostgreSQL ${run}`, request, settings.naiveMaxRecords)
  // Like the seed, the baseline gives up on an order whose user (on another partition) is not stored yet;
  // giving up is cheaper than the seed's retries, so this only flatters the baseline.
  if (result.deadLettered > 0) say(`naive → PostgreSQL ${run}: ${result.deadLettered} records failed (foreign key)`)
  results.add('naive.postgres', (result.handled / result.ms) * 1000, {
    cpuUsPerEvent: (result.cpuMs * 1000) / result.handled,
    failedRecords: result.deadLettered,
  })
}

async function copy(run: number, workload: Workload, rows: ReturnType<typeof ceilingRows>): Promise<void> {
  const url = await freshPostgres()
  const store = await createStore({ engine: 'postgres', url })
  await store.migrate()
  await store.close()
  const ms = await loadWithCopy(url, rows)
  const rate = (rows.count / ms) * 1000
  say(
    `COPY + merge ${run}: ${rows.count.toLocaleString()} records in ${(ms / 1000).toFixed(2)} s = ${Math.round(rate).toLocaleString()} events/s`,
  )
  results.add('copy.postgres', rate)
  check(`copy.postgres#${run}`, workload, await inspectPostgres(url, run === 1))
}

/**
 * End-to-end latency: produce timestamp → offset commit acknowledged, for every record of a steady load after its
 * warm-up.
 */
async function latency(run: number, engine: 'postgres' | 'sqlite', workload: Workload, rate: number): Promise<void> {
  const topic = await freshTopic()
  const url = engine === 'postgres' ? await freshPostgres() : `sqlite:${freshSqlite()}`
  const handle = startDrain(drainRequest(topic, url, { recordCommits: true }), () => {}, spawnOptions)
  await handle.joined
  const offered = Math.max(100, Math.round(rate))
  const seconds = settings.latencyWarmupSeconds + settings.latencySeconds
  status(`latency → ${engine} ${run}: offering ${offered.toLocaleString()} events/s for ${seconds} s`)
  let sent: Sent[]
  const started = Date.now()
  try {
    sent = await steadyLoad(topic, workload.records, offered, seconds)
  } catch (error) {
    handle.kill()
    throw error
  }
  const end: Record<string, number> = {}
  for (const s of sent) end[s.partition] = Math.max(end[s.partition] ?? 0, Number(s.offset) + 1)
  handle.end(end)
  const result = await handle.result
  // Per partition, commits only move forward: walk them alongside the records in offset order.
  const latencies: number[] = []
  let uncommitted = 0
  const measuredFrom = started + settings.latencyWarmupSeconds * 1000
  const commits = result.commits ?? []
  for (let p = 0; p < settings.partitions; p++) {
    const mine = commits.filter(c => c[1] === p).sort((a, b) => a[0] - b[0])
    const records = sent.filter(s => s.partition === p).sort((a, b) => Number(a.offset - b.offset))
    let c = 0
    for (const r of records) {
      while (c < mine.length && mine[c]![2] <= Number(r.offset)) c++
      if (c === mine.length) uncommitted++
      else if (r.at >= measuredFrom) latencies.push(mine[c]![0] - r.at)
    }
  }
  const p50 = percentile(latencies, 50)
  const p99 = percentile(latencies, 99)
  say(
    `latency → ${engine} ${run}: ${latencies.length.toLocaleString()} records at ${offered.toLocaleString()} events/s: ` +
      `p50 ${p50} ms, p99 ${p99} ms`,
  )
  if (uncommitted > 0) results.problems.push(`latency ${engine} run ${run}: ${uncommitted} records never committed`)
  results.add(`latency.${engine}`, offered, { p50Ms: p50, p99Ms: p99 })
}

function produceBodies(workload: Workload, perBody: number, count: number): string[] {
  const bodies: string[] = []
  const values = workload.records.map(r => r.value)
  for (let i = 0; i < count; i++) {
    if (perBody === 1) bodies.push(values[i % values.length]!)
    else {
      const slice: string[] = []
      for (let j = 0; j < perBody; j++) slice.push(values[(i * perBody + j) % values.length]!)
      bodies.push(`[${slice.join(',')}]`)
    }
  }
  return bodies
}

async function http(workload: Workload): Promise<void> {
  const topic = await freshTopic()
  const producer = await startServer(
    { kind: 'producer', logLevel: settings.logLevel, topic, partitions: settings.partitions },
    spawnOptions,
  )
  const noop = await startServer({ kind: 'noop', logLevel: settings.logLevel }, spawnOptions)
  try {
    const single = produceBodies(workload, 1, 2000)
    const batch = produceBodies(workload, 100, 100)
    const scenarios = [
      { id: 'http.produce.single', url: `${producer.url}/produce`, bodies: single, events: 1 },
      { id: 'http.noop.single', url: `${noop.url}/produce`, bodies: single, events: 1 },
      { id: 'http.produce.batch', url: `${producer.url}/produce`, bodies: batch, events: 100 },
      { id: 'http.noop.batch', url: `${noop.url}/produce`, bodies: batch, events: 100 },
    ]
    for (const s of scenarios) {
      status(`warming up ${s.id}`)
      await runHttp({
        url: s.url,
        method: 'POST',
        connections: settings.httpConnections,
        seconds: settings.warmupSeconds,
        bodies: s.bodies,
      })
    }
    for (let run = 1; run <= settings.runs; run++) {
      for (const s of scenarios) {
        status(`${s.id} ${run}: ${settings.httpSeconds} s at ${settings.httpConnections} connections`)
        const r = await runHttp({
          url: s.url,
          method: 'POST',
          connections: settings.httpConnections,
          seconds: settings.httpSeconds,
          bodies: s.bodies,
        })
        say(`${s.id} ${run}: ${Math.round(r.rps).toLocaleString()} req/s, p50 ${r.p50} ms, p99 ${r.p99} ms`)
        if (r.errors > 0 || r.non2xx > 0) {
          results.problems.push(`${s.id} run ${run}: ${r.errors} errors, ${r.non2xx} non-2xx answers`)
        }
        results.add(s.id, r.rps * s.events, { p50Ms: r.p50, p99Ms: r.p99, requestsPerSecond: r.rps })
      }
    }
  } finally {
    await producer.stop()
    await noop.stop()
  }
}

async function read(workload: Workload): Promise<void> {
  if (readDatabase === undefined) {
    // No drain ran in this invocation: fill a database with the COPY loader instead.
    readDatabase = await freshPostgres()
    const store = await createStore({ engine: 'postgres', url: readDatabase })
    await store.migrate()
    await store.close()
    await loadWithCopy(readDatabase, ceilingRows('bench-read', workload.records))
  }
  await vacuumAnalyze(readDatabase)
  const api = await startServer({ kind: 'api', logLevel: settings.logLevel, databaseUrl: readDatabase }, spawnOptions)
  const constant = await startServer({ kind: 'constant', logLevel: settings.logLevel }, spawnOptions)
  try {
    const paths = workload.orderIds.map(id => `/orders/${encodeURIComponent(id)}`)
    const scenarios = [
      { id: 'read.orders', url: api.url },
      { id: 'read.constant', url: constant.url },
    ]
    for (const s of scenarios) {
      status(`warming up ${s.id}`)
      await runHttp({
        url: s.url,
        method: 'GET',
        connections: settings.httpConnections,
        seconds: settings.warmupSeconds,
        paths,
      })
    }
    for (let run = 1; run <= settings.runs; run++) {
      for (const s of scenarios) {
        status(`${s.id} ${run}: ${settings.httpSeconds} s at ${settings.httpConnections} connections`)
        const r = await runHttp({
          url: s.url,
          method: 'GET',
          connections: settings.httpConnections,
          seconds: settings.httpSeconds,
          paths,
        })
        say(`${s.id} ${run}: ${Math.round(r.rps).toLocaleString()} req/s, p50 ${r.p50} ms, p99 ${r.p99} ms`)
        if (r.errors > 0 || r.non2xx > 0) {
          results.problems.push(`${s.id} run ${run}: ${r.errors} errors, ${r.non2xx} non-2xx answers`)
        }
        results.add(s.id, r.rps, { p50Ms: r.p50, p99Ms: r.p99 })
      }
    }
  } finally {
    await api.stop()
    await constant.stop()
  }
}

/** The workers' Node flags with the pipeline's heap flags replaced by the memory check's other variant. */
function otherExecArgv(): string[] {
  return [...(spawnOptions.execArgv ?? []).filter(flag => !nodeFlags.includes(flag)), ...otherFlags]
}

/** Memory on a long drain, as the consumer starts (`npm run pipeline -- consumer`) and with other heap flags. */
async function rss(): Promise<void> {
  say(`generating ${settings.rssEvents.toLocaleString()} events for the memory check`)
  const big = generateWorkload({ events: settings.rssEvents, partitions: settings.partitions, seed: 7 })
  const topic = await freshTopic(big)
  const variants = [
    { id: 'rss.drain', execArgv: spawnOptions.execArgv ?? [], label: '' },
    { id: 'rss.drain.other', execArgv: otherExecArgv(), label: ` (${otherLabel})` },
  ]
  for (let run = 1; run <= settings.runs; run++) {
    for (const variant of variants) {
      const url = await freshPostgres()
      const options = { ...spawnOptions, execArgv: variant.execArgv }
      const label = `large drain → PostgreSQL${variant.label} ${run}`
      const result = await drain(
        label,
        drainRequest(topic, url, { endOffsets: endOffsets(big) }),
        big.records.length,
        options,
      )
      results.add(variant.id, result.peakRssBytes / 2 ** 20, {
        maxRssMb: result.maxRssBytes / 2 ** 20,
        eventsPerSecond: (result.handled / result.ms) * 1000,
        cpuUsPerEvent: (result.cpuMs * 1000) / result.handled,
      })
      check(`${variant.id}#${run}`, big, await inspectPostgres(url, false), result)
      await dropPostgresDatabases([url.slice(url.lastIndexOf('/') + 1)])
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------

function targets(): Target[] {
  const t = (name: string, wanted: string, actual: number | undefined, ok: (v: number) => boolean): Target => ({
    name,
    wanted,
    actual,
    met: actual === undefined ? undefined : ok(actual),
  })
  const ratio = (id: string, other: string) => results.ratio(id, other)
  return [
    t('drain → PostgreSQL vs naive', '≥ 20×', ratio('drain.postgres', 'naive.postgres'), v => v >= 20),
    t('drain → PostgreSQL vs COPY ceiling', '≥ 0.5×', ratio('drain.postgres', 'copy.postgres'), v => v >= 0.5),
    t('drain → PostgreSQL', '≥ 50,000 events/s', results.median('drain.postgres'), v => v >= 50_000),
    t('POST /produce single vs no-op', '≥ 0.4×', ratio('http.produce.single', 'http.noop.single'), v => v >= 0.4),
    t('POST /produce 100-event batches', '≥ 150,000 events/s', results.median('http.produce.batch'), v => v >= 150_000),
    t('GET /orders/{id} vs constant', '≥ 0.4×', ratio('read.orders', 'read.constant'), v => v >= 0.4),
    t('GET /orders/{id} p99 at 64 connections', '< 10 ms', results.extra('read.orders', 'p99Ms'), v => v < 10),
    t('consumer RSS draining 1,000,000 events', '< 300 MB', results.median('rss.drain'), v => v < 300),
  ]
}

async function machine() {
  return {
    nproc: cpus().length,
    cpu: cpus()[0]?.model ?? 'unknown',
    memoryMB: Math.round(totalmem() / 2 ** 20),
    freeMemoryMB: Math.round(freemem() / 2 ** 20),
    node: process.version,
    postgres: await postgresVersion().catch(() => 'unknown'),
    kafkaBrokers: brokers,
    platform: `${process.platform} ${process.arch}`,
    httpLoadGenerator: loadGenerator(),
  }
}

async function main(): Promise<void> {
  const startedAt = new Date().toISOString()
  const host = await machine()
  say(
    `bench: ${settings.events.toLocaleString()} events, ${settings.runs} runs, ${host.nproc} cores, Node ${host.node}, ` +
      `PostgreSQL ${host.postgres}, LOG_LEVEL=${settings.logLevel}, HTTP load: ${host.httpLoadGenerator}, ` +
      `sections: ${[...sections].join(',')}`,
  )
  const workload = generateWorkload({ events: settings.events, partitions: settings.partitions })
  say(`workload: ${JSON.stringify(workload.counts)}; expected state ${JSON.stringify(workload.expected)}`)
  const needsTopic = ['drain', 'naive', 'copy'].some(s => sections.has(s))
  const topic = needsTopic ? await freshTopic(workload) : ''
  const rows = sections.has('copy') ? ceilingRows(topic, workload.records) : undefined

  // Runs are interleaved (1 of each, then 2 of each, …) so a noisy neighbour hurts every measurement alike.
  for (let run = 1; run <= settings.runs; run++) {
    if (sections.has('naive')) await naive(run, topic)
    if (sections.has('drain')) await drainPostgres(run, topic, workload)
    if (sections.has('copy') && rows) await copy(run, workload, rows)
    if (sections.has('drain')) await drainSqlite(run, topic, workload)
    // The INFO drain only shows what logging costs; --quick leaves it out to stay under three minutes.
    if (sections.has('drain') && !quick && settings.logLevel !== 'info')
      await drainPostgres(run, topic, workload, 'info')
  }
  const prints = new Set(fingerprints.values())
  if (prints.size > 1) {
    const problem = `PostgreSQL projections differ between the consumer and COPY: ${JSON.stringify(Object.fromEntries(fingerprints))}`
    results.problems.push(problem)
    say(`PROBLEM ${problem}`)
  } else if (prints.size === 1) say(`consumer and COPY projections are identical (md5 ${[...prints][0]})`)

  if (sections.has('latency')) {
    for (let run = 1; run <= settings.runs; run++) {
      for (const engine of ['postgres', 'sqlite'] as const) {
        const drained = results.median(`drain.${engine}`) ?? 10_000
        await latency(run, engine, workload, drained / 2)
      }
    }
  }
  if (sections.has('http')) await http(workload)
  if (sections.has('read')) await read(workload)
  if (sections.has('rss') && settings.rssEvents > 0) await rss()

  const report = {
    startedAt,
    finishedAt: new Date().toISOString(),
    seconds: Math.round((performance.now() - began) / 1000),
    command: ['npm run bench', ...(process.argv.length > 2 ? ['--', ...process.argv.slice(2)] : [])].join(' '),
    settings,
    machine: host,
    workload: { counts: workload.counts, expected: workload.expected },
    measurements: results.toJSON(),
    targets: targets(),
    problems: results.problems,
  }
  const path = `${resultsDir}latest.json`
  writeJson(path, report)
  process.stdout.write(`\n${table(results)}\n\ntargets:\n${targetsTable(report.targets)}\n`)
  if (results.problems.length > 0)
    process.stdout.write(`\nproblems:\n${results.problems.map(p => `  - ${p}`).join('\n')}\n`)
  process.stdout.write(`\nwritten to ${path} (${report.seconds} s)\n`)
}

try {
  await main()
} catch (error) {
  say(`bench failed: ${(error as Error).stack ?? String(error)}`)
  process.exitCode = 1
} finally {
  await cleanup()
}
// The Kafka and Redis clients of this process may keep sockets open a little longer; the work is done.
setTimeout(() => process.exit(), 500).unref()
