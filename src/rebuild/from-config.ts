// The rebuild of the configured store, built once for the CLI and for the consumer role alike.
import type { Config } from '../config/index.ts'
import { consumerSettingsOf, pauseBoardFromConfig } from '../consumer/index.ts'
import { closeClient, createRedisClient, redisOptionsOf } from '../dlq/index.ts'
import { pauseAudit } from '../dlq-ops/index.ts'
import { connectionOf, createOffsetsReader } from '../kafka/index.ts'
import type { Logger } from '../observability/index.ts'
import type { Generations, Store } from '../store/index.ts'
import { type GroupPause, type RebuildOptions, Rebuilds } from './rebuild.ts'
import { storeIdOf } from './store-id.ts'

export interface RebuildsFromConfig {
  readonly rebuilds: Rebuilds
  /** Closes what this built (Redis client, Kafka offsets reader); the store and the generations are the caller's. */
  close(): Promise<void>
}

export function rebuildsFromConfig(
  config: Config,
  parts: {
    generations: Generations
    live: Store
    logger: Logger
    /** The live group's pause board (default: one of its own for the configured group, closed with it). */
    pause?: GroupPause
  },
  tuning: Pick<RebuildOptions, 'leaseMs' | 'tickMs' | 'stopWaitMs' | 'catchUpMs' | 'settleMs'> = {},
): RebuildsFromConfig {
  const redis = createRedisClient(redisOptionsOf(config))
  const consumer = consumerSettingsOf(config)
  const offsets = createOffsetsReader(connectionOf(config, 'rebuild'), { timeoutMs: 10_000 })
  const own =
    parts.pause === undefined
      ? pauseBoardFromConfig(
          config,
          async () => (await offsets.ends(config.kafkaTopic)).size,
          client => pauseAudit(client, config.dlqKey),
        )
      : undefined
  const rebuilds = new Rebuilds({
    ...tuning,
    ...parts,
    pause: parts.pause ?? own,
    redis,
    dlqKey: config.dlqKey,
    storeId: storeIdOf(config.database),
    consumer: { ...consumer, connection: connectionOf(config, 'rebuild') },
    offsets,
  })
  return {
    rebuilds,
    close: async () => {
      await Promise.allSettled([closeClient(redis), offsets.close(), own?.close()])
    },
  }
}

/**
 * Generations made on first use: a process that never rebuilds (or only asks status) does not make them, and a
 * store that cannot hold them (SQLite in memory) refuses the rebuild command, not the start of the consumer.
 */
export function lazyGenerations(make: () => Promise<Generations>): Generations {
  let made: Promise<Generations> | undefined
  const get = () => {
    made ??= make()
    return made
  }
  return {
    create: async name => (await get()).create(name),
    open: async name => (await get()).open(name),
    compare: async (name, options) => (await get()).compare(name, options),
    swap: async name => (await get()).swap(name),
    rollback: async name => (await get()).rollback(name),
    dropOld: async name => (await get()).dropOld(name),
    drop: async name => (await get()).drop(name),
    list: async () => (await get()).list(),
    close: async () => {
      const generations = await made?.catch(() => undefined)
      await generations?.close()
    },
  }
}
