// The charts' series from Prometheus (PROMETHEUS_URL), for the same span and step as the consumer's own samples:
// the whole group's applied records and dead letters per second (every consumer Prometheus scrapes, summed),
// the pending events and the lag in records per partition of the topic. Prometheus has no lag in seconds (the
// consumer does not export one): those columns are this member's own samples, each Prometheus time taking the
// sample nearest to it within three quarters of an interval (samples drift a little from whole steps).
//
// Prometheus is asked with a deadline (2 s for the four queries together). When it does not answer in time,
// answers an error or something else than a matrix, or holds no sample of the consumer (not scraped), the route
// answers this member's samples with a note saying why, and does not ask Prometheus again for 30 s: a console
// refreshing every few seconds never waits on a server that is down.
import { type SeriesSnapshot, seriesMaxPartitions } from '../consumer/index.ts'
import { PrometheusQueryError, queryRange, type RangeResult } from '../observability/index.ts'

/** The route's answer (series-routes.ts has its schema). */
export type SeriesAnswer = SeriesSnapshot & { source: 'memory' | 'prometheus'; note?: string }

/** The span of a range query: `capacity` points `stepSeconds` apart, the last on a whole step at or before now. */
export interface Span {
  readonly start: number
  readonly end: number
  readonly stepSeconds: number
  /** The points' times, in ms since the epoch (what the answer's `at` holds). */
  readonly at: number[]
}

export function spanOf(nowMs: number, intervalMs: number, capacity: number): Span {
  const stepSeconds = Math.max(1, Math.round(intervalMs / 1000))
  const end = Math.floor(nowMs / 1000 / stepSeconds) * stepSeconds
  const start = end - (capacity - 1) * stepSeconds
  return { start, end, stepSeconds, at: Array.from({ length: capacity }, (_, k) => (start + k * stepSeconds) * 1000) }
}

export interface Queries {
  readonly applied: string
  readonly deadLetters: string
  readonly pending: string
  readonly lagRecords: string
}

/**
 * The PromQL of each chart (metric names of src/observability/metrics.ts). Rates are taken over a minute at least
 * (four steps when a step is longer), so that a window always holds two scrapes at the usual intervals.
 */
export function queriesOf(topic: string, stepSeconds: number): Queries {
  const window = `${Math.max(60, 4 * stepSeconds)}s`
  // KAFKA_TOPIC allows letters, digits, . _ and - only: nothing in it needs escaping in a label matcher.
  return {
    applied: `sum(rate(messages_processed_total{role="consumer"}[${window}]))`,
    deadLetters: `sum(rate(dlq_count_total{role="consumer"}[${window}]))`,
    pending: `max(pending_events{role="consumer"})`,
    lagRecords: `max by (partition) (consumer_lag{role="consumer",topic="${topic}"})`,
  }
}

/** A series' points as a column of the span: one value per point time, null where Prometheus has none. */
export function columnOf(span: Span, points: readonly (readonly [number, number])[] | undefined): (number | null)[] {
  const column: (number | null)[] = new Array(span.at.length).fill(null)
  for (const [time, value] of points ?? []) {
    const k = Math.round((time - span.start) / span.stepSeconds)
    if (k >= 0 && k < column.length) column[k] = value
  }
  return column
}

/** `column` (sampled at `from`) at the times `to`: each value at the nearest time within `toleranceMs`, else null. */
export function alignTo(
  to: readonly number[],
  from: readonly number[],
  column: readonly (number | null)[],
  toleranceMs: number,
): (number | null)[] {
  const out: (number | null)[] = new Array(to.length).fill(null)
  let j = 0
  for (let k = 0; k < to.length; k++) {
    const time = to[k] as number
    // Both are in time order: the nearest sample to `time` is at j or after it, never before.
    while (j + 1 < from.length && Math.abs((from[j + 1] as number) - time) <= Math.abs((from[j] as number) - time)) j++
    const at = from[j]
    if (at !== undefined && Math.abs(at - time) <= toleranceMs) out[k] = column[j] ?? null
  }
  return out
}

export interface Ranges {
  readonly applied: RangeResult
  readonly deadLetters: RangeResult
  readonly pending: RangeResult
  readonly lagRecords: RangeResult
}

/** The answer from the four ranges, and the lag in seconds from this member's samples. */
export function seriesFromRanges(span: Span, ranges: Ranges, memory: SeriesSnapshot): SeriesAnswer {
  const lagByPartition = new Map<number, readonly (readonly [number, number])[]>()
  for (const series of ranges.lagRecords.series) {
    const partition = Number(series.labels['partition'])
    if (Number.isInteger(partition) && partition >= 0) lagByPartition.set(partition, series.points)
  }
  const secondsByPartition = new Map(memory.partitions.map(p => [p.partition, p.lagSeconds]))
  const all = [...new Set([...lagByPartition.keys(), ...secondsByPartition.keys()])].sort((a, b) => a - b)
  const charted = all.slice(0, seriesMaxPartitions)
  const intervalMs = span.stepSeconds * 1000
  return {
    source: 'prometheus',
    intervalMs,
    capacity: span.at.length,
    bytes: memory.bytes,
    at: span.at,
    applied: columnOf(span, ranges.applied.series[0]?.points),
    deadLetters: columnOf(span, ranges.deadLetters.series[0]?.points),
    pending: columnOf(span, ranges.pending.series[0]?.points),
    partitions: charted.map(partition => {
      const seconds = secondsByPartition.get(partition)
      return {
        partition,
        lagRecords: columnOf(span, lagByPartition.get(partition)),
        lagSeconds:
          seconds === undefined ? columnOf(span, []) : alignTo(span.at, memory.at, seconds, memory.intervalMs * 0.75),
      }
    }),
    partitionsOmitted: all.length - charted.length + ranges.lagRecords.dropped,
  }
}

export interface PrometheusSeriesOptions {
  readonly url: string
  readonly topic: string
  /** This member's samples: their span and step, the lag in seconds, and the fallback. */
  readonly memory: () => SeriesSnapshot
  /** For all four queries together (default 2 s). */
  readonly timeoutMs?: number
  /** How long after a failure Prometheus is left alone (default 30 s). */
  readonly retryAfterMs?: number
  readonly now?: () => number
}

/** The charts' series from Prometheus, or this member's with a note when Prometheus fails (see the header). */
export class PrometheusSeries {
  readonly #options: PrometheusSeriesOptions
  readonly #timeoutMs: number
  readonly #retryAfterMs: number
  readonly #now: () => number
  /** The last failure: until its time plus retryAfterMs, the answer is this member's samples. */
  #failure: { readonly at: number; readonly reason: string } | undefined

  constructor(options: PrometheusSeriesOptions) {
    this.#options = options
    this.#timeoutMs = options.timeoutMs ?? 2000
    this.#retryAfterMs = options.retryAfterMs ?? 30_000
    this.#now = options.now ?? Date.now
  }

  async answer(): Promise<SeriesAnswer> {
    const memory = this.#options.memory()
    const failure = this.#failure
    if (failure !== undefined && this.#now() < failure.at + this.#retryAfterMs) return this.#fallback(memory, failure)
    try {
      const answer = await this.#ask(memory)
      this.#failure = undefined
      return answer
    } catch (error) {
      const reason = error instanceof PrometheusQueryError ? error.message : `failed: ${(error as Error).message}`
      this.#failure = { at: this.#now(), reason }
      return this.#fallback(memory, this.#failure)
    }
  }

  #fallback(memory: SeriesSnapshot, failure: { at: number; reason: string }): SeriesAnswer {
    const seconds = Math.max(1, Math.ceil((failure.at + this.#retryAfterMs - this.#now()) / 1000))
    return {
      source: 'memory',
      note: `Prometheus (${this.#options.url}): ${failure.reason}. Showing this member's own samples; Prometheus is asked again in ${seconds} s.`,
      ...memory,
    }
  }

  async #ask(memory: SeriesSnapshot): Promise<SeriesAnswer> {
    const span = spanOf(this.#now(), memory.intervalMs, memory.capacity)
    const queries = queriesOf(this.#options.topic, span.stepSeconds)
    const signal = AbortSignal.timeout(this.#timeoutMs)
    const ask = (promql: string, maxSeries: number) =>
      queryRange({ url: this.#options.url, promql, ...span, signal, maxSeries })
    const [applied, deadLetters, pending, lagRecords] = await Promise.all([
      ask(queries.applied, 1),
      ask(queries.deadLetters, 1),
      ask(queries.pending, 1),
      ask(queries.lagRecords, seriesMaxPartitions * 4),
    ])
    if (applied.series.length === 0) {
      throw new PrometheusQueryError('it holds no messages_processed_total of a consumer (is the consumer scraped?)')
    }
    return seriesFromRanges(span, { applied, deadLetters, pending, lagRecords }, memory)
  }
}
