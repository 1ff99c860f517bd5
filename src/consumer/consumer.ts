// The consumer service: group membership, the consume loop, offset commits, the sweep of pending events and the
// drain on shutdown. The decisions live in small pieces of their own: which lane runs next (schedule.ts), what may
// be committed (progress.ts, commits.ts), what one batch becomes (process.ts), what pending events become
// (pending.ts, dead-letters.ts). This file wires them to Kafka.
//
// Lifecycle: start() joins the group and begins the loop; close() stops taking batches, finishes the batches in
// hand (store or DLQ), commits, leaves the group and returns.
//
// Partitions are independent lanes. Each lane has at most one batch in flight, so a partition's records are
// applied in offset order; different lanes' batches run at the same time (up to `concurrency`).

import { pause } from '../async.ts'
import { type DeadLetterQueue, parseRedriveSource, redriveSourceOf } from '../dlq/index.ts'
import type { PipelineError } from '../errors.ts'
import { ensureTopic, topicIdOf } from '../kafka/admin.ts'
import { committedOffsets, consumeTopic, createGroupConsumer } from '../kafka/consumer.ts'
import type { KafkaConnection } from '../kafka/options.ts'
import type { ConsumerMetrics, Logger } from '../observability/index.ts'
import type { Store } from '../store/index.ts'
import { type Lane, PartitionReader, type RawMessage } from './batch-reader.ts'
import { createCommitter } from './commits.ts'
import type { InboundRecord } from './dead-letters.ts'
import { recordLag } from './lag.ts'
import { createPendingSweeper } from './pending.ts'
import { createProcessor, type Processor } from './process.ts'
import { PartitionProgress } from './progress.ts'
import { Aborted, backoffDelay } from './retry.ts'
import { LaneScheduler, type LaneView } from './schedule.ts'

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
  /** Bytes of fetched records held before fetching pauses (default 32 MiB). */
  bufferMaxBytes?: number
  /** Bytes of records in one batch (default 8 MiB); a batch always takes at least one record. */
  batchMaxBytes?: number
  /** A record larger than this is dead-lettered as RECORD_TOO_LARGE without being parsed (default 1 MiB). */
  recordMaxBytes?: number
  /** An event more than this ahead of its Kafka record's timestamp is dead-lettered (default 1 h). */
  maxEventSkewMs?: number
  /** How long an event whose parent is missing stays pending before it is dead-lettered. */
  pendingMaxAgeMs: number
  /** How often this member sweeps the pending events and prunes the event log (default 1 s). */
  pendingSweepMs?: number
  /** How long event_log rows are kept for event status (EVENT_LOG_RETENTION; default 7 days). */
  eventLogRetentionMs?: number
  /** Group session timeout: how long a silent member keeps its partitions. */
  sessionTimeoutMs?: number
  /** KIP-848 'consumer' (default) or 'classic'. */
  groupProtocol?: 'consumer' | 'classic'
  /** Most batches (of different partitions) in flight at once; default 3. */
  concurrency?: number
}

export interface ConsumerStatus {
  joined: boolean
  /** The transient failure the consumer is retrying, if any. */
  degraded: { code: string; message: string } | undefined
  applied: number
  /** Records this member stored as pending events. */
  pending: number
  deadLettered: number
  batches: number
  /** The partitions of the topic this member owns now; undefined until the group has assigned them. */
  partitions: number[] | undefined
}

function toRecord(m: RawMessage, topicId: string | undefined): InboundRecord {
  const record = {
    topic: m.topic,
    partition: m.partition,
    offset: m.offset,
    key: m.key ?? null,
    value: m.value ?? null,
    timestamp: m.timestamp,
    topicId,
  }
  // A redriven copy names its original; a copy without a valid header is its own record.
  const header = redriveSourceOf(m.headers)
  const origin = header === undefined ? undefined : parseRedriveSource(header, record)
  return origin === undefined ? record : { ...record, origin }
}

export function createConsumerService(options: ConsumerServiceOptions) {
  const { logger, metrics, topic } = options
  const concurrency = Math.max(1, options.concurrency ?? 3)
  const sweepEveryMs = options.pendingSweepMs ?? 1000
  const bufferMaxBytes = options.bufferMaxBytes ?? 32 * 1024 * 1024
  const batchMaxBytes = options.batchMaxBytes ?? 8 * 1024 * 1024
  const status: ConsumerStatus = {
    joined: false,
    degraded: undefined,
    applied: 0,
    pending: 0,
    deadLettered: 0,
    batches: 0,
    partitions: undefined,
  }
  const consumer = createGroupConsumer({ ...options, fetchMaxBytes: Math.min(16 * 1024 * 1024, bufferMaxBytes / 2) })
  consumer.on('consumer:group:join', () => {
    status.joined = true
    logger.info({ groupId: options.groupId, topic }, 'joined consumer group')
  })
  consumer.on('consumer:group:leave', () => {
    status.joined = false
  })
  consumer.on('consumer:lag', lag => recordLag(metrics.lag, lag))
  consumer.on('consumer:lag:error', error => logger.debug({ err: error }, 'lag monitoring failed'))

  const stop = new AbortController()
  let loop: Promise<void> | undefined
  let reader: PartitionReader | undefined
  // A rebalance wakes the loop, which then looks at the new assignment at once.
  consumer.on('consumer:group:rebalance', () => reader?.poke())

  const progress = new PartitionProgress(topic)
  const scheduler = new LaneScheduler({ batchMax: options.batchMax, batchWaitMs: options.batchWaitMs, concurrency })
  const processors = new Map<number, { processor: Processor; degraded: PipelineError | undefined }>()
  const busy = new Set<number>()
  const inFlight = new Set<Promise<void>>()
  /** An unexpected failure of a lane: the loop stops taking batches and starts over from the last commit. */
  let broken: unknown
  /**
   * The topic's Kafka topic ID, read again with every new stream: a topic deleted and re-created under its name is
   * another log, and records, marks and dead letters say which one they belong to.
   */
  let topicId: string | undefined

  const commits = createCommitter({
    collect: () => progress.offsets(),
    send: offsets => consumer.commit({ offsets }),
    // Everything up to these offsets is stored or dead-lettered; until a retry lands (or, after a rebalance, the
    // new owner commits), a restart would only see these records again, and the store applies them idempotently.
    failed: (error, failures) => logger.warn({ err: error, failures }, 'offset commit failed; trying again'),
  })

  const sweeper = createPendingSweeper({
    store: options.store,
    dlq: options.dlq,
    logger,
    metrics,
    maxAgeMs: options.pendingMaxAgeMs,
    eventLogRetentionMs: options.eventLogRetentionMs,
    topicId: () => (topicId === undefined ? undefined : { topic, id: topicId }),
  })
  let sweeping: Promise<void> | undefined
  let nextSweep = 0

  function processorOf(partition: number): Processor {
    let entry = processors.get(partition)
    if (entry === undefined) {
      const fresh: { processor: Processor; degraded: PipelineError | undefined } = {
        degraded: undefined,
        processor: createProcessor({
          store: options.store,
          dlq: options.dlq,
          logger,
          metrics,
          recordMaxBytes: options.recordMaxBytes,
          maxEventSkewMs: options.maxEventSkewMs,
          onPendingMayResolve: parents => sweeper.resolveSoon(parents),
          onDegraded: error => {
            fresh.degraded = error
            const any = [...processors.values()].find(q => q.degraded !== undefined)?.degraded
            status.degraded = any ? { code: any.code, message: any.message } : undefined
          },
        }),
      }
      entry = fresh
      processors.set(partition, entry)
    }
    return entry.processor
  }

  /** The partitions of the topic this member owns now; undefined until the group has said. */
  function owned(): number[] | undefined {
    if (consumer.assignments === null) return undefined
    return consumer.assignments.find(a => a.topic === topic)?.partitions ?? []
  }

  let floors: Promise<void> | undefined

  /** Asks the group for the committed offsets of newly assigned partitions: commits never go below them. */
  function fetchFloors(): void {
    const wanted = progress.withoutFloor()
    if (wanted.length === 0 || floors !== undefined) return
    floors = committedOffsets(
      consumer,
      topic,
      wanted.map(w => w.partition),
    )
      .then(
        found => {
          for (const w of wanted) progress.setFloor(w.partition, w.generation, found.get(w.partition) ?? -1n)
          commits.request()
        },
        error => logger.warn({ err: error }, 'reading the committed offsets of new partitions failed; trying again'),
      )
      .finally(() => {
        floors = undefined
      })
  }

  /** Follows the group's assignment; answers whether partitions were revoked (the stream must start over). */
  function followAssignment(): boolean {
    const mine = owned()
    if (mine === undefined) return false
    const { added, revoked } = progress.assign(mine)
    if (added.length > 0) logger.info({ topic, partitions: added }, 'partitions assigned')
    if (revoked.length > 0) logger.info({ topic, partitions: revoked }, 'partitions revoked')
    fetchFloors()
    return revoked.length > 0
  }

  async function work(lane: Lane): Promise<void> {
    const batch = reader!.take(lane, options.batchMax, batchMaxBytes)
    const ticket = progress.begin(lane.partition)
    if (ticket === undefined || batch.length === 0) return
    try {
      const outcome = await processorOf(lane.partition).process(
        batch.map(m => toRecord(m, topicId)),
        stop.signal,
      )
      const last = batch[batch.length - 1]!
      status.applied += outcome.applied
      status.pending += outcome.pending
      status.deadLettered += outcome.deadLettered
      status.batches++
      // A batch of a partition revoked meanwhile moves no offset: its effects are idempotent, and the new owner
      // reads these records again from the group's offset.
      if (progress.finish(ticket, last.offset, last.leaderEpoch)) commits.request()
    } catch (error) {
      // The batch is abandoned uncommitted (shutdown during a transient retry, or a bug); the lane must not go
      // on past it, so nothing more is taken until the loop has started over from the committed offsets.
      if (!(error instanceof Aborted)) broken ??= error
    }
  }

  function launch(lane: Lane): void {
    busy.add(lane.partition)
    const task = work(lane).finally(() => {
      busy.delete(lane.partition)
      inFlight.delete(task)
      reader?.poke()
    })
    inFlight.add(task)
  }

  /** Starts the batches the scheduler picks; returns how long until it should be asked again. */
  function schedule(current: PartitionReader): number {
    const views: LaneView[] = []
    for (const lane of current.lanes.values()) {
      // Records of a partition this member no longer owns are left to its new owner.
      if (lane.topic !== topic || !progress.owns(lane.partition)) {
        if (owned() !== undefined) current.drop(lane)
        continue
      }
      views.push({
        key: lane.key,
        waiting: current.waiting(lane),
        since: lane.since,
        oldest: current.oldest(lane),
        busy: busy.has(lane.partition),
      })
    }
    const decision = scheduler.decide(views, inFlight.size, Date.now())
    for (const key of decision.launch) launch(current.lanes.get(key)!)
    return decision.wake
  }

  function sweepIfDue(): void {
    const now = Date.now()
    if (sweeping !== undefined || now < nextSweep) return
    nextSweep = now + sweepEveryMs
    sweeping = sweeper
      .tick()
      .then(() => {})
      .finally(() => {
        sweeping = undefined
      })
  }

  /** Waits for the batches in flight and commits what they finished. */
  async function settle(): Promise<void> {
    while (inFlight.size > 0) await Promise.all(inFlight)
    await commits.flush()
  }

  async function startOver(): Promise<void> {
    await settle()
    await reader?.close()
    reader = undefined
    // A new stream starts at the committed offsets, which never passed an unhandled record: those come again.
    progress.clear()
    processors.clear()
    broken = undefined
  }

  async function run(): Promise<void> {
    let failures = 0
    while (!stop.signal.aborted) {
      try {
        if (reader === undefined) topicId = await topicIdOf(options.connection, topic)
        reader ??= new PartitionReader(await consumeTopic(consumer, topic, options.batchMax * 2), {
          records: options.batchMax * Math.max(4, concurrency * 2),
          bytes: bufferMaxBytes,
        })
        const failure = reader.failure ?? broken
        if (failure) {
          if (broken === undefined) logger.warn({ err: failure }, 'message stream stopped; reopening it')
          else logger.error({ err: failure }, 'consume loop failed; retrying')
          await startOver()
          if (!(await pause(backoffDelay(failures++), stop.signal))) break
          continue
        }
        if (followAssignment()) {
          // Records of revoked partitions may sit in the lanes and in the client's buffers: the stream starts over
          // at the group's offsets, so nothing of theirs is applied or committed from here.
          await startOver()
          continue
        }
        const wake = schedule(reader)
        commits.tick()
        sweepIfDue()
        await reader.wait(Math.min(wake, Math.max(1, nextSweep - Date.now())), stop.signal)
        failures = 0
      } catch (error) {
        logger.error({ err: error }, 'consume loop failed; retrying')
        await startOver()
        if (!(await pause(backoffDelay(failures++), stop.signal))) break
      }
    }
    await settle()
    commits.close()
    await sweeping
    await sweeper.close()
    await reader?.close()
  }

  return {
    status: (): Readonly<ConsumerStatus> => {
      const mine = owned()
      status.partitions = mine === undefined ? undefined : [...mine]
      return status
    },

    /** Pending events as this member last counted them (every member's, from the store). */
    pendingStats: () => sweeper.stats(),

    async start(): Promise<void> {
      await ensureTopic(options.connection, topic, options.partitions)
      await options.store.migrate()
      consumer.startLagMonitoring({ topics: [topic] }, 5000)
      loop = run().catch(error => logger.fatal({ err: error }, 'consume loop crashed'))
    },

    /**
     * Stops intake, lets the batches in hand finish (stored or dead-lettered, then committed) unless one is stuck
     * retrying a transient failure — that one is abandoned uncommitted and will be seen again — and leaves the
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
