import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { matches, parseFilter, parseInstant, typeOf, UsageError } from '../../src/dlq-ops/index.ts'
import { letter } from '../helpers/letters.ts'

const now = Date.UTC(2026, 0, 2)

describe('DLQ filters', () => {
  it('parses every field, instants as ISO-8601 or ages, and leaves unset ones out', () => {
    assert.deepEqual(
      parseFilter(
        {
          type: 'UserCreated',
          code: 'SCHEMA_VIOLATION',
          source: 'consumer',
          since: '2h',
          until: '2026-01-02',
          key: '',
        },
        now,
      ),
      {
        type: 'UserCreated',
        code: 'SCHEMA_VIOLATION',
        source: 'consumer',
        since: '2026-01-01T22:00:00.000Z',
        until: '2026-01-02T00:00:00.000Z',
      },
    )
    assert.equal(parseInstant('7d', now), '2025-12-26T00:00:00.000Z')
    assert.equal(parseInstant('2026-01-01T12:30:00+02:00', now), '2026-01-01T10:30:00.000Z')
    assert.equal(parseInstant('yesterday', now), undefined)
    assert.equal(parseInstant('2026-13-45', now), undefined)
  })

  it('lists every bad field at once in one usage error', () => {
    assert.throws(
      () => parseFilter({ code: 'NOPE', source: 'kafka', since: 'soon', key: 'k'.repeat(1025), type: 3 }),
      (e: unknown) =>
        e instanceof UsageError &&
        /code: not an error code/.test(e.message) &&
        /source: must be consumer or producer/.test(e.message) &&
        /since: expected ISO-8601/.test(e.message) &&
        /key: longer than 1024 bytes/.test(e.message) &&
        /type: must be a string/.test(e.message),
    )
    assert.throws(() => parseFilter({ since: '1h', until: '2h' }, now), /since: must be before until/)
  })

  it('matches on every field together, since inclusive and until exclusive', () => {
    const l = letter(5) // failed at 2026-01-01T00:05:00Z
    assert.ok(matches(l, {}))
    assert.ok(matches(l, { type: 'UserCreated', code: 'SCHEMA_VIOLATION', key: 'u-5', eventId: 'e-5' }))
    assert.ok(matches(l, { source: 'consumer', since: l.failedAt, until: '2026-01-01T00:05:00.001Z' }))
    assert.ok(!matches(l, { until: l.failedAt }))
    assert.ok(!matches(l, { since: '2026-01-01T00:05:00.001Z' }))
    assert.ok(!matches(l, { type: 'OrderPlaced' }))
    assert.ok(!matches(l, { code: 'INVALID_JSON' }))
    assert.ok(!matches(l, { key: 'u-6' }))
    assert.ok(!matches(l, { eventId: 'e-6' }))
    assert.ok(!matches(l, { source: 'producer' }))
    assert.ok(!matches({ ...l, failedAt: 'garbage' }, { since: '2026-01-01T00:00:00Z' }))
  })

  it('reads the type from the payload when it can, and says null when it cannot', () => {
    assert.equal(typeOf(letter(1)), 'UserCreated')
    assert.equal(typeOf(letter(1, { payload: 'not json' })), null)
    assert.equal(typeOf(letter(1, { payload: '[1]' })), null)
    assert.equal(typeOf(letter(1, { payload: null })), null)
    assert.equal(typeOf(letter(1, { payloadEncoding: 'base64', payload: 'AAAA' })), null)
    // A prefix kept by the entry cap is not JSON, but its envelope names the type.
    const cut = letter(1, {
      payload: '{"eventId":"e-1","type":"OrderPlaced","data":{"x":"aaaa',
      payloadTruncated: true,
    })
    assert.equal(typeOf(cut), 'OrderPlaced')
  })
})
