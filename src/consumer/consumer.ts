// The consumer: group membership, the consume loop, offset commits and the drain on shutdown.
// Lifecycle: start() joins the group and begins the loop; close() stops taking batches, finishes the batch in
// hand (store or DLQ, then commit), leaves the group and returns.
import { Consumer } from '@platformatic/kafka'
import type { DeadLetterQueue } from '../dlq/index.ts'
import type { PipelineError } from '../errors.ts'
import { ensureTopic } from '../kafka/admin.ts'
import type { KafkaConnection } from '../kafka/options.ts'
import type { ConsumerMetrics, Logger } from '../observability/index.ts'
import type { Store } from '../store/index.ts'
import { BatchReader, type RawMessage } from './batch-reader.ts'
import { createProcessor, type InboundRecord, type Parked } from './process.ts'
import { Aborted, backoffDelay, pause } from './retry.ts'

export interface ConsumerServiceOptions {
  connection: KafkaConnection
  topic: string
  groupId: string
  partitions: number
  store: Store
  dlq: DeadLetterQueue
  logger: Logger
  metrics: ConsumerMetrics
  batchMax: number
  batchWaitMs: number
  fkRetryMs: number
  /** Group session timeout: how long a silent member keeps its partitions. */
  sessionTimeoutMs?: number
}

export interface ConsumerStatus {
  joined: boolean
  /** The transient failure the consumer is retrying, if any. */
  degraded: { code: string; message: string } | undefined
  applied: number
  deadLettered: number
  /** Records waiting for a retry (constraint violations inside FK_RETRY_MS). */
  parked: number
  batches: number
}

const toRecord = (m: RawMessage): InboundRecord => ({
  topic: m.topic,
  partition: m.partition,
  offset: m.offset,
  key: m.key ?? null,
  value: m.value ?? null,
  timestamp: m.timestamp,
})

export function createConsumerService(options: ConsumerServiceOptions) {
  const { logger, metrics } = options
  const status: ConsumerStatus = {
    joined: false,
    degraded: undefined,
    applied: 0,
    deadLettered: 0,
    parked: 0,
    batches: 0,
  }
  const processor = createProcessor({
    store: options.store,
    dlq: options.dlq,
    logger,
    metrics,
    fkRetryMs: options.fkRetryMs,
    onDegraded: (error: PipelineError | undefined) => {
      status.degraded = error ? { code: error.code, message: error.message } : undefined
    },
  })
  const consumer = new Consumer({
    ...options.connection,
    groupId: options.groupId,
    sessionTimeout: options.sessionTimeoutMs ?? 10_000,
    heartbeatInterval: 1000,
    rebalanceTimeout: 30_000,
    maxWaitTime: 100,
    maxBytes: 16 * 1024 * 1024,
  })
  consumer.on('consumer:group:join', () => {
    status.joined = true
    logger.info({ groupId: options.groupId, topic: options.topic }, 'joined consumer group')
  })
  consumer.on('consumer:group:leave', () => {
    status.joined = false
  })
  consumer.on('consumer:lag', lag => {
    for (const [topic, partitions] of lag) {
      partitions.forEach((value, partition) => {
        if (value >= 0n) metrics.lag.set({ topic, partition: String(partition) }, Number(value))
      })
    }
  })
  consumer.on('consumer:lag:error', error => logger.debug({ err: error }, 'lag monitoring failed'))

  const stop = new AbortController()
  let loop: Promise<void> | undefined

  async function openReader(): Promise<BatchReader> {
    const stream = await consumer.consume({
      topics: [options.topic],
      // Start where the group left off; a new group starts from the beginning, so nothing produced before the
      // consumer started is skipped (the seed started at the latest offset and lost those).
      mode: 'committed',
      fallbackMode: 'earliest',
      autocommit: false,
      highWaterMark: options.batchMax * 2,
    })
    return new BatchReader(stream, options.batchMax)
  }

  // Per partition: the offset after the last record handled, and the last offset committed.
  const handled = new Map<string, { topic: string; partition: number; next: bigint; leaderEpoch: number }>()
  const committed = new Map<string, bigint>()
  let parked: Parked[] = []
  const keyOf = (topic: string, partition: number) => `${topic}\u0000${partition}`

  /**
   * Commits, per partition, the offset after the last handled record, but never past a parked record: the
   * offset only moves past records that are stored or dead-lettered.
   */
  async function commit(batch: readonly RawMessage[]): Promise<void> {
    for (const m of batch) {
      const key = keyOf(m.topic, m.partition)
      const seen = handled.get(key)
      if (seen === undefined || seen.next <= m.offset) {
        handled.set(key, { topic: m.topic, partition: m.partition, next: m.offset + 1n, leaderEpoch: m.leaderEpoch })
      }
    }
    const offsets = []
    for (const [key, h] of handled) {
      let offset = h.next
      for (const p of parked) {
        if (p.record.topic === h.topic && p.record.partition === h.partition && p.record.offset < offset) {
          offset = p.record.offset
        }
      }
      if ((committed.get(key) ?? -1n) < offset)
        offsets.push({ key, topic: h.topic, partition: h.partition, offset, leaderEpoch: h.leaderEpoch })
    }
    if (offsets.length === 0) return
    try {
      await consumer.commit({ offsets: offsets.map(({ key: _, ...o }) => o) })
      for (const o of offsets) committed.set(o.key, o.offset)
    } catch (error) {
      // Everything up to these offsets is stored or dead-lettered; a failed commit (typically a rebalance)
      // only means the new owner sees these records again, and the store applies them idempotently.
      logger.warn({ err: error }, 'offset commit failed; the records will be redelivered and re-applied idempotently')
    }
  }

  async function run(): Promise<void> {
    let reader: BatchReader | undefined
    let failures = 0
    while (!stop.signal.aborted) {
      try {
        reader ??= await openReader()
        const failure = reader.failure
        if (failure) {
          logger.warn({ err: failure }, 'message stream stopped; reopening it')
          await reader.close()
          reader = undefined
          if (!(await pause(backoffDelay(failures++), stop.signal))) break
          continue
        }
        const nextRetry = parked.reduce((min, p) => Math.min(min, p.retryAt), Number.POSITIVE_INFINITY)
        const idleMs = Math.max(1, Math.min(1000, nextRetry - Date.now()))
        const batch = await reader.next(options.batchWaitMs, idleMs, stop.signal)
        failures = 0
        const now = Date.now()
        const due = parked.filter(p => p.retryAt <= now)
        if (batch.length === 0 && due.length === 0) continue
        const outcome = await processor.process(batch.map(toRecord), due, stop.signal)
        parked = [...parked.filter(p => p.retryAt > now), ...outcome.parked]
        await commit(batch)
        status.applied += outcome.applied
        status.deadLettered += outcome.deadLettered
        status.parked = parked.length
        if (batch.length > 0) status.batches++
      } catch (error) {
        if (error instanceof Aborted) break
        logger.error({ err: error }, 'consume loop failed; retrying')
        await reader?.close()
        reader = undefined
        if (!(await pause(backoffDelay(failures++), stop.signal))) break
      }
    }
    await reader?.close()
  }

  return {
    status: (): Readonly<ConsumerStatus> => status,

    async start(): Promise<void> {
      await ensureTopic(options.connection, options.topic, options.partitions)
      await options.store.migrate()
      consumer.startLagMonitoring({ topics: [options.topic] }, 5000)
      loop = run().catch(error => logger.fatal({ err: error }, 'consume loop crashed'))
    },

    /**
     * Stops intake, lets the batch in hand finish (stored or dead-lettered, then committed) unless it is stuck
     * retrying a transient failure — then it is abandoned uncommitted and will be seen again — and leaves the
     * group.
     */
    async close(): Promise<void> {
      stop.abort()
      await loop
      consumer.stopLagMonitoring()
      await consumer.close().catch(error => logger.warn({ err: error }, 'closing the Kafka consumer failed'))
      status.joined = false
    },
  }
}

export type ConsumerService = ReturnType<typeof createConsumerService>
