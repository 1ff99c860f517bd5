import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { eventTimeCheck, recordTime } from '../../src/consumer/event-time.ts'

const hour = 3_600_000
const iso = (ms: number) => new Date(ms).toISOString()
const at = Date.parse('2025-06-01T12:00:00.000Z')

/**
 * The rule, written out on its own: an event is refused when its timestamp is more than `skew` after its record's
 * Kafka timestamp, or after the consumer's clock when the record has none (Kafka's -1).
 */
function modelRefuses(eventMs: number, recordTimestamp: bigint | undefined, skew: number, now: number): boolean {
  return eventMs > modelReference(recordTimestamp, now) + skew
}

function modelReference(recordTimestamp: bigint | undefined, now: number): number {
  return recordTimestamp !== undefined && recordTimestamp > 0n ? Number(recordTimestamp) : now
}

describe('recordTime', () => {
  it("is the record's Kafka timestamp, and nothing when it has none", () => {
    assert.equal(recordTime(BigInt(at)), at)
    assert.equal(recordTime(-1n), undefined)
    assert.equal(recordTime(undefined), undefined)
  })
})

describe('eventTimeCheck', () => {
  it("refuses an event more than the skew after its record's timestamp, whatever the consumer's clock", () => {
    const record = { timestamp: BigInt(at) }
    // The consumer's clock is years later than the record (a replay): only the record's timestamp counts.
    for (const now of [at, at + 400 * 24 * hour]) {
      const check = eventTimeCheck([record], hour, now)
      assert.equal(check(record, iso(at - hour)), undefined)
      assert.equal(check(record, iso(at + hour)), undefined, 'exactly the skew ahead is accepted')
      const error = check(record, iso(at + hour + 1))
      assert.equal(error?.code, 'EVENT_TIME_SKEW')
      assert.equal(error?.retryable, false)
      assert.deepEqual(error?.paths, ['/timestamp'])
      assert.equal(
        error?.message,
        "invalid event: /timestamp: 2025-06-01T13:00:00.001Z is more than 1h ahead of its Kafka record's timestamp 2025-06-01T12:00:00.000Z (MAX_EVENT_SKEW)",
      )
      assert.equal(check(record, '9999-12-31T00:00:00.000Z')?.code, 'EVENT_TIME_SKEW')
    }
  })

  it("measures a record without a timestamp against the consumer's clock, and says so", () => {
    const now = Date.parse('2026-12-07T13:30:00.000Z')
    for (const record of [{}, { timestamp: -1n }]) {
      const check = eventTimeCheck([record], hour, now)
      assert.equal(check(record, iso(now + hour)), undefined)
      assert.match(
        check(record, iso(now + hour + 1))?.message ?? '',
        /more than 1h ahead of the consumer's clock, 2026-12-07T13:30:00\.000Z \(the record has no timestamp\)/,
      )
    }
  })

  it('gives each record the answer it gets alone, whatever batch it is in (the rule, over generated batches)', () => {
    const now = Date.parse('2026-12-07T13:30:00.000Z')
    const timestamp = fc.oneof(
      fc.constant(undefined),
      fc.constant(-1n),
      fc.integer({ min: now - 48 * hour, max: now + 48 * hour }).map(BigInt),
    )
    const record = fc.record({ timestamp, aheadMs: fc.integer({ min: -3 * hour, max: 3 * hour }) })
    fc.assert(
      fc.property(
        fc.array(record, { minLength: 1, maxLength: 30 }),
        fc.integer({ min: 1000, max: 2 * hour }),
        (batch, skew) => {
          const records = batch.map(r => ({ timestamp: r.timestamp }))
          const check = eventTimeCheck(records, skew, now)
          batch.forEach((r, i) => {
            const eventMs = modelReference(r.timestamp, now) + r.aheadMs
            const inBatch = check(records[i]!, iso(eventMs)) !== undefined
            const alone = eventTimeCheck([records[i]!], skew, now)(records[i]!, iso(eventMs)) !== undefined
            assert.equal(inBatch, modelRefuses(eventMs, r.timestamp, skew, now))
            assert.equal(alone, inBatch)
          })
        },
      ),
      { numRuns: 500 },
    )
  })
})
