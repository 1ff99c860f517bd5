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
