// The Redis list backend of the dead-letter queue: LPUSH to `dlq:events`, newest first (the seed's contract),
// exactly once per Kafka record (see push-script.ts).
import { readFileSync } from 'node:fs'
import { Redis } from 'ioredis'
import type { Config } from '../config/index.ts'
import { PipelineError } from '../errors.ts'
import { type ChunkLimits, chunkArgs, defaultChunkLimits, pushLua } from './push-script.ts'
import type { DeadLetter } from './record.ts'

export interface DeadLetterQueue {
  /**
   * Pushes the records, oldest first, in script calls bounded in count and bytes; resolves only once Redis has
   * them all. A record with Kafka coordinates already pushed (and still remembered) is skipped, so a retry
   * after a failure, whole or partial, never adds an entry twice. Throws DLQ_UNAVAILABLE.
   */
  push(records: readonly DeadLetter[]): Promise<void>
  /** Newest first. */
  list(start?: number, stop?: number): Promise<DeadLetter[]>
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
}

export const defaultSeenMaxAgeMs = 7 * 24 * 3600 * 1000
export const defaultSeenMaxCount = 1_000_000

/** The key of the set that remembers which records the list already holds. */
export const seenKeyOf = (key: string) => `${key}:seen`

type PushCommand = (
  list: string,
  seen: string,
  maxAgeMs: number,
  maxCount: number,
  ...args: string[]
) => Promise<number>

/** The dead-letter queue the configuration names (REDIS_ADDR, REDIS_PASSWORD, DLQ_KEY, REDIS_TIMEOUT_MS, …). */
export function dlqFromConfig(
  config: Pick<Config, 'redisAddr' | 'redisPassword' | 'dlqKey' | 'redisTls' | 'redisTlsCaFile' | 'redisTimeoutMs'>,
): DeadLetterQueue {
  return createRedisDlq({
    addr: config.redisAddr,
    password: config.redisPassword,
    key: config.dlqKey,
    commandTimeoutMs: config.redisTimeoutMs,
    ...(config.redisTls ? { tls: config.redisTlsCaFile ? { ca: readFileSync(config.redisTlsCaFile) } : {} } : {}),
  })
}

export function createRedisDlq(options: RedisDlqOptions): DeadLetterQueue {
  const timeoutMs = options.commandTimeoutMs ?? 2000
  const seenMaxAgeMs = options.seenMaxAgeMs ?? defaultSeenMaxAgeMs
  const seenMaxCount = options.seenMaxCount ?? defaultSeenMaxCount
  const limits = options.chunk ?? defaultChunkLimits
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
  // EVALSHA, falling back to EVAL when the server does not know the script (first use, restart, SCRIPT FLUSH).
  redis.defineCommand('dlqPush', { numberOfKeys: 2, lua: pushLua })
  // defineCommand adds the method at run time; its type is the script's calling convention.
  const pushChunk = (redis as unknown as { dlqPush: PushCommand }).dlqPush.bind(redis)
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
      throw new PipelineError(
        'DLQ_UNAVAILABLE',
        `dead-letter queue (Redis ${options.addr}) ${what} failed: ${(error as Error).message}`,
        {
          cause: error,
        },
      )
    }
  }

  return {
    async push(records) {
      // One chunk after another, so the list keeps the records' order (the last pushed is the first read).
      for (const args of chunkArgs(records, limits)) {
        await run('push', () => pushChunk(options.key, seenKeyOf(options.key), seenMaxAgeMs, seenMaxCount, ...args))
      }
    },
    async list(start = 0, stop = -1) {
      const items = await run('LRANGE', () => redis.lrange(options.key, start, stop))
      return items.map(item => JSON.parse(item) as DeadLetter)
    },
    async length() {
      return run('LLEN', () => redis.llen(options.key))
    },
    async ping() {
      await run('PING', () => redis.ping())
    },
    async close() {
      await redis.quit().catch(() => redis.disconnect())
    },
  }
}
