// The read routes' preHandler: X-Applied-Offsets on every answer, and ?after= waits (see after.ts for the rule,
// applied-offsets.ts for how the offsets are kept). It runs before the route's data queries, so the header's
// offsets were read before the data: what the answer shows reflects at least those offsets.
import type { FastifyReply, FastifyRequest } from 'fastify'
import { HttpError } from '../http/index.ts'
import { formatOffsets, type Offsets, parseAfter } from './after.ts'
import type { AppliedOffsets } from './applied-offsets.ts'

export const appliedOffsetsHeader = 'x-applied-offsets'

/** The partitions of `wanted` that `applied` does not reach yet, as `p:o` (at most 10 of them named). */
function missing(applied: Offsets, wanted: Offsets): string {
  const short = [...wanted].filter(([p, o]) => (applied.get(p) ?? -1n) < o).map(([p, o]) => `${p}:${o}`)
  return short.length > 10 ? `${short.slice(0, 10).join(',')},…` : short.join(',')
}

export function readAfter(applied: AppliedOffsets, waitMs: number) {
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

  /** Resolves with the reply when it answered (503) itself, undefined when the route goes on. */
  const slowPath = async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> => {
    const after = parseAfter((request.query as Record<string, unknown> | null)?.['after'])
    if (!after.ok || after.wanted.size === 0) {
      reply.header(appliedOffsetsHeader, headerOf(await applied.current()))
      if (!after.ok) throw new HttpError(400, 'INVALID_AFTER', after.message)
      return undefined
    }
    // A client that goes away stops waiting, and frees its place among the waiters.
    const gone = new AbortController()
    const onClose = () => gone.abort()
    reply.raw.once('close', onClose)
    const outcome = await applied.waitFor(after.wanted, waitMs, gone.signal).finally(() => {
      reply.raw.off('close', onClose)
    })
    reply.header(appliedOffsetsHeader, headerOf(outcome.offsets))
    if (outcome.kind === 'covered') return undefined
    // Expected answers, not failures: sent here rather than thrown, so they are not logged as server errors.
    const [code, message] =
      outcome.kind === 'busy'
        ? (['TOO_MANY_WAITERS', 'too many reads are waiting for offsets to be applied; retry shortly'] as const)
        : ([
            'NOT_APPLIED_YET',
            `not applied within ${waitMs} ms: ${missing(outcome.offsets, after.wanted)} (the data may not show these writes yet); retry shortly`,
          ] as const)
    request.log.info({ code, after: missing(outcome.offsets, after.wanted) }, 'read not served: offsets not applied')
    return reply.code(503).header('retry-after', '1').send({ error: { code, message } })
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
