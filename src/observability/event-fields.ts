// The fields every log line about an event carries, built in one place so that the producer's "event published",
// the consumer's "event dead-lettered" and the pending sweep's lines can be searched by the same names.
import { type Event, keyOf } from '../events/index.ts'

/** Where a record is (or went) in Kafka. */
export interface RecordPosition {
  readonly topic: string | null
  readonly partition: number | null
  readonly offset: bigint | string | null
}

/**
 * eventId, type, key, topic, partition and offset. Without a parsed event, `eventId` and `key` come from what the
 * caller could still read (the record's key, an eventId from its JSON), and `type` is null.
 */
export function eventFields(
  event: Event | undefined,
  at: RecordPosition,
  fallback: { eventId?: string | null; key?: string | null } = {},
) {
  return {
    eventId: event?.eventId ?? fallback.eventId ?? null,
    type: event?.type ?? null,
    key: event === undefined ? (fallback.key ?? null) : keyOf(event),
    topic: at.topic,
    partition: at.partition,
    offset: at.offset === null ? null : String(at.offset),
  }
}
