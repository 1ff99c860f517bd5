// One batch of Kafka records → stored in SQL (applied, or pending on a missing parent) or dead-lettered, nothing
// else. The caller commits offsets only after process() resolved: by then every record of the batch is either in
// the store or in the DLQ.
//
//   parse every record ─ bad ones, events too far ahead of their record ────────┐
//   apply the good ones in one transaction (an order whose user is missing      │
//     is kept as a pending event in it; a reused delta eventId is refused)  ────┤
//     transient failure → back off, retry the same transaction (never DLQ)      ├─▶ one idempotent DLQ push
//     permanent failure → split the batch in halves until the failing records  │   (retried until Redis
//                         are isolated; the rest is applied ───────────────────┘    answers; no commit before)

import { pause } from '../async.ts'
import { asPipelineError, PipelineError } from '../errors.ts'
import { defaultMaxEventSkewMs, type Event, type EventType, keyOf, parseRecord } from '../events/index.ts'
import { type ConsumerMetrics, eventFields, type Logger } from '../observability/index.ts'
import type { Mark, SourcedEvent, Store } from '../store/index.ts'
import { type DeadLetterSink, deadLetterOf, type InboundRecord, keyText } from './dead-letters.ts'
import { eventTimeCheck } from './event-time.ts'
import { Aborted, backoffDelay } from './retry.ts'
import { TailMarks } from './tail-marks.ts'

export type { InboundRecord } from './dead-letters.ts'

interface Item extends SourcedEvent {
  readonly record: InboundRecord
}

interface Failure {
  readonly record: InboundRecord
  readonly event?: Event
  readonly error: PipelineError
}

/**
 * What the transactions of one batch stored: every item, which of them wait as pending events, and the greatest
 * offset per partition a transaction marked as processed.
 */
interface Stored {
  readonly items: Item[]
  readonly pending: Set<Item>
  readonly marked: Map<number, bigint>
}

export interface ProcessOutcome {
  readonly applied: number
  /** Records stored as pending events (their parent is not stored yet). */
  readonly pending: number
  readonly deadLettered: number
  /** Records at or below the store's mark of their partition: handled before (by this group or another), skipped. */
  readonly skipped: number
}

export interface ProcessorOptions {
  store: Store
  dlq: DeadLetterSink
  logger: Logger
  metrics: ConsumerMetrics
  /** A record (key and value) larger than this is dead-lettered as RECORD_TOO_LARGE without being parsed. */
  recordMaxBytes?: number
  /**
   * An event whose timestamp is more than this ahead of its Kafka record's timestamp is dead-lettered as
   * EVENT_TIME_SKEW (MAX_EVENT_SKEW; default 1 h).
   */
  maxEventSkewMs?: number
  /** Called with the error while a transient failure keeps the consumer retrying, and with undefined after. */
  onDegraded?: (error: PipelineError | undefined) => void
  /**
   * Called after a batch whose pending rows may have raced with a parent stored by another lane at the same time
   * (see PendingBatches): the caller looks again, soon and once for many batches, for pending events of these
   * parents (the users of the orders stored as pending, and the users the batch stored) whose parent is stored now.
   */
  onPendingMayResolve?: (parents: readonly string[]) => void
  /** Shared by the processors of one consumer's lanes; a processor given none counts only its own batches. */
  pendingBatches?: PendingBatches
}

/** The parent keys a look after this batch takes: the users its pending orders wait for, and the users it stored. */
function parentsOf(pending: Iterable<{ event: Event }>, items: readonly { event: Event }[]): string[] {
  const parents = new Set<string>()
  for (const { event } of pending) if (event.type === 'OrderPlaced') parents.add(event.data.userId)
  for (const { event } of items) if (event.type === 'UserCreated') parents.add(event.data.userId)
  return [...parents]
}

/**
 * Batches that stored pending rows, counted across the lanes of one consumer (the processors of its lanes share
 * one). A batch that stored users looks for pending children again when this moved during its transaction:
 * another lane may have stored a child of one of its users just after this transaction looked, and that lane's own
 * second look may have come before these users were committed. Between members the sweep closes the same gap.
 */
export class PendingBatches {
  #count = 0

  get count(): number {
    return this.#count
  }

  add(): void {
    this.#count++
  }
}

/**
 * The positions a transaction may mark as processed: its items', but in each partition only below the lowest
 * record that failed and is not yet in the DLQ. A mark tells every later reader, including a new group, that the
 * records under it are handled, so it passes a dead letter only once the DLQ holds it (markTail, after the push).
 */
export function marksBelow(items: readonly SourcedEvent[], failures: readonly { record: InboundRecord }[]): Mark[] {
  if (failures.length === 0) return items.map(i => i.source)
  const lowest = new Map<number, bigint>()
  for (const { record } of failures) {
    const current = lowest.get(record.partition)
    if (current === undefined || record.offset < current) lowest.set(record.partition, record.offset)
  }
  const marks: Mark[] = []
  for (const { source } of items) {
    const below = lowest.get(source.partition)
    if (below === undefined || source.offset < below) marks.push(source)
  }
  return marks
}

/** What the records of a batch became: items to store, and failures to dead-letter. */
interface Parsed {
  readonly items: Item[]
  readonly failures: Failure[]
}

/** One lane's processor: process() is called with one batch at a time, in offset order. */
export class Processor {
  readonly #store: Store
  readonly #dlq: DeadLetterSink
  readonly #logger: Logger
  readonly #metrics: ConsumerMetrics
  readonly #recordMaxBytes: number
  readonly #maxEventSkewMs: number
  readonly #onDegraded: ProcessorOptions['onDegraded']
  readonly #onPendingMayResolve: ProcessorOptions['onPendingMayResolve']
  readonly #pendingBatches: PendingBatches

  /**
   * Marks owed after batches that ended with dead-lettered records (markTail). The mark runs beside the next
   * batches, not on the batch's path, one transaction in flight at a time (`#marking`).
   */
  readonly #tail = new TailMarks()
  #marking: Promise<void> | undefined

  /**
   * Per topic ID, the store's marks as this processor first read them: every record at or below one was stored,
   * pending or dead-lettered before, by any group. Read once; the marks only grow, so an old value skips less,
   * never more.
   */
  readonly #handled = new Map<string, Map<number, bigint>>()

  constructor(options: ProcessorOptions) {
    this.#store = options.store
    this.#dlq = options.dlq
    this.#logger = options.logger
    this.#metrics = options.metrics
    this.#recordMaxBytes = options.recordMaxBytes ?? 1024 * 1024
    this.#maxEventSkewMs = options.maxEventSkewMs ?? defaultMaxEventSkewMs
    this.#onDegraded = options.onDegraded
    this.#onPendingMayResolve = options.onPendingMayResolve
    this.#pendingBatches = options.pendingBatches ?? new PendingBatches()
  }

  /** Stores `records` (applied, or pending on a missing parent) and dead-letters what failed for good. */
  async process(all: readonly InboundRecord[], signal: AbortSignal): Promise<ProcessOutcome> {
    const started = performance.now()
    // Records a group read again (a new group, a group whose offsets expired) are not applied or dead-lettered
    // a second time: the store's marks say they were handled.
    const marks = await this.#handledMarks(all, signal)
    const head = all[0]
    // A lane's batch is one partition in offset order: past the mark from its first record, nothing to skip.
    const records =
      marks === undefined || head === undefined || head.offset > (marks.get(head.partition) ?? -1n)
        ? all
        : all.filter(r => r.topicId !== head.topicId || r.offset > (marks.get(r.partition) ?? -1n))
    const { items, failures } = this.#parse(records)
    const stored: Stored = { items: [], pending: new Set(), marked: new Map() }
    const pendingBefore = this.#pendingBatches.count
    await this.#isolate(items, stored, failures, signal)
    const storedUsers = this.#pendingBatches.count !== pendingBefore && items.some(i => i.event.type === 'UserCreated')
    if (stored.pending.size > 0 || storedUsers)
      this.#onPendingMayResolve?.(parentsOf(stored.pending, storedUsers ? items : []))
    if (failures.length > 0) {
      await this.#deadLetter(failures, signal)
      this.#markTail(records, stored, signal)
    }

    const latencyMs = Math.round((performance.now() - started) * 100) / 100
    this.#countStored(stored.items)
    if (stored.items.length > 0 && this.#logger.isLevelEnabled('info')) this.#logStored(stored, latencyMs)
    if (records.length > 0) this.#metrics.batchSize.observe(records.length)
    const skipped = all.length - records.length
    if (skipped > 0) {
      this.#logger.info(
        { topic: all[0]?.topic, partition: all[0]?.partition, skipped },
        'records skipped: the store had handled them already',
      )
    }
    return {
      applied: stored.items.length - stored.pending.size,
      pending: stored.pending.size,
      deadLettered: failures.length,
      skipped,
    }
  }

  /** Parses each record: too large, unparsable or too far ahead of its record's time, it is a failure. */
  #parse(records: readonly InboundRecord[]): Parsed {
    const items: Item[] = []
    const failures: Failure[] = []
    const recordMaxBytes = this.#recordMaxBytes
    const tooFarAhead = eventTimeCheck(records, this.#maxEventSkewMs, Date.now())
    for (const record of records) {
      const size = (record.key?.length ?? 0) + (record.value?.length ?? 0)
      if (size > recordMaxBytes) {
        const message = `the record is ${size} bytes, more than the ${recordMaxBytes} the consumer parses (CONSUMER_RECORD_MAX_BYTES)`
        failures.push({ record, error: new PipelineError('RECORD_TOO_LARGE', message) })
        continue
      }
      try {
        const event = parseRecord(record.value)
        const skew = tooFarAhead(record, event.timestamp)
        // A redriven copy keeps its original's position (last-writer-wins); its own coordinates stay `source`.
        if (skew !== undefined) failures.push({ record, event, error: skew })
        else if (record.origin === undefined) items.push({ event, source: record, record })
        else items.push({ event, source: record, origin: record.origin, record })
      } catch (thrown) {
        failures.push({ record, error: asPipelineError(thrown) })
      }
    }
    return { items, failures }
  }

  /** Runs `operation` until it succeeds or fails permanently; transient failures back off and retry. */
  async #untilDone<T>(what: string, operation: () => Promise<T>, signal: AbortSignal): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        const result = await operation()
        if (attempt > 0) {
          this.#logger.info({ attempts: attempt + 1 }, `${what} succeeded after retrying`)
          this.#onDegraded?.(undefined)
        }
        return result
      } catch (thrown) {
        const error = asPipelineError(thrown)
        if (!error.retryable) throw error
        this.#metrics.retries.inc({ code: error.code })
        this.#onDegraded?.(error)
        const delay = backoffDelay(attempt)
        this.#logger.warn(
          { err: error, code: error.code, attempt: attempt + 1, retryInMs: delay },
          `${what} failed; retrying`,
        )
        if (!(await pause(delay, signal))) throw new Aborted()
      }
    }
  }

  /** One transaction; records the store refused on their own (a reused delta eventId) become failures. */
  async #applyOnce(items: readonly Item[], stored: Stored, failures: Failure[], signal: AbortSignal) {
    const marks = marksBelow(items, failures)
    const result = await this.#untilDone(
      'store transaction',
      async () => {
        const end = this.#metrics.dbLatency.startTimer({ operation: 'apply_batch' })
        try {
          // Batches of a partition are processed in offset order, and so are the halves of a split batch: once
          // this transaction commits, every record up to its last item is stored, or failed and about to be
          // dead-lettered. It marks as processed (applied_offsets: read-your-own-writes, and what a new group
          // skips) through its last item, but never past a record still waiting for its DLQ push (marksBelow).
          return await this.#store.applyBatch(items, marks)
        } finally {
          end()
        }
      },
      signal,
    )
    const refused = new Set<number>()
    for (const { position, error } of result.conflicts) {
      const item = items[position]
      if (item === undefined) continue
      refused.add(position)
      failures.push({ record: item.record, event: item.event, error })
    }
    if (result.pendingPositions.length > 0) this.#pendingBatches.add()
    for (const position of result.pendingPositions) {
      const item = items[position]
      if (item !== undefined) stored.pending.add(item)
    }
    for (let i = 0; i < items.length; i++) if (!refused.has(i)) stored.items.push(items[i] as Item)
    for (const mark of marks) {
      if (mark.offset > (stored.marked.get(mark.partition) ?? -1n)) stored.marked.set(mark.partition, mark.offset)
    }
  }

  /**
   * Marks the batch's last records as processed when no transaction did: the batch ended with records that
   * failed on their own (or held nothing else), now dead-lettered. Without it a read waiting for such an offset
   * would wait for the next batch of the partition.
   *
   * The mark runs beside the next batches, not on the batch's path: it only helps readers (a lost mark is made
   * good by the partition's next batch), and every moment added to the path of a batch holding bad records keeps
   * those records, up to CONSUMER_RECORD_MAX_BYTES each, in memory longer.
   */
  #markTail(records: readonly InboundRecord[], stored: Stored, signal: AbortSignal): void {
    this.#tail.add(records, stored.marked)
    this.#startMarking(signal)
  }

  #startMarking(signal: AbortSignal): void {
    if (this.#marking !== undefined || this.#tail.size === 0 || signal.aborted) return
    this.#marking = (async () => {
      while (this.#tail.size > 0 && !signal.aborted) {
        const marks = this.#tail.take()
        await this.#untilDone('applied offset mark', () => this.#store.applyBatch([], marks), signal)
      }
    })()
      .catch(() => {
        // Aborted by shutdown: the partition's next batch, here or on another member, marks past these offsets.
      })
      .finally(() => {
        this.#marking = undefined
        // Marks added while the last transaction ran, after the loop looked.
        this.#startMarking(signal)
      })
  }

  /** Stores what can be stored; pushes each record that fails on its own, permanently, into `failures`. */
  async #isolate(items: Item[], stored: Stored, failures: Failure[], signal: AbortSignal): Promise<void> {
    if (items.length === 0) return
    try {
      await this.#applyOnce(items, stored, failures, signal)
    } catch (thrown) {
      if (thrown instanceof Aborted) throw thrown
      const error = asPipelineError(thrown)
      if (items.length === 1) {
        const [item] = items as [Item]
        failures.push({ record: item.record, event: item.event, error })
        return
      }
      // Halves keep offset order: everything before the failing record is applied before anything after it.
      const middle = Math.ceil(items.length / 2)
      await this.#isolate(items.slice(0, middle), stored, failures, signal)
      await this.#isolate(items.slice(middle), stored, failures, signal)
    }
  }

  /** messages_processed_total, one increment per type and batch rather than per record. */
  #countStored(items: readonly Item[]): void {
    const counts = new Map<EventType, number>()
    for (const { event } of items) counts.set(event.type, (counts.get(event.type) ?? 0) + 1)
    for (const [type, n] of counts) this.#metrics.processed.inc({ type }, n)
  }

  /**
   * One line per stored record ("event applied", or "event pending" while its parent is missing). What the
   * records of a batch share (topic, partition, the batch's latency) goes into a child logger, which pino
   * serialises once, so each line only adds its own fields.
   */
  #logStored(stored: Stored, latencyMs: number): void {
    const now = Date.now()
    let child: Logger | undefined
    let topic: string | undefined
    let partition = -1
    for (const item of stored.items) {
      const { record, event } = item
      if (child === undefined || record.partition !== partition || record.topic !== topic) {
        topic = record.topic
        partition = record.partition
        child = this.#logger.child({ topic, partition, latencyMs })
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
        stored.pending.has(item) ? 'event pending: its parent is not stored yet' : 'event applied',
      )
    }
  }

  async #deadLetter(failures: Failure[], signal: AbortSignal): Promise<void> {
    const dlq = this.#dlq
    const failedAt = new Date().toISOString()
    failures.sort((a, b) => a.record.partition - b.record.partition || Number(a.record.offset - b.record.offset))
    const letters = failures.map(f => deadLetterOf(f.record, f.event, f.error, 1, failedAt, dlq.entryMaxBytes))
    // Commit only after the DLQ push succeeded: a failed push must leave the offsets uncommitted, so the push is
    // retried here until Redis answers (or shutdown aborts, and the records are seen again). The push is
    // idempotent per record, so a retry after a lost reply adds no second entry.
    await this.#untilDone('dead-letter push', () => dlq.push(letters), signal)
    for (const [i, f] of failures.entries()) {
      this.#metrics.dlq.inc({ code: f.error.code })
      this.#logger.error(
        {
          ...eventFields(f.event, f.record, { eventId: letters[i]?.eventId, key: keyText(f.record.key) }),
          err: { code: f.error.code, message: f.error.message },
          attempts: 1,
        },
        'event dead-lettered',
      )
    }
  }

  async #handledMarks(records: readonly InboundRecord[], signal: AbortSignal) {
    const first = records[0]
    if (first?.topicId === undefined) return undefined
    const key = `${first.topic}@${first.topicId}`
    let marks = this.#handled.get(key)
    if (marks === undefined) {
      const { topic, topicId } = first
      marks = await this.#untilDone('reading applied offsets', () => this.#store.handledThrough(topic, topicId), signal)
      this.#handled.set(key, marks)
    }
    return marks
  }
}

export const createProcessor = (options: ProcessorOptions): Processor => new Processor(options)
