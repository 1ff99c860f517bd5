// The Redis list backend of the dead-letter queue: LPUSH to `dlq:events`, newest first (the reference system's
// contract), exactly once per Kafka record (see push-script.ts), each entry within DLQ_ENTRY_MAX_BYTES
// (bound.ts), each writer's entries within its own count and byte caps, and every entry findable by eventId
// without a scan (by-event.ts). Every key of a queue shares the list's hash tag (src/redis/keys.ts), so it runs on one
// Redis or on a Redis Cluster alike.
import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Registry } from 'prom-client'
import type { Config } from '../config/index.ts'
import { PipelineError } from '../errors.ts'
import { type DlqMetrics, dlqMetrics, type Logger } from '../observability/index.ts'
import {
  closeClient,
  createRedisClient,
  isClusterAddr,
  isRedisFull,
  type RedisClient,
  type RedisClientOptions,
  redisCall,
  redisFullReason,
} from '../redis/client.ts'
import { type DlqKeys, dlqKeys, legacyKeysOf } from '../redis/keys.ts'
import { luaScript } from '../redis/scripts.ts'
import { boundLetter, defaultEntryMaxBytes } from './bound.ts'
import { isScoreCursor, rebuildPage } from './by-event.ts'
import { type Counts, createIntervalLog, defaultReportIntervalMs } from './interval-log.ts'
import { type KeyAnswer, type KeyQuestion, keyArgs, keyQuestionsMax, parseAnswers } from './key-summary.ts'
import { type ChunkLimits, chunkArgs, defaultChunkLimits } from './push-script.ts'
import type { DeadLetter } from './record.ts'

/** What a push did with entries the producer's caps refused (consumer entries are never dropped). */
export interface PushOutcome {
  readonly pushed: number
  /** Producer entries not stored, by the cap that refused them. */
  readonly dropped: Readonly<Partial<Record<WriterCap, number>>>
}

export type WriterCap = 'entries' | 'bytes'

/** An entry as the list holds it: its exact text (what a removal names) and what it says. */
export interface StoredLetter {
  readonly entry: string
  readonly letter: DeadLetter
}

/** An entry found by eventId, with the cursor that continues after it. */
export interface IndexedLetter extends StoredLetter {
  readonly after: string
}

/** One page of an eventId's entries. */
export interface EventPage {
  readonly entries: IndexedLetter[]
  /** How many distinct entries the eventId has in all. */
  readonly total: number
  /** The cursor of the next (older) page; null on the last page. */
  readonly next: string | null
}

export interface WriterCaps {
  /** Most entries of this writer in the list. */
  readonly maxEntries: number
  /** Most bytes (sum of the JSON entries' lengths) of this writer's entries in the list. */
  readonly maxBytes: number
}

export const defaultProducerCaps: WriterCaps = Object.freeze({ maxEntries: 10_000, maxBytes: 64 * 1024 * 1024 })
export const defaultConsumerCaps: WriterCaps = Object.freeze({ maxEntries: 1_000_000, maxBytes: 1024 * 1024 * 1024 })

/** What each writer holds in the list now, against its caps. */
export interface DlqUsage {
  readonly consumer: { readonly entries: number; readonly bytes: number; readonly caps: WriterCaps }
  readonly producer: { readonly entries: number; readonly bytes: number; readonly caps: WriterCaps }
  /** Whether the eventId index covers every entry (false while it is rebuilt). */
  readonly indexed: boolean
}

export interface DlqTally {
  readonly total: number
  readonly byCode: Record<string, number>
  readonly byType: Record<string, number>
  /** failedAt of the entry at the tail (the oldest pushed) and at the head (the newest). */
  readonly oldest: string | null
  readonly newest: string | null
}

/** Most entries one lookup answers. */
export const eventPageMax = 500

export interface DeadLetterQueue {
  /**
   * Pushes the records, oldest first, in script calls bounded in count and bytes; resolves only once Redis has
   * them all. A record with Kafka coordinates already pushed (and still remembered) is skipped, so a retry
   * after a failure, whole or partial, never adds an entry twice. Every entry is cut to the entry cap first.
   * A producer entry (source 'producer') is stored only within the producer caps; the outcome says how many
   * were refused. A consumer entry over the consumer caps is not dropped: the push throws DLQ_FULL (after
   * storing the records before it), and the caller keeps the rest and tries again later. Throws
   * DLQ_UNAVAILABLE, whose message says "Redis is full (maxmemory)" when that is why.
   */
  push(records: readonly DeadLetter[]): Promise<PushOutcome>
  /** The largest entry it stores (DLQ_ENTRY_MAX_BYTES): callers need not decode more of a record than this. */
  readonly entryMaxBytes?: number
  /** Newest first. */
  list(start?: number, stop?: number): Promise<DeadLetter[]>
  /** LRANGE start stop (negative counts from the tail), newest first, with each entry's exact text. */
  range(start: number, stop: number): Promise<StoredLetter[]>
  /**
   * Up to `limit` (at most eventPageMax) entries whose eventId is `eventId`, newest first, older than `cursor`
   * (a page's `next`), read from the eventId index without scanning the list. Every copy of a text the list
   * holds more than once comes on one page, so a page passes `limit` when its first text alone has more copies
   * (identical producer entries: at most PRODUCER_DLQ_MAX_ENTRIES). While the index is rebuilt
   * (after an upgrade, or `dlq reindex`), waits for the rebuild, helping it along. A cursor that is not one
   * is refused (INVALID_CURSOR is the caller's to map: here it is a SCHEMA_VIOLATION).
   */
  eventPage(eventId: string, limit: number, cursor?: string, order?: 'newest' | 'oldest'): Promise<EventPage>
  /** Every entry of `eventId`, newest first (or oldest first), a page at a time. */
  eventEntries(eventId: string, order?: 'newest' | 'oldest'): AsyncIterable<IndexedLetter>
  /**
   * Removes one occurrence of each entry text from the list, keeping the eventId index and the counters in
   * step, atomically per entry, in calls that each hold Redis for a bounded time. Resolves, per entry, whether
   * it was there to remove.
   */
  remove(entries: readonly string[]): Promise<boolean[]>
  /**
   * remove, except entries an open redrive claims (`digests[i]` is entry i's digest in the hash `claimsKey`):
   * claim check and removal are one atomic step per entry. Resolves 'removed', 'absent' or 'held' per entry.
   */
  removeUnclaimed(
    entries: readonly string[],
    digests: readonly string[],
    claimsKey: string,
  ): Promise<('removed' | 'absent' | 'held')[]>
  /**
   * Per question, how many entries of a key and class have an offset past `after`, and the newest of them, from
   * the key summary (key-summary.ts): one script call per keyQuestionsMax questions, O(log n) each. Does not wait
   * for a rebuild of the index: throws DLQ_UNAVAILABLE meanwhile, as when Redis cannot be reached.
   */
  keySummaries(questions: readonly KeyQuestion[]): Promise<KeyAnswer[]>
  /** Rebuilds the eventId index and the counters from the whole list, a page at a time; resolves its length. */
  reindex(): Promise<number>
  /** The writers' counts against their caps. */
  usage(): Promise<DlqUsage>
  /**
   * Counts by error code and by event type, kept by the scripts as entries come and go (O(1) to read, however
   * long the list), with the failedAt of the oldest and newest entries by position. Waits for a rebuild.
   */
  tally(): Promise<DlqTally>
  length(): Promise<number>
  ping(): Promise<void>
  close(): Promise<void>
}

export interface RedisDlqOptions extends RedisClientOptions {
  key: string
  /** How long the coordinates of a pushed record are remembered to skip its repeats (default 7 days). */
  seenMaxAgeMs?: number
  /** Most records remembered; the oldest are forgotten first (default 1,000,000). */
  seenMaxCount?: number
  /** Bounds of one script call (default 500 entries and 4 MiB). */
  chunk?: ChunkLimits
  /** Largest entry in bytes (default 64 KiB); see bound.ts. */
  entryMaxBytes?: number
  /** Caps of the producer's entries in the list (default 10,000 entries and 64 MiB). */
  producerCaps?: WriterCaps
  /** Caps of the consumer's entries in the list (default 1,000,000 entries and 1 GiB). */
  consumerCaps?: WriterCaps
  /** List elements one removal call may pass (default 200,000: about 10 ms of Redis). */
  removeBudget?: number
  /** How long a lookup waits for a rebuild of the index before it fails as unavailable (default 5 s). */
  rebuildWaitMs?: number
  /** Where "Redis is full" and "the DLQ is full" are told, once per `reportIntervalMs` (default 10 s). */
  logger?: Logger
  reportIntervalMs?: number
  /** Registry of the role, for dlq_push_failures_total, dlq_redis_full and dlq_cap_reached. */
  registry?: Registry
}

export const defaultSeenMaxAgeMs = 7 * 24 * 3600 * 1000
export const defaultSeenMaxCount = 1_000_000
const defaultRemoveBudget = 200_000
const rebuildLeaseMs = 10_000

/** The key of the set that remembers which records the list already holds. */
export const seenKeyOf = (key: string) => dlqKeys(key).seen

type PushCommand = (
  list: string,
  seen: string,
  meta: string,
  maxAgeMs: number,
  maxCount: number,
  writer: 'consumer' | 'producer',
  maxEntries: number,
  maxBytes: number,
  ...args: string[]
) => Promise<[number, '' | WriterCap]>
type RemoveCommand = (
  list: string,
  meta: string,
  claims: string,
  checkClaims: '0' | '1',
  budget: number,
  ...pairs: string[]
) => Promise<number[]>
type RebuildCommand = (list: string, meta: string, pageSize: number, force: '0' | '1') => Promise<number[]>
type PageCommand = (
  list: string,
  meta: string,
  eventId: string,
  cursor: string,
  limit: number,
  order: 'asc' | 'desc',
) => Promise<(string | number)[]>

/** The settings a dead-letter queue is built from. */
export type DlqConfig = Pick<
  Config,
  | 'redisAddr'
  | 'redisCluster'
  | 'redisPassword'
  | 'dlqKey'
  | 'redisTls'
  | 'redisTlsCaFile'
  | 'redisTimeoutMs'
  | 'dlqEntryMaxBytes'
  | 'producerDlqMaxEntries'
  | 'producerDlqMaxBytes'
  | 'consumerDlqMaxEntries'
  | 'consumerDlqMaxBytes'
>

/** The Redis client options the configuration names (REDIS_ADDR, REDIS_CLUSTER, REDIS_PASSWORD, REDIS_TLS, …). */
export function redisOptionsOf(
  config: Pick<
    Config,
    'redisAddr' | 'redisCluster' | 'redisPassword' | 'redisTls' | 'redisTlsCaFile' | 'redisTimeoutMs'
  >,
): RedisClientOptions {
  return {
    addr: config.redisAddr,
    cluster: config.redisCluster,
    password: config.redisPassword,
    commandTimeoutMs: config.redisTimeoutMs,
    ...(config.redisTls ? { tls: config.redisTlsCaFile ? { ca: readFileSync(config.redisTlsCaFile) } : {} } : {}),
  }
}

/** The dead-letter queue the configuration names (REDIS_ADDR, REDIS_PASSWORD, DLQ_KEY, REDIS_TIMEOUT_MS, …). */
export function dlqFromConfig(
  config: DlqConfig,
  observe: { logger?: Logger; registry?: Registry } = {},
): DeadLetterQueue {
  return createRedisDlq({
    ...redisOptionsOf(config),
    key: config.dlqKey,
    entryMaxBytes: config.dlqEntryMaxBytes,
    producerCaps: { maxEntries: config.producerDlqMaxEntries, maxBytes: config.producerDlqMaxBytes },
    consumerCaps: { maxEntries: config.consumerDlqMaxEntries, maxBytes: config.consumerDlqMaxBytes },
    ...observe,
  })
}

const capSetting = {
  consumer: { entries: 'CONSUMER_DLQ_MAX_ENTRIES', bytes: 'CONSUMER_DLQ_MAX_BYTES' },
  producer: { entries: 'PRODUCER_DLQ_MAX_ENTRIES', bytes: 'PRODUCER_DLQ_MAX_BYTES' },
} as const

export function createRedisDlq(options: RedisDlqOptions): DeadLetterQueue {
  return new RedisDeadLetterQueue(options)
}

/** The scripts of src/redis/lua/ a queue runs, as ioredis methods (EVALSHA, EVAL when the server lacks one). */
interface Scripts {
  dlqPush: PushCommand
  dlqRemove: RemoveCommand
  dlqRebuild: RebuildCommand
  dlqPage: PageCommand
  dlqCleanup: (meta: string, budget: number) => Promise<number>
  dlqKeys: (list: string, meta: string, ...args: string[]) => Promise<(string | number)[]>
}

function withScripts(redis: RedisClient): Scripts {
  redis.defineCommand('dlqPush', { numberOfKeys: 3, lua: luaScript('dlq-push') })
  redis.defineCommand('dlqRemove', { numberOfKeys: 3, lua: luaScript('dlq-remove') })
  redis.defineCommand('dlqRebuild', { numberOfKeys: 2, lua: luaScript('dlq-rebuild-step') })
  redis.defineCommand('dlqPage', { numberOfKeys: 2, lua: luaScript('dlq-page') })
  redis.defineCommand('dlqCleanup', { numberOfKeys: 1, lua: luaScript('dlq-cleanup') })
  redis.defineCommand('dlqKeys', { numberOfKeys: 2, lua: luaScript('dlq-keys') })
  // defineCommand adds the methods at run time; their types are the scripts' calling conventions.
  return redis as unknown as Scripts
}

const stored = (entry: string): StoredLetter => ({ entry, letter: JSON.parse(entry) as DeadLetter })

function pairsOf(flat: readonly string[]): IndexedLetter[] {
  const found: IndexedLetter[] = []
  for (let i = 0; i + 1 < flat.length; i += 2) found.push({ ...stored(flat[i] as string), after: String(flat[i + 1]) })
  return found
}

function failedAtOf(entry: string | null): string | null {
  if (entry === null) return null
  try {
    const at = (JSON.parse(entry) as Partial<DeadLetter>).failedAt
    return typeof at === 'string' ? at : null
  } catch {
    return null
  }
}

/**
 * Whether pushes are refused (Redis full, or the consumer at its caps): kept for the metrics, and told in one log
 * line per interval however many pushes fail, plus a line when it clears.
 */
class PushHealth {
  readonly #key: string
  readonly #logger: Logger | undefined
  readonly #metrics: DlqMetrics | undefined
  readonly #log
  #full = false
  #capReached = false

  constructor(options: RedisDlqOptions) {
    this.#key = options.key
    this.#logger = options.logger
    this.#metrics = options.registry ? dlqMetrics(options.registry) : undefined
    this.#log = createIntervalLog(options.reportIntervalMs ?? defaultReportIntervalMs, counts => this.#tell(counts))
  }

  #tell(counts: Counts): void {
    if (counts['full']) {
      this.#logger?.error(
        { key: this.#key, reason: redisFullReason, failedPushes: counts['full'] },
        'dead-letter queue: Redis is full (maxmemory), dead letters cannot be stored',
      )
    }
    for (const cap of ['entries', 'bytes'] as const) {
      if (!counts[cap]) continue
      this.#logger?.error(
        { key: this.#key, cap, setting: capSetting.consumer[cap], refusedPushes: counts[cap] },
        `dead-letter queue: the consumer's entries reached ${capSetting.consumer[cap]}; the records waiting ` +
          'for it stay uncommitted until dead letters are redriven or purged',
      )
    }
  }

  /** A push's writes went through. */
  written(): void {
    if (!this.#full) return
    this.#full = false
    this.#metrics?.redisFull.set(0)
    this.#logger?.info({ key: this.#key }, 'dead-letter queue: Redis accepts dead letters again')
  }

  /** A push's writes failed: Redis is full, or unavailable. */
  failed(error: unknown): void {
    const isFull = isRedisFull((error as PipelineError).cause)
    this.#metrics?.pushFailures.inc({ reason: isFull ? 'full' : 'unavailable' })
    if (!isFull) return
    this.#full = true
    this.#metrics?.redisFull.set(1)
    this.#log.add('full')
  }

  /** What the consumer's caps said of its last push: undefined when everything fit. */
  consumerCap(reached: WriterCap | undefined): void {
    if (reached === undefined) {
      if (!this.#capReached) return
      this.#capReached = false
      this.#metrics?.capReached.set(0)
      this.#logger?.info({ key: this.#key }, 'dead-letter queue: the consumer may dead-letter again')
      return
    }
    this.#capReached = true
    this.#metrics?.capReached.set(1)
    this.#metrics?.pushFailures.inc({ reason: 'cap' })
    this.#log.add(reached)
  }

  close(): void {
    this.#log.close()
  }
}

/** The dead-letter queue in one Redis list and its companions (see the module's comment). */
class RedisDeadLetterQueue implements DeadLetterQueue {
  readonly entryMaxBytes: number
  readonly #options: RedisDlqOptions
  readonly #keys: DlqKeys
  readonly #redis: RedisClient
  readonly #scripts: Scripts
  readonly #health: PushHealth
  readonly #consumerCaps: WriterCaps
  readonly #producerCaps: WriterCaps
  readonly #rebuildWaitMs: number
  #preparing: Promise<void> | undefined

  constructor(options: RedisDlqOptions) {
    this.#options = options
    this.entryMaxBytes = options.entryMaxBytes ?? defaultEntryMaxBytes
    this.#consumerCaps = options.consumerCaps ?? defaultConsumerCaps
    this.#producerCaps = options.producerCaps ?? defaultProducerCaps
    this.#rebuildWaitMs = options.rebuildWaitMs ?? 5000
    this.#keys = dlqKeys(options.key)
    this.#redis = createRedisClient(options)
    this.#scripts = withScripts(this.#redis)
    this.#health = new PushHealth(options)
  }

  /** A command on the opened queue; a Redis failure becomes DLQ_UNAVAILABLE naming `what`. */
  async #run<T>(what: string, command: () => Promise<T>): Promise<T> {
    await this.#prepared()
    return redisCall(this.#redis, this.#options.addr, what, command)
  }

  /**
   * Once per client: names of earlier versions moved to today's (standalone only: a cluster never held them),
   * and a rebuild started in the background when the index does not cover the list.
   */
  #prepared(): Promise<void> {
    this.#preparing ??= redisCall(this.#redis, this.#options.addr, 'open', () => this.#moveLegacyKeys()).then(
      () => {
        this.#indexState()
          .then(state => (state === 'rebuilding' ? this.#rebuilt(Number.POSITIVE_INFINITY) : 0))
          .catch(() => {})
      },
      error => {
        this.#preparing = undefined
        throw error
      },
    )
    return this.#preparing
  }

  async #moveLegacyKeys(): Promise<void> {
    if (isClusterAddr(this.#options)) return
    const legacy = legacyKeysOf(this.#options.key)
    const redis = this.#redis
    if ((await redis.exists(legacy.seen)) === 1) {
      await redis.call('ZUNIONSTORE', this.#keys.seen, 2, this.#keys.seen, legacy.seen, 'AGGREGATE', 'MAX')
      await redis.del(legacy.seen)
    }
    await redis.del(legacy.index, legacy.indexComplete, legacy.producerCounter)
  }

  async #indexState(): Promise<'indexed' | 'rebuilding'> {
    // One atomic read: a push landing between two reads (another writer's, or on a Cluster client even this
    // client's own) would make a fresh queue look unindexed and start a needless rebuild.
    // An index an earlier version built has no key summary ('ks'): it is rebuilt as one that does not cover the list.
    const replies =
      (await this.#redis.multi().hmget(this.#keys.meta, 'indexed', 'ks').llen(this.#keys.list).exec()) ?? []
    for (const [error] of replies) if (error) throw error
    const [[indexed, summarized] = [], length] = replies.map(([, reply]) => reply) as [(string | null)[], number]
    return (indexed === '1' && summarized === '1') || length === 0 ? 'indexed' : 'rebuilding'
  }

  /**
   * Resolves once the index covers the list: drives the rebuild while it holds the lease (a page per step),
   * else waits for whoever does; gives up after `waitMs` with DLQ_UNAVAILABLE saying how far the rebuild is.
   * `force` starts a new rebuild on the first step it drives, also after waiting out someone else's.
   */
  async #rebuilt(waitMs: number, force = false): Promise<number> {
    const giveUpAt = Date.now() + waitMs
    const token = randomUUID()
    const progress = { walked: 0, total: 0 }
    let forcePending = force
    for (;;) {
      if (await this.#redis.set(this.#keys.rebuildLease, token, 'PX', rebuildLeaseMs, 'NX')) {
        const done = await this.#driveRebuild(token, forcePending, progress)
        forcePending = false
        if (done) return progress.total
      } else if (!force && (await this.#indexState()) === 'indexed') {
        return 0
      }
      if (Date.now() > giveUpAt) {
        throw new PipelineError(
          'DLQ_UNAVAILABLE',
          `dead-letter queue (Redis ${this.#options.addr}): the eventId index is being rebuilt` +
            (progress.total > 0 ? ` (${progress.walked} of ${progress.total} entries)` : '') +
            '; try again in a moment',
        )
      }
      await sleep(50)
    }
  }

  /** Rebuild steps while `token` holds the lease; true when the rebuild is done (and its old index deleted). */
  async #driveRebuild(token: string, force: boolean, progress: { walked: number; total: number }): Promise<boolean> {
    const { list, meta, rebuildLease } = this.#keys
    const redis = this.#redis
    try {
      for (let forceNow = force; ; forceNow = false) {
        const [done, high, target] = await this.#scripts.dlqRebuild(list, meta, rebuildPage, forceNow ? '1' : '0')
        progress.walked = high ?? 0
        progress.total = target ?? 0
        if (done === 1) {
          // The generation it replaced goes too, a few thousand sets per call, before the lease is given up.
          while ((await this.#scripts.dlqCleanup(meta, 2000)) > 0) await redis.pexpire(rebuildLease, rebuildLeaseMs)
          return true
        }
        // Still ours? A lease that expired (this process stalled) is someone else's now.
        if ((await redis.get(rebuildLease)) !== token) return false
        await redis.pexpire(rebuildLease, rebuildLeaseMs)
      }
    } finally {
      await redis.eval(luaScript('lease-drop'), 1, rebuildLease, token).catch(() => {})
    }
  }

  /** A push's writes, with the full/unavailable state kept for the metrics and the log. */
  async #write<T>(command: () => Promise<T>): Promise<T> {
    try {
      const result = await this.#run('push', command)
      this.#health.written()
      return result
    } catch (error) {
      this.#health.failed(error)
      throw error
    }
  }

  async #pushRun(writer: 'consumer' | 'producer', letters: readonly DeadLetter[], caps: WriterCaps) {
    const o = this.#options
    const { list, seen, meta } = this.#keys
    let pushed = 0
    for (const args of chunkArgs(letters, o.chunk ?? defaultChunkLimits)) {
      const [n, refused] = await this.#write(() =>
        this.#scripts.dlqPush(
          list,
          seen,
          meta,
          o.seenMaxAgeMs ?? defaultSeenMaxAgeMs,
          o.seenMaxCount ?? defaultSeenMaxCount,
          writer,
          caps.maxEntries,
          caps.maxBytes,
          ...args,
        ),
      )
      pushed += n
      if (refused !== '') return { pushed, refused }
    }
    return { pushed, refused: undefined }
  }

  async push(records: readonly DeadLetter[]): Promise<PushOutcome> {
    const bounded = records.map(letter => boundLetter(letter, this.entryMaxBytes))
    const dropped: Partial<Record<WriterCap, number>> = {}
    let pushed = 0
    // One run after another, so the list keeps the records' order (the last pushed is the first read).
    for (let i = 0; i < bounded.length; ) {
      const letter = bounded[i] as DeadLetter
      if (letter.source === 'producer') {
        // One script call per producer entry: each is stored or refused on its own.
        const outcome = await this.#pushRun('producer', [letter], this.#producerCaps)
        pushed += outcome.pushed
        if (outcome.refused) dropped[outcome.refused] = (dropped[outcome.refused] ?? 0) + 1
        i++
        continue
      }
      let end = i
      while (end < bounded.length && bounded[end]?.source !== 'producer') end++
      const outcome = await this.#pushRun('consumer', bounded.slice(i, end), this.#consumerCaps)
      pushed += outcome.pushed
      this.#health.consumerCap(outcome.refused)
      if (outcome.refused) {
        const setting = capSetting.consumer[outcome.refused]
        throw new PipelineError(
          'DLQ_FULL',
          `dead-letter queue ${this.#options.key} holds as many consumer entries as ${setting} allows; ` +
            'the record stays uncommitted until dead letters are redriven or purged',
        )
      }
      i = end
    }
    return { pushed, dropped }
  }

  async list(start = 0, stop = -1): Promise<DeadLetter[]> {
    const items = await this.#run('LRANGE', () => this.#redis.lrange(this.#keys.list, start, stop))
    return items.map(item => JSON.parse(item) as DeadLetter)
  }

  async range(start: number, stop: number): Promise<StoredLetter[]> {
    const items = await this.#run('LRANGE', () => this.#redis.lrange(this.#keys.list, start, stop))
    return items.map(stored)
  }

  async eventPage(
    eventId: string,
    limit: number,
    cursor?: string,
    order: 'newest' | 'oldest' = 'newest',
  ): Promise<EventPage> {
    if (cursor !== undefined && !isScoreCursor(cursor)) {
      throw new PipelineError('SCHEMA_VIOLATION', 'cursor is not one this queue gave', { paths: ['/cursor'] })
    }
    const size = Math.max(1, Math.min(eventPageMax, Math.floor(limit)))
    const { list, meta } = this.#keys
    for (let attempt = 0; ; attempt++) {
      const answer = await this.#run('lookup', () =>
        this.#scripts.dlqPage(list, meta, eventId, cursor ?? '', size, order === 'newest' ? 'desc' : 'asc'),
      )
      if (answer[0] === 'rebuilding' && attempt === 0) {
        await this.#run('lookup', () => this.#rebuilt(this.#rebuildWaitMs))
        continue
      }
      if (answer[0] !== 'ok') {
        throw new PipelineError(
          'DLQ_UNAVAILABLE',
          `dead-letter queue (Redis ${this.#options.addr}): the index is rebuilt`,
        )
      }
      const next = String(answer[2])
      return {
        total: Number(answer[1]),
        next: next === '' ? null : next,
        entries: pairsOf(answer.slice(3) as string[]),
      }
    }
  }

  async *eventEntries(eventId: string, order: 'newest' | 'oldest' = 'newest'): AsyncIterable<IndexedLetter> {
    let cursor: string | undefined
    do {
      const page = await this.eventPage(eventId, eventPageMax, cursor, order)
      yield* page.entries
      cursor = page.next ?? undefined
    } while (cursor !== undefined)
  }

  /** Removal script calls until every entry got its answer (1 removed, 0 absent, 2 held). */
  async #removeAll(entries: readonly string[], digests: readonly string[] | undefined, claimsKey: string) {
    const results: number[] = []
    const budget = this.#options.removeBudget ?? defaultRemoveBudget
    // A removal walks positions the rebuild counts on: it waits for the index first.
    await this.#run('remove', () => this.#rebuilt(60_000))
    while (results.length < entries.length) {
      const pairs: string[] = []
      for (let i = results.length; i < entries.length && pairs.length < 1000; i++) {
        pairs.push(entries[i] as string, digests?.[i] ?? '')
      }
      const answer = await this.#run('remove', () =>
        this.#scripts.dlqRemove(this.#keys.list, this.#keys.meta, claimsKey, digests ? '1' : '0', budget, ...pairs),
      )
      if (answer[0] === -1) {
        await this.#run('remove', () => this.#rebuilt(60_000))
        continue
      }
      results.push(...answer)
    }
    return results
  }

  async remove(entries: readonly string[]): Promise<boolean[]> {
    if (entries.length === 0) return []
    return (await this.#removeAll(entries, undefined, this.#keys.meta)).map(n => n === 1)
  }

  async removeUnclaimed(
    entries: readonly string[],
    digests: readonly string[],
    claimsKey: string,
  ): Promise<('removed' | 'absent' | 'held')[]> {
    if (entries.length === 0) return []
    const results = await this.#removeAll(entries, digests, claimsKey)
    return results.map(n => (n === 1 ? 'removed' : n === 2 ? 'held' : 'absent'))
  }

  async keySummaries(questions: readonly KeyQuestion[]): Promise<KeyAnswer[]> {
    const answers: KeyAnswer[] = []
    const { list, meta } = this.#keys
    for (let i = 0; i < questions.length; i += keyQuestionsMax) {
      const args = keyArgs(questions.slice(i, i + keyQuestionsMax))
      const answer = await this.#run('key summary', () => this.#scripts.dlqKeys(list, meta, ...args))
      if (answer[0] !== 'ok') {
        throw new PipelineError(
          'DLQ_UNAVAILABLE',
          `dead-letter queue (Redis ${this.#options.addr}): the index is being rebuilt; try again in a moment`,
        )
      }
      answers.push(...parseAnswers(answer.slice(1)))
    }
    return answers
  }

  reindex(): Promise<number> {
    return this.#run('reindex', () => this.#rebuilt(Number.POSITIVE_INFINITY, true))
  }

  async usage(): Promise<DlqUsage> {
    const { list, meta } = this.#keys
    const m = await this.#run('HMGET', () => this.#redis.hmget(meta, 'ce', 'cb', 'pe', 'pb', 'indexed'))
    const length = await this.#run('LLEN', () => this.#redis.llen(list))
    const n = (v: string | null | undefined) => (length === 0 ? 0 : Number(v ?? 0))
    return {
      consumer: { entries: n(m[0]), bytes: n(m[1]), caps: this.#consumerCaps },
      producer: { entries: n(m[2]), bytes: n(m[3]), caps: this.#producerCaps },
      indexed: length === 0 || m[4] === '1',
    }
  }

  async tally(): Promise<DlqTally> {
    await this.#run('stats', () => this.#rebuilt(this.#rebuildWaitMs))
    const { list, tally } = this.#keys
    const redis = this.#redis
    const [fields, head, tail, total] = await this.#run('stats', () =>
      Promise.all([redis.hgetall(tally), redis.lindex(list, 0), redis.lindex(list, -1), redis.llen(list)]),
    )
    // Objects without a prototype: a type named "__proto__" is counted, not assigned to the prototype.
    const byCode: Record<string, number> = Object.create(null)
    const byType: Record<string, number> = Object.create(null)
    for (const [field, value] of Object.entries(fields)) {
      if (field.startsWith('c:')) byCode[field.slice(2)] = Number(value)
      else if (field.startsWith('t:')) byType[field.slice(2)] = Number(value)
    }
    return { total, byCode, byType, oldest: failedAtOf(tail), newest: failedAtOf(head) }
  }

  length(): Promise<number> {
    return this.#run('LLEN', () => this.#redis.llen(this.#keys.list))
  }

  async ping(): Promise<void> {
    await redisCall(this.#redis, this.#options.addr, 'PING', () => this.#redis.ping())
  }

  async close(): Promise<void> {
    this.#health.close()
    await closeClient(this.#redis)
  }
}
