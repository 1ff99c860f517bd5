// The Redis list backend of the dead-letter queue: LPUSH to `dlq:events`, newest first (the seed's contract).
import { readFileSync } from 'node:fs'
import { Redis } from 'ioredis'
import type { Config } from '../config/index.ts'
import { PipelineError } from '../errors.ts'
import type { DeadLetter } from './record.ts'

export interface DeadLetterQueue {
  /** Pushes every record in one round trip; resolves only once Redis has them. Throws DLQ_UNAVAILABLE. */
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
  /** How long one command may wait for Redis before it counts as unavailable. */
  commandTimeoutMs?: number
  /** TLS to Redis; `ca` is a PEM bundle (default: the system CAs). */
  tls?: { ca?: Buffer }
}

/** The dead-letter queue the configuration names (REDIS_ADDR, REDIS_PASSWORD, DLQ_KEY, REDIS_TLS…). */
export function dlqFromConfig(
  config: Pick<Config, 'redisAddr' | 'redisPassword' | 'dlqKey' | 'redisTls' | 'redisTlsCaFile'>,
): DeadLetterQueue {
  return createRedisDlq({
    addr: config.redisAddr,
    password: config.redisPassword,
    key: config.dlqKey,
    ...(config.redisTls ? { tls: config.redisTlsCaFile ? { ca: readFileSync(config.redisTlsCaFile) } : {} } : {}),
  })
}

export function createRedisDlq(options: RedisDlqOptions): DeadLetterQueue {
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
    commandTimeout: options.commandTimeoutMs ?? 2000,
    connectTimeout: 2000,
    retryStrategy: attempt => Math.min(100 * 2 ** attempt, 2000),
  })
  // Connection errors surface through the failing command; without a listener ioredis would print them.
  redis.on('error', () => {})
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
      if (records.length === 0) return
      await run('LPUSH', () => redis.lpush(options.key, ...records.map(r => JSON.stringify(r))))
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
