// Rebuilding the projection from the log with no downtime, as one object the CLI and the admin API share:
//   start     a shadow generation beside the live tables, and a consumer group of its own starting at the
//             earliest record (or at a time); refused when retention deleted records
//   fill      the live consumer's code (same batches, same rules) fills the shadow under that group, and keeps
//             following the log until stopped; progress and bad records go to Redis every tick
//   verify    once the shadow has processed what the live tables have, compares them table by table
//   swap      stops the fill, brings the shadow up to the live tables, swaps, and closes the gap the live
//             consumer may have opened meanwhile (see closeGap)
//   rollback  swaps back and closes that gap the other way; abort drops the shadow; drop-old drops the old tables
// One rebuild of a store at a time (RebuildStore.begin), and one process working on it at a time (the lease).
import { randomUUID } from 'node:crypto'
import { hostname } from 'node:os'
import { pause } from '../async.ts'
import type { ConsumerSettings, PauseBoard } from '../consumer/index.ts'
import type { RedisClient as Redis } from '../dlq/index.ts'
import { appendAudit, auditRecord, type RebuildAction } from '../dlq-ops/audit.ts'
import {
  commitGroupOffsets,
  deleteGroups,
  type LogPositions,
  type OffsetsReader,
  topicRetention,
} from '../kafka/index.ts'
import type { Logger } from '../observability/index.ts'
import { GenerationError, type Generations, type Store, type TableCheck } from '../store/index.ts'
import { BadRecordSink } from './bad-records.ts'
import { RebuildError } from './errors.ts'
import { follow, until } from './follow.ts'
import { LiveGroup } from './live-group.ts'
import { behindLive, type Progress, progressOf, type Sample } from './progress.ts'
import { retentionRefusal } from './retention.ts'
import { type RebuildCommand, type RebuildState, refusal } from './state.ts'
import { type RebuildMeta, type RebuildRecord, RebuildStore, type VerifySummary } from './state-store.ts'
import { boundDiff, type RebuildStatus, statusOf } from './status.ts'

/** The live group's pause board (src/consumer/pause-board.ts), as a swap and a rollback use it. */
export type GroupPause = Pick<PauseBoard, 'pause' | 'resume' | 'state' | 'waitIdle'>

export interface RebuildOptions {
  readonly generations: Generations
  /** The live projection: its marks (applied_offsets) are what the shadow must reach. */
  readonly live: Store
  /** A client of the DLQ's Redis (the rebuild's keys and the audit list live in the DLQ's slot). */
  readonly redis: Redis
  readonly dlqKey: string
  /** The store's identity (store-id.ts). */
  readonly storeId: string
  /** The live consumer's settings: the rebuild consumes the same topic the same way under its own groups. */
  readonly consumer: ConsumerSettings
  readonly offsets: OffsetsReader & LogPositions
  readonly logger: Logger
  /** How long the lease lasts without renewal (default 15 s): a process that died frees the rebuild after it. */
  readonly leaseMs?: number
  /** How often the fill looks at its progress, renews its lease and reads requests (default 1 s). */
  readonly tickMs?: number
  /** Longest a swap or an abort waits for the process filling the shadow to stop (default 30 s). */
  readonly stopWaitMs?: number
  /** Longest the shadow may take to reach the live tables before a swap, or a gap to close (default 5 min). */
  readonly catchUpMs?: number
  /**
   * How long after a swap or a rollback the live group's commits are read (default 3 s): a batch the live consumer
   * applied to the replaced tables commits its offsets this soon after its transaction.
   */
  readonly settleMs?: number
  /**
   * The live group's pause board. With it, a swap and a rollback pause the live group and wait until every member
   * is idle, so nothing reaches the replaced tables after the shadow's last look; without it, they close the gap
   * afterwards (see closeGap).
   */
  readonly pause?: GroupPause
  /** Longest a swap or a rollback waits for every member of the live group to be paused and idle (default 30 s). */
  readonly pauseWaitMs?: number
}

/** How a fill ended: the status then, and what stopped it. */
export interface FillEnd extends RebuildStatus {
  /** Its signal (Ctrl-C, shutdown), a swap or an abort that asked, or its lease lost. */
  readonly stoppedBy: 'signal' | 'request' | 'lease'
}

export interface VerifyReport {
  readonly summary: VerifySummary
  readonly tables: readonly TableCheck[]
}

/** Most differing keys per table a verify shows. */
export const verifyLimitMax = 1000

const json = (value: unknown) => JSON.stringify(value, (_, v) => (typeof v === 'bigint' ? v.toString() : v))

const marksText = (rows: { partition: number; shadow: bigint; live: bigint }[]) =>
  rows
    .slice(0, 10)
    .map(r => `partition ${r.partition}: shadow through ${r.shadow}, live through ${r.live}`)
    .join('; ')

export class Rebuilds {
  readonly #o: RebuildOptions
  readonly #store: RebuildStore
  readonly #live: LiveGroup
  readonly #leaseMs: number
  readonly #tickMs: number
  readonly #token = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`

  constructor(options: RebuildOptions) {
    this.#o = options
    this.#store = new RebuildStore(options.redis, options.dlqKey, options.storeId)
    this.#live = new LiveGroup(options)
    this.#leaseMs = options.leaseMs ?? 15_000
    this.#tickMs = options.tickMs ?? 1000
  }

  get #topic(): string {
    return this.#o.consumer.topic
  }

  /**
   * Throws the RebuildError `command` would throw for the rebuild's state now: what a caller that runs the command
   * in the background checks first, to answer at once.
   */
  async check(command: RebuildCommand): Promise<void> {
    const record = await this.#current()
    const why = refusal(command, record.state, record.id)
    if (why !== undefined) throw new RebuildError('state', why)
    if (command === 'swap' || command === 'rollback') await this.#live.refuseIfPaused(command)
  }

  async status(): Promise<RebuildStatus | undefined> {
    const record = await this.#store.read()
    if (record === undefined) return undefined
    return statusOf(record, await this.#store.leaseLeft())
  }

  /**
   * Begins a rebuild: checks the log is whole (unless `from` is given), creates the shadow generation and sets
   * where its group starts. The fill is run by `fill` (the CLI in the foreground, the admin API in the
   * background). Throws RebuildError busy while another rebuild of the store is under way.
   */
  async start(options: { by: string; from?: number }): Promise<RebuildStatus> {
    const { from, by } = options
    const { connection } = this.#o.consumer
    const topic = this.#topic
    if (from === undefined) {
      const [starts, retention] = await Promise.all([this.#o.offsets.starts(topic), topicRetention(connection, topic)])
      const refused = retentionRefusal(topic, starts, retention)
      if (refused !== undefined) throw new RebuildError('refused', refused)
    }
    // A store that cannot hold generations (SQLite in memory) says so before anything is begun.
    await this.#o.generations.list()
    const startedAt = new Date().toISOString()
    const id = await this.#store.begin(startedAt)
    const meta: RebuildMeta = {
      id,
      generation: `rebuild_${id}`,
      group: `${this.#o.consumer.groupId}-rebuild-${id}`,
      topic,
      by,
      startedAt,
      from: from === undefined ? null : new Date(from).toISOString(),
    }
    await this.#store.write(id, undefined, { meta: json(meta) })
    try {
      await this.#o.generations.create(meta.generation)
      // Always committed, even from the earliest record: a group of the same name left by an earlier life of
      // this Redis must not decide where the shadow starts.
      const startAt =
        from === undefined ? await this.#o.offsets.starts(topic) : await this.#o.offsets.atTime(topic, from)
      await commitGroupOffsets(connection, meta.group, topic, startAt)
    } catch (error) {
      await this.#store.tryWrite(id, 'failed', { error: (error as Error).message.slice(0, 1000) })
      throw error
    }
    await this.#audit('rebuild-start', meta, by)
    this.#o.logger.info(
      { rebuild: id, generation: meta.generation, group: meta.group, from: meta.from },
      'rebuild started',
    )
    return (await this.status()) as RebuildStatus
  }

  /**
   * Fills the shadow and keeps following the log until the signal aborts, another process asks it to stop (a
   * swap or an abort), or its lease is lost; then the state says `stopped` and `fill` again (`start --resume`)
   * continues from the group's committed offsets. `onProgress` sees every tick's progress.
   */
  async fill(signal: AbortSignal, onProgress?: (progress: Progress, status: RebuildStatus) => void): Promise<FillEnd> {
    const record = await this.#current()
    const meta = this.#metaOf(record)
    const working = record.state === 'filling' || record.state === 'caught-up'
    if (!working) {
      const why = refusal('resume', record.state, record.id)
      if (why !== undefined) throw new RebuildError('state', why)
    }
    const owner = await this.#takeLease(record, false)
    const logger = this.#o.logger.child({ rebuild: record.id })
    let failure: unknown
    let stoppedBy: FillEnd['stoppedBy'] = 'signal'
    try {
      await this.#store.clear(record.id, 'request', 'error')
      await this.#store.write(record.id, working ? undefined : 'filling')
      const shadow = await this.#o.generations.open(meta.generation)
      const sink = new BadRecordSink(record.bad)
      try {
        const follower = await follow({ settings: this.#o.consumer, group: meta.group, store: shadow, sink, logger })
        let last: { sample: Sample; progress: Progress } | undefined
        try {
          while (!signal.aborted) {
            const sample = await this.#sample(shadow)
            const progress = progressOf(sample, last)
            last = { sample, progress }
            await this.#store.write(record.id, undefined, { progress: json(progress), bad: json(sink.snapshot()) })
            if (progress.caughtUp) await this.#store.tryWrite(record.id, 'caught-up')
            const now = await this.#store.read()
            if (now !== undefined && onProgress !== undefined) onProgress(progress, statusOf(now, this.#leaseMs))
            if (now?.request === 'stop' || now?.id !== record.id) {
              logger.info('rebuild fill stopping: another command asked for it')
              stoppedBy = 'request'
              break
            }
            if (!(await this.#store.renew(owner, this.#leaseMs))) {
              logger.warn('rebuild fill stopping: its lease was lost')
              stoppedBy = 'lease'
              break
            }
            if (!(await pause(this.#tickMs, signal))) break
          }
        } finally {
          await follower.close()
          await this.#store.tryWrite(record.id, undefined, { bad: json(sink.snapshot()) })
        }
      } finally {
        await shadow.close()
      }
    } catch (error) {
      failure = error
    }
    if (failure !== undefined) {
      await this.#store.tryWrite(record.id, 'failed', { error: String((failure as Error).message).slice(0, 1000) })
    } else {
      // Only a fill's own states: a process that lost its lease must not undo what the one holding it did since.
      const now = await this.#store.read()
      if (now?.id === record.id && (now.state === 'filling' || now.state === 'caught-up')) {
        await this.#store.tryWrite(record.id, 'stopped')
      }
    }
    await this.#store.release(owner)
    if (failure !== undefined) throw failure
    return { ...((await this.status()) as RebuildStatus), stoppedBy }
  }

  /**
   * Compares the shadow with the live tables: table by table counts and checksums, and the first `limit` keys
   * that differ, with both versions. Refused until the shadow has processed what the live tables have: before
   * that, differences would only say it is behind. The live consumer keeps writing meanwhile: keys it changes
   * during the comparison may show as different (verify again, or compare while the producers are quiet).
   */
  async verify(options: { by: string; limit: number }): Promise<VerifyReport> {
    const limit = Math.max(1, Math.min(verifyLimitMax, Math.floor(options.limit)))
    const record = await this.#current()
    const why = refusal('verify', record.state, record.id)
    if (why !== undefined) throw new RebuildError('state', why)
    const meta = this.#metaOf(record)
    const shadow = await this.#o.generations.open(meta.generation)
    try {
      const behind = behindLive(
        await shadow.appliedOffsets(this.#topic),
        await this.#o.live.appliedOffsets(this.#topic),
      )
      if (behind.length > 0) {
        throw new RebuildError(
          'refused',
          `the shadow has not processed what the live tables have (${marksText(behind)}): verify once it caught up`,
        )
      }
    } finally {
      await shadow.close()
    }
    await this.#store.write(record.id, undefined, { verifying: new Date().toISOString() })
    try {
      const tables = await this.#o.generations.compare(meta.generation, { limit })
      const summary: VerifySummary = {
        at: new Date().toISOString(),
        by: options.by,
        matches: tables.every(t => t.differing.length === 0 && t.liveChecksum === t.shadowChecksum),
        tables: tables.map(t => ({
          table: t.table,
          liveRows: t.liveRows,
          shadowRows: t.shadowRows,
          liveChecksum: t.liveChecksum,
          shadowChecksum: t.shadowChecksum,
          differing: t.differing.length,
        })),
      }
      await this.#store.write(record.id, undefined, { verify: json(summary) })
      return { summary, tables: tables.map(t => ({ ...t, differing: t.differing.map(boundDiff) })) }
    } finally {
      await this.#store.clear(record.id, 'verifying')
    }
  }

  /**
   * Makes the shadow the live projection. Stops the fill (wherever it runs), brings the shadow up to the live
   * tables' marks, swaps, then closes the gap: records the live consumer applied to the old tables between that
   * look and the swap are applied to the new ones (every rule is idempotent and order-free, so applying them late
   * gives the same rows). The old tables are kept: `rollback` switches back, `drop-old` finishes.
   */
  swap(options: { by: string; signal?: AbortSignal }): Promise<RebuildStatus> {
    return this.#command('swap', { stopFill: true, renew: true }, async (record, meta) => {
      await this.#store.write(record.id, 'swapping', { request: '' })
      let shadowMarks: Map<number, bigint>
      let paused: (() => Promise<void>) | undefined
      try {
        paused = await this.#live.pause(record.id, 'swap', options.by, options.signal)
        shadowMarks = await this.#catchUpShadow(meta, record, options.signal)
        // Kept for a process that takes over a swap whose own process stopped half-way (#recover), and for a
        // rollback: what the live group had committed before the swap was applied to the old tables, and a
        // rollback applies to them again from there (a little before their own marks: applying twice changes
        // nothing).
        const before = await this.#live.committed()
        await this.#store.write(record.id, undefined, { swapFrom: json([...shadowMarks]), oldFrom: json([...before]) })
        await this.#o.generations.swap(meta.generation)
      } catch (error) {
        await paused?.()
        const message = `swap failed: ${(error as Error).message}`.slice(0, 1000)
        await this.#store.tryWrite(record.id, 'stopped', { error: message })
        throw error
      }
      await this.#store.write(record.id, 'swapped', { swappedAt: new Date().toISOString() })
      await this.#audit('rebuild-swap', meta, options.by)
      this.#o.logger.info({ rebuild: record.id, generation: meta.generation }, 'rebuild swapped in')
      try {
        await this.#live.closeGap(meta, `${meta.group}-swap`, shadowMarks, options.signal, paused !== undefined)
      } finally {
        await paused?.()
      }
    })
  }

  /** Renews the lease `owner` in the background until the interval is cleared: for work that may take minutes. */
  #renewing(owner: string): ReturnType<typeof setInterval> {
    return setInterval(() => void this.#store.renew(owner, this.#leaseMs).catch(() => {}), this.#leaseMs / 4)
  }

  /**
   * Switches back to the tables the swap replaced, and applies to them what the live consumer applied to the
   * swapped-in ones meanwhile. The rebuilt generation is a shadow again: resume, swap again or abort it.
   */
  rollback(options: { by: string; signal?: AbortSignal }): Promise<RebuildStatus> {
    return this.#command('rollback', { stopFill: false, renew: true }, async (record, meta) => {
      const oldFrom = await this.#marksField('oldFrom')
      const paused = await this.#live.pause(record.id, 'rollback', options.by, options.signal)
      try {
        await this.#o.generations.rollback(meta.generation)
        await this.#store.write(record.id, 'rolled-back', { rolledBackAt: new Date().toISOString() })
        await this.#audit('rebuild-rollback', meta, options.by)
        await this.#live.closeGap(meta, `${meta.group}-rollback`, oldFrom, options.signal, paused !== undefined)
      } finally {
        await paused?.()
      }
    })
  }

  /** Stops the fill wherever it runs, drops the shadow generation and the rebuild's consumer groups. */
  abort(options: { by: string }): Promise<RebuildStatus> {
    return this.#command('abort', { stopFill: true, renew: false }, async (record, meta) => {
      // A shadow that was never made (its creation failed) or is gone already: nothing to drop.
      await this.#o.generations.drop(meta.generation).catch(error => {
        if (!(error instanceof GenerationError && error.reason === 'not-found')) throw error
      })
      await this.#store.write(record.id, 'aborted', { request: '' })
      await this.#dropGroups(meta)
      await this.#audit('rebuild-abort', meta, options.by)
    })
  }

  /** Drops the tables a swap replaced: the rebuild is done, and a new one may begin. */
  dropOld(options: { by: string }): Promise<RebuildStatus> {
    return this.#command('drop-old', { stopFill: false, renew: false }, async (record, meta) => {
      await this.#o.generations.dropOld(meta.generation)
      await this.#store.write(record.id, 'done')
      await this.#dropGroups(meta)
      await this.#audit('rebuild-drop-old', meta, options.by)
    })
  }

  /**
   * One command that changes the store or the rebuild: refused unless the rebuild's state allows it (and, for a
   * swap or a rollback, unless an operator paused the live group), done under the rebuild's lease (renewed in the
   * background for work that may take minutes), answered with the status after it.
   */
  async #command(
    command: 'swap' | 'rollback' | 'abort' | 'drop-old',
    how: { readonly stopFill: boolean; readonly renew: boolean },
    work: (record: RebuildRecord, meta: RebuildMeta) => Promise<void>,
  ): Promise<RebuildStatus> {
    const record = await this.#current()
    const why = refusal(command, record.state, record.id)
    if (why !== undefined) throw new RebuildError('state', why)
    if (command === 'swap' || command === 'rollback') await this.#live.refuseIfPaused(command)
    const meta = this.#metaOf(record)
    const owner = await this.#takeLease(record, how.stopFill)
    const renew = how.renew ? this.#renewing(owner) : undefined
    try {
      await work(record, meta)
    } finally {
      clearInterval(renew)
      await this.#store.release(owner)
    }
    return (await this.status()) as RebuildStatus
  }

  async #current(): Promise<RebuildRecord> {
    const record = await this.#store.read()
    if (record === undefined)
      throw new RebuildError('absent', 'there is no rebuild of this store: `rebuild start` begins one')
    return this.#recover(record)
  }

  async #marksField(name: string): Promise<Map<number, bigint>> {
    const stored = (await this.#store.field(name)) ?? '[]'
    return new Map((JSON.parse(stored) as [number, string][]).map(([p, o]) => [p, BigInt(o)]))
  }

  /**
   * A rebuild left `swapping` by a process that stopped (its lease expired): the generations say whether the swap
   * happened. If it did, the gap is closed now, from the shadow's marks kept before the swap; if not, the rebuild
   * is stopped, to be resumed or swapped again.
   */
  async #recover(record: RebuildRecord): Promise<RebuildRecord> {
    if (record.state !== 'swapping' || record.meta === undefined) return record
    const token = await this.#store.lease(this.#token, this.#leaseMs)
    if (token === undefined) return record
    const meta = record.meta
    const renew = this.#renewing(token)
    try {
      const roles = new Map((await this.#o.generations.list()).map(g => [g.name, g.role]))
      if (roles.get(meta.generation) === 'shadow') {
        await this.#store.write(record.id, 'stopped', { error: 'the process swapping it stopped before the swap' })
      } else if (roles.get(`${meta.generation}_old`) === 'old') {
        await this.#store.write(record.id, 'swapped', { error: 'the process swapping it stopped after the swap' })
        await this.#live.closeGap(meta, `${meta.group}-swap`, await this.#marksField('swapFrom'))
      } else {
        await this.#store.write(record.id, 'failed', {
          error: 'the process swapping it stopped; no shadow nor old tables',
        })
      }
      this.#o.logger.warn({ rebuild: record.id }, 'took over a swap whose process had stopped')
    } finally {
      clearInterval(renew)
      await this.#store.release(token)
    }
    return (await this.#store.read()) ?? record
  }

  #metaOf(record: RebuildRecord): RebuildMeta {
    if (record.meta === undefined) {
      throw new RebuildError('state', `rebuild ${record.id} is being created: try again in a moment`)
    }
    return record.meta
  }

  /**
   * Takes the rebuild's lease. With `stopFill`, a process holding it (filling the shadow) is first asked to stop,
   * and waited for; otherwise a held lease is refused.
   */
  async #takeLease(record: RebuildRecord, stopFill: boolean): Promise<string> {
    let owner = await this.#store.lease(this.#token, this.#leaseMs)
    if (owner === undefined && stopFill) {
      await this.#store.write(record.id, undefined, { request: 'stop' })
      const taken = async () => {
        owner = await this.#store.lease(this.#token, this.#leaseMs)
        return owner !== undefined
      }
      await until(taken, { everyMs: 200, timeoutMs: this.#o.stopWaitMs ?? 30_000 })
    }
    if (owner !== undefined) return owner
    const left = Math.ceil((await this.#store.leaseLeft()) / 1000)
    throw new RebuildError(
      'busy',
      `another process works on rebuild ${record.id} now (its lease runs ${left} s more${stopFill ? ' and it did not stop when asked' : ''}); ` +
        'stop it (Ctrl-C in the terminal running `rebuild start`), or wait for it',
    )
  }

  async #sample(shadow: Store): Promise<Sample> {
    const [marks, ends] = await Promise.all([shadow.appliedOffsets(this.#topic), this.#o.offsets.ends(this.#topic)])
    return { at: Date.now(), marks, ends }
  }

  /** Runs the shadow's group until the shadow has processed what the live tables had when asked; its marks then. */
  async #catchUpShadow(meta: RebuildMeta, record: RebuildRecord, signal?: AbortSignal): Promise<Map<number, bigint>> {
    const topic = this.#topic
    const target = await this.#o.live.appliedOffsets(topic)
    const shadow = await this.#o.generations.open(meta.generation)
    try {
      const reached = async () => behindLive(await shadow.appliedOffsets(topic), target).length === 0
      if (!(await reached())) {
        const sink = new BadRecordSink(record.bad)
        const logger = this.#o.logger.child({ rebuild: record.id })
        const follower = await follow({ settings: this.#o.consumer, group: meta.group, store: shadow, sink, logger })
        try {
          const done = await until(reached, { everyMs: 100, timeoutMs: this.#o.catchUpMs ?? 300_000, signal })
          if (!done) {
            const behind = behindLive(await shadow.appliedOffsets(topic), target)
            throw new RebuildError('refused', `the shadow did not reach the live tables in time (${marksText(behind)})`)
          }
        } finally {
          await follower.close()
          await this.#store.tryWrite(record.id, undefined, { bad: json(sink.snapshot()) })
        }
      }
      return await shadow.appliedOffsets(topic)
    } finally {
      await shadow.close()
    }
  }

  async #dropGroups(meta: RebuildMeta): Promise<void> {
    const groups = [meta.group, `${meta.group}-swap`, `${meta.group}-rollback`]
    await deleteGroups(this.#o.consumer.connection, groups).catch(error =>
      this.#o.logger.warn({ err: error, groups }, 'deleting the rebuild consumer groups failed'),
    )
  }

  async #audit(action: RebuildAction, meta: RebuildMeta, by: string): Promise<void> {
    const record = auditRecord(
      { who: by, action, filter: {}, eventIds: [], count: 0, rebuild: `${meta.id} ${meta.generation}` },
      new Date(),
    )
    await appendAudit(this.#o.redis, this.#o.dlqKey, record)
  }
}

export type { RebuildState }
