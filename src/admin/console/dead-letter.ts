// What the console reads off one dead letter: its type, its position, a stable id for the page, its payload for
// people. Pure, so unit tests drive it.
import { formatPosition } from './format.ts'
import type { DeadLetter } from './types.ts'

/** The event type named by a UTF-8 JSON payload, or a dash. */
export function typeOf(entry: DeadLetter): string {
  if (entry.payloadEncoding !== 'utf8' || typeof entry.payload !== 'string') return '–'
  try {
    const value: unknown = JSON.parse(entry.payload)
    const type = typeof value === 'object' && value !== null ? (value as { type?: unknown }).type : undefined
    return typeof type === 'string' ? type : '–'
  } catch {
    return '–'
  }
}

export function positionOf(entry: DeadLetter): string {
  return entry.topic === null || entry.partition === null || entry.offset === null
    ? formatPosition(null)
    : formatPosition({ topic: entry.topic, partition: entry.partition, offset: entry.offset })
}

/** Unique among the entries on the page: the Kafka position, or the failure time of a producer's entry. */
export function entryId(entry: DeadLetter): string {
  return entry.topic === null ? `producer:${entry.failedAt}` : `${entry.topic}/${entry.partition}/${entry.offset}`
}

/** The payload as people read it: JSON indented, base64 said so. */
export function prettyPayload(entry: DeadLetter): string {
  if (entry.payload === null) return '(no payload)'
  if (entry.payloadEncoding === 'base64') return `(base64, not UTF-8)\n${entry.payload}`
  try {
    return JSON.stringify(JSON.parse(entry.payload), null, 2)
  } catch {
    return entry.payload
  }
}

/** Fix-then-redrive needs an eventId and a consumer's UTF-8 payload (the producer's never had a valid event). */
export function fixable(entry: DeadLetter): boolean {
  return entry.eventId !== null && entry.source === 'consumer' && entry.payloadEncoding === 'utf8'
}
