// Builds events exactly as the consumer hands them to the store: through parseEvent, with a Kafka source whose
// offset grows with every record, so "later in the batch" also means "later offset".
import { type Event, parseEvent } from '../../src/events/index.ts'
import type { SourcedEvent } from '../../src/store/index.ts'

export const t0 = '2025-01-11T12:00:00.000Z'

/** t0 plus `seconds`, as the ISO string parseEvent produces. */
export function at(seconds: number): string {
  return new Date(Date.parse(t0) + seconds * 1000).toISOString()
}

let nextId = 0
const id = (prefix: string) => `${prefix}-${++nextId}`

interface Envelope {
  eventId?: string
  timestamp?: string
}

export type EventOf<T extends Event['type']> = Extract<Event, { type: T }>

function make<T extends Event['type']>(type: T, data: Record<string, unknown>, envelope: Envelope): EventOf<T> {
  const raw = { eventId: envelope.eventId ?? id('evt'), type, timestamp: envelope.timestamp ?? t0, data }
  return parseEvent(raw) as EventOf<T>
}

export function userCreated(
  data: { userId: string; name?: string; email?: string; createdAt?: string },
  e: Envelope = {},
) {
  return make('UserCreated', { name: 'Ada', email: 'ada@example.com', createdAt: t0, ...data }, e)
}

export function orderPlaced(
  data: { orderId: string; userId: string; total?: number; status?: string; createdAt?: string },
  e: Envelope = {},
) {
  return make('OrderPlaced', { total: 123.45, createdAt: t0, ...data }, e)
}

export function paymentSettled(
  data: { orderId: string; status?: string; amount?: number; settledAt?: string },
  e: Envelope = {},
) {
  return make('PaymentSettled', { status: 'settled', amount: 123.45, settledAt: t0, ...data }, e)
}

export function inventoryAdjusted(
  data: { sku: string; delta: number; reason?: string; adjustedAt?: string },
  e: Envelope = {},
) {
  return make('InventoryAdjusted', { adjustedAt: t0, ...data }, e)
}

/**
 * An event parseEvent would reject (a value past the column limits), to check what the database says.
 * The cast is the point: the store must cope with whatever reaches it.
 */
export function unchecked(type: Event['type'], data: Record<string, unknown>): Event {
  return { eventId: id('evt'), type, timestamp: t0, data } as Event
}

let nextOffset = 0n

/** Gives each event the next offset of partition 0 of topic `events`. */
export function sourced(...events: Event[]): SourcedEvent[] {
  return events.map(event => ({ event, source: { topic: 'events', partition: 0, offset: nextOffset++ } }))
}

export function uniqueKey(prefix: string): string {
  return id(prefix)
}
