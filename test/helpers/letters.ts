// Dead letters for the admin tests, built without any service.
import type { DeadLetter } from '../../src/dlq/index.ts'
import { encodePayload } from '../../src/dlq/index.ts'

export function letter(n: number, over: Partial<DeadLetter> = {}): DeadLetter {
  const event = { eventId: `e-${n}`, type: 'UserCreated', timestamp: '2026-01-01T00:00:00.000Z', data: { n } }
  return {
    eventId: `e-${n}`,
    topic: 'events',
    partition: n % 3,
    offset: String(n),
    key: `u-${n}`,
    ...encodePayload(Buffer.from(JSON.stringify(event))),
    error: { code: 'SCHEMA_VIOLATION', message: 'invalid event: /data/userId is required' },
    attempts: 1,
    failedAt: new Date(Date.UTC(2026, 0, 1, 0, n)).toISOString(),
    source: 'consumer',
    ...over,
  }
}
