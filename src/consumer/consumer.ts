// The consumer: group membership, the consume loop, offset commits and the drain on shutdown.
// Lifecycle: start() joins the group and begins the loop; close() stops taking batches, finishes the batches in
// hand (store or DLQ), commits, leaves the group and returns.
//
// Partitions are independent lanes. Each lane has at most one batch in flight, so a partition's records are
// applied in offset order; different lanes' batches run at the same time (up to `concurrency`), so one batch's
// transaction waits on the database while the next one is parsed and planned. Lanes go oldest records first,
// so partitions move through produce time together (see schedule).
import { Consumer, GroupProtocols } from '@platformatic/kafka'
import type { DeadLetterQueue } from '../dlq/index.ts'
import type { PipelineError } from '../errors.ts'
import { ensureTopic } from '../kafka/admin.ts'
import type { KafkaConnection } from '../kafka/options.ts'
import type { ConsumerMetrics, Logger } from '../observability/index.ts'
import type { Store } from '../store/index.ts'
import { type Lane, PartitionReader, type RawMessage } from './batch-reader.ts'
import { createCommitter } from './commits.ts'
import { recordLag } from './lag.ts'
import { createProcessor, type InboundRecord, type Parked, type Processor } from './process.ts'
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
  /** How long an event whose parent is missing stays pending before it is dead-lettered. */
  pendingMaxAgeMs?: number
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
  deadLettered: number
  /** Records waiting for a retry (constraint violations inside FK_RETRY_MS). */
  parked: number
  batches: number
  /** The partitions of the topic this member owns now; undefined until the group has assigned them. */
  partitions: number[] | undefined
}

const toRecord = (m: RawMessage): InboundRecord => ({
  topic: m.topic,
  partition: m.partition,
  offset: m.offset,
  key: m.key ?? null,
  value: m.value ?? null,
  timestamp: m.timestamp,
})

/** What the consumer knows about one partition besides its waiting records. */
interface Progress {
  readonly topic: string
  readonly partition: number
  readonly processor: Processor
  /** The offset after the last record stored or dead-lettered, once there is one. */
  next: bigint | undefined
  leaderEpoch: number
  /** Records that violated a constraint and wait for another try; the commit stops at the first of them. */
  parked: Parked[]
  /** A batch of this partition is in flight: the next one waits for it (offset order). */
  busy: boolean
  degraded: PipelineError | undefined
  /** While the lane is ready but held back for another partition's older records: since when, and `launches` then. */
  held: { since: number; launches: number } | undefined
}

/**
 * How long a ready lane waits for older records of other partitions (see schedule): until the others have run
 * this many batches, or this long when they make no progress at all. Counted in batches rather than time, so a
 * slow database does not shorten the wait.
 */
const maxHoldBatches = 16
const maxHoldMs = 5000

export function createConsumerService(options: ConsumerServiceOptions) {
  const { logger, metrics } = options
  const concurrency = Math.max(1, options.concurrency ?? 3)
  const status: ConsumerStatus = {
    joined: false,
    degraded: undefined,
    applied: 0,
    deadLettered: 0,
    parked: 0,
    batches: 0,
    partitions: undefined,
  }
  const consumer = new Consumer({
    ...options.connection,
    groupId: options.groupId,
    // KIP-848 by default (see docs/architecture.md, "Consumer group protocol"): the broker owns the session
    // timeout and the assignment there; the classic protocol takes them from the client.
    ...(options.groupProtocol === 'classic'
      ? { sessionTimeout: options.sessionTimeoutMs ?? 10_000, heartbeatInterval: 1000, rebalanceTimeout: 30_000 }
      : { groupProtocol: GroupProtocols.CONSUMER, rebalanceTimeout: 60_000 }),
    maxWaitTime: 100,
    maxBytes: 16 * 1024 * 1024,
    // Without a per-partition limit the client uses maxBytes for each partition, and the first partition of a
    // backlog fills every fetch on its own. 1 MiB (the Java client's default) is still at least the largest record
    // batch a producer may write, so no partition can starve behind another.
    maxBytesPerPartition: 1024 * 1024,
  })
  consumer.on('consumer:group:join', () => {
    status.joined = true
    logger.info({ groupId: options.groupId, topic: options.topic }, 'joined consumer group')
  })
  consumer.on('consumer:group:leave', () => {
    status.joined = false
  })
  consumer.on('consumer:lag', lag => recordLag(metrics.lag, lag))
  consumer.on('consumer:lag:error', error => logger.debug({ err: error }, 'lag monitoring failed'))

  const stop = new AbortController()
  let loop: Promise<void> | undefined

  async function openReader(): Promise<PartitionReader> {
    const stream = await consumer.consume({
      topics: [options.topic],
      // Start where the group left off; a new group starts from the beginning, so nothing produced before the
      // consumer started is skipped (the seed started at the latest offset and lost those).
      mode: 'committed',
      fallbackMode: 'earliest',
      autocommit: false,
      highWaterMark: options.batchMax * 2,
    })
    return new PartitionReader(stream, options.batchMax * Math.max(4, concurrency * 2))
  }

  const progress = new Map<string, Progress>()

  function progressOf(lane: Lane): Progress {
    let p = progress.get(lane.key)
    if (p === undefined) {
      const fresh: Progress = {
        topic: lane.topic,
        partition: lane.partition,
        next: undefined,
        leaderEpoch: -1,
        parked: [],
        busy: false,
        degraded: undefined,
        held: undefined,
        processor: createProcessor({
          store: options.store,
          dlq: options.dlq,
          logger,
          metrics,
          fkRetryMs: options.fkRetryMs,
          onDegraded: (error: PipelineError | undefined) => {
            fresh.degraded = error
            const any = [...progress.values()].find(q => q.degraded !== undefined)?.degraded
            status.degraded = any ? { code: any.code, message: any.message } : undefined
          },
        }),
      }
      p = fresh
      progress.set(lane.key, p)
    }
    return p
  }

  /** The partitions of the topic this member owns now; undefined until the group has said. */
  function owned(): number[] | undefined {
    if (consumer.assignments === null) return undefined
    return consumer.assignments.find(a => a.topic === options.topic)?.partitions ?? []
  }

  /**
   * Per partition, the offset after the last handled record, but never past a parked record: the offset only
   * moves past records that are stored or dead-lettered. Partitions the group has moved to another member are
   * left to it (a late commit from here could move its offset back); their state stays, so that a parked record
   * still holds the commit back should the partition come back.
   */
  function* commitOffsets() {
    const mine = owned()
    for (const p of progress.values()) {
      if (p.next === undefined || (mine !== undefined && !mine.includes(p.partition))) continue
      let offset = p.next
      for (const parked of p.parked) if (parked.record.offset < offset) offset = parked.record.offset
      yield { topic: p.topic, partition: p.partition, offset, leaderEpoch: p.leaderEpoch }
    }
  }

  const commits = createCommitter({
    collect: commitOffsets,
    send: offsets => consumer.commit({ offsets }),
    // Everything up to these offsets is stored or dead-lettered; until a retry lands (or, after a rebalance, the
    // new owner commits), a restart would only see these records again, and the store applies them idempotently.
    failed: (error, failures) => logger.warn({ err: error, failures }, 'offset commit failed; trying again'),
  })

  const inFlight = new Set<Promise<void>>()
  /** An unexpected failure of a lane: the loop stops taking batches and starts over from the last commit. */
  let broken: unknown

  async function work(reader: PartitionReader, lane: Lane, p: Progress): Promise<void> {
    const batch = reader.take(lane, options.batchMax)
    const now = Date.now()
    const due = p.parked.filter(x => x.retryAt <= now)
    try {
      const outcome = await p.processor.process(batch.map(toRecord), due, stop.signal)
      p.parked =
        due.length === 0
          ? [...p.parked, ...outcome.parked]
          : [...p.parked.filter(x => x.retryAt > now), ...outcome.parked]
      const last = batch[batch.length - 1]
      if (last !== undefined) {
        p.next = last.offset + 1n
        p.leaderEpoch = last.leaderEpoch
        status.batches++
      }
      status.applied += outcome.applied
      status.deadLettered += outcome.deadLettered
      status.parked = 0
      for (const q of progress.values()) status.parked += q.parked.length
      commits.request()
    } catch (error) {
      // The batch is abandoned uncommitted (shutdown during a transient retry, or a bug); the lane must not go
      // on past it, so nothing more is taken until the loop has started over from the committed offsets.
      if (!(error instanceof Aborted)) broken ??= error
    }
  }

  /** Batches started so far, the clock of the hold-back in schedule. */
  let launches = 0

  function launch(reader: PartitionReader, lane: Lane, p: Progress): void {
    launches++
    p.busy = true
    const task = work(reader, lane, p).finally(() => {
      p.busy = false
      inFlight.delete(task)
      reader.poke()
    })
    inFlight.add(task)
  }

  /**
   * Starts what can start; returns how long until something might become ready (a batch wait, a retry).
   *
   * Lanes go in the order of their oldest waiting record's timestamp, and a lane waits while another one still
   * has older records waiting. Draining a backlog, every partition then moves through the same stretch of
   * produce time together: taking equal batches in turn instead lets a thin partition run minutes ahead of a
   * busy one, and an order would reach the store long before its user, who sits on the busy partition.
   * Equal timestamps do not hold anyone back, and no lane is held for more than `maxHoldBatches` batches of the
   * others (a producer with a wrong clock must not stall a partition).
   */
  function schedule(reader: PartitionReader): number {
    const now = Date.now()
    let wake = 1000
    const ready: { lane: Lane; p: Progress; retry: boolean; head: bigint | undefined }[] = []
    for (const lane of reader.lanes.values()) {
      const p = progressOf(lane)
      if (p.busy) continue
      const waiting = reader.waiting(lane)
      let retryAt = Number.POSITIVE_INFINITY
      for (const x of p.parked) if (x.retryAt < retryAt) retryAt = x.retryAt
      const fillBy = waiting > 0 ? lane.since + options.batchWaitMs : Number.POSITIVE_INFINITY
      if (waiting >= options.batchMax || fillBy <= now || retryAt <= now) {
        ready.push({ lane, p, retry: retryAt <= now, head: reader.oldest(lane) })
      } else {
        wake = Math.min(wake, fillBy - now, retryAt - now)
      }
    }
    // Due retries first (their parent may have arrived meanwhile), then the oldest records first.
    ready.sort((a, b) => {
      if (a.retry !== b.retry) return a.retry ? -1 : 1
      if (a.head === undefined || b.head === undefined) return a.head === undefined ? -1 : 1
      return a.head < b.head ? -1 : a.head > b.head ? 1 : 0
    })
    for (const { lane, p, retry } of ready) {
      if (inFlight.size >= concurrency) break
      const head = reader.oldest(lane)
      if (!retry && head !== undefined && olderElsewhere(reader, lane, head)) {
        p.held ??= { since: now, launches }
        if (launches - p.held.launches < maxHoldBatches && now - p.held.since < maxHoldMs) {
          wake = Math.min(wake, p.held.since + maxHoldMs - now)
          continue
        }
      }
      p.held = undefined
      launch(reader, lane, p)
    }
    return Math.max(1, wake)
  }

  function olderElsewhere(reader: PartitionReader, lane: Lane, head: bigint): boolean {
    for (const other of reader.lanes.values()) {
      if (other === lane) continue
      const theirs = reader.oldest(other)
      if (theirs !== undefined && theirs < head) return true
    }
    return false
  }

  /** Waits for the batches in flight, commits what they finished, and forgets the lanes' state. */
  async function settle(): Promise<void> {
    while (inFlight.size > 0) await Promise.all(inFlight)
    await commits.flush()
  }

  async function startOver(reader: PartitionReader | undefined): Promise<void> {
    await settle()
    await reader?.close()
    // A new stream starts at the committed offsets, which never passed a parked or unhandled record: those
    // come again, so keeping them here would apply them twice.
    progress.clear()
    status.parked = 0
    broken = undefined
  }

  async function run(): Promise<void> {
    let reader: PartitionReader | undefined
    let failures = 0
    while (!stop.signal.aborted) {
      try {
        reader ??= await openReader()
        const failure = reader.failure ?? (broken === undefined ? undefined : broken)
        if (failure) {
          if (broken === undefined) logger.warn({ err: failure }, 'message stream stopped; reopening it')
          else logger.error({ err: failure }, 'consume loop failed; retrying')
          await startOver(reader)
          reader = undefined
          if (!(await pause(backoffDelay(failures++), stop.signal))) break
          continue
        }
        const wake = schedule(reader)
        commits.tick()
        await reader.wait(wake, stop.signal)
        failures = 0
      } catch (error) {
        logger.error({ err: error }, 'consume loop failed; retrying')
        await startOver(reader)
        reader = undefined
        if (!(await pause(backoffDelay(failures++), stop.signal))) break
      }
    }
    await settle()
    commits.close()
    await reader?.close()
  }

  return {
    status: (): Readonly<ConsumerStatus> => {
      const mine = owned()
      status.partitions = mine === undefined ? undefined : [...mine]
      return status
    },

    async start(): Promise<void> {
      await ensureTopic(options.connection, options.topic, options.partitions)
      await options.store.migrate()
      consumer.startLagMonitoring({ topics: [options.topic] }, 5000)
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
