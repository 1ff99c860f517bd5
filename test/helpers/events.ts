// Event factories for tests: valid envelopes of each type, with overridable fields.
import { randomUUID } from 'node:crypto'

let clock = Date.parse('2025-01-11T12:00:00Z')
function nextTime(): string {
  clock += 1000
  return new Date(clock).toISOString()
}

export function userCreated(
  userId: string,
  over: { name?: string; email?: string; timestamp?: string; eventId?: string } = {},
) {
  const timestamp = over.timestamp ?? nextTime()
  return {
    eventId: over.eventId ?? randomUUID(),
    type: 'UserCreated',
    timestamp,
    data: {
      userId,
      name: over.name ?? `User ${userId}`,
      email: over.email ?? `${userId}@example.com`,
      createdAt: timestamp,
    },
  }
}

export function orderPlaced(
  orderId: string,
  userId: string,
  over: { total?: number; timestamp?: string; eventId?: string; createdAt?: string } = {},
) {
  const timestamp = over.timestamp ?? nextTime()
  return {
    eventId: over.eventId ?? randomUUID(),
    type: 'OrderPlaced',
    timestamp,
    data: { orderId, userId, total: over.total ?? 123.45, createdAt: over.createdAt ?? timestamp },
  }
}

export function paymentSettled(
  orderId: string,
  over: { amount?: number; status?: string; timestamp?: string; eventId?: string } = {},
) {
  const timestamp = over.timestamp ?? nextTime()
  return {
    eventId: over.eventId ?? randomUUID(),
    type: 'PaymentSettled',
    timestamp,
    data: { orderId, status: over.status ?? 'settled', amount: over.amount ?? 123.45, settledAt: timestamp },
  }
}

export function inventoryAdjusted(sku: string, delta: number, over: { timestamp?: string; eventId?: string } = {}) {
  const timestamp = over.timestamp ?? nextTime()
  return {
    eventId: over.eventId ?? randomUUID(),
    type: 'InventoryAdjusted',
    timestamp,
    data: { sku, delta, reason: 'test', adjustedAt: timestamp },
  }
}

export type TestEvent = ReturnType<
  typeof userCreated | typeof orderPlaced | typeof paymentSettled | typeof inventoryAdjusted
>

/** The Kafka key the pipeline would use. */
export function keyOfTest(e: TestEvent): string {
  const d = e.data as Record<string, string>
  return e.type === 'UserCreated'
    ? (d['userId'] as string)
    : e.type === 'InventoryAdjusted'
      ? (d['sku'] as string)
      : (d['orderId'] as string)
}
