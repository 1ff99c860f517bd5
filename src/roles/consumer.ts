// The consumer role: Kafka → store, bad records → Redis DLQ; its HTTP app serves /health, /ready and /metrics.
import type { FastifyInstance } from 'fastify'
import type { Registry } from 'prom-client'
import {
  consolePage,
  registerAdminRoutes,
  registerConsoleRoutes,
  registerPauseRoutes,
  registerRebuildRoutes,
  registerSeriesRoutes,
} from '../admin/index.ts'
import type { Config } from '../config/index.ts'
import {
  type ConsumerService,
  type ConsumerServiceOptions,
  consumerSettingsOf,
  createConsumerService,
  type PauseBoard,
  pauseBoardFromConfig,
} from '../consumer/index.ts'
import { type DeadLetterQueue, dlqFromConfig } from '../dlq/index.ts'
import { adminFromConfig, pauseAudit } from '../dlq-ops/index.ts'
import { PipelineError } from '../errors.ts'
import { deadLettersOf } from '../event-status/index.ts'
import { buildBaseApp, type Check, httpLimitsOf } from '../http/index.ts'
import { connectionOf, createOffsetsReader, type OffsetsReader } from '../kafka/index.ts'
import { type ConsumerMetrics, consumerMetrics, type Logger } from '../observability/index.ts'
import { lazyGenerations, rebuildsFromConfig } from '../rebuild/index.ts'
import { createGenerations, type Generations, type Store } from '../store/index.ts'
import { watchDlq } from './dlq-watch.ts'
import { observabilityOf, openStore, type RoleInstance, type RoleOverrides } from './role.ts'

/** Service settings that replace the configuration's, and the tuning the configuration does not expose. */
export type ConsumerSettingsOverrides = Partial<Omit<ConsumerServiceOptions, 'store' | 'dlq' | 'logger' | 'metrics'>>

export interface ConsumerRoleOverrides extends RoleOverrides {
  /** Default: the store of the configuration, migrated. The caller closes one it passes. */
  store?: Store
  /** Default: the Redis DLQ of the configuration. The caller closes one it passes. */
  dlq?: DeadLetterQueue
  settings?: ConsumerSettingsOverrides
  /** Default: the store's own generations (for /admin/rebuild). The caller closes one it passes. */
  generations?: Generations
}

export interface ConsumerRole extends RoleInstance {
  readonly role: 'consumer'
  readonly service: ConsumerService
  readonly store: Store
  readonly dlq: DeadLetterQueue
  readonly registry: Registry
  readonly metrics: ConsumerMetrics
  /** The group's pause board: this role's members obey it; the admin API and the CLI change it. */
  readonly pause: PauseBoard
}

/** Longest the console's overview waits for another role, Kafka or the database. */
const consoleTimeoutMs = 2000

const checked = (probe: Promise<unknown>): Promise<Check> =>
  probe.then(
    () => ({ ok: true }),
    (error: Error) => ({ ok: false, error: error.message }),
  )

/** The /ready check of paused partitions: always ok (a pause is intended), the partitions in its details. */
const pausedCheck = (partitions: readonly number[]): Check & { partitions: number[] } => ({
  ok: true,
  partitions: [...partitions],
})

/** The consumer's /ready checks: the group, the store, Redis, the processing, and what is paused. */
async function readiness(service: ConsumerService, store: Store, dlq: DeadLetterQueue): Promise<Record<string, Check>> {
  const status = service.status()
  const [database, deadLetters] = await Promise.all([checked(store.ping()), checked(dlq.ping())])
  return {
    kafka: status.joined ? { ok: true } : { ok: false, error: 'not a member of the consumer group yet' },
    database,
    dlq: deadLetters,
    processing: status.degraded
      ? { ok: false, error: `retrying: ${status.degraded.code}: ${status.degraded.message}` }
      : { ok: true },
    // Paused on purpose: still ready. The details name what this member holds back, while it holds any.
    ...(status.paused.length > 0 ? { paused: pausedCheck(status.paused) } : {}),
    ...(status.pauseUnknown === undefined ? {} : { pauseRecord: { ok: false, error: status.pauseUnknown } }),
  }
}

export async function createConsumerRole(config: Config, overrides: ConsumerRoleOverrides = {}): Promise<ConsumerRole> {
  const { logger, registry } = observabilityOf(config, 'consumer', overrides)
  const metrics = consumerMetrics(registry)
  const store = overrides.store ?? (await openStore(config, logger))
  const dlq = overrides.dlq ?? dlqFromConfig(config, { logger, registry })
  const offsets = createOffsetsReader(connectionOf(config, 'console'), { timeoutMs: consoleTimeoutMs })
  const topic = overrides.settings?.topic ?? config.kafkaTopic
  const pause = pauseBoardFromConfig(
    { ...config, kafkaTopic: topic, kafkaGroupId: overrides.settings?.groupId ?? config.kafkaGroupId },
    () =>
      offsets.ends(topic).then(
        ends => ends.size,
        (error: Error) => {
          throw new PipelineError('KAFKA_UNAVAILABLE', `reading the partitions of ${topic}: ${error.message}`)
        },
      ),
    redis => pauseAudit(redis, config.dlqKey),
  )
  const service = createConsumerService({
    ...consumerSettingsOf(config),
    ...overrides.settings,
    store,
    dlq,
    logger,
    metrics,
    pause,
  })
  const dlqWatch = watchDlq(dlq, config.redisAddr, logger)
  const app = buildBaseApp({
    role: 'consumer',
    logger,
    registry,
    limits: httpLimitsOf(config),
    adminToken: config.adminToken,
    // The console exists only with an admin token: every call it makes needs one.
    ...(config.adminToken === undefined ? {} : { page: consolePage() }),
    // Without Redis nothing can be dead-lettered, and a bad record holds its partition: worth telling on
    // /health too, which orchestrators and people look at first.
    health: () => ({ dlq: { state: dlqWatch.state, detail: `Redis ${config.redisAddr}` } }),
    ready: () => readiness(service, store, dlq),
  })
  // The DLQ admin API, the rebuild, the pause, the charts and the console exist only with ADMIN_TOKEN: without it,
  // /admin/… is a plain 404.
  const surface =
    config.adminToken === undefined
      ? undefined
      : adminSurface(app, config, config.adminToken, { overrides, service, store, dlq, pause, offsets, logger })
  return {
    role: 'consumer',
    app,
    service,
    store,
    dlq,
    registry,
    metrics,
    pause,
    start: async () => {
      await Promise.all([dlqWatch.start(), service.start()])
    },
    // The batch in hand gets half the shutdown budget to finish. A statement still hanging then (a database
    // that stopped answering) is cancelled by closing the store: the batch fails as transient and is abandoned
    // uncommitted, so the drain can commit what did finish and leave the group before the budget runs out.
    drain: async () => {
      const cancel = setTimeout(() => void store.close(), config.shutdownTimeoutMs / 2)
      try {
        await service.close()
      } finally {
        clearTimeout(cancel)
      }
    },
    close: async () => {
      dlqWatch.stop()
      await surface?.close()
      await app.close()
      await offsets.close()
      await pause.close()
      await Promise.all([
        overrides.store === undefined ? store.close() : undefined,
        overrides.dlq === undefined ? dlq.close() : undefined,
      ])
    },
  }
}

interface SurfaceParts {
  readonly overrides: ConsumerRoleOverrides
  readonly service: ConsumerService
  readonly store: Store
  readonly dlq: DeadLetterQueue
  readonly pause: PauseBoard
  readonly offsets: OffsetsReader
  readonly logger: Logger
}

/** Registers the admin routes, the rebuild's, the pause's, the charts' and the console; answers how to close them. */
function adminSurface(app: FastifyInstance, config: Config, token: string, parts: SurfaceParts) {
  const { overrides, service, store, dlq, pause, offsets, logger } = parts
  registerSeriesRoutes(app, token, {
    memory: () => service.series(),
    ...(config.prometheusUrl === undefined
      ? {}
      : { prometheus: { url: config.prometheusUrl, topic: config.kafkaTopic } }),
  })
  const admin = adminFromConfig(config, dlq)
  const adminRoutes = registerAdminRoutes(app, { admin, token, bodyLimitBytes: config.bodyLimitBytes, logger })
  // The rebuild of this store over HTTP: its fill, swap and rollback run in the background of this process.
  const generations =
    overrides.generations ??
    lazyGenerations(() => createGenerations(config.database, { timeoutMs: config.dbTimeoutMs }))
  const built = rebuildsFromConfig(config, { generations, live: store, logger, pause })
  const rebuildRoutes = registerRebuildRoutes(app, { rebuilds: built.rebuilds, token, logger })
  registerPauseRoutes(app, { board: pause, token })
  registerConsoleRoutes(app, token, {
    topic: config.kafkaTopic,
    group: config.kafkaGroupId,
    producerUrl: config.consoleProducerUrl ?? `http://127.0.0.1:${config.producerPort}`,
    apiUrl: config.consoleApiUrl ?? `http://127.0.0.1:${config.apiPort}`,
    selfUrl: '(this process)',
    offsets,
    pendingStats: () => store.pendingStats(),
    timeoutMs: consoleTimeoutMs,
    events: { store, deadLetters: deadLettersOf(dlq), keySummaries: questions => dlq.keySummaries(questions) },
  })
  return {
    async close() {
      await adminRoutes.close()
      await rebuildRoutes.close()
      await built.close()
      if (overrides.generations === undefined) await generations.close()
      await admin.close()
    },
  }
}
