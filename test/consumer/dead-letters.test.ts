import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { deadLetterOf, planExpiry } from '../../src/consumer/dead-letters.ts'
import { PipelineError } from '../../src/errors.ts'
import type { PendingEvent } from '../../src/store/index.ts'

const pending = (offset: number, over: Partial<PendingEvent> = {}): PendingEvent => ({
  source: { topic: 'events', partition: 2, offset: BigInt(offset) },
  eventId: `e-${offset}`,
  type: 'OrderPlaced',
  key: `o-${offset}`,
  parentTable: 'users',
  parentKey: 'ghost',
  constraint: 'FK_Orders_Users',
  payload: `{"eventId":"e-${offset}"}`,
  pendingSince: '2026-01-01T00:00:00.000Z',
  superseded: false,
  ...over,
})

describe('dead letters', () => {
  it('keep the record, its coordinates and the error; the eventId comes from the JSON when it did not parse', () => {
    const record = {
      topic: 't',
      partition: 1,
      offset: 7n,
      key: Buffer.from('k'),
      value: Buffer.from('{"eventId":"x","type":"Nope"}'),
    }
    const letter = deadLetterOf(record, undefined, new PipelineError('UNKNOWN_TYPE', 'no such type'), 1, 'now')
    assert.deepEqual(letter, {
      eventId: 'x',
      topic: 't',
      partition: 1,
      offset: '7',
      key: 'k',
      payload: '{"eventId":"x","type":"Nope"}',
      payloadEncoding: 'utf8',
      error: { code: 'UNKNOWN_TYPE', message: 'no such type' },
      attempts: 1,
      failedAt: 'now',
      source: 'consumer',
    })
  })

  it('turn expired pending events into constraint violations at their own coordinates, dropping superseded ones', () => {
    const now = Date.parse('2026-01-02T12:00:00.000Z')
    const plan = planExpiry([pending(5), pending(6, { superseded: true })], now)
    assert.deepEqual(
      plan.remove.map(s => s.offset),
      [5n, 6n],
    )
    assert.deepEqual(
      plan.superseded.map(p => p.eventId),
      ['e-6'],
    )
    assert.equal(plan.letters.length, 1)
    const [letter] = plan.letters
    assert.deepEqual(
      [letter?.eventId, letter?.topic, letter?.partition, letter?.offset, letter?.key, letter?.error.code],
      ['e-5', 'events', 2, '5', 'o-5', 'CONSTRAINT_VIOLATION'],
    )
    assert.match(letter?.error.message ?? '', /OrderPlaced o-5 violates FK_Orders_Users: users ghost was never stored/)
    assert.match(letter?.error.message ?? '', /waited 1\.5 d/)
    assert.equal(letter?.payload, '{"eventId":"e-5"}')
  })
})
