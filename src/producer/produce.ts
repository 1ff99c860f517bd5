// What POST /produce does, without HTTP: validate the events, publish the valid ones, refuse the rest (answered
// and dead-lettered, see refused.ts), and build the answer. An event more than MAX_EVENT_SKEW ahead of this
// server's clock is refused like an invalid one: last-writer-wins compares event timestamps, and no client clock
// may hold a key against later updates.
import { asPipelineError, type PipelineError } from '../errors.ts'
import {
  defaultMaxEventSkewMs,
  type Event,
  eventIdOf,
  eventTimeSkew,
  latestEventTime,
  parseEvent,
} from '../events/index.ts'
import { describePipelineError, type ErrorBody, HttpError } from '../http/index.ts'
import { eventFields, type Logger, type ProducerMetrics } from '../observability/index.ts'
import type { PublishedOffset, Publisher } from './publisher.ts'
import type { Rejection } from './refused.ts'

export type ProduceResult = { eventId: string } & PublishedOffset
export type BatchEntryResult = ProduceResult | { eventId: string | null; error: ErrorBody['error'] }

/** Who asked: its logger writes the "event published" lines, and `reject` gets it back untouched. */
export interface ProduceCaller {
  readonly log: Pick<Logger, 'info'>
}

export interface ProduceServiceOptions<C extends ProduceCaller> {
  readonly produceBatchMax: number
  readonly maxEventSkewMs?: number | undefined
  readonly publisher: Pick<Publisher, 'publish'>
  readonly metrics: ProducerMetrics
  /** Answers for the refused events of one request of `events` events (logged and dead-lettered). */
  readonly reject: (caller: C, rejections: readonly Rejection[], events: number) => Promise<void>
  /** Whether the caller's logger writes INFO lines; asked once per request. */
  readonly logsInfo: (caller: C) => boolean
}

export class ProduceService<C extends ProduceCaller> {
  readonly #options: ProduceServiceOptions<C>
  readonly #maxEventSkewMs: number
  /** The latest event timestamp accepted at `#latestAt` (ms); requests within the same millisecond share it. */
  #latestAt = Number.NaN
  #latest = ''

  constructor(options: ProduceServiceOptions<C>) {
    this.#options = options
    this.#maxEventSkewMs = options.maxEventSkewMs ?? defaultMaxEventSkewMs
  }

  /** One event: published and answered with its offset, or refused (thrown, after its rejection is handled). */
  async one(caller: C, value: unknown, started: number): Promise<ProduceResult> {
    let event: Event
    try {
      event = this.#accepted(value, this.#latestAccepted())
    } catch (error) {
      const failure = asPipelineError(error)
      // A bug in validation is ours, not the client's: it surfaces as a 500, never as a rejected event.
      if (failure.code !== 'INTERNAL') await this.#options.reject(caller, [{ value, error: failure }], 1)
      throw failure
    }
    const [at] = await this.#options.publisher.publish([event])
    this.#options.metrics.produced.inc({ type: event.type })
    return this.#published(caller, this.#options.logsInfo(caller), event, at!, started)
  }

  /** A batch: each entry answered with its offset or with why it was refused. */
  async batch(caller: C, values: unknown[], started: number): Promise<{ offsets: BatchEntryResult[] }> {
    const { produceBatchMax, publisher, metrics } = this.#options
    if (values.length === 0) throw new HttpError(400, 'EMPTY_BATCH', 'the batch is empty: send at least one event')
    if (values.length > produceBatchMax) {
      throw new HttpError(
        400,
        'BATCH_TOO_LARGE',
        `a batch holds at most ${produceBatchMax} events (PRODUCE_BATCH_MAX); this one has ${values.length}`,
      )
    }
    const results: BatchEntryResult[] = new Array(values.length)
    const events: Event[] = []
    const positions: number[] = []
    const rejections: Rejection[] = []
    const latestTime = this.#latestAccepted()
    values.forEach((value, index) => {
      try {
        events.push(this.#accepted(value, latestTime))
        positions.push(index)
      } catch (error) {
        const failure = asPipelineError(error)
        if (failure.code === 'INTERNAL') throw failure
        results[index] = { eventId: eventIdOf(value), error: describePipelineError(failure) }
        rejections.push({ index, value, error: failure })
      }
    })
    // Publish first: when Kafka fails the whole request is a 503 and the client sends it again, so rejecting
    // (and dead-lettering) only after a success keeps a retried batch from dead-lettering its entries twice.
    if (events.length > 0) {
      const offsets = await publisher.publish(events)
      const byType = new Map<string, number>()
      const logs = this.#options.logsInfo(caller)
      events.forEach((event, j) => {
        results[positions[j]!] = this.#published(caller, logs, event, offsets[j]!, started)
        byType.set(event.type, (byType.get(event.type) ?? 0) + 1)
      })
      for (const [type, n] of byType) metrics.produced.inc({ type }, n)
    }
    await this.#options.reject(caller, rejections, values.length)
    return { offsets: results }
  }

  /** A body that never became a JSON value: refused as its text, and its error thrown. */
  async unparsed(caller: C, text: string, error: PipelineError): Promise<never> {
    await this.#options.reject(caller, [{ value: undefined, text, error }], 1)
    throw error
  }

  /** The latest event timestamp accepted now: events are compared with it as strings (canonical timestamps sort
   * as they are dated). */
  #latestAccepted(): string {
    const now = Date.now()
    if (now !== this.#latestAt) {
      this.#latestAt = now
      this.#latest = latestEventTime(now, this.#maxEventSkewMs)
    }
    return this.#latest
  }

  /** parseEvent, refusing an event dated after `latestTime` (this server's clock plus MAX_EVENT_SKEW). */
  #accepted(value: unknown, latestTime: string): Event {
    const event = parseEvent(value)
    if (event.timestamp > latestTime) {
      throw eventTimeSkew(event.timestamp, this.#maxEventSkewMs, "this server's clock")
    }
    return event
  }

  #published(caller: C, logs: boolean, event: Event, at: PublishedOffset, started: number): ProduceResult {
    const { topic, partition, offset } = at
    // The line's fields are built only when it is written (`logs`, asked once per request): below INFO, a
    // 100-event batch would otherwise make 100 objects (and derive 100 keys) for nothing.
    if (logs) {
      caller.log.info(
        {
          ...eventFields(event, at),
          latencyMs: Math.round((performance.now() - started) * 1000) / 1000,
        },
        'event published',
      )
    }
    return { eventId: event.eventId, topic, partition, offset }
  }
}
