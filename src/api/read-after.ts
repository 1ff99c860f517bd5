// The read routes' preHandler: X-Applied-Offsets on every answer, and ?after= waits (see after.ts for the rule,
// applied-offsets.ts for how the offsets are kept, wait-slots.ts for who may wait, log-ends.ts for the offsets
// that are refused because no record has them). It runs before the route's data queries, so the header's
// offsets were read before the data: what the answer shows reflects at least those offsets.
import type { FastifyReply, FastifyRequest } from 'fastify'
import { HttpError } from '../http/index.ts'
import { covers, formatOffsets, type Offsets, parseAfter } from './after.ts'
import type { AppliedOffsets } from './applied-offsets.ts'
import type { EndCheck, LogEnds } from './log-ends.ts'
import type { WaitSlots } from './wait-slots.ts'

export const appliedOffsetsHeader = 'x-applied-offsets'

/** The partitions of `wanted` that `applied` does not reach yet, as `p:o` (at most 10 of them named). */
function missing(applied: Offsets, wanted: Offsets): string {
  const short = [...wanted].filter(([p, o]) => (applied.get(p) ?? -1n) < o).map(([p, o]) => `${p}:${o}`)
  return short.length > 10 ? `${short.slice(0, 10).join(',')},…` : short.join(',')
}

export interface ReadAfterOptions {
  /** Longest a read waits for its offsets (READ_WAIT_MS). */
  readonly waitMs: number
  /** Places for waiting reads, in total and per client address. */
  readonly slots: WaitSlots
  /** The log's end offsets, which after= is checked against; without them, every after= may wait. */
  readonly ends?: LogEnds | undefined
  readonly now?: () => number
}

/** The refusal of an after= that names a record the log does not hold (checkAgainstLog). */
function beyondLog(verdict: Exclude<EndCheck, { kind: 'within' } | { kind: 'unknown' }>) {
  if (verdict.kind === 'no-partition') {
    const { partition, partitions } = verdict
    return {
      code: 'AFTER_BEYOND_LOG',
      message: `after names partition ${partition}, but the topic has ${partitions} partition${partitions === 1 ? '' : 's'} (0 to ${partitions - 1})`,
      partition,
      partitions,
    } as const
  }
  const { partition, offset, end } = verdict
  return {
    code: 'AFTER_BEYOND_LOG',
    message: `after names offset ${offset} of partition ${partition}, but its log ends at ${end} (the next record gets ${end}): no such record was written`,
    partition,
    endOffset: String(end),
  } as const
}

export function readAfter(applied: AppliedOffsets, options: ReadAfterOptions) {
  const { waitMs, slots, ends } = options
  const now = options.now ?? performance.now.bind(performance)
  // The header's text changes only when the offsets are re-read (at most every few milliseconds), not per read.
  let shown: Offsets | undefined
  let shownText = ''
  const headerOf = (offsets: Offsets): string => {
    if (offsets !== shown) {
      shown = offsets
      shownText = formatOffsets(offsets)
    }
    return shownText
  }

  /** Resolves with the reply when it answered itself (4xx, 503), undefined when the route goes on. */
  const slowPath = async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> => {
    const arrivedAt = now()
    const after = parseAfter((request.query as Record<string, unknown> | null)?.['after'])
    const offsets = await applied.current()
    if (!after.ok || covers(offsets, after.wanted)) {
      reply.header(appliedOffsetsHeader, headerOf(offsets))
      if (!after.ok) throw new HttpError(400, 'INVALID_AFTER', after.message)
      return undefined
    }
    // Expected answers, not failures: sent here rather than thrown, so they are not logged as server errors.
    if (waitMs <= 0) return notApplied(request, reply, offsets, after.wanted)
    const place = slots.acquire(request.ip)
    if (!place.ok) {
      const mine = place.full === 'address'
      request.log.info({ code: 'TOO_MANY_WAITERS', address: request.ip, full: place.full }, 'read not served: busy')
      const message = mine
        ? `${place.limit} reads from this address are waiting for offsets to be applied already; retry shortly`
        : 'too many reads are waiting for offsets to be applied; retry shortly'
      return reply
        .code(mine ? 429 : 503)
        .header('retry-after', '1')
        .header(appliedOffsetsHeader, headerOf(offsets))
        .send({ error: { code: 'TOO_MANY_WAITERS', message } })
    }
    // The wait ends when the offsets are applied, after waitMs, when the client goes away (its place is freed),
    // or when the log's ends show that the offsets name no record: that check runs beside the wait, so an
    // honest read waits no longer for it and a Kafka that does not answer only leaves the read waiting as before.
    const stop = new AbortController()
    const onClose = () => stop.abort()
    reply.raw.once('close', onClose)
    let refused: ReturnType<typeof beyondLog> | undefined
    ends?.check(after.wanted, arrivedAt).then(verdict => {
      if (verdict.kind === 'within' || verdict.kind === 'unknown' || stop.signal.aborted) return
      refused = beyondLog(verdict)
      stop.abort()
    })
    const outcome = await applied.waitFor(after.wanted, waitMs, stop.signal).finally(() => {
      reply.raw.off('close', onClose)
      place.release()
    })
    reply.header(appliedOffsetsHeader, headerOf(outcome.offsets))
    if (outcome.kind === 'covered') return undefined
    if (refused !== undefined) {
      request.log.info({ code: refused.code, after: missing(outcome.offsets, after.wanted) }, 'read refused')
      return reply.code(400).send({ error: refused })
    }
    return notApplied(request, reply, outcome.offsets, after.wanted)
  }

  const notApplied = (request: FastifyRequest, reply: FastifyReply, offsets: Offsets, wanted: Offsets) => {
    const code = 'NOT_APPLIED_YET'
    const message = `not applied within ${waitMs} ms: ${missing(offsets, wanted)} (the data may not show these writes yet); retry shortly`
    request.log.info({ code, after: missing(offsets, wanted) }, 'read not served: offsets not applied')
    return reply
      .code(503)
      .header('retry-after', '1')
      .header(appliedOffsetsHeader, headerOf(offsets))
      .send({ error: { code, message } })
  }

  // A callback hook: a read without ?after= and with fresh offsets in memory (nearly every read) goes on at once,
  // without the promise and microtask turn of an async hook.
  return (request: FastifyRequest, reply: FastifyReply, done: (error?: Error) => void): void => {
    if ((request.query as Record<string, unknown> | null)?.['after'] === undefined) {
      const offsets = applied.fresh()
      if (offsets !== undefined) {
        reply.header(appliedOffsetsHeader, headerOf(offsets))
        done()
        return
      }
    }
    slowPath(request, reply).then(
      answered => {
        if (answered === undefined) done()
      },
      (error: Error) => done(error),
    )
  }
}
