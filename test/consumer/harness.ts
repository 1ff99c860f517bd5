// Builds the real consumer role (real Kafka, real Redis DLQ, a store the test owns) for one test, closed after it.
import { type LogLevel, loadConfig } from '../../src/config/index.ts'
import { createLogger, createRegistry } from '../../src/observability/index.ts'
import { createConsumerRole, stopRoles } from '../../src/roles/index.ts'
import type { Store } from '../../src/store/index.ts'
import type { Cleanup } from '../helpers/resources.ts'
import { testServices } from '../helpers/services.ts'

export interface HarnessOptions {
  topic: string
  store: Store
  dlqKey: string
  groupId?: string
  redisAddr?: string
  pendingMaxAgeMs?: number
  pendingSweepMs?: number
  batchMax?: number
  /** More configuration, as the environment would give it. */
  env?: Record<string, string>
}

export type Harness = Awaited<ReturnType<typeof startConsumer>>

export async function startConsumer(t: Cleanup, options: HarnessOptions) {
  const groupId = options.groupId ?? `group-${options.topic}`
  const config = loadConfig({
    KAFKA_BROKERS: testServices.kafkaBrokers.join(','),
    KAFKA_CLIENT_ID: 'test',
    KAFKA_TOPIC: options.topic,
    KAFKA_GROUP_ID: groupId,
    KAFKA_PARTITIONS: '3',
    REDIS_ADDR: options.redisAddr ?? testServices.redisAddr,
    REDIS_PASSWORD: testServices.redisPassword,
    DLQ_KEY: options.dlqKey,
    // Short, so a test of Redis going away sees the consumer give up on a command quickly.
    REDIS_TIMEOUT_MS: '500',
    CONSUMER_BATCH_MAX: String(options.batchMax ?? 500),
    CONSUMER_BATCH_WAIT_MS: '20',
    PENDING_MAX_AGE: `${options.pendingMaxAgeMs ?? 3_600_000}ms`,
    ...options.env,
  })
  const role = await createConsumerRole(config, {
    store: options.store,
    logger: createLogger((process.env['TEST_LOG_LEVEL'] as LogLevel | undefined) ?? 'silent', 'consumer'),
    registry: createRegistry('consumer', false),
    // Tuning the configuration does not expose: pending events swept often, a silent member noticed soon.
    settings: { pendingSweepMs: options.pendingSweepMs ?? 200, sessionTimeoutMs: 6000 },
  })
  await role.start()
  let closed: Promise<void> | undefined
  const close = () => {
    closed ??= stopRoles([role])
    return closed
  }
  t.after(close)
  return { service: role.service, dlq: role.dlq, registry: role.registry, metrics: role.metrics, groupId, role, close }
}
