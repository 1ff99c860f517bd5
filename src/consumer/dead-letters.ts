// What goes to the dead-letter queue, decided without Redis: the entry for a record that failed for good, and
// what becomes of pending events past PENDING_MAX_AGE. The DLQ keeps one entry per Kafka record (the push is
// idempotent by topic, partition and offset), so any of these may be pushed again after a crash.
import { type DeadLetter, type DeadLetterQueue, encodeBoundedPayload, type OriginalRecord } from '../dlq/index.ts'
import type { PipelineError } from '../errors.ts'
import { type Event, eventIdOf } from '../events/index.ts'
import type { PendingEvent, Source } from '../store/index.ts'

/**
 * What the consumer needs of a dead-letter queue: the push and the entry cap. The live consumer gives it the Redis
 * DLQ; a projection rebuild gives it a sink that counts the bad records instead (they are in the DLQ already).
 */
export type DeadLetterSink = Pick<DeadLetterQueue, 'push' | 'entryMaxBytes'>

/** A Kafka record as the consumer receives it. */
export interface InboundRecord {
  readonly topic: string
  readonly partition: number
  readonly offset: bigint
  readonly key: Uint8Array | null
  readonly value: Uint8Array | null
  /** Kafka record timestamp (ms since epoch), for the end-to-end latency in logs. */
  readonly timestamp?: bigint
  /** For a redriven copy, the original record its `x-redrive-source` header names: the copy's position. */
  readonly origin?: OriginalRecord
  /** The Kafka topic ID of the record's topic, when the consumer knows it. */
  readonly topicId?: string
}

export const keyText = (key: Uint8Array | null) => (key === null ? null : Buffer.from(key).toString('utf8'))

/** The eventId of a record that did not parse as an event, when its JSON still names one. */
function eventIdOfRaw(value: Uint8Array | null): string | null {
  if (value === null) return null
  try {
    return eventIdOf(JSON.parse(Buffer.from(value).toString('utf8')))
  } catch {
    return null
  }
}

/** Most bytes of a record decoded into its entry: the largest DLQ entry DLQ_ENTRY_MAX_BYTES allows. */
export const defaultPayloadMaxBytes = 16 * 1024 * 1024

export function deadLetterOf(
  record: InboundRecord,
  event: Event | undefined,
  error: PipelineError,
  attempts: number,
  failedAt: string,
  payloadMaxBytes: number = defaultPayloadMaxBytes,
): DeadLetter {
  return {
    // A record refused for its size is not parsed, not even for its eventId.
    eventId: event?.eventId ?? (error.code === 'RECORD_TOO_LARGE' ? null : eventIdOfRaw(record.value)),
    topic: record.topic,
    ...(record.topicId === undefined ? {} : { topicId: record.topicId }),
    partition: record.partition,
    offset: record.offset.toString(),
    key: keyText(record.key),
    ...encodeBoundedPayload(record.value, payloadMaxBytes),
    error: { code: error.code, message: error.message },
    attempts,
    failedAt,
    source: 'consumer',
  }
}

export interface ExpiryPlan {
  /** Entries for pending events whose parent never came. */
  readonly letters: DeadLetter[]
  /** Pending events a newer event of their key already replaced: dropped, there is nothing to repair. */
  readonly superseded: PendingEvent[]
  /** Every pending row to remove once the letters are in the DLQ. */
  readonly remove: Source[]
}

function age(ms: number): string {
  if (ms >= 86_400_000) return `${(ms / 86_400_000).toFixed(1)} d`
  if (ms >= 3_600_000) return `${(ms / 3_600_000).toFixed(1)} h`
  return `${Math.round(ms / 1000)} s`
}

/**
 * Pending events past their horizon. The entry is the one a constraint violation always had: code
 * CONSTRAINT_VIOLATION, a message naming the constraint and the missing parent, the event as payload, at the
 * record's own coordinates. `topicId` is the consumer's topic and its ID, for the identity of the entries of
 * that topic's records (DeadLetter.topicId).
 */
export function planExpiry(
  expired: readonly PendingEvent[],
  now: number,
  topicId?: { readonly topic: string; readonly id: string },
): ExpiryPlan {
  const failedAt = new Date(now).toISOString()
  const letters: DeadLetter[] = []
  const superseded: PendingEvent[] = []
  for (const p of expired) {
    if (p.superseded) {
      superseded.push(p)
      continue
    }
    const waited = now - Date.parse(p.pendingSince)
    letters.push({
      eventId: p.eventId,
      topic: p.source.topic,
      ...(topicId !== undefined && topicId.topic === p.source.topic ? { topicId: topicId.id } : {}),
      partition: p.source.partition,
      offset: p.source.offset.toString(),
      key: p.key,
      payload: p.payload,
      payloadEncoding: 'utf8',
      error: {
        code: 'CONSTRAINT_VIOLATION',
        message: `${p.type} ${p.key} violates ${p.constraint}: ${p.parentTable} ${p.parentKey} was never stored; it waited ${age(waited)} as a pending event (PENDING_MAX_AGE)`,
      },
      attempts: 1,
      failedAt,
      source: 'consumer',
    })
  }
  return { letters, superseded, remove: expired.map(p => p.source) }
}
