import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { PipelineError } from '../../src/errors.ts'
import {
  defaultMaxEventSkewMs,
  durationText,
  eventTimeSkew,
  latestEventTime,
  parseEvent,
} from '../../src/events/index.ts'
import { userCreated } from '../helpers/events.ts'

const hour = 3_600_000

describe('latestEventTime', () => {
  it('is the reference plus the skew, in the canonical form of event timestamps', () => {
    assert.equal(latestEventTime(Date.parse('2026-12-07T13:30:00.000Z'), hour), '2026-12-07T14:30:00.000Z')
    assert.equal(latestEventTime(Date.parse('2026-12-31T23:59:59.999Z'), 1), '2027-01-01T00:00:00.000Z')
  })

  it('stops at the last instant of year 9999, which no canonical timestamp passes', () => {
    const late = Date.parse('9999-12-31T23:30:00.000Z')
    assert.equal(latestEventTime(late, hour), '9999-12-31T23:59:59.999Z')
    assert.equal(latestEventTime(late, 365 * 24 * hour), '9999-12-31T23:59:59.999Z')
  })

  it('orders as strings exactly as the instants order, for every event timestamp parseEvent returns', () => {
    const instant = fc.integer({
      min: Date.parse('0001-01-01T00:00:00.000Z'),
      max: Date.parse('9999-12-31T23:59:59.999Z'),
    })
    fc.assert(
      fc.property(instant, instant, fc.integer({ min: 1, max: 365 * 24 * hour }), (event, reference, skew) => {
        const timestamp = parseEvent(userCreated('u', { timestamp: new Date(event).toISOString() })).timestamp
        assert.equal(timestamp > latestEventTime(reference, skew), event > reference + skew)
      }),
      { numRuns: 2000 },
    )
  })
})

describe('eventTimeSkew', () => {
  it('names the field, the timestamp, what it was measured against and the limit, as a permanent error', () => {
    const error = eventTimeSkew('9999-12-31T00:00:00.000Z', hour, "this server's clock")
    assert.ok(error instanceof PipelineError)
    assert.equal(error.code, 'EVENT_TIME_SKEW')
    assert.equal(error.retryable, false)
    assert.deepEqual(error.paths, ['/timestamp'])
    assert.equal(
      error.message,
      "invalid event: /timestamp: 9999-12-31T00:00:00.000Z is more than 1h ahead of this server's clock (MAX_EVENT_SKEW)",
    )
  })

  it('writes the limit as MAX_EVENT_SKEW would be written', () => {
    assert.deepEqual([hour, 90_000, 1500, 86_400_000, 2 * hour + 30 * 60_000, 1000].map(durationText), [
      '1h',
      '90s',
      '1500ms',
      '1d',
      '150m',
      '1s',
    ])
    assert.equal(durationText(defaultMaxEventSkewMs), '1h')
  })
})
