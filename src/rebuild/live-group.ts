// The live consumer group as a swap and a rollback deal with it: pausing it (when the rebuild has its pause
// board) and waiting until every member is idle, reading how far it committed, and closing the gap it may leave
// when it does not pause: records applied to the tables that were just replaced, applied again to the new ones.
import { pause as sleep } from '../async.ts'
import { deleteGroups } from '../kafka/index.ts'
import { BadRecordSink } from './bad-records.ts'
import { RebuildError } from './errors.ts'
import { follow, until, withMarks } from './follow.ts'
import type { RebuildOptions } from './rebuild.ts'
import type { RebuildMeta } from './state-store.ts'

export class LiveGroup {
  readonly #o: RebuildOptions

  constructor(options: RebuildOptions) {
    this.#o = options
  }

  /** Refuses a swap or a rollback while partitions of the live group are paused: it would lift that pause. */
  async refuseIfPaused(command: 'swap' | 'rollback'): Promise<void> {
    const record = (await this.#o.pause?.state())?.record
    if (record === undefined || (record.all === null && Object.keys(record.partitions).length === 0)) return
    throw new RebuildError(
      'refused',
      `partitions of the live consumer group are paused already (\`pipeline paused\` shows them): a ${command} ` +
        'pauses and resumes the whole group; resume them first',
    )
  }

  /**
   * Pauses every partition of the live group and waits until every member is idle; resolves the resume, or
   * undefined without a pause board. Refused while partitions are paused already: the swap would lift that pause
   * with its own.
   */
  async pause(
    id: number,
    command: 'swap' | 'rollback',
    by: string,
    signal?: AbortSignal,
  ): Promise<(() => Promise<void>) | undefined> {
    const board = this.#o.pause
    if (board === undefined) return undefined
    await this.refuseIfPaused(command)
    await board.pause('all', by, `rebuild ${id} ${command}`)
    const resume = async () => {
      await board
        .resume('all', by)
        .catch(error =>
          this.#o.logger.error(
            { err: error },
            'resuming the live consumer group failed: `pipeline resume` lifts the pause',
          ),
        )
    }
    try {
      await board.waitIdle(this.#o.pauseWaitMs ?? 30_000, signal === undefined ? {} : { signal })
    } catch (error) {
      await resume()
      throw new RebuildError('refused', `the live consumer group did not pause in time: ${(error as Error).message}`)
    }
    return resume
  }

  /** The live group's committed offsets as marks: through which offset it had processed every record. */
  async committed(): Promise<Map<number, bigint>> {
    const committed = await this.#o.offsets.committed(this.#o.consumer.groupId, this.#o.consumer.topic)
    return new Map([...committed].filter(([, next]) => next >= 0n).map(([p, next]) => [p, next - 1n]))
  }

  /**
   * Applies to the live tables the records the live consumer applied to the tables they replaced: from `from` (the
   * marks the live tables had when they became live) through what the live group has committed by now, after a
   * pause that lets the batches of the old tables commit their offsets. A group of its own starts after `from` and
   * reads with the marks seen as `from` (the live consumer, writing ahead, moves the real ones past the gap), and
   * stops once its commits pass the target. Applying a record again changes nothing, so the target may well take
   * in records the live consumer applied to the new tables already.
   */
  async closeGap(
    meta: RebuildMeta,
    group: string,
    from: ReadonlyMap<number, bigint>,
    signal?: AbortSignal,
    livePaused = false,
  ): Promise<void> {
    // A paused group has committed everything it applied (waitIdle saw no batch in flight): nothing to wait for.
    if (!livePaused) await sleep(this.#o.settleMs ?? 3000, signal)
    const to = await this.committed()
    const gap = [...to].filter(([p, mark]) => mark > (from.get(p) ?? -1n))
    if (gap.length === 0) return
    const logger = this.#o.logger.child({ rebuild: meta.id, group })
    const startAt = new Map(gap.map(([p]) => [p, (from.get(p) ?? -1n) + 1n]))
    logger.info({ partitions: gap.map(([p, mark]) => ({ p, from: startAt.get(p), through: mark })) }, 'closing the gap')
    const store = withMarks(this.#o.live, from)
    const follower = await follow({
      settings: this.#o.consumer,
      group,
      store,
      sink: new BadRecordSink(),
      logger,
      startAt,
    })
    try {
      const closed = await until(
        async () => {
          const committed = await this.#o.offsets.committed(group, this.#o.consumer.topic)
          return gap.every(([p, mark]) => (committed.get(p) ?? -1n) > mark)
        },
        { everyMs: 200, timeoutMs: this.#o.catchUpMs ?? 300_000, ...(signal ? { signal } : {}) },
      )
      if (!closed) throw new RebuildError('refused', `the records between the generations were not applied in time`)
    } finally {
      await follower.close()
      await deleteGroups(this.#o.consumer.connection, [group]).catch(() => {})
    }
  }
}
