// The Redis list backend of the dead-letter queue: LPUSH to `dlq:events`, newest first (the seed's contract),
// exactly once per Kafka record (see push-script.ts), each entry within DLQ_ENTRY_MAX_BYTES (bound.ts), the
// producer's entries within their own count and byte caps.
import { readFileSync } from 'node:fs'
import { Redis } from 'ioredis'
import type { Registry } from 'prom-client'
import type { Config } from '../config/index.ts'
import { PipelineError } from '../errors.ts'
import { type DlqMetrics, dlqMetrics, type Logger } from '../observability/index.ts'
import { boundLetter, defaultEntryMaxBytes } from './bound.ts'
import { indexCompleteKeyOf, indexedEntries, indexKeyOf, reindexLua, removeLua } from './by-event.ts'
import { createIntervalLog, defaultReportIntervalMs } from './interval-log.ts'
import { type ChunkLimits, chunkArgs, defaultChunkLimits, producerPushLua, pushLua } from './push-script.ts'
import type { DeadLetter } from './record.ts'

/** What a push did with entries the producer's caps refused (consumer entries are never refused). */
export interface PushOutcome {
  readonly pushed: number
  /** Producer entries not stored, by the cap that refused them. */
  readonly dropped: Readonly<Partial<Record<ProducerCap, number>>>
}

export type ProducerCap = 'entries' | 'bytes'

/** An entry as the list holds it: its exact text (what a removal names) and what it says. */
export interface StoredLetter {
  readonly entry: string
  readonly letter: DeadLetter
}

export interface ProducerCaps {
  /** Most producer entries in the list. */
  readonly maxEntries: number
  /** Most bytes (sum of the JSON entries' lengths) of producer entries in the list. */
  readonly maxBytes: number
}

export const defaultProducerCaps: ProducerCaps = Object.freeze({ maxEntries: 10_000, maxBytes: 64 * 1024 * 1024 })

/** The text Redis starts its answer with when a write would pass `maxmemory` under the noeviction policy. */
const redisFullPrefix = 'OOM command not allowed'
export const redisFullReason = 'Redis is full (maxmemory)'

export interface DeadLetterQueue {
  /**
   * Pushes the records, oldest first, in script calls bounded in count and bytes; resolves only once Redis has
   * them all. A record with Kafka coordinates already pushed (and still remembered) is skipped, so a retry
   * after a failure, whole or partial, never adds an entry twice. Every entry is cut to the entry cap first.
   * A producer entry (source 'producer') is stored only within the producer caps; the outcome says how many
   * were refused. Throws DLQ_UNAVAILABLE, whose message says "Redis is full (maxmemory)" when that is why.
   */
  push(records: readonly DeadLetter[]): Promise<PushOutcome>
  /** The largest entry it stores (DLQ_ENTRY_MAX_BYTES): callers need not decode more of a record than this. */
  readonly entryMaxBytes?: number
  /** Newest first. */
  list(start?: number, stop?: number): Promise<DeadLetter[]>
  /** LRANGE start stop (negative counts from the tail), newest first, with each entry's exact text. */
  range(start: number, stop: number): Promise<StoredLetter[]>
  /**
   * The entries whose eventId is `eventId`, newest first, read from the eventId index (by-event.ts) without
   * scanning the list. When the list holds entries older than the index, the index is rebuilt first.
   */
  findByEventId(eventId: string): Promise<DeadLetter[]>
  /** findByEventId with each entry's exact text. */
  findStoredByEventId(eventId: string): Promise<StoredLetter[]>
  /**
   * Removes one occurrence of each entry text from the list, keeping the eventId index and the producer's
   * counter in step, atomically. Resolves, per entry, whether it was there to remove.
   */
  remove(entries: readonly string[]): Promise<boolean[]>
  /** Rebuilds the eventId index from the whole list (one atomic script); resolves how many entries it holds. */
  reindex(): Promise<number>
  length(): Promise<number>
  ping(): Promise<void>
  close(): Promise<void>
}

export interface RedisDlqOptions {
  addr: string
  password?: string
  key: string
  /** How long one command, or connecting, may wait for Redis before it counts as unavailable (default 2000). */
  commandTimeoutMs?: number
  /** How long the coordinates of a pushed record are remembered to skip its repeats (default 7 days). */
  seenMaxAgeMs?: number
  /** Most records remembered; the oldest are forgotten first (default 1,000,000). */
  seenMaxCount?: number
  /** Bounds of one script call (default 500 entries and 4 MiB). */
  chunk?: ChunkLimits
  /** TLS to Redis; `ca` is a PEM bundle (default: the system CAs). */
  tls?: { ca?: Buffer }
  /** Largest entry in bytes (default 64 KiB); see bound.ts. */
  entryMaxBytes?: number
  /** Caps of the producer's entries in the list (default 10,000 entries and 64 MiB). */
  producerCaps?: ProducerCaps
  /** Where "Redis is full" is told, once per `reportIntervalMs` (default 10 s). */
  logger?: Logger
  reportIntervalMs?: number
  /** Registry of the role, for dlq_push_failures_total and dlq_redis_full. */
  registry?: Registry
}

export const defaultSeenMaxAgeMs = 7 * 24 * 3600 * 1000
export const defaultSeenMaxCount = 1_000_000

/** The key of the set that remembers which records the list already holds. */
export const seenKeyOf = (key: string) => `${key}:seen`

type PushCommand = (
  list: string,
  seen: string,
  index: string,
  complete: string,
  maxAgeMs: number,
  maxCount: number,
  ...args: string[]
) => Promise<number>

type ProducerPushCommand = (
  list: string,
  counter: string,
  index: string,
  complete: string,
  maxEntries: number,
  maxBytes: number,
  entry: string,
  eventId: string,
) => Promise<'stored' | ProducerCap>

type RemoveCommand = (list: string, index: string, counter: string, ...entries: string[]) => Promise<number[]>
type ReindexCommand = (list: string, index: string, complete: string) => Promise<number>

/** The key of the hash that counts the producer's entries in the list (`entries`, `bytes`). */
export const producerCounterKeyOf = (key: string) => `${key}:producer`

/** Whether a failed Redis command was refused because Redis is at `maxmemory`. */
export function isRedisFull(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith(redisFullPrefix)
}

/** The settings a dead-letter queue is built from. */
export type DlqConfig = Pick<
  Config,
  | 'redisAddr'
  | 'redisPassword'
  | 'dlqKey'
  | 'redisTls'
  | 'redisTlsCaFile'
  | 'redisTimeoutMs'
  | 'dlqEntryMaxBytes'
  | 'producerDlqMaxEntries'
  | 'producerDlqMaxBytes'
>

/** The dead-letter queue the configuration names (REDIS_ADDR, REDIS_PASSWORD, DLQ_KEY, REDIS_TIMEOUT_MS, …). */
export function dlqFromConfig(
  config: DlqConfig,
  observe: { logger?: Logger; registry?: Registry } = {},
): DeadLetterQueue {
  return createRedisDlq({
    addr: config.redisAddr,
    password: config.redisPassword,
    key: config.dlqKey,
    commandTimeoutMs: config.redisTimeoutMs,
    entryMaxBytes: config.dlqEntryMaxBytes,
    producerCaps: { maxEntries: config.producerDlqMaxEntries, maxBytes: config.producerDlqMaxBytes },
    ...observe,
    ...(config.redisTls ? { tls: config.redisTlsCaFile ? { ca: readFileSync(config.redisTlsCaFile) } : {} } : {}),
  })
}

/**
 * A client of the DLQ's Redis that fails fast: no offline queue, one retry, every command and connection bounded
 * by `commandTimeoutMs` (default 2000). Connects on first use.
 */
export function createRedisClient(
  options: Pick<RedisDlqOptions, 'addr' | 'password' | 'tls' | 'commandTimeoutMs'>,
): Redis {
  const timeoutMs = options.commandTimeoutMs ?? 2000
  const i = options.addr.lastIndexOf(':')
  const redis = new Redis({
    host: options.addr.slice(0, i).replace(/^\[|\]$/g, ''),
    port: Number(options.addr.slice(i + 1)),
    password: options.password || undefined,
    ...(options.tls ? { tls: options.tls } : {}),
    lazyConnect: true,
    // Fail fast instead of queueing commands while Redis is down: the consumer must see the failure, keep the
    // offset uncommitted and retry, not block behind an invisible queue.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: timeoutMs,
    connectTimeout: timeoutMs,
    retryStrategy: attempt => Math.min(100 * 2 ** attempt, 2000),
  })
  // Connection errors surface through the failing command; without a listener ioredis would print them.
  redis.on('error', () => {})
  return redis
}

export function createRedisDlq(options: RedisDlqOptions): DeadLetterQueue {
  const seenMaxAgeMs = options.seenMaxAgeMs ?? defaultSeenMaxAgeMs
  const seenMaxCount = options.seenMaxCount ?? defaultSeenMaxCount
  const limits = options.chunk ?? defaultChunkLimits
  const entryMaxBytes = options.entryMaxBytes ?? defaultEntryMaxBytes
  const caps = options.producerCaps ?? defaultProducerCaps
  const metrics: DlqMetrics | undefined = options.registry ? dlqMetrics(options.registry) : undefined
  let full = false
  const fullLog = createIntervalLog(options.reportIntervalMs ?? defaultReportIntervalMs, counts => {
    options.logger?.error(
      { key: options.key, reason: redisFullReason, failedPushes: counts['full'] ?? 0 },
      'dead-letter queue: Redis is full (maxmemory), dead letters cannot be stored',
    )
  })
  const redis = createRedisClient(options)
  // EVALSHA, falling back to EVAL when the server does not know the script (first use, restart, SCRIPT FLUSH).
  redis.defineCommand('dlqPush', { numberOfKeys: 4, lua: pushLua })
  redis.defineCommand('dlqPushProducer', { numberOfKeys: 4, lua: producerPushLua })
  redis.defineCommand('dlqRemove', { numberOfKeys: 3, lua: removeLua })
  redis.defineCommand('dlqReindex', { numberOfKeys: 3, lua: reindexLua })
  // defineCommand adds the methods at run time; their types are the scripts' calling conventions.
  const commands = redis as unknown as {
    dlqPush: PushCommand
    dlqPushProducer: ProducerPushCommand
    dlqRemove: RemoveCommand
    dlqReindex: ReindexCommand
  }
  const pushChunk = commands.dlqPush.bind(redis)
  const pushProducer = commands.dlqPushProducer.bind(redis)
  const removeEntries = commands.dlqRemove.bind(redis)
  const reindexAll = commands.dlqReindex.bind(redis)
  const index = indexKeyOf(options.key)
  const complete = indexCompleteKeyOf(options.key)
  const counter = producerCounterKeyOf(options.key)
  const stored = (entry: string): StoredLetter => ({ entry, letter: JSON.parse(entry) as DeadLetter })

  async function findStoredByEventId(eventId: string): Promise<StoredLetter[]> {
    // The mark, once set, stays: an index complete when the mark was read is complete at the HGET after it.
    if ((await run('EXISTS', () => redis.exists(complete))) === 0) {
      if ((await run('LLEN', () => redis.llen(options.key))) === 0) return []
      await run('reindex', () => reindexAll(options.key, index, complete))
    }
    const value = await run('HGET', () => redis.hget(index, eventId))
    return indexedEntries(value).map(stored)
  }
  let connecting: Promise<void> | undefined

  async function ready(): Promise<void> {
    if (redis.status === 'ready') return
    if (redis.status === 'wait' || redis.status === 'end') {
      connecting ??= redis.connect().finally(() => {
        connecting = undefined
      })
    }
    if (connecting) await connecting
  }

  async function run<T>(what: string, command: () => Promise<T>): Promise<T> {
    try {
      await ready()
      return await command()
    } catch (error) {
      const because = isRedisFull(error) ? `${redisFullReason}: ` : ''
      throw new PipelineError(
        'DLQ_UNAVAILABLE',
        `dead-letter queue (Redis ${options.addr}) ${what} failed: ${because}${(error as Error).message}`,
        { cause: error },
      )
    }
  }

  /** A push's writes, with the full/unavailable state kept for the metrics and the log. */
  async function write<T>(command: () => Promise<T>): Promise<T> {
    try {
      const result = await run('push', command)
      if (full) {
        full = false
        metrics?.redisFull.set(0)
        options.logger?.info({ key: options.key }, 'dead-letter queue: Redis accepts dead letters again')
      }
      return result
    } catch (error) {
      const isFull = isRedisFull((error as PipelineError).cause)
      metrics?.pushFailures.inc({ reason: isFull ? 'full' : 'unavailable' })
      if (isFull) {
        full = true
        metrics?.redisFull.set(1)
        fullLog.add('full')
      }
      throw error
    }
  }

  return {
    entryMaxBytes,
    async push(records) {
      const bounded = records.map(letter => boundLetter(letter, entryMaxBytes))
      const dropped: Partial<Record<ProducerCap, number>> = {}
      let pushed = 0
      // One run after another, so the list keeps the records' order (the last pushed is the first read).
      for (let i = 0; i < bounded.length; ) {
        const letter = bounded[i] as DeadLetter
        if (letter.source === 'producer') {
          const entry = JSON.stringify(letter)
          const outcome = await write(() =>
            pushProducer(
              options.key,
              counter,
              index,
              complete,
              caps.maxEntries,
              caps.maxBytes,
              entry,
              letter.eventId ?? '',
            ),
          )
          if (outcome === 'stored') pushed++
          else dropped[outcome] = (dropped[outcome] ?? 0) + 1
          i++
          continue
        }
        let end = i
        while (end < bounded.length && bounded[end]?.source !== 'producer') end++
        for (const args of chunkArgs(bounded.slice(i, end), limits)) {
          const seen = seenKeyOf(options.key)
          pushed += await write(() =>
            pushChunk(options.key, seen, index, complete, seenMaxAgeMs, seenMaxCount, ...args),
          )
        }
        i = end
      }
      return { pushed, dropped }
    },
    async list(start = 0, stop = -1) {
      const items = await run('LRANGE', () => redis.lrange(options.key, start, stop))
      return items.map(item => JSON.parse(item) as DeadLetter)
    },
    async range(start, stop) {
      const items = await run('LRANGE', () => redis.lrange(options.key, start, stop))
      return items.map(stored)
    },
    async findByEventId(eventId) {
      return (await findStoredByEventId(eventId)).map(s => s.letter)
    },
    findStoredByEventId,
    async remove(entries) {
      if (entries.length === 0) return []
      const removed = await run('remove', () => removeEntries(options.key, index, counter, ...entries))
      return removed.map(n => n > 0)
    },
    async reindex() {
      return run('reindex', () => reindexAll(options.key, index, complete))
    },
    async length() {
      return run('LLEN', () => redis.llen(options.key))
    },
    async ping() {
      await run('PING', () => redis.ping())
    },
    async close() {
      fullLog.close()
      await redis.quit().catch(() => redis.disconnect())
    },
  }
}
