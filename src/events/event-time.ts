// How far ahead of a clock an event's timestamp may be (MAX_EVENT_SKEW). Last-writer-wins compares event
// timestamps, so an event stamped far in the future would hold its key against every later honest update. The
// producer measures an event against its own clock, the consumer against the Kafka record's timestamp.
//
// Event timestamps are canonical ISO strings (parseEvent: `YYYY-MM-DDTHH:MM:SS.sssZ`, years 0001–9999), whose
// string order is time order, so the test of an event is one string comparison with a bound that is computed
// once per request or batch, never a date parsed per event.
import { PipelineError } from '../errors.ts'

/** MAX_EVENT_SKEW's default, for what is built without a configuration (tests, benchmarks). */
export const defaultMaxEventSkewMs = 3_600_000

/** The latest instant a canonical timestamp can name. */
const latestCanonical = '9999-12-31T23:59:59.999Z'
const latestCanonicalMs = Date.parse(latestCanonical)

/**
 * The latest event timestamp allowed against `referenceMs` (ms since the epoch), in the canonical form of event
 * timestamps, so `timestamp > latest` tells an event too far ahead.
 */
export function latestEventTime(referenceMs: number, maxSkewMs: number): string {
  const ms = referenceMs + maxSkewMs
  // Past year 9999 toISOString writes a six-digit year ("+010000-…"), which sorts before every canonical date.
  return ms >= latestCanonicalMs ? latestCanonical : new Date(ms).toISOString()
}

/** `ms` in the largest unit that divides it (1h, 90s, 1500ms), as MAX_EVENT_SKEW is written. */
export function durationText(ms: number): string {
  for (const [unit, size] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`
  }
  return `${ms}ms`
}

/** The error of an event dated more than `maxSkewMs` after `reference`, the time it was measured against. */
export function eventTimeSkew(timestamp: string, maxSkewMs: number, reference: string): PipelineError {
  return new PipelineError(
    'EVENT_TIME_SKEW',
    `invalid event: /timestamp: ${timestamp} is more than ${durationText(maxSkewMs)} ahead of ${reference} (MAX_EVENT_SKEW)`,
    { paths: ['/timestamp'] },
  )
}
