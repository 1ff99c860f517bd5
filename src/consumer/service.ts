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
import { parseRedriveSource, redriveSourceOf } from '../dlq/index.ts'
import type { PipelineError } from '../errors.ts'
import { ensureTopic, topicIdOf } from '../kafka/cluster-admin.ts'
import { committedOffsets, consumeTopic, createGroupConsumer } from '../kafka/group-consumer.ts'
import type { KafkaConnection } from '../kafka/options.ts'
import type { ConsumerMetrics, Logger } from '../observability/index.ts'
import type { Store } from '../store/index.ts'
import { type Lane, PartitionReader, type RawMessage } from './batch-reader.ts'
import { type Committer, createCommitter } from './commits.ts'
import type { DeadLetterSink, InboundRecord } from './dead-letters.ts'
import { type LagReport, recordLag } from './lag.ts'
import type { PauseBoard, PauseFollower } from './pause-board.ts'
import { createPendingSweeper, type PendingSweeper } from './pending.ts'
import { createProcessor, PendingBatches, type Processor } from './process.ts'
import { PartitionProgress } from './progress.ts'
import { Aborted, backoffDelay } from './retry.ts'
import { LaneScheduler, type LaneView } from './schedule.ts'
import { type PartitionReading, type SeriesReading, SeriesRing, SeriesSampler, type SeriesSnapshot } from './series.ts'

export interface ConsumerServiceOptions {
  connection: KafkaConnection
  topic: string
  groupId: string
  partitions: number
  store: Store
  dlq: DeadLetterSink
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
  /** Time between two samples of the console's charts (default 10 s: the 360 samples kept are an hour). */
  seriesIntervalMs?: number
  /** The group's pause board: this member obeys its record and reports to it (none: nothing is ever paused). */
  pause?: PauseBoard
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
  /** The partitions of those the pause record pauses. */
  paused: number[]
  /** Why no batch starts: the pause record is not known fresh (Redis unreachable, or not read yet). */
  pauseUnknown: string | undefined
}

/** A record as a lane keeps it: what the processor reads, and the leader epoch its offset's commit names. */
interface LaneRecord extends InboundRecord {
  readonly timestamp: bigint
  readonly leaderEpoch: number
}

function toRecord(m: RawMessage, topicId: string | undefined): LaneRecord {
  const record = {
    topic: m.topic,
    partition: m.partition,
    offset: m.offset,
    key: m.key ?? null,
    value: m.value ?? null,
    timestamp: m.timestamp,
    leaderEpoch: m.leaderEpoch,
    topicId,
  }
  // A redriven copy names its original; a copy without a valid header is its own record.
  const header = redriveSourceOf(m.headers)
  const origin = header === undefined ? undefined : parseRedriveSource(header, record)
  return origin === undefined ? record : { ...record, origin }
}

type GroupConsumer = ReturnType<typeof createGroupConsumer>

interface LaneProcessor {
  readonly processor: Processor
  degraded: PipelineError | undefined
}

export class ConsumerService {
  readonly #options: ConsumerServiceOptions
  readonly #logger: Logger
  readonly #topic: string
  readonly #concurrency: number
  readonly #sweepEveryMs: number
  readonly #bufferMaxBytes: number
  readonly #batchMaxBytes: number
  readonly #status: ConsumerStatus = {
    joined: false,
    degraded: undefined,
    applied: 0,
    pending: 0,
    deadLettered: 0,
    batches: 0,
    partitions: undefined,
    paused: [],
    pauseUnknown: undefined,
  }
  readonly #consumer: GroupConsumer
  readonly #stop = new AbortController()
  #loop: Promise<void> | undefined
  #reader: PartitionReader<LaneRecord> | undefined

  readonly #progress: PartitionProgress
  readonly #scheduler: LaneScheduler
  readonly #processors = new Map<number, LaneProcessor>()
  readonly #pendingBatches = new PendingBatches()
  readonly #busy = new Set<number>()
  readonly #inFlight = new Set<Promise<void>>()
  /** An unexpected failure of a lane: the loop stops taking batches and starts over from the last commit. */
  #broken: unknown
  /**
   * The topic's Kafka topic ID, read again with every new stream: a topic deleted and re-created under its name is
   * another log, and records, marks and dead letters say which one they belong to.
   */
  #topicId: string | undefined

  readonly #commits: Committer
  readonly #sweeper: PendingSweeper
  #sweeping: Promise<void> | undefined
  #nextSweep = 0
  #floors: Promise<void> | undefined
  readonly #pause: PauseFollower | undefined
  /**
   * Paused partitions whose buffered records were dropped: the stream is behind their processed position no
   * more, so when they resume the stream starts over at the committed offsets to read them again.
   */
  readonly #rewind = new Set<number>()

  /** The console's charts: samples of what the fields below and #status count (series.ts). */
  readonly #series: SeriesSampler
  /** The client's last lag report (one figure per partition of the topic). */
  #lag: LagReport | undefined
  /** Per partition with a batch in flight: the Kafka timestamp of the batch's first record. */
  readonly #heldInFlight = new Map<number, bigint>()
  /** Per partition: the Kafka timestamp of the last record stored or dead-lettered. */
  readonly #lastHandled = new Map<number, bigint>()
  /** Pending events the sweeps dead-lettered (past PENDING_MAX_AGE). */
  #sweptDeadLetters = 0

  constructor(options: ConsumerServiceOptions) {
    const { logger, topic } = options
    this.#options = options
    this.#logger = logger
    this.#topic = topic
    this.#concurrency = Math.max(1, options.concurrency ?? 3)
    this.#sweepEveryMs = options.pendingSweepMs ?? 1000
    this.#bufferMaxBytes = options.bufferMaxBytes ?? 32 * 1024 * 1024
    this.#batchMaxBytes = options.batchMaxBytes ?? 8 * 1024 * 1024
    this.#consumer = this.#groupConsumer()
    this.#progress = new PartitionProgress(topic)
    this.#scheduler = new LaneScheduler({
      batchMax: options.batchMax,
      batchWaitMs: options.batchWaitMs,
      concurrency: this.#concurrency,
    })
    this.#commits = createCommitter({
      collect: () => this.#progress.offsets(),
      send: offsets => this.#consumer.commit({ offsets }),
      // Everything up to these offsets is stored or dead-lettered; until a retry lands (or, after a rebalance, the
      // new owner commits), a restart would only see these records again, and the store applies them idempotently.
      failed: (error, failures) => logger.warn({ err: error, failures }, 'offset commit failed; trying again'),
    })
    this.#sweeper = createPendingSweeper({
      store: options.store,
      dlq: options.dlq,
      logger,
      metrics: options.metrics,
      maxAgeMs: options.pendingMaxAgeMs,
      eventLogRetentionMs: options.eventLogRetentionMs,
      topicId: () => (this.#topicId === undefined ? undefined : { topic, id: this.#topicId }),
    })
    this.#series = new SeriesSampler(new SeriesRing({ intervalMs: options.seriesIntervalMs ?? 10_000 }), () =>
      this.#seriesReading(),
    )
    this.#pause = options.pause?.follow({
      logger,
      gauge: options.metrics.paused,
      activity: () => ({
        owned: this.#owned() ?? [],
        inFlight: this.#busy,
        sweeping: this.#sweeping !== undefined || this.#sweeper.busy,
      }),
      onPoll: () => this.#reader?.poke(),
    })
  }

  status(): Readonly<ConsumerStatus> {
    const mine = this.#owned()
    this.#status.partitions = mine === undefined ? undefined : [...mine]
    this.#status.paused = this.#pause === undefined ? [] : (mine ?? []).filter(p => this.#pause!.paused(p))
    this.#status.pauseUnknown = this.#pause?.problem()
    return this.#status
  }

  /** Pending events as this member last counted them (every member's, from the store). */
  pendingStats(): ReturnType<PendingSweeper['stats']> {
    return this.#sweeper.stats()
  }

  /** The last samples of the console's charts (bounded: see series.ts). */
  series(): SeriesSnapshot {
    return this.#series.ring.snapshot()
  }

  async start(): Promise<void> {
    const { connection, partitions, store } = this.#options
    await ensureTopic(connection, this.#topic, partitions)
    await store.migrate()
    // Lag reports at least as often as the charts sample, so that no two samples show the same stale report.
    this.#consumer.startLagMonitoring({ topics: [this.#topic] }, Math.min(5000, this.#series.ring.intervalMs))
    this.#series.start()
    // The pause record is read before the first batch can start: a member never runs past a pause it missed.
    await this.#pause?.start()
    this.#loop = this.#run().catch(error => this.#logger.fatal({ err: error }, 'consume loop crashed'))
  }

  /**
   * Stops intake, lets the batches in hand finish (stored or dead-lettered, then committed) unless one is stuck
   * retrying a transient failure — that one is abandoned uncommitted and will be seen again — and leaves the
   * group.
   */
  async close(): Promise<void> {
    this.#stop.abort()
    this.#series.stop()
    await this.#loop
    await this.#pause?.close()
    this.#consumer.stopLagMonitoring()
    await this.#consumer.close().catch(error => this.#logger.warn({ err: error }, 'closing the Kafka consumer failed'))
    this.#status.joined = false
  }

  #groupConsumer(): GroupConsumer {
    const { logger, metrics, topic } = this.#options
    const consumer = createGroupConsumer({
      ...this.#options,
      fetchMaxBytes: Math.min(16 * 1024 * 1024, this.#bufferMaxBytes / 2),
    })
    consumer.on('consumer:group:join', () => {
      this.#status.joined = true
      logger.info({ groupId: this.#options.groupId, topic }, 'joined consumer group')
    })
    consumer.on('consumer:group:leave', () => {
      this.#status.joined = false
    })
    consumer.on('consumer:lag', lag => {
      this.#lag = lag
      recordLag(metrics.lag, lag)
    })
    consumer.on('consumer:lag:error', error => logger.debug({ err: error }, 'lag monitoring failed'))
    // A rebalance wakes the loop, which then looks at the new assignment at once.
    consumer.on('consumer:group:rebalance', () => this.#reader?.poke())
    return consumer
  }

  #processorOf(partition: number): Processor {
    let entry = this.#processors.get(partition)
    if (entry === undefined) {
      const { store, dlq, logger, metrics, recordMaxBytes, maxEventSkewMs } = this.#options
      const fresh: LaneProcessor = {
        degraded: undefined,
        processor: createProcessor({
          store,
          dlq,
          logger,
          metrics,
          recordMaxBytes,
          maxEventSkewMs,
          pendingBatches: this.#pendingBatches,
          onPendingMayResolve: parents => this.#sweeper.resolveSoon(parents),
          onDegraded: error => {
            fresh.degraded = error
            const any = [...this.#processors.values()].find(q => q.degraded !== undefined)?.degraded
            this.#status.degraded = any ? { code: any.code, message: any.message } : undefined
          },
        }),
      }
      entry = fresh
      this.#processors.set(partition, entry)
    }
    return entry.processor
  }

  /** The partitions of the topic this member owns now; undefined until the group has said. */
  #owned(): number[] | undefined {
    if (this.#consumer.assignments === null) return undefined
    return this.#consumer.assignments.find(a => a.topic === this.#topic)?.partitions ?? []
  }

  /** What the charts sample: the counters, the pending events and, per partition owned, what the lag is made of. */
  #seriesReading(): SeriesReading {
    const partitions = new Map<number, PartitionReading>()
    const lags = this.#lag?.get(this.#topic)
    const held = new Map(this.#heldInFlight)
    for (const lane of this.#reader?.lanes.values() ?? []) {
      const oldest = this.#reader?.oldest(lane)
      // A batch in flight holds older records than its lane's waiting ones.
      if (lane.topic === this.#topic && oldest !== undefined && !held.has(lane.partition))
        held.set(lane.partition, oldest)
    }
    for (const partition of this.#owned() ?? []) {
      const lag = lags?.[partition]
      const oldest = held.get(partition)
      const last = this.#lastHandled.get(partition)
      partitions.set(partition, {
        lagRecords: lag === undefined || lag < 0n ? undefined : Number(lag),
        oldestHeld: oldest === undefined ? undefined : Number(oldest),
        lastHandled: last === undefined ? undefined : Number(last),
      })
    }
    const pending = this.#sweeper.stats()
    return {
      at: Date.now(),
      applied: this.#status.applied,
      deadLettered: this.#status.deadLettered + this.#sweptDeadLetters,
      pending: pending.count,
      partitions,
    }
  }

  /** Asks the group for the committed offsets of newly assigned partitions: commits never go below them. */
  #fetchFloors(): void {
    const wanted = this.#progress.withoutFloor()
    if (wanted.length === 0 || this.#floors !== undefined) return
    this.#floors = committedOffsets(
      this.#consumer,
      this.#topic,
      wanted.map(w => w.partition),
    )
      .then(
        found => {
          for (const w of wanted) this.#progress.setFloor(w.partition, w.generation, found.get(w.partition) ?? -1n)
          this.#commits.request()
        },
        error =>
          this.#logger.warn({ err: error }, 'reading the committed offsets of new partitions failed; trying again'),
      )
      .finally(() => {
        this.#floors = undefined
      })
  }

  /** Follows the group's assignment; answers whether partitions were revoked (the stream must start over). */
  #followAssignment(): boolean {
    const mine = this.#owned()
    if (mine === undefined) return false
    const topic = this.#topic
    const { added, revoked } = this.#progress.assign(mine)
    if (added.length > 0) this.#logger.info({ topic, partitions: added }, 'partitions assigned')
    if (revoked.length > 0) this.#logger.info({ topic, partitions: revoked }, 'partitions revoked')
    this.#fetchFloors()
    return revoked.length > 0
  }

  async #work(lane: Lane<LaneRecord>): Promise<void> {
    const batch = this.#reader!.take(lane, this.#options.batchMax, this.#batchMaxBytes)
    const ticket = this.#progress.begin(lane.partition)
    if (ticket === undefined || batch.length === 0) return
    this.#heldInFlight.set(lane.partition, batch[0]!.timestamp)
    try {
      const outcome = await this.#processorOf(lane.partition).process(batch, this.#stop.signal)
      const last = batch[batch.length - 1]!
      const status = this.#status
      status.applied += outcome.applied
      status.pending += outcome.pending
      status.deadLettered += outcome.deadLettered
      status.batches++
      // A batch of a partition revoked meanwhile moves no offset: its effects are idempotent, and the new owner
      // reads these records again from the group's offset.
      if (this.#progress.finish(ticket, last.offset, last.leaderEpoch)) {
        this.#lastHandled.set(lane.partition, last.timestamp)
        this.#commits.request()
      }
    } catch (error) {
      // The batch is abandoned uncommitted (shutdown during a transient retry, or a bug); the lane must not go
      // on past it, so nothing more is taken until the loop has started over from the committed offsets.
      if (!(error instanceof Aborted)) this.#broken ??= error
    } finally {
      this.#heldInFlight.delete(lane.partition)
    }
  }

  #launch(lane: Lane<LaneRecord>): void {
    this.#busy.add(lane.partition)
    const task = this.#work(lane).finally(() => {
      this.#busy.delete(lane.partition)
      this.#inFlight.delete(task)
      this.#reader?.poke()
    })
    this.#inFlight.add(task)
  }

  /** Starts the batches the scheduler picks; returns how long until it should be asked again. */
  #schedule(current: PartitionReader<LaneRecord>): number {
    // Until the pause record is read, or while the last read is stale, nothing starts (see pause-board.ts).
    if (this.#pause !== undefined && !this.#pause.fresh()) return 100
    if (this.#pause !== undefined) {
      // Every partition this member owns is paused: nothing is fetched until one is resumed.
      const owned = this.#owned() ?? []
      const pause = this.#pause
      current.hold(pause.record.all !== null || (owned.length > 0 && owned.every(p => pause.paused(p))))
    }
    const views: LaneView[] = []
    for (const lane of current.lanes.values()) {
      // Records of a partition this member no longer owns are left to its new owner.
      if (lane.topic !== this.#topic || !this.#progress.owns(lane.partition)) {
        if (this.#owned() !== undefined) current.drop(lane)
        continue
      }
      // A paused partition starts no batch, and its records are not kept: held, they would fill the buffer and
      // stop every other partition with it (the stream pauses whole). They are read again on resume.
      if (this.#pause?.paused(lane.partition)) {
        if (current.waiting(lane) > 0) this.#rewind.add(lane.partition)
        current.drop(lane)
        this.#scheduler.forget(lane.key)
        continue
      }
      views.push({
        key: lane.key,
        waiting: current.waiting(lane),
        since: lane.since,
        oldest: current.oldest(lane),
        busy: this.#busy.has(lane.partition),
      })
    }
    const decision = this.#scheduler.decide(views, this.#inFlight.size, Date.now())
    for (const key of decision.launch) this.#launch(current.lanes.get(key)!)
    return decision.wake
  }

  #sweepIfDue(): void {
    const now = Date.now()
    if (this.#sweeping !== undefined || now < this.#nextSweep) return
    // While every partition is paused this member writes nothing to the store, the sweep included.
    if (this.#pause?.holdsSweep(now)) return
    this.#nextSweep = now + this.#sweepEveryMs
    this.#sweeping = this.#sweeper
      .tick()
      .then(result => {
        this.#sweptDeadLetters += result?.deadLettered ?? 0
      })
      .finally(() => {
        this.#sweeping = undefined
      })
  }

  /** Waits for the batches in flight and commits what they finished. */
  async #settle(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.all(this.#inFlight)
    await this.#commits.flush()
  }

  async #startOver(): Promise<void> {
    await this.#settle()
    await this.#reader?.close()
    this.#reader = undefined
    // A new stream starts at the committed offsets, which never passed an unhandled record: those come again.
    this.#progress.clear()
    this.#processors.clear()
    this.#rewind.clear()
    this.#broken = undefined
  }

  /** Whether a partition whose records were dropped while paused is resumed: its records must be read again. */
  #resumedBehind(): boolean {
    for (const p of this.#rewind) if (!this.#pause?.paused(p)) return true
    return false
  }

  /** The reader of the current stream, opened (with the topic's ID read again) when there is none. */
  async #openReader(): Promise<PartitionReader<LaneRecord>> {
    if (this.#reader !== undefined) return this.#reader
    const { connection, batchMax } = this.#options
    const topicId = await topicIdOf(connection, this.#topic)
    this.#topicId = topicId
    this.#reader = new PartitionReader(
      await consumeTopic(this.#consumer, this.#topic, batchMax * 2),
      { records: batchMax * Math.max(4, this.#concurrency * 2), bytes: this.#bufferMaxBytes },
      message => toRecord(message, topicId),
    )
    return this.#reader
  }

  async #run(): Promise<void> {
    const logger = this.#logger
    let failures = 0
    const signal = this.#stop.signal
    while (!signal.aborted) {
      try {
        const reader = await this.#openReader()
        const failure = reader.failure ?? this.#broken
        if (failure) {
          if (this.#broken === undefined) logger.warn({ err: failure }, 'message stream stopped; reopening it')
          else logger.error({ err: failure }, 'consume loop failed; retrying')
          await this.#startOver()
          if (!(await pause(backoffDelay(failures++), signal))) break
          continue
        }
        if (this.#followAssignment()) {
          // Records of revoked partitions may sit in the lanes and in the client's buffers: the stream starts over
          // at the group's offsets, so nothing of theirs is applied or committed from here.
          await this.#startOver()
          continue
        }
        if (this.#resumedBehind()) {
          logger.info({ topic: this.#topic }, 'paused partitions resumed; reading from the committed offsets')
          await this.#startOver()
          continue
        }
        const wake = this.#schedule(reader)
        this.#commits.tick()
        this.#sweepIfDue()
        await reader.wait(Math.min(wake, Math.max(1, this.#nextSweep - Date.now())), signal)
        failures = 0
      } catch (error) {
        logger.error({ err: error }, 'consume loop failed; retrying')
        await this.#startOver()
        if (!(await pause(backoffDelay(failures++), signal))) break
      }
    }
    await this.#settle()
    this.#commits.close()
    await this.#sweeping
    await this.#sweeper.close()
    await this.#reader?.close()
  }
}

export const createConsumerService = (options: ConsumerServiceOptions): ConsumerService => new ConsumerService(options)
