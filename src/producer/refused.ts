// What the producer keeps of a refused request: one summary dead letter per request (never one per event, so a
// body of a thousand bad events costs one entry), at most PRODUCER_DLQ_PER_SECOND of them (a token bucket with
// PRODUCER_DLQ_BURST), and in Redis within the producer's caps (PRODUCER_DLQ_MAX_ENTRIES and _BYTES, enforced by
// the DLQ's push). What is not kept is counted in dlq_dropped_total{reason} and told once per interval, so a
// flood of bad requests costs Redis a bounded amount and the log a line per request plus one per interval.
// The client's answer does not depend on any of this: it gets its 400 (or per-entry errors) with the reasons.
import type { FastifyRequest } from 'fastify'
import type { Config } from '../config/index.ts'
import {
  type Counts,
  capText,
  createIntervalLog,
  type DeadLetter,
  defaultReportIntervalMs,
  type PushOutcome,
} from '../dlq/index.ts'
import type { PipelineError } from '../errors.ts'
import { eventIdOf } from '../events/index.ts'
import type { Logger, ProducerMetrics } from '../observability/index.ts'

/** Receives the summary dead letter of a refused request (the DLQ in production, whose outcome counts drops). */
// biome-ignore lint/suspicious/noConfusingVoidType: a sink that keeps no counts (a test's array) returns nothing
export type RejectedSink = (records: DeadLetter[]) => Promise<PushOutcome | undefined | void>

export interface Rejection {
  index?: number
  value: unknown
  /** The body as received, for an entry that never became a JSON value. */
  text?: string
  error: PipelineError
}

export type RefusedLimits = Pick<Config, 'producerDlqPerSecond' | 'producerDlqBurst'>

export const defaultRefusedLimits: RefusedLimits = Object.freeze({ producerDlqPerSecond: 20, producerDlqBurst: 100 })

/** How many refused events a summary names with their reasons; the rest are only counted. */
const reasonsShown = 3

/** A token bucket: `ratePerSecond` tokens a second, at most `burst` saved up; each take spends one. */
export class TokenBucket {
  readonly #rate: number
  readonly #burst: number
  #tokens: number
  #at: number

  constructor(ratePerSecond: number, burst: number, now: number) {
    this.#rate = ratePerSecond
    this.#burst = Math.max(1, burst)
    this.#tokens = ratePerSecond > 0 ? this.#burst : 0
    this.#at = now
  }

  /** Spends a token if there is one at `now` (milliseconds, monotonic). */
  take(now: number): boolean {
    if (this.#rate <= 0) return false
    this.#tokens = Math.min(this.#burst, this.#tokens + ((now - this.#at) / 1000) * this.#rate)
    this.#at = now
    if (this.#tokens < 1) return false
    this.#tokens -= 1
    return true
  }
}

// The body text as received, kept by the content-type parser for the summary's payload (its digest then is the
// digest of what the client sent). A WeakMap, so the text goes with its request.
const bodies = new WeakMap<FastifyRequest, string>()

export function keepBody(request: FastifyRequest, text: string): void {
  bodies.set(request, text)
}

/** "N of M events refused: #i CODE: message; …" within the DLQ's text cap. */
export function summaryMessage(rejections: readonly Rejection[], events: number): string {
  const shown = rejections.slice(0, reasonsShown).map(r => {
    const at = r.index === undefined ? '' : `#${r.index} `
    return `${at}${r.error.code}: ${capText(r.error.message, 200)}`
  })
  const more = rejections.length > reasonsShown ? `; … ${rejections.length - reasonsShown} more` : ''
  return capText(`${rejections.length} of ${events} events refused: ${shown.join('; ')}${more}`)
}

/**
 * The one dead letter of a refused request: the first refused event's eventId (null when none had one) and code,
 * the reasons summed up, and the body as received (the DLQ's push keeps a prefix and its digest if it is large).
 */
export function summaryLetter(
  rejections: readonly Rejection[],
  events: number,
  body: string | undefined,
  failedAt: string,
): DeadLetter {
  const first = rejections[0] as Rejection
  const eventId = rejections.map(r => eventIdOf(r.value)).find(id => id !== null) ?? null
  const payload = body ?? first.text ?? (events === 1 ? JSON.stringify(first.value) : null)
  return {
    eventId,
    topic: null,
    partition: null,
    offset: null,
    key: null,
    payload: payload ?? null,
    payloadEncoding: 'utf8',
    error: { code: first.error.code, message: summaryMessage(rejections, events) },
    attempts: 1,
    failedAt,
    source: 'producer',
  }
}

export interface RefusedOptions {
  sink?: RejectedSink | undefined
  limits?: Partial<RefusedLimits>
  logger: Logger
  metrics: ProducerMetrics
  /** Longest the answer to a request with refused events waits for the sink. */
  timeoutMs: number
  reportIntervalMs?: number
  now?: () => number
}

export interface Refused {
  /** Counts, logs and dead-letters the refused events of one request of `events` events. */
  refuse(request: FastifyRequest, rejections: readonly Rejection[], events: number): Promise<void>
  close(): void
}

export function createRefused(options: RefusedOptions): Refused {
  const { sink, logger, metrics } = options
  const now = options.now ?? (() => performance.now())
  const limits = { ...defaultRefusedLimits, ...options.limits }
  const bucket = new TokenBucket(limits.producerDlqPerSecond, limits.producerDlqBurst, now())
  const report = createIntervalLog(options.reportIntervalMs ?? defaultReportIntervalMs, (counts: Counts) => {
    logger.warn({ dropped: counts }, 'refused requests not dead-lettered (rate or size caps, or the DLQ failed)')
  })
  let failureLogged = false

  function dropped(reason: string, n = 1): void {
    metrics.dlqDropped.inc({ reason }, n)
    report.add(reason, n)
  }

  async function deliver(letter: DeadLetter): Promise<void> {
    if (sink === undefined) return
    let timer: NodeJS.Timeout | undefined
    try {
      const outcome = await Promise.race([
        sink([letter]),
        new Promise<never>((_, fail) => {
          timer = setTimeout(() => fail(new Error(`no answer within ${options.timeoutMs} ms`)), options.timeoutMs)
        }),
      ])
      for (const [reason, n] of Object.entries(outcome?.dropped ?? {})) if (n > 0) dropped(reason, n)
      failureLogged = false
    } catch (error) {
      // Said once until a push succeeds again; every failure is counted under reason "unavailable".
      if (!failureLogged) logger.warn({ err: error }, 'could not dead-letter rejected events')
      failureLogged = true
      dropped('unavailable')
    } finally {
      clearTimeout(timer)
    }
  }

  return {
    async refuse(request, rejections, events) {
      if (rejections.length === 0) return
      const byCode = new Map<string, number>()
      for (const r of rejections) byCode.set(r.error.code, (byCode.get(r.error.code) ?? 0) + 1)
      for (const [code, n] of byCode) metrics.rejected.inc({ code }, n)
      const first = rejections[0] as Rejection
      // One line per request whatever its size, with the first reason only: the answer has them all.
      request.log.warn(
        {
          eventId: eventIdOf(first.value),
          index: first.index,
          refused: rejections.length,
          events,
          code: first.error.code,
          error: capText(first.error.message),
        },
        'event rejected',
      )
      const body = bodies.get(request)
      // An empty body carries nothing worth keeping.
      if ((body ?? first.text) === '') return
      if (!bucket.take(now())) {
        dropped('rate')
        return
      }
      await deliver(summaryLetter(rejections, events, body, new Date().toISOString()))
    },
    close() {
      report.close()
    },
  }
}
