// Builds and runs the roles: each one is a set of components plus a Fastify app on its own port.
// Shutdown order (written down once, here): mark every app closing (/ready → 503, producer → 503), stop the
// producer's HTTP intake and flush Kafka, drain the consumer (batch in hand → store/DLQ → commit → leave group),
// close the HTTP servers, then the stores and Redis connections.
import type { FastifyInstance } from 'fastify'
import { buildApiApp } from '../api/index.ts'
import type { Config, Role } from '../config/index.ts'
import { consumerSettingsOf, createConsumerService } from '../consumer/index.ts'
import { dlqFromConfig } from '../dlq/index.ts'
import { buildBaseApp, httpLimitsOf, markClosing } from '../http/index.ts'
import { connectionOf } from '../kafka/options.ts'
import { consumerMetrics, createLogger, createRegistry, type Logger } from '../observability/index.ts'
import { buildProducerApp, createPublisher } from '../producer/index.ts'
import { createStore, type Store } from '../store/index.ts'

interface RunningRole {
  role: Role
  app: FastifyInstance
  /** Stops the role's own work (intake, drain); the app and resources close after. */
  drain: () => Promise<void>
  release: () => Promise<void>
}

async function storeOf(config: Config, logger: Logger): Promise<Store> {
  const store = await createStore(config.database, { timeoutMs: config.dbTimeoutMs })
  await store.migrate()
  logger.info({ engine: store.engine }, 'store ready')
  return store
}

async function producerRole(config: Config): Promise<RunningRole> {
  const logger = createLogger(config.logLevel, 'producer')
  const registry = createRegistry('producer')
  const publisher = await createPublisher({
    connection: connectionOf(config, 'producer'),
    topic: config.kafkaTopic,
    partitions: config.kafkaPartitions,
    logger,
  })
  // Rejected events also go to the DLQ, so the seed's "malformed event → dlq:events" checks still hold
  // while the client gets its 400 at once.
  const dlq = dlqFromConfig(config, { logger, registry })
  const app = buildProducerApp({
    config,
    limits: httpLimitsOf(config),
    logger,
    registry,
    publisher,
    rejected: records => dlq.push(records),
  })
  return {
    role: 'producer',
    app,
    drain: async () => {
      await app.close()
      await publisher.close()
    },
    release: () => dlq.close(),
  }
}

async function consumerRole(config: Config): Promise<RunningRole> {
  const logger = createLogger(config.logLevel, 'consumer')
  const registry = createRegistry('consumer')
  const metrics = consumerMetrics(registry)
  const store = await storeOf(config, logger)
  const dlq = dlqFromConfig(config, { logger, registry })
  const service = createConsumerService({ ...consumerSettingsOf(config), store, dlq, logger, metrics })
  const app = buildBaseApp({
    role: 'consumer',
    logger,
    registry,
    limits: httpLimitsOf(config),
    adminToken: config.adminToken,
    ready: async () => {
      const status = service.status()
      const [database, deadLetters] = await Promise.all([
        store.ping().then(
          () => ({ ok: true }),
          (error: Error) => ({ ok: false, error: error.message }),
        ),
        dlq.ping().then(
          () => ({ ok: true }),
          (error: Error) => ({ ok: false, error: error.message }),
        ),
      ])
      return {
        kafka: status.joined ? { ok: true } : { ok: false, error: 'not a member of the consumer group yet' },
        database,
        dlq: deadLetters,
        processing: status.degraded
          ? { ok: false, error: `retrying: ${status.degraded.code}: ${status.degraded.message}` }
          : { ok: true },
      }
    },
  })
  await service.start()
  return {
    role: 'consumer',
    app,
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
    release: async () => {
      await app.close()
      await Promise.all([store.close(), dlq.close()])
    },
  }
}

async function apiRole(config: Config): Promise<RunningRole> {
  const logger = createLogger(config.logLevel, 'api')
  const registry = createRegistry('api')
  const store = await storeOf(config, logger)
  const app = buildApiApp({
    store,
    logger,
    registry,
    limits: httpLimitsOf(config),
    readToken: config.readToken,
    adminToken: config.adminToken,
  })
  return {
    role: 'api',
    app,
    drain: async () => {},
    release: async () => {
      await app.close()
      await store.close()
    },
  }
}

const builders: Record<Role, (config: Config) => Promise<RunningRole>> = {
  producer: producerRole,
  consumer: consumerRole,
  api: apiRole,
}

export interface Running {
  /** Addresses the roles listen on, by role. */
  readonly addresses: Partial<Record<Role, string>>
  stop(): Promise<void>
}

/** Starts the roles (in this order) and their HTTP servers. `alone` lets SERVICE_PORT pick the port. */
export async function runRoles(config: Config, roles: readonly Role[], alone: boolean): Promise<Running> {
  const running: RunningRole[] = []
  const addresses: Partial<Record<Role, string>> = {}
  let stopping: Promise<void> | undefined

  async function stop(): Promise<void> {
    stopping ??= (async () => {
      for (const r of running) markClosing(r.app)
      // Producer first (no new events in), then the consumer's drain, then everything else.
      for (const role of ['producer', 'consumer', 'api'] as const) {
        for (const r of running.filter(x => x.role === role)) await r.drain()
      }
      await Promise.all(running.map(r => r.release()))
    })()
    return stopping
  }

  try {
    for (const role of roles) {
      const r = await builders[role](config)
      running.push(r)
      addresses[role] = await r.app.listen({ port: config.portOf(role, alone), host: config.host })
    }
  } catch (error) {
    await stop().catch(() => {})
    throw error
  }
  return { addresses, stop }
}
