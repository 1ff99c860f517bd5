// Builds a real consumer (real Kafka, real Redis DLQ, a real store) for one test, closed after it.
import { createConsumerService } from '../../src/consumer/index.ts'
import { createRedisDlq, type DeadLetterQueue } from '../../src/dlq/index.ts'
import { consumerMetrics, createLogger, createRegistry } from '../../src/observability/index.ts'
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
}

export type Harness = Awaited<ReturnType<typeof startConsumer>>

export async function startConsumer(t: Cleanup, options: HarnessOptions) {
  const dlq: DeadLetterQueue = createRedisDlq({
    addr: options.redisAddr ?? testServices.redisAddr,
    password: testServices.redisPassword,
    key: options.dlqKey,
    commandTimeoutMs: 500,
  })
  const registry = createRegistry('consumer', false)
  const metrics = consumerMetrics(registry)
  const groupId = options.groupId ?? `group-${options.topic}`
  const service = createConsumerService({
    connection: { clientId: 'test-consumer', bootstrapBrokers: [...testServices.kafkaBrokers] },
    topic: options.topic,
    groupId,
    partitions: 3,
    store: options.store,
    dlq,
    logger: createLogger((process.env['TEST_LOG_LEVEL'] as 'silent' | undefined) ?? 'silent', 'consumer'),
    metrics,
    batchMax: options.batchMax ?? 500,
    batchWaitMs: 20,
    pendingMaxAgeMs: options.pendingMaxAgeMs ?? 3_600_000,
    pendingSweepMs: options.pendingSweepMs ?? 200,
    sessionTimeoutMs: 6000,
  })
  await service.start()
  let closed = false
  const close = async () => {
    if (closed) return
    closed = true
    await service.close()
    await dlq.close()
  }
  t.after(close)
  return { service, dlq, registry, metrics, groupId, close }
}
