// What every benchmark scenario shares: the options of this invocation, the workload, the results, progress
// lines on stderr, and the clean-up registry through which every topic, group, database, file and Redis key the
// bench creates is made, so that it is removed at the end, also when a scenario fails.
import { cpus, freemem, totalmem } from 'node:os'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { Redis } from 'ioredis'
import { nodeFlags } from '../src/cli/node-flags.ts'
import { createPostgresDatabase, dropPostgresDatabases, postgresVersion, sqliteFile, uniqueName } from './databases.ts'
import { loadGenerator } from './http.ts'
import { brokers, createTopic, deleteGroups, deleteTopics, prefill } from './kafka.ts'
import { Results } from './report.ts'
import type { SpawnOptions } from './spawn.ts'
import type { Workload } from './workload.ts'

const allocSampler = fileURLToPath(new URL('./alloc-sampler.ts', import.meta.url))

export const scenarioNames = [
  'drain',
  'naive',
  'copy',
  'rebuild',
  'latency',
  'http',
  'java',
  'read',
  'rss',
  'scale',
  'dlq',
] as const
export type ScenarioName = (typeof scenarioNames)[number]

/** The sizes and durations of one invocation; written as is into the report. */
export interface Settings {
  readonly events: number
  readonly runs: number
  readonly partitions: number
  readonly httpSeconds: number
  readonly httpConnections: number
  readonly latencySeconds: number
  readonly latencyWarmupSeconds: number
  readonly naiveMaxRecords: number
  readonly warmupSeconds: number
  readonly naiveMaxMs: number
  readonly rssEvents: number
  /** Records of each Java producer run: about as many seconds of work as one HTTP run at the goals' rates. */
  readonly javaRecords: number
  /** The scale-out drain: its topic's partitions and the consumer processes compared with one. */
  readonly scalePartitions: number
  readonly scaleConsumers: number
  /** Rounds of the scale-out pair: one with --quick, whose budget it would otherwise take a third of. */
  readonly scaleRuns: number
  /** Dead letters the DLQ scenario pushes; a tenth of them share one eventId. */
  readonly dlqEntries: number
  readonly logLevel: string
}

export interface Options {
  readonly quick: boolean
  /** Whether --only chose the scenarios: such a run is partial, and appends no history line unless asked. */
  readonly partial: boolean
  /** --history: append a history line even though the run is --quick or partial. */
  readonly history: boolean
  readonly settings: Settings
  /** The scenarios to run (`--only`, all by default); bench/main.ts runs them in its own fixed order. */
  readonly scenarios: ReadonlySet<string>
  /** Node flags of every worker process. */
  readonly spawnOptions: SpawnOptions
  /** The memory check's second variant: the consumer's heap flags replaced by these (empty: Node's own sizing). */
  readonly otherHeapFlags: readonly string[]
}

/**
 * The command line and the BENCH_* variables, parsed once. Every worker runs with the Node flags the pipeline
 * ships with (src/cli/node-flags.ts), like `npm run pipeline`; BENCH_NODE_FLAGS adds Node flags to every worker
 * (e.g. --trace-gc) for diagnosis, and BENCH_RSS_FLAGS sets the memory check's other variant.
 */
export function parseOptions(argv: readonly string[], env: NodeJS.ProcessEnv, profilesDir: string): Options {
  const { values: args } = parseArgs({
    args: [...argv],
    options: {
      quick: { type: 'boolean', default: false },
      events: { type: 'string' },
      runs: { type: 'string' },
      only: { type: 'string' },
      'rss-events': { type: 'string' },
      'dlq-entries': { type: 'string' },
      'http-seconds': { type: 'string' },
      'log-level': { type: 'string' },
      'cpu-prof': { type: 'boolean', default: false },
      'alloc-prof': { type: 'boolean', default: false },
      history: { type: 'boolean', default: false },
    },
  })
  const quick = args.quick ?? false
  const settings: Settings = {
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
    javaRecords: quick ? 200_000 : 1_000_000,
    scalePartitions: 6,
    scaleConsumers: 3,
    scaleRuns: quick ? 1 : Math.max(1, Number(args.runs ?? 3)),
    dlqEntries: Number(args['dlq-entries'] ?? (quick ? 100_000 : 1_000_000)),
    // WARN by default: at INFO every applied event and every HTTP request writes a log line, which on this machine
    // costs more than the work measured. drain.postgres.info measures the consumer at INFO in the same run.
    logLevel: (args['log-level'] ?? env['LOG_LEVEL'] ?? 'warn').toLowerCase(),
  }
  const words = (value: string | undefined) => (value ?? '').split(' ').filter(f => f !== '')
  const scenarios = new Set((args.only ?? scenarioNames.join(',')).split(',').map(s => s.trim().toLowerCase()))
  const unknown = [...scenarios].filter(s => !(scenarioNames as readonly string[]).includes(s))
  if (unknown.length > 0) {
    throw new Error(`--only: no scenario named ${unknown.join(', ')}; the scenarios are ${scenarioNames.join(', ')}`)
  }
  return {
    quick,
    partial: args.only !== undefined,
    history: args.history ?? false,
    settings,
    scenarios,
    spawnOptions: {
      execArgv: [
        ...nodeFlags,
        ...(args['cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${profilesDir}`] : []),
        ...(args['alloc-prof'] ? ['--import', allocSampler] : []),
        ...words(env['BENCH_NODE_FLAGS']),
      ],
    },
    otherHeapFlags: words(env['BENCH_RSS_FLAGS']),
  }
}

/** Progress lines on stderr, stamped with the seconds since the bench began. */
export class Progress {
  readonly #began = performance.now()
  readonly #tty = process.stderr.isTTY
  #transient = false

  get seconds(): number {
    return (performance.now() - this.#began) / 1000
  }

  say(line: string): void {
    if (this.#transient) process.stderr.write('\r\x1b[K')
    this.#transient = false
    process.stderr.write(`[${this.seconds.toFixed(1).padStart(6)}s] ${line}\n`)
  }

  /** A line that the next one replaces (on a terminal), for progress counters. */
  status(line: string): void {
    if (!this.#tty) return
    process.stderr.write(`\r\x1b[K[${this.seconds.toFixed(1).padStart(6)}s] ${line}`)
    this.#transient = true
  }
}

export class Context {
  readonly options: Options
  readonly settings: Settings
  readonly workload: Workload
  readonly results = new Results()
  readonly progress: Progress
  /** md5 of each PostgreSQL projection checked with a fingerprint, by run label: all must be equal. */
  readonly fingerprints = new Map<string, string>()
  /** The topic pre-filled with the workload, shared by drain, naive and copy (set before they run). */
  workloadTopic = ''
  /** A database the main drain filled, which the read scenario serves; it fills its own when none ran. */
  readDatabase: string | undefined
  readonly #created = {
    topics: [] as string[],
    groups: [] as string[],
    databases: [] as string[],
    files: [] as (() => void)[],
    dlqKeys: [] as string[],
  }

  constructor(options: Options, workload: Workload, progress: Progress) {
    this.options = options
    this.settings = options.settings
    this.workload = workload
    this.progress = progress
  }

  say(line: string): void {
    this.progress.say(line)
  }

  status(line: string): void {
    this.progress.status(line)
  }

  problem(problem: string): void {
    this.results.problems.push(problem)
    this.say(`PROBLEM ${problem}`)
  }

  /** A topic removed at the end; pre-filled with `records` when given (their partitions must exist). */
  async freshTopic(records?: Workload, partitions = records?.partitions ?? this.settings.partitions): Promise<string> {
    const topic = uniqueName('bench').replaceAll('_', '-')
    await createTopic(topic, partitions)
    this.#created.topics.push(topic)
    if (records !== undefined) {
      const started = performance.now()
      await prefill(topic, records.records, sent =>
        this.status(`pre-filling ${topic}: ${sent.toLocaleString()} records`),
      )
      const seconds = (performance.now() - started) / 1000
      this.say(`pre-filled ${topic} with ${records.records.length.toLocaleString()} records in ${seconds.toFixed(1)} s`)
    }
    return topic
  }

  freshGroup(): string {
    const group = uniqueName('bench-group')
    this.#created.groups.push(group)
    return group
  }

  freshDlqKey(): string {
    const key = `${uniqueName('bench')}:dlq`
    this.#created.dlqKeys.push(key)
    return key
  }

  /** The URL of a new PostgreSQL database, dropped at the end unless dropped earlier. */
  async freshPostgres(): Promise<string> {
    const db = await createPostgresDatabase()
    this.#created.databases.push(db.name)
    return db.url
  }

  /** The path of a new SQLite file, removed at the end. */
  freshSqlite(): string {
    const file = sqliteFile()
    this.#created.files.push(file.remove)
    return file.path
  }

  /** Removes everything the fresh* methods created; a failure is reported and does not stop the rest. */
  async cleanup(): Promise<void> {
    const created = this.#created
    this.say('cleaning up topics, groups, databases, files and Redis keys')
    await deleteTopics(created.topics).catch(error => this.say(`could not delete topics: ${(error as Error).message}`))
    await deleteGroups(created.groups)
    await dropPostgresDatabases(created.databases).catch(error =>
      this.say(`could not drop: ${(error as Error).message}`),
    )
    for (const remove of created.files) remove()
    if (created.dlqKeys.length > 0) {
      const [host, port] = (process.env['REDIS_ADDR'] ?? '127.0.0.1:6379').split(':')
      const redis = new Redis({ host, port: Number(port), password: process.env['REDIS_PASSWORD'] || undefined })
      await redis.del(...created.dlqKeys).catch(() => {})
      redis.disconnect()
    }
  }
}

/** The machine and services the figures were measured on, for the report. */
export async function machine() {
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
