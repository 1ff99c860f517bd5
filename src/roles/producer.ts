// The producer role: POST /produce publishing to Kafka, with requests it refuses dead-lettered in Redis.
import type { Config } from '../config/index.ts'
import { type DeadLetterQueue, dlqFromConfig } from '../dlq/index.ts'
import { httpLimitsOf } from '../http/index.ts'
import { connectionOf } from '../kafka/options.ts'
import { buildProducerApp, createPublisher, type Publisher } from '../producer/index.ts'
import { observabilityOf, type RoleInstance, type RoleOverrides } from './role.ts'

export interface ProducerRoleOverrides extends RoleOverrides {
  /** Default: the Redis DLQ of the configuration. The caller closes one it passes. */
  dlq?: DeadLetterQueue
}

export interface ProducerRole extends RoleInstance {
  readonly role: 'producer'
  readonly publisher: Publisher
  readonly dlq: DeadLetterQueue
}

export async function createProducerRole(config: Config, overrides: ProducerRoleOverrides = {}): Promise<ProducerRole> {
  const { logger, registry } = observabilityOf(config, 'producer', overrides)
  const publisher = await createPublisher({
    connection: connectionOf(config, 'producer'),
    topic: config.kafkaTopic,
    partitions: config.kafkaPartitions,
    logger,
  })
  // Refused requests go to the DLQ too, so the reference system's "malformed event → dlq:events" checks hold while the client
  // gets its 400 at once.
  const dlq = overrides.dlq ?? dlqFromConfig(config, { logger, registry })
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
    publisher,
    dlq,
    start: async () => {},
    drain: async () => {
      await app.close()
      await publisher.close()
    },
    close: async () => {
      if (overrides.dlq === undefined) await dlq.close()
    },
  }
}
