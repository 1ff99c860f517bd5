// Fix then redrive: a replacement payload for one eventId, validated as the producer validates a request body
// (MAX_EVENT_SKEW included, or the consumer would dead-letter the fix again) and published in the producer's
// canonical form (the parsed event, dates normalised) under the event's own key.

import { PipelineError } from '../errors.ts'
import {
  defaultMaxEventSkewMs,
  type Event,
  eventTimeSkew,
  keyOf,
  latestEventTime,
  parseEvent,
} from '../events/index.ts'
import { UsageError } from './filter.ts'

export interface FixedPayload {
  readonly event: Event
  /** The canonical JSON the producer would publish for the event. */
  readonly value: string
  readonly key: string
}

/**
 * The replacement for the entries of `eventId`, or a UsageError that says everything that is wrong: too large
 * for the producer's body limit, not JSON, not a valid event (with the failing paths), dated more than
 * `maxEventSkewMs` after `now`, or another eventId.
 */
export function fixedPayload(
  text: string,
  eventId: string,
  bodyLimitBytes: number,
  maxEventSkewMs: number = defaultMaxEventSkewMs,
  now: number = Date.now(),
): FixedPayload {
  const bytes = Buffer.byteLength(text)
  if (bytes > bodyLimitBytes) {
    throw new UsageError(
      `payload: ${bytes} bytes, more than the producer accepts (PRODUCE_BODY_LIMIT ${bodyLimitBytes})`,
    )
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (error) {
    throw new UsageError(`payload: not JSON: ${(error as Error).message}`)
  }
  let event: Event
  try {
    event = parseEvent(value)
    if (event.timestamp > latestEventTime(now, maxEventSkewMs)) {
      throw eventTimeSkew(event.timestamp, maxEventSkewMs, "this server's clock")
    }
  } catch (error) {
    if (!(error instanceof PipelineError)) throw error
    const paths = error.paths.length > 0 ? ` (at ${error.paths.join(', ')})` : ''
    throw new UsageError(`payload: not a valid event, nothing was sent: ${error.code}: ${error.message}${paths}`)
  }
  if (event.eventId !== eventId) {
    throw new UsageError(`payload: its eventId is "${event.eventId.slice(0, 200)}", not "${eventId.slice(0, 200)}"`)
  }
  return { event, value: JSON.stringify(event), key: keyOf(event) }
}
