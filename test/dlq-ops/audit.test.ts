import assert from 'node:assert/strict'
import { it } from 'node:test'
import { auditRecord } from '../../src/dlq-ops/index.ts'

it('shapes an audit record: eventIds capped with a count of the rest, text bounded', () => {
  const ids = [...Array.from({ length: 150 }, (_, i) => `e-${i}`), null, 'x'.repeat(5000)]
  const record = auditRecord(
    { who: 'alice', action: 'purge', filter: { code: 'INVALID_JSON' }, eventIds: ids },
    new Date(Date.UTC(2026, 0, 1)),
  )
  assert.equal(record.at, '2026-01-01T00:00:00.000Z')
  assert.equal(record.count, 152, 'every entry counts, with or without an eventId')
  assert.equal(record.eventIds.length, 100)
  assert.deepEqual(record.eventIds.slice(0, 2), ['e-0', 'e-1'])
  assert.equal(record.moreEventIds, 51)
  const long = auditRecord(
    { who: 'w'.repeat(500), action: 'redrive', filter: {}, eventIds: ['y'.repeat(5000)] },
    new Date(),
  )
  assert.ok(Buffer.byteLength(long.who) <= 200)
  assert.ok(Buffer.byteLength(long.eventIds[0] as string) <= 200)
  assert.equal(auditRecord({ who: 'a', action: 'redrive', filter: {}, eventIds: [], count: 7 }, new Date()).count, 7)
})
