// One batch of Kafka records → stored in SQL or dead-lettered, nothing else. The caller commits offsets only
// after process() resolved: by then every record of the batch is either in the store or in the DLQ.
//
//   parse every record ─ bad ones ──────────────────────────────────────────────┐
//   apply the good ones in one transaction                                       │
//     transient failure → back off, retry the same transaction (never DLQ)       │
//     permanent failure → split the batch in halves until the failing records   │
//                         are isolated; the rest is applied                      ├─▶ one LPUSH to the DLQ
//   constraint violations → retried for FK_RETRY_MS (their parent may be in      │   (retried until Redis
//                         flight on another partition), then dead-lettered ─────┘    answers; no commit before)
import { type DeadLetter, type DeadLetterQueue, encodePayload } from '../dlq/index.ts'
import { asPipelineError, type PipelineError } from '../errors.ts'
import { type Event, eventIdOf, keyOf, parseRecord } from '../events/index.ts'
import type { ConsumerMetrics, Logger } from '../observability/index.ts'
import type { SourcedEvent, Store } from '../store/index.ts'
import { Aborted, backoffDelay, pause } from './retry.ts'

export interface InboundRecord {
  readonly topic: string
  readonly partition: number
  readonly offset: bigint
  readonly key: Uint8Array | null
  readonly value: Uint8Array | null
  /** Kafka record timestamp (ms since epoch), for the end-to-end latency in logs. */
  readonly timestamp?: bigint
}

interface Item extends SourcedEvent {
  readonly record: InboundRecord
}

interface Failure {
  readonly record: InboundRecord
  readonly event?: Event
  readonly error: PipelineError
  attempts: number
}

/** A record that violated a constraint and waits for another try. */
export interface Parked {
  readonly record: InboundRecord
  readonly event: Event
  readonly error: PipelineError
  readonly attempts: number
  readonly firstFailedAt: number
  readonly retryAt: number
}

export interface ProcessOutcome {
  readonly applied: number
  readonly deadLettered: number
  /** Records to try again later; the caller keeps them and must not commit past them. */
  readonly parked: Parked[]
}

export interface ProcessorOptions {
  store: Store
  dlq: DeadLetterQueue
  logger: Logger
  metrics: ConsumerMetrics
  /** How long constraint violations are retried before they are dead-lettered. */
  fkRetryMs: number
  /** Called with the error while a transient failure keeps the consumer retrying, and with undefined after. */
  onDegraded?: (error: PipelineError | undefined) => void
}

const keyText = (key: Uint8Array | null) => (key === null ? null : Buffer.from(key).toString('utf8'))

function fieldsOf(record: InboundRecord, event?: Event) {
  return {
    eventId: event?.eventId ?? null,
    type: event?.type ?? null,
    key: event ? keyOf(event) : keyText(record.key),
    topic: record.topic,
    partition: record.partition,
    offset: record.offset.toString(),
  }
}

export function createProcessor(options: ProcessorOptions) {
  const { store, dlq, logger, metrics } = options

  /** Runs `operation` until it succeeds or fails permanently; transient failures back off and retry. */
  async function untilDone<T>(what: string, operation: () => Promise<T>, signal: AbortSignal): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        const result = await operation()
        if (attempt > 0) {
          logger.info({ attempts: attempt + 1 }, `${what} succeeded after retrying`)
          options.onDegraded?.(undefined)
        }
        return result
      } catch (thrown) {
        const error = asPipelineError(thrown)
        if (!error.retryable) throw error
        metrics.retries.inc({ code: error.code })
        options.onDegraded?.(error)
        const delay = backoffDelay(attempt)
        logger.warn(
          { err: error, code: error.code, attempt: attempt + 1, retryInMs: delay },
          `${what} failed; retrying`,
        )
        if (!(await pause(delay, signal))) throw new Aborted()
      }
    }
  }

  async function applyTimed(items: readonly Item[], signal: AbortSignal): Promise<void> {
    await untilDone(
      'store transaction',
      async () => {
        const end = metrics.dbLatency.startTimer({ operation: 'apply_batch' })
        try {
          await store.applyBatch(items)
        } finally {
          end()
        }
      },
      signal,
    )
  }

  /** Applies what can be applied; pushes each record that fails on its own, permanently, into `failures`. */
  async function isolate(items: Item[], applied: Item[], failures: Failure[], signal: AbortSignal): Promise<void> {
    if (items.length === 0) return
    try {
      await applyTimed(items, signal)
      applied.push(...items)
    } catch (thrown) {
      if (thrown instanceof Aborted) throw thrown
      const error = asPipelineError(thrown)
      if (items.length === 1) {
        const [item] = items as [Item]
        failures.push({ record: item.record, event: item.event, error, attempts: 1 })
        return
      }
      // Halves keep offset order: everything before the failing record is applied before anything after it.
      const middle = Math.ceil(items.length / 2)
      await isolate(items.slice(0, middle), applied, failures, signal)
      await isolate(items.slice(middle), applied, failures, signal)
    }
  }

  function deadLetterOf(failure: Failure, failedAt: string): DeadLetter {
    const { record, event, error } = failure
    let eventId = event?.eventId ?? null
    if (eventId === null && record.value !== null) {
      try {
        eventId = eventIdOf(JSON.parse(Buffer.from(record.value).toString('utf8')))
      } catch {
        // Not JSON: there is no eventId to report.
      }
    }
    return {
      eventId,
      topic: record.topic,
      partition: record.partition,
      offset: record.offset.toString(),
      key: keyText(record.key),
      ...encodePayload(record.value),
      error: { code: error.code, message: error.message },
      attempts: failure.attempts,
      failedAt,
      source: 'consumer',
    }
  }

  /** messages_processed_total, one increment per type and batch rather than per record. */
  function countApplied(applied: readonly Item[]): void {
    let users = 0
    let orders = 0
    let payments = 0
    let deltas = 0
    for (const { event } of applied) {
      if (event.type === 'UserCreated') users++
      else if (event.type === 'OrderPlaced') orders++
      else if (event.type === 'PaymentSettled') payments++
      else deltas++
    }
    if (users > 0) metrics.processed.inc({ type: 'UserCreated' }, users)
    if (orders > 0) metrics.processed.inc({ type: 'OrderPlaced' }, orders)
    if (payments > 0) metrics.processed.inc({ type: 'PaymentSettled' }, payments)
    if (deltas > 0) metrics.processed.inc({ type: 'InventoryAdjusted' }, deltas)
  }

  /**
   * One "event applied" line per record. What the records of a batch share (topic, partition, the batch's
   * latency) goes into a child logger, which pino serialises once, so each line only adds its own fields: about
   * a quarter cheaper per line (8.6 → 6.2 µs here), which at tens of thousands of lines a second adds up.
   */
  function logApplied(applied: readonly Item[], latencyMs: number): void {
    const now = Date.now()
    let child: Logger | undefined
    let topic: string | undefined
    let partition = -1
    for (const { record, event } of applied) {
      if (child === undefined || record.partition !== partition || record.topic !== topic) {
        topic = record.topic
        partition = record.partition
        child = logger.child({ topic, partition, latencyMs })
      }
      const produced = record.timestamp === undefined ? 0 : Number(record.timestamp)
      child.info(
        {
          eventId: event.eventId,
          type: event.type,
          key: keyOf(event),
          offset: record.offset.toString(),
          endToEndMs: produced > 0 ? now - produced : undefined,
        },
        'event applied',
      )
    }
  }

  return {
    /**
     * Applies `records` (new from Kafka) and then `retry` (parked records that are due), dead-letters what
     * failed for good, and returns what should be parked again.
     */
    async process(
      records: readonly InboundRecord[],
      retry: readonly Parked[],
      signal: AbortSignal,
    ): Promise<ProcessOutcome> {
      const started = performance.now()
      const now0 = Date.now()
      const items: Item[] = []
      const failures: Failure[] = []
      for (const record of records) {
        try {
          const event = parseRecord(record.value)
          items.push({ event, source: record, record })
        } catch (thrown) {
          failures.push({ record, error: asPipelineError(thrown), attempts: 1 })
        }
      }

      const applied: Item[] = []
      await isolate(items, applied, failures, signal)
      // Parked records go after the new ones: a parent they wait for may be in this very batch.
      const retried: Failure[] = []
      await isolate(
        retry.map(p => ({ event: p.event, source: p.record, record: p.record })),
        applied,
        retried,
        signal,
      )
      const parkedBefore = new Map(retry.map(p => [p.record, p]))
      const parked: Parked[] = []
      const final: Failure[] = []
      for (const f of [...failures, ...retried]) {
        const before = parkedBefore.get(f.record)
        const attempts = (before?.attempts ?? 0) + 1
        const firstFailedAt = before?.firstFailedAt ?? now0
        if (
          f.error.code === 'CONSTRAINT_VIOLATION' &&
          f.event !== undefined &&
          now0 - firstFailedAt < options.fkRetryMs
        ) {
          const retryAt = Math.min(firstFailedAt + options.fkRetryMs, Date.now() + backoffDelay(attempts - 1))
          parked.push({ record: f.record, event: f.event, error: f.error, attempts, firstFailedAt, retryAt })
        } else {
          f.attempts = attempts
          final.push(f)
        }
      }

      if (final.length > 0) {
        const failedAt = new Date().toISOString()
        const letters = final
          .sort((a, b) => a.record.partition - b.record.partition || Number(a.record.offset - b.record.offset))
          .map(f => deadLetterOf(f, failedAt))
        // Commit only after the DLQ push succeeded: a failed push must leave the offsets uncommitted, so the
        // push is retried here until Redis answers (or shutdown aborts, and the records are seen again).
        await untilDone('dead-letter push', () => dlq.push(letters), signal)
        for (const [i, f] of final.entries()) {
          metrics.dlq.inc({ code: f.error.code })
          logger.error(
            {
              ...fieldsOf(f.record, f.event),
              eventId: letters[i]?.eventId ?? null,
              err: { code: f.error.code, message: f.error.message },
              attempts: f.attempts,
            },
            'event dead-lettered',
          )
        }
      }

      const latencyMs = Math.round((performance.now() - started) * 100) / 100
      countApplied(applied)
      if (applied.length > 0 && logger.isLevelEnabled('info')) logApplied(applied, latencyMs)
      if (records.length > 0) metrics.batchSize.observe(records.length)
      return { applied: applied.length, deadLettered: final.length, parked }
    },
  }
}

export type Processor = ReturnType<typeof createProcessor>
