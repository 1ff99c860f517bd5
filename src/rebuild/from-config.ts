// The rebuild of the configured store, built once for the CLI and for the consumer role alike.
import type { Config } from '../config/index.ts'
import { consumerSettingsOf } from '../consumer/index.ts'
import { closeClient, createRedisClient, redisOptionsOf } from '../dlq/index.ts'
import { connectionOf, createOffsetsReader } from '../kafka/index.ts'
import type { Logger } from '../observability/index.ts'
import type { Store } from '../store/index.ts'
import * as storeModule from '../store/index.ts'
import { RebuildError } from './errors.ts'
import type { Generations } from './generations.ts'
import { type RebuildOptions, Rebuilds } from './rebuild.ts'
import { storeIdOf } from './store-id.ts'

export interface RebuildsFromConfig {
  readonly rebuilds: Rebuilds
  /** Closes what this built (Redis client, Kafka offsets reader); the store and the generations are the caller's. */
  close(): Promise<void>
}

export function rebuildsFromConfig(
  config: Config,
  parts: { generations: Generations; live: Store; logger: Logger },
  tuning: Pick<RebuildOptions, 'leaseMs' | 'tickMs' | 'stopWaitMs' | 'catchUpMs' | 'settleMs'> = {},
): RebuildsFromConfig {
  const redis = createRedisClient(redisOptionsOf(config))
  const consumer = consumerSettingsOf(config)
  const offsets = createOffsetsReader(connectionOf(config, 'rebuild'), { timeoutMs: 10_000 })
  const rebuilds = new Rebuilds({
    ...tuning,
    ...parts,
    redis,
    dlqKey: config.dlqKey,
    storeId: storeIdOf(config.database),
    consumer: { ...consumer, connection: connectionOf(config, 'rebuild') },
    offsets,
  })
  return {
    rebuilds,
    close: async () => {
      await Promise.allSettled([closeClient(redis), offsets.close()])
    },
  }
}

/**
 * The store's own generations, loaded when first used (status needs none). The store module names them once
 * projection generations are part of it; a build without them says so instead of failing somewhere inside.
 */
export function storeGenerations(config: Config): Generations & { loaded(): boolean } {
  let loading: Promise<Generations> | undefined
  const load = () => {
    loading ??= (async () => {
      const create = (storeModule as Record<string, unknown>)['createGenerations']
      if (typeof create !== 'function') {
        throw new RebuildError('refused', 'this build of the store has no projection generations: a rebuild needs them')
      }
      return (await create(config.database, { timeoutMs: config.dbTimeoutMs })) as Generations
    })()
    return loading
  }
  return {
    loaded: () => loading !== undefined,
    create: async name => (await load()).create(name),
    open: async name => (await load()).open(name),
    compare: async (name, options) => (await load()).compare(name, options),
    swap: async name => (await load()).swap(name),
    rollback: async name => (await load()).rollback(name),
    dropOld: async name => (await load()).dropOld(name),
    drop: async name => (await load()).drop(name),
    list: async () => (await load()).list(),
    close: async () => {
      if (loading !== undefined) await (await loading.catch(() => undefined))?.close()
    },
  }
}
