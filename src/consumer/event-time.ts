// Which records hold an event too far ahead of its record (MAX_EVENT_SKEW): such an event is dead-lettered as
// EVENT_TIME_SKEW instead of applied, or its key would keep it against every later update. An event is measured
// against its Kafka record's own timestamp, never the consumer's clock, so whichever member reads the record,
// and whenever (a replay a month later), the answer is the same. Only a record that has no timestamp is measured
// against the consumer's clock.
import type { PipelineError } from '../errors.ts'
import { eventTimeSkew, latestEventTime } from '../events/index.ts'

/** What the check needs of a record: its Kafka timestamp (ms since the epoch). */
export interface Timed {
  readonly timestamp?: bigint | undefined
}

/** A record's Kafka timestamp, or undefined when it has none (Kafka writes -1 for a producer that sent none). */
export function recordTime(timestamp: bigint | undefined): number | undefined {
  return timestamp !== undefined && timestamp > 0n ? Number(timestamp) : undefined
}

/** The error of an event whose timestamp is too far ahead of its record, or undefined. */
export type EventTimeCheck = (record: Timed, timestamp: string) => PipelineError | undefined

/**
 * The check of one batch, `now` being the consumer's clock for records without a timestamp. The answer for a
 * record depends on that record alone; the batch only serves to compute one bound, that of its earliest record,
 * below which every event is within the limit of its own record: nearly every event then costs one comparison of
 * its (canonical) timestamp string, and only one later than that bound is compared with its own record's bound.
 */
export function eventTimeCheck(records: readonly Timed[], maxSkewMs: number, now: number): EventTimeCheck {
  // Bigints compared as they come; one converted.
  let earliest: bigint | undefined
  let untimed = false
  for (const { timestamp } of records) {
    if (timestamp === undefined || timestamp <= 0n) untimed = true
    else if (earliest === undefined || timestamp < earliest) earliest = timestamp
  }
  const earliestMs = earliest === undefined ? now : untimed ? Math.min(now, Number(earliest)) : Number(earliest)
  const batchLatest = latestEventTime(earliestMs, maxSkewMs)
  return (record, timestamp) => {
    if (timestamp <= batchLatest) return undefined
    const own = recordTime(record.timestamp)
    if (timestamp <= latestEventTime(own ?? now, maxSkewMs)) return undefined
    const reference =
      own === undefined
        ? `the consumer's clock, ${new Date(now).toISOString()} (the record has no timestamp)`
        : `its Kafka record's timestamp ${new Date(own).toISOString()}`
    return eventTimeSkew(timestamp, maxSkewMs, reference)
  }
}
