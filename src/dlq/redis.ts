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
import { dlqKeys, legacyKeysOf } from '../redis/keys.ts'
import { luaScript } from '../redis/scripts.ts'
import { boundLetter, defaultEntryMaxBytes } from './bound.ts'
import { isScoreCursor, rebuildPage } from './by-event.ts'
import { createIntervalLog, defaultReportIntervalMs } from './interval-log.ts'
import { type ChunkLimits, chunkArgs, defaultChunkLimits } from './push-script.ts'
import type { DeadLetter } from './record.ts'

/** What a push did with entries the producer's caps refused (consumer entries are never dropped). */
export interface PushOutcome {
  readonly pushed: number
  /** Producer entries not stored, by the cap that refused them. */
  readonly dropped: Readonly<Partial<Record<WriterCap, number>>>
}

export type WriterCap = 'entries' | 'bytes'
export type ProducerCap = WriterCap

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
export type ProducerCaps = WriterCaps

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
  const seenMaxAgeMs = options.seenMaxAgeMs ?? defaultSeenMaxAgeMs
  const seenMaxCount = options.seenMaxCount ?? defaultSeenMaxCount
  const limits = options.chunk ?? defaultChunkLimits
  const entryMaxBytes = options.entryMaxBytes ?? defaultEntryMaxBytes
  const producerCaps = options.producerCaps ?? defaultProducerCaps
  const consumerCaps = options.consumerCaps ?? defaultConsumerCaps
  const removeBudget = options.removeBudget ?? defaultRemoveBudget
  const rebuildWaitMs = options.rebuildWaitMs ?? 5000
  const keys = dlqKeys(options.key)
  const metrics: DlqMetrics | undefined = options.registry ? dlqMetrics(options.registry) : undefined
  let full = false
  let capReached = false
  const fullLog = createIntervalLog(options.reportIntervalMs ?? defaultReportIntervalMs, counts => {
    if (counts['full']) {
      options.logger?.error(
        { key: options.key, reason: redisFullReason, failedPushes: counts['full'] },
        'dead-letter queue: Redis is full (maxmemory), dead letters cannot be stored',
      )
    }
    for (const cap of ['entries', 'bytes'] as const) {
      if (!counts[cap]) continue
      options.logger?.error(
        { key: options.key, cap, setting: capSetting.consumer[cap], refusedPushes: counts[cap] },
        `dead-letter queue: the consumer's entries reached ${capSetting.consumer[cap]}; the records waiting ` +
          'for it stay uncommitted until dead letters are redriven or purged',
      )
    }
  })
  const redis: RedisClient = createRedisClient(options)
  // EVALSHA, falling back to EVAL when the server does not know the script (first use, restart, SCRIPT FLUSH).
  redis.defineCommand('dlqPush', { numberOfKeys: 3, lua: luaScript('dlq-push') })
  redis.defineCommand('dlqRemove', { numberOfKeys: 3, lua: luaScript('dlq-remove') })
  redis.defineCommand('dlqRebuild', { numberOfKeys: 2, lua: luaScript('dlq-rebuild-step') })
  redis.defineCommand('dlqPage', { numberOfKeys: 2, lua: luaScript('dlq-page') })
  redis.defineCommand('dlqCleanup', { numberOfKeys: 1, lua: luaScript('dlq-cleanup') })
  // defineCommand adds the methods at run time; their types are the scripts' calling conventions.
  const commands = redis as unknown as {
    dlqPush: PushCommand
    dlqRemove: RemoveCommand
    dlqRebuild: RebuildCommand
    dlqPage: PageCommand
    dlqCleanup: (meta: string, budget: number) => Promise<number>
  }
  const pushChunk = commands.dlqPush.bind(redis)
  const removeCall = commands.dlqRemove.bind(redis)
  const rebuildStep = commands.dlqRebuild.bind(redis)
  const pageCall = commands.dlqPage.bind(redis)
  const cleanupCall = commands.dlqCleanup.bind(redis)
  const stored = (entry: string): StoredLetter => ({ entry, letter: JSON.parse(entry) as DeadLetter })
  const pairsOf = (flat: readonly string[]): IndexedLetter[] => {
    const found: IndexedLetter[] = []
    for (let i = 0; i + 1 < flat.length; i += 2)
      found.push({ ...stored(flat[i] as string), after: String(flat[i + 1]) })
    return found
  }
  const run = <T>(what: string, command: () => Promise<T>) =>
    prepared().then(() => redisCall(redis, options.addr, what, command))

  // Once per client: names of earlier versions moved to today's (standalone only: a cluster never held them),
  // and a rebuild started in the background when the index does not cover the list.
  let preparing: Promise<void> | undefined
  function prepared(): Promise<void> {
    preparing ??= redisCall(redis, options.addr, 'open', async () => {
      if (!isClusterAddr(options)) {
        const legacy = legacyKeysOf(options.key)
        if ((await redis.exists(legacy.seen)) === 1) {
          await redis.call('ZUNIONSTORE', keys.seen, 2, keys.seen, legacy.seen, 'AGGREGATE', 'MAX')
          await redis.del(legacy.seen)
        }
        await redis.del(legacy.index, legacy.indexComplete, legacy.producerCounter)
      }
    }).then(
      () => {
        indexState()
          .then(state => (state === 'rebuilding' ? rebuilt(Number.POSITIVE_INFINITY) : 0))
          .catch(() => {})
      },
      error => {
        preparing = undefined
        throw error
      },
    )
    return preparing
  }

  async function indexState(): Promise<'indexed' | 'rebuilding'> {
    // One atomic read: a push landing between two reads (another writer's, or on a Cluster client even this
    // client's own) would make a fresh queue look unindexed and start a needless rebuild.
    const replies = (await redis.multi().hget(keys.meta, 'indexed').llen(keys.list).exec()) ?? []
    for (const [error] of replies) if (error) throw error
    const [indexed, length] = replies.map(([, reply]) => reply)
    return indexed === '1' || length === 0 ? 'indexed' : 'rebuilding'
  }

  /**
   * Resolves once the index covers the list: drives the rebuild while it holds the lease (a page per step),
   * else waits for whoever does; gives up after `waitMs` with DLQ_UNAVAILABLE saying how far the rebuild is.
   */
  async function rebuilt(waitMs: number, force = false): Promise<number> {
    const giveUpAt = Date.now() + waitMs
    const token = randomUUID()
    let walked = 0
    let total = 0
    // A forced rebuild starts afresh on the first step it drives, also after waiting out someone else's rebuild.
    let forcePending = force
    for (;;) {
      if (await redis.set(keys.rebuildLease, token, 'PX', rebuildLeaseMs, 'NX')) {
        try {
          let forceNow = forcePending
          forcePending = false
          for (;;) {
            const [done, high, target] = await rebuildStep(keys.list, keys.meta, rebuildPage, forceNow ? '1' : '0')
            forceNow = false
            walked = high ?? 0
            total = target ?? 0
            if (done === 1) {
              // The generation it replaced goes too, a few thousand sets per call, before the lease is given up.
              while ((await cleanupCall(keys.meta, 2000)) > 0) await redis.pexpire(keys.rebuildLease, rebuildLeaseMs)
              return total
            }
            // Still ours? A lease that expired (this process stalled) is someone else's now.
            const owner = await redis.get(keys.rebuildLease)
            if (owner !== token) break
            await redis.pexpire(keys.rebuildLease, rebuildLeaseMs)
          }
        } finally {
          await redis.eval(luaScript('lease-drop'), 1, keys.rebuildLease, token).catch(() => {})
        }
      } else if (!force && (await indexState()) === 'indexed') {
        return 0
      }
      if (Date.now() > giveUpAt) {
        throw new PipelineError(
          'DLQ_UNAVAILABLE',
          `dead-letter queue (Redis ${options.addr}): the eventId index is being rebuilt` +
            (total > 0 ? ` (${walked} of ${total} entries)` : '') +
            '; try again in a moment',
        )
      }
      await sleep(50)
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

  function consumerCapState(reached: WriterCap | undefined): void {
    if (reached === undefined) {
      if (capReached) {
        capReached = false
        metrics?.capReached.set(0)
        options.logger?.info({ key: options.key }, 'dead-letter queue: the consumer may dead-letter again')
      }
      return
    }
    capReached = true
    metrics?.capReached.set(1)
    metrics?.pushFailures.inc({ reason: 'cap' })
    fullLog.add(reached)
  }

  async function pushRun(writer: 'consumer' | 'producer', letters: readonly DeadLetter[], caps: WriterCaps) {
    let pushed = 0
    for (const args of chunkArgs(letters, limits)) {
      const [n, refused] = await write(() =>
        pushChunk(
          keys.list,
          keys.seen,
          keys.meta,
          seenMaxAgeMs,
          seenMaxCount,
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

  async function removeAll(
    entries: readonly string[],
    digests: readonly string[] | undefined,
    claimsKey: string,
  ): Promise<number[]> {
    const results: number[] = []
    // A removal walks positions the rebuild counts on: it waits for the index first.
    await run('remove', () => rebuilt(60_000))
    while (results.length < entries.length) {
      const pairs: string[] = []
      for (let i = results.length; i < entries.length && pairs.length < 1000; i++) {
        pairs.push(entries[i] as string, digests?.[i] ?? '')
      }
      const answer = await run('remove', () =>
        removeCall(keys.list, keys.meta, claimsKey, digests ? '1' : '0', removeBudget, ...pairs),
      )
      if (answer[0] === -1) {
        await run('remove', () => rebuilt(60_000))
        continue
      }
      results.push(...answer)
    }
    return results
  }

  async function eventPage(
    eventId: string,
    limit: number,
    cursor?: string,
    order: 'newest' | 'oldest' = 'newest',
  ): Promise<EventPage> {
    if (cursor !== undefined && !isScoreCursor(cursor)) {
      throw new PipelineError('SCHEMA_VIOLATION', 'cursor is not one this queue gave', { paths: ['/cursor'] })
    }
    const size = Math.max(1, Math.min(eventPageMax, Math.floor(limit)))
    for (let attempt = 0; ; attempt++) {
      const answer = await run('lookup', () =>
        pageCall(keys.list, keys.meta, eventId, cursor ?? '', size, order === 'newest' ? 'desc' : 'asc'),
      )
      if (answer[0] === 'rebuilding' && attempt === 0) {
        await run('lookup', () => rebuilt(rebuildWaitMs))
        continue
      }
      if (answer[0] !== 'ok') {
        throw new PipelineError('DLQ_UNAVAILABLE', `dead-letter queue (Redis ${options.addr}): the index is rebuilt`)
      }
      const next = String(answer[2])
      return {
        total: Number(answer[1]),
        next: next === '' ? null : next,
        entries: pairsOf(answer.slice(3) as string[]),
      }
    }
  }

  return {
    entryMaxBytes,
    async push(records) {
      const bounded = records.map(letter => boundLetter(letter, entryMaxBytes))
      const dropped: Partial<Record<WriterCap, number>> = {}
      let pushed = 0
      // One run after another, so the list keeps the records' order (the last pushed is the first read).
      for (let i = 0; i < bounded.length; ) {
        const letter = bounded[i] as DeadLetter
        if (letter.source === 'producer') {
          // One script call per producer entry: each is stored or refused on its own.
          const outcome = await pushRun('producer', [letter], producerCaps)
          pushed += outcome.pushed
          if (outcome.refused) dropped[outcome.refused] = (dropped[outcome.refused] ?? 0) + 1
          i++
          continue
        }
        let end = i
        while (end < bounded.length && bounded[end]?.source !== 'producer') end++
        const outcome = await pushRun('consumer', bounded.slice(i, end), consumerCaps)
        pushed += outcome.pushed
        consumerCapState(outcome.refused)
        if (outcome.refused) {
          const setting = capSetting.consumer[outcome.refused]
          throw new PipelineError(
            'DLQ_FULL',
            `dead-letter queue ${options.key} holds as many consumer entries as ${setting} allows; ` +
              'the record stays uncommitted until dead letters are redriven or purged',
          )
        }
        i = end
      }
      return { pushed, dropped }
    },
    async list(start = 0, stop = -1) {
      const items = await run('LRANGE', () => redis.lrange(keys.list, start, stop))
      return items.map(item => JSON.parse(item) as DeadLetter)
    },
    async range(start, stop) {
      const items = await run('LRANGE', () => redis.lrange(keys.list, start, stop))
      return items.map(stored)
    },
    eventPage,
    async *eventEntries(eventId, order = 'newest') {
      let cursor: string | undefined
      do {
        const page = await eventPage(eventId, eventPageMax, cursor, order)
        yield* page.entries
        cursor = page.next ?? undefined
      } while (cursor !== undefined)
    },
    async remove(entries) {
      if (entries.length === 0) return []
      return (await removeAll(entries, undefined, keys.meta)).map(n => n === 1)
    },
    async removeUnclaimed(entries, digests, claimsKey) {
      if (entries.length === 0) return []
      const results = await removeAll(entries, digests, claimsKey)
      return results.map(n => (n === 1 ? 'removed' : n === 2 ? 'held' : 'absent'))
    },
    async reindex() {
      return run('reindex', () => rebuilt(Number.POSITIVE_INFINITY, true))
    },
    async usage() {
      const m = await run('HMGET', () => redis.hmget(keys.meta, 'ce', 'cb', 'pe', 'pb', 'indexed'))
      const length = await run('LLEN', () => redis.llen(keys.list))
      const n = (v: string | null | undefined) => (length === 0 ? 0 : Number(v ?? 0))
      return {
        consumer: { entries: n(m[0]), bytes: n(m[1]), caps: consumerCaps },
        producer: { entries: n(m[2]), bytes: n(m[3]), caps: producerCaps },
        indexed: length === 0 || m[4] === '1',
      }
    },
    async tally() {
      await run('stats', () => rebuilt(rebuildWaitMs))
      const [fields, head, tail, total] = await run('stats', () =>
        Promise.all([
          redis.hgetall(keys.tally),
          redis.lindex(keys.list, 0),
          redis.lindex(keys.list, -1),
          redis.llen(keys.list),
        ]),
      )
      // Objects without a prototype: a type named "__proto__" is counted, not assigned to the prototype.
      const byCode: Record<string, number> = Object.create(null)
      const byType: Record<string, number> = Object.create(null)
      for (const [field, value] of Object.entries(fields)) {
        if (field.startsWith('c:')) byCode[field.slice(2)] = Number(value)
        else if (field.startsWith('t:')) byType[field.slice(2)] = Number(value)
      }
      const failedAtOf = (entry: string | null) => {
        if (entry === null) return null
        try {
          const at = (JSON.parse(entry) as Partial<DeadLetter>).failedAt
          return typeof at === 'string' ? at : null
        } catch {
          return null
        }
      }
      return { total, byCode, byType, oldest: failedAtOf(tail), newest: failedAtOf(head) }
    },
    async length() {
      return run('LLEN', () => redis.llen(keys.list))
    },
    async ping() {
      await redisCall(redis, options.addr, 'PING', () => redis.ping())
    },
    async close() {
      fullLog.close()
      await closeClient(redis)
    },
  }
}
