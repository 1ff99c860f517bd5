import assert from 'node:assert/strict'
import { it } from 'node:test'
import { fixedPayload, UsageError } from '../../src/dlq-ops/index.ts'

const good = {
  eventId: 'e-1',
  type: 'UserCreated',
  timestamp: '2026-01-01T12:00:00+02:00',
  data: { userId: 'u-1', email: 'a@example.com', name: 'A', createdAt: '2026-01-01T12:00:00Z' },
}

it('accepts a valid replacement in the producer canonical form, under its key', () => {
  const fixed = fixedPayload(JSON.stringify(good), 'e-1', 1024 * 1024)
  assert.equal(fixed.key, 'u-1')
  assert.equal(JSON.parse(fixed.value).timestamp, '2026-01-01T10:00:00.000Z')
})

it('refuses a bad replacement with what is wrong, before anything is sent', () => {
  const refused = (text: string, limit = 1024 * 1024) => {
    try {
      fixedPayload(text, 'e-1', limit)
    } catch (error) {
      assert.ok(error instanceof UsageError)
      return error.message
    }
    assert.fail('accepted')
  }
  assert.match(refused('{'), /not JSON/)
  const missing = { ...good, data: { email: 'a@example.com', name: 'A', createdAt: '2026-01-01T12:00:00Z' } }
  assert.match(
    refused(JSON.stringify(missing)),
    /not a valid event, nothing was sent: SCHEMA_VIOLATION: .*\/data\/userId/,
  )
  assert.match(refused(JSON.stringify({ ...good, eventId: 'e-2' })), /its eventId is "e-2", not "e-1"/)
  assert.match(refused(JSON.stringify(good), 10), /more than the producer accepts \(PRODUCE_BODY_LIMIT 10\)/)
  assert.match(
    refused(JSON.stringify({ ...good, timestamp: '9999-12-31T00:00:00Z' })),
    /nothing was sent: EVENT_TIME_SKEW: .*9999-12-31T00:00:00\.000Z is more than 1h ahead of this server's clock \(MAX_EVENT_SKEW\) \(at \/timestamp\)/,
  )
})

it('keeps a replacement within MAX_EVENT_SKEW of the clock, as the producer does', () => {
  // good is dated 2026-01-01T10:00:00.000Z.
  const text = JSON.stringify(good)
  const limit = 1024 * 1024
  assert.equal(fixedPayload(text, 'e-1', limit, 60_000, Date.parse('2026-01-01T09:59:30Z')).key, 'u-1')
  assert.throws(
    () => fixedPayload(text, 'e-1', limit, 60_000, Date.parse('2026-01-01T09:58:59Z')),
    /more than 1m ahead/,
  )
})
