// The redrive: selects dead letters, stores them as a job in Redis (job-store.ts), then sends each entry's record
// to Kafka and removes the entry only once Kafka acknowledged the copy. Every state change is written to Redis
// before the step it announces, so a run killed at any point is completed by the next one:
//   pending  → (end offset of the target partition written as the entry's mark) sending → Kafka send
//   sending  → acknowledged: sent → DLQ entry removed: done (or gone, when someone else removed it first)
// After a crash an entry still `sending` is in doubt: the next run reads the target partition from the mark and
// looks for a record carrying the job's id and the entry's number in its headers; found, the entry is sent, not
// found, it is sent again. The dead run's lease must expire first, and a run never starts a send that could end
// after its lease (lease.ts), so whatever it sent is in Kafka by then. Every state write of a run is fenced by its
// lease (job-store.ts): a run cut off from Redis that comes back after another took over writes nothing more.
import { randomUUID } from 'node:crypto'
import { hostname } from 'node:os'
import { sleep } from '../async.ts'
import type { DeadLetter, DeadLetterQueue, RedisClient as Redis, StoredLetter } from '../dlq/index.ts'
import {
  createOffsetsReader,
  type KafkaConnection,
  KafkaWriter,
  type OffsetsReader,
  readRange,
  SendOverran,
} from '../kafka/index.ts'
import { appendAudit, auditRecord } from './audit.ts'
import { scanOldestFirst } from './browse.ts'
import { type DlqFilter, UsageError } from './filter.ts'
import { fixedPayload } from './fix.ts'
import {
  createJobStore,
  type Job,
  type JobMeta,
  type JobStatus,
  type JobStore,
  jobMaxEntries,
  type Lease,
} from './job-store.ts'
import { holdLease, type LeaseHolder, type LeaseTimings, leaseTimings } from './lease.ts'
import { delayBefore, sliceSize } from './rate.ts'
import {
  headersOf,
  isOpen,
  type JobEntry,
  jobEntryOf,
  move,
  partitionFor,
  readBackFrom,
  recordValue,
  redrivability,
  redriveHeaders,
  resolveInDoubt,
  sourceOf,
  tally,
} from './redrive-plan.ts'

export interface RedriveContext {
  readonly dlq: DeadLetterQueue
  readonly redis: Redis
  readonly key: string
  readonly connection: KafkaConnection
  /** Longest a Kafka request may take. */
  readonly kafkaTimeoutMs: number
  /** Where a fixed event refused by the producer goes without --to (KAFKA_TOPIC). */
  readonly defaultTopic: string
  /** The producer's body limit, which a replacement payload must respect. */
  readonly bodyLimitBytes: number
  /** The producer's MAX_EVENT_SKEW, which a replacement payload must respect too (default 1 h). */
  readonly maxEventSkewMs?: number
  /** How long a run's lease lasts without renewal (default: the Kafka timeout plus 3 s, at least 6 s). */
  readonly leaseMs?: number
  /** Taken off the end of the lease when deciding whether a send still fits in it (default 1 s). */
  readonly leaseMarginMs?: number
}

export interface RedriveRequest {
  readonly filter: DlqFilter
  readonly who: string
  readonly to?: string
  readonly rate?: number
  readonly limit?: number
  /** Fix then redrive: the replacement payload of every entry of one eventId. */
  readonly fix?: { readonly eventId: string; readonly payload: string }
}

export interface Selection {
  /** What would be sent, in order. */
  readonly entries: JobEntry[]
  /** The entry each job entry sends (its newest, for a fixed eventId). */
  readonly letters: ReadonlyMap<number, DeadLetter>
  /** Matching entries that cannot be sent as they are, with why (at most `reportMax`; `moreNotRedrivable` more). */
  readonly notRedrivable: readonly { readonly letter: DeadLetter; readonly reason: string }[]
  readonly moreNotRedrivable: number
  /** The job was cut at its bounds; the rest is for the next run. */
  readonly truncated: boolean
}

/** Entry text one job may snapshot, in bytes. */
export const jobMaxBytes = 64 * 1024 * 1024
const reportMax = 1000

export class RedriveBusy extends Error {
  constructor(id: string, leftMs: number) {
    super(`redrive ${id} is being run by another process (its lease expires in ${Math.ceil(leftMs / 1000)} s)`)
    this.name = 'RedriveBusy'
  }
}

/** The entries a redrive would send, and those it cannot, without changing anything. */
export async function selectForRedrive(ctx: RedriveContext, request: RedriveRequest): Promise<Selection> {
  if (request.fix !== undefined) return selectFix(ctx, request, request.fix)
  const max = Math.min(request.limit ?? jobMaxEntries, jobMaxEntries)
  const entries: JobEntry[] = []
  const letters = new Map<number, DeadLetter>()
  const notRedrivable: { letter: DeadLetter; reason: string }[] = []
  let moreNotRedrivable = 0
  let bytes = 0
  let truncated = false
  for await (const { entry, letter } of scanOldestFirst(ctx.dlq, request.filter)) {
    const can = redrivability(letter)
    if (!can.ok) {
      if (notRedrivable.length < reportMax) notRedrivable.push({ letter, reason: can.reason })
      else moreNotRedrivable++
      continue
    }
    if (entries.length >= max || bytes + entry.length > jobMaxBytes) {
      truncated = entries.length < (request.limit ?? Number.POSITIVE_INFINITY)
      break
    }
    const job = jobEntryOf(entries.length + 1, entry, letter, request.to)
    entries.push(job)
    letters.set(job.n, letter)
    bytes += entry.length
  }
  return { entries, letters, notRedrivable, moreNotRedrivable, truncated }
}

/** Most entries one fix replaces (they all go into one job entry, which lives in Redis). */
export const fixMaxEntries = 10_000

async function selectFix(
  ctx: RedriveContext,
  request: RedriveRequest,
  fix: NonNullable<RedriveRequest['fix']>,
): Promise<Selection> {
  const stored: StoredLetter[] = []
  for await (const found of ctx.dlq.eventEntries(fix.eventId)) {
    stored.push(found)
    if (stored.length > fixMaxEntries) {
      throw new UsageError(
        `eventId "${fix.eventId.slice(0, 200)}" has more than ${fixMaxEntries} dead letters, more than one fix ` +
          'replaces at once: purge the ones not needed first (dlq purge --event-id)',
      )
    }
  }
  if (stored.length === 0) throw new UsageError(`no dead letter has eventId "${fix.eventId.slice(0, 200)}"`)
  const fixed = fixedPayload(fix.payload, fix.eventId, ctx.bodyLimitBytes, ctx.maxEventSkewMs)
  const newest = (stored[0] as (typeof stored)[number]).letter
  const fromKafka = stored.find(s => s.letter.topic !== null)?.letter
  const job: JobEntry = {
    n: 1,
    entries: stored.map(s => s.entry),
    eventId: fixed.event.eventId,
    key: fixed.key,
    topic: request.to ?? fromKafka?.topic ?? ctx.defaultTopic,
    source: sourceOf(fromKafka ?? newest),
    originalPartition: null,
    value: fixed.value,
    state: 'pending',
  }
  return { entries: [job], letters: new Map([[1, newest]]), notRedrivable: [], moreNotRedrivable: 0, truncated: false }
}

/** Stores the selection as a job (entries another open job holds are left out) and audits it. */
export async function createRedrive(
  ctx: RedriveContext,
  request: RedriveRequest,
  selection: Selection,
): Promise<{ id: string; count: number; heldElsewhere: number }> {
  const id = `rd-${Date.now().toString(36)}-${randomUUID().slice(0, 8)}`
  const meta: JobMeta = {
    id,
    who: request.who,
    createdAt: new Date().toISOString(),
    filter: request.fix ? { eventId: request.fix.eventId } : request.filter,
    ...(request.to !== undefined ? { to: request.to } : {}),
    ...(request.rate !== undefined ? { rate: request.rate } : {}),
    ...(request.limit !== undefined ? { limit: request.limit } : {}),
    ...(request.fix ? { fixed: true as const } : {}),
  }
  const skipped = new Set(await createJobStore(ctx.redis, ctx.key).create(meta, selection.entries))
  const kept = selection.entries.filter(e => !skipped.has(e.n))
  await appendAudit(
    ctx.redis,
    ctx.key,
    auditRecord(
      {
        who: request.who,
        action: 'redrive',
        redriveId: id,
        filter: meta.filter,
        eventIds: kept.map(e => e.eventId),
        ...(meta.to !== undefined ? { to: meta.to } : {}),
        ...(meta.fixed ? { fixed: true as const } : {}),
      },
      new Date(),
    ),
  )
  return { id, count: kept.length, heldElsewhere: skipped.size }
}

export interface RunOptions {
  readonly who: string
  /** A later run of a job a previous run started (audited as such). */
  readonly resumed: boolean
  /** Wait for another run's lease to expire instead of failing with RedriveBusy. */
  readonly waitForLease?: boolean
  /** Stops the run at its next step, leaving the job unfinished and resumable (shutdown, Ctrl-C). */
  readonly signal?: AbortSignal
  readonly onProgress?: (progress: { sent: number; total: number }) => void
}

/** Runs (or completes) job `id` to its end; resolves with its final status. */
export async function runRedrive(ctx: RedriveContext, id: string, options: RunOptions): Promise<JobStatus> {
  const store = createJobStore(ctx.redis, ctx.key)
  const timings = leaseTimings(ctx.kafkaTimeoutMs, ctx.leaseMs, ctx.leaseMarginMs)
  const token = `${hostname()}:${process.pid}:${randomUUID()}`
  // A killed run's lease expires within leaseMs; one still renewed after twice that belongs to a live run.
  const giveUpAt = Date.now() + 2 * timings.leaseMs + 1000
  for (;;) {
    const acquiredAt = performance.now()
    const lease = await store.lease(id, token, timings.leaseMs)
    if (lease !== undefined) return new RedriveRun(ctx, id, options, store, lease, timings, acquiredAt).run()
    const left = await store.leaseLeft(id)
    if (!options.waitForLease || Date.now() > giveUpAt) throw new RedriveBusy(id, left)
    await sleep(Math.min(Math.max(left, 50), 500))
  }
}

/**
 * One run of a job, from the moment it holds the job's lease: every state write goes through the fenced store,
 * every send starts only within the lease (lease.ts), and the lease is released at the end unless a send is in
 * doubt.
 */
class RedriveRun {
  readonly #ctx: RedriveContext
  readonly #id: string
  readonly #options: RunOptions
  readonly #store: JobStore
  readonly #lease: Lease
  readonly #timings: LeaseTimings
  readonly #holder: LeaseHolder
  readonly #writer: KafkaWriter
  readonly #offsets: OffsetsReader
  /**
   * A send that failed or was abandoned may still reach the log: the lease is then left to expire rather than
   * released, so the next run reads Kafka no earlier than the send's deadline plus the margin.
   */
  #sendInDoubt = false
  #entries: JobEntry[] = []
  #job: Job | undefined
  /** The DLQ letter of each entry sent as it was (parsed once). */
  readonly #letters = new Map<number, DeadLetter>()

  constructor(
    ctx: RedriveContext,
    id: string,
    options: RunOptions,
    store: JobStore,
    lease: Lease,
    timings: LeaseTimings,
    acquiredAt: number,
  ) {
    this.#ctx = ctx
    this.#id = id
    this.#options = options
    this.#store = store
    this.#lease = lease
    this.#timings = timings
    this.#holder = holdLease(id, timings, acquiredAt, () => store.renew(id, lease, timings.leaseMs))
    this.#writer = new KafkaWriter(ctx.connection, ctx.kafkaTimeoutMs)
    this.#offsets = createOffsetsReader(ctx.connection, {
      timeoutMs: ctx.kafkaTimeoutMs,
      retries: 2,
      connectTimeoutMs: Math.min(ctx.kafkaTimeoutMs, 3000),
    })
  }

  /** The job's status at the end of the run; a job purged meanwhile (its keys removed) is an error, not a status. */
  async #finalStatus(): Promise<JobStatus> {
    const status = await this.#store.status(this.#id)
    if (status === undefined) throw new UsageError(`redrive job ${this.#id} was removed while it ran`)
    return status
  }

  async run(): Promise<JobStatus> {
    try {
      const job = await this.#store.load(this.#id)
      if (job === undefined) throw new UsageError(`no redrive job ${this.#id}`)
      if (job.state === 'done' || job.state === 'cancelled') return job
      this.#job = job
      this.#entries = job.entries
      if (this.#options.resumed) await this.#audit('redrive-resume')
      if (job.state === 'failed') await this.#store.reopen(this.#id, this.#lease)
      try {
        const ended = await this.#sendAll()
        if (ended === 'stopped') return await this.#finalStatus()
      } catch (error) {
        // Claims stay: entries in doubt must not be sent by another job; `--resume` completes this one.
        const message = (error as Error).message
        // Fenced like every write: a run that lost its lease leaves the job to the one that holds it.
        await this.#store.finish(this.#id, this.#lease, 'failed', message).catch(() => {})
        await this.#audit('redrive-finish', message).catch(() => {})
        throw error
      }
      return await this.#finalStatus()
    } finally {
      this.#holder.stop()
      if (!this.#sendInDoubt) await this.#store.release(this.#id, this.#lease).catch(() => {})
      await Promise.allSettled([this.#writer.close(), this.#offsets.close()])
    }
  }

  /** Settles what a killed run left, then sends slice after slice; 'stopped' when the signal stopped it. */
  async #sendAll(): Promise<'finished' | 'stopped'> {
    const entries = this.#entries
    const job = this.#job as Job
    await this.#settleInDoubt()
    await this.#removeSent(entries.filter(e => e.state === 'sent'))
    const total = entries.length
    const startedAt = Date.now()
    let sentThisRun = 0
    let cancelled = false
    const perSlice = sliceSize(job.meta.rate)
    this.#options.onProgress?.({ sent: total - entries.filter(isOpen).length, total })
    for (;;) {
      this.#holder.check()
      if (this.#options.signal?.aborted) return 'stopped'
      if (await this.#store.cancelRequested(this.#id)) {
        cancelled = true
        break
      }
      const slice = entries.filter(e => e.state === 'pending').slice(0, perSlice)
      if (slice.length === 0) break
      await sleep(delayBefore(sentThisRun, startedAt, Date.now(), job.meta.rate))
      await this.#sendSlice(slice)
      sentThisRun += slice.length
      this.#options.onProgress?.({ sent: total - entries.filter(isOpen).length, total })
    }
    // A cancelled job gives its unsent entries back: they stay in the DLQ, free for another redrive.
    await this.#store.releaseClaims(this.#id, this.#lease, cancelled ? entries : entries.filter(e => !isOpen(e)))
    await this.#store.finish(this.#id, this.#lease, cancelled ? 'cancelled' : 'done')
    await this.#audit(cancelled ? 'redrive-cancel' : 'redrive-finish')
    return 'finished'
  }

  /** Entries a killed run left in doubt: decided from what Kafka holds after their marks. */
  async #settleInDoubt(): Promise<void> {
    const inDoubt = this.#entries.filter(e => e.state === 'sending')
    if (inDoubt.length === 0) return
    const found = new Map<number, bigint>()
    for (const [topic, from] of readBackFrom(inDoubt)) {
      await readRange(
        this.#ctx.connection,
        topic,
        from,
        record => {
          if (record.headers.get(redriveHeaders.id) !== this.#id) return
          found.set(Number(record.headers.get(redriveHeaders.entry)), record.offset)
        },
        this.#ctx.kafkaTimeoutMs * 6,
      )
    }
    await this.#save(resolveInDoubt(inDoubt, found))
  }

  /** Marks, sends and records one slice: each state written (fenced) before the step it announces. */
  async #sendSlice(slice: readonly JobEntry[]): Promise<void> {
    const counts = new Map<string, number>()
    const ends = new Map<string, Map<number, bigint>>()
    for (const topic of new Set(slice.map(e => e.topic))) {
      const count = await this.#writer.partitionCount(topic).catch(() => undefined)
      if (count === undefined) throw new Error(`topic ${topic} does not exist`)
      counts.set(topic, count)
      ends.set(topic, await this.#offsets.ends(topic))
    }
    const sending = slice.map(e => {
      const partition = partitionFor(e, counts.get(e.topic) as number)
      const mark = (ends.get(e.topic) as Map<number, bigint>).get(partition) ?? 0n
      return move(e, 'sending', { partition, mark: mark.toString() })
    })
    // Written before the send: a crash from here on leaves the entries in doubt, with their marks.
    await this.#save(sending)
    // Only a send that ends inside the lease starts: one that would overrun it is left in doubt, for the run
    // that takes the job over to decide from Kafka once everything this one sent is there.
    const deadline = await this.#holder.ensure(this.#timings.sendMs)
    this.#sendInDoubt = true
    // Past its deadline the writer shuts its producer, which drops its pending retries, and the run stops
    // with the send in doubt.
    const written = await this.#writer
      .write(
        sending.map(e => ({
          topic: e.topic,
          partition: e.partition as number,
          ...(e.key !== null ? { key: Buffer.from(e.key) } : {}),
          value: recordValue(e, this.#letterOf(e)),
          headers: new Map(Object.entries(headersOf(this.#id, e)).map(([k, v]) => [Buffer.from(k), Buffer.from(v)])),
        })),
        { deadline },
      )
      .catch(error => {
        if (!(error instanceof SendOverran)) throw error
        throw new Error(
          `redrive ${this.#id}: a send to Kafka outran its deadline (the Kafka timeout) and is left in doubt`,
          { cause: error },
        )
      })
    this.#sendInDoubt = false
    const sent = sending.map((e, i) => {
      const offset = written[i]?.offset
      return move(e, 'sent', offset === undefined ? {} : { offset: offset.toString() })
    })
    await this.#save(sent)
    await this.#removeSent(sent)
  }

  #letterOf(e: JobEntry): DeadLetter | undefined {
    if (e.value !== undefined) return undefined
    let letter = this.#letters.get(e.n)
    if (letter === undefined) {
      letter = JSON.parse(e.entries[0] as string) as DeadLetter
      this.#letters.set(e.n, letter)
    }
    return letter
  }

  /** Writes changed entries (fenced) and keeps the run's copy of the job in step. */
  async #save(changed: readonly JobEntry[]): Promise<void> {
    const entries = this.#entries
    for (const e of changed) entries[entries.findIndex(x => x.n === e.n)] = e
    await this.#store.save(this.#id, this.#lease, changed, tally(entries))
  }

  /** Removes sent entries from the DLQ: 'done' when one of its texts was there, 'gone' when none was. */
  async #removeSent(sent: readonly JobEntry[]): Promise<void> {
    if (sent.length === 0) return
    const removed = await this.#ctx.dlq.remove(sent.flatMap(e => e.entries))
    let i = 0
    const outcome = sent.map(e => {
      const any = e.entries.map(() => removed[i++] === true).some(Boolean)
      return move(e, any ? 'done' : 'gone')
    })
    await this.#save(outcome)
  }

  #audit(action: 'redrive-resume' | 'redrive-finish' | 'redrive-cancel', error?: string): Promise<void> {
    const entries = this.#entries
    const t = tally(entries)
    const resuming = action === 'redrive-resume'
    return appendAudit(
      this.#ctx.redis,
      this.#ctx.key,
      auditRecord(
        {
          who: this.#options.who,
          action,
          redriveId: this.#id,
          filter: (this.#job as Job).meta.filter,
          eventIds: (resuming ? entries.filter(isOpen) : entries).map(e => e.eventId),
          count: resuming ? entries.filter(isOpen).length : t.sent,
          ...(resuming ? {} : { outcome: t }),
          ...(error !== undefined ? { error } : {}),
        },
        new Date(),
      ),
    )
  }
}
