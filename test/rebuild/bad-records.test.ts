// The rebuild's dead-letter sink: it counts bad records instead of pushing them (the live consumer did), keeps
// the first ones in bounded memory, and does not count a record read again after a restart.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { DeadLetter } from '../../src/dlq/index.ts'
import type { ErrorCode } from '../../src/errors.ts'
import { BadRecordSink } from '../../src/rebuild/bad-records.ts'

const letter = (partition: number | null, offset: number | null, code: ErrorCode = 'SCHEMA_VIOLATION'): DeadLetter => ({
  eventId: `e-${partition}-${offset}`,
  topic: 't',
  partition,
  offset: offset === null ? null : String(offset),
  key: null,
  payload: 'x'.repeat(10_000),
  payloadEncoding: 'utf8',
  error: { code, message: 'm'.repeat(5000) },
  attempts: 1,
  failedAt: '2025-01-01T00:00:00.000Z',
  source: 'consumer',
})

describe('bad record sink', () => {
  it('counts every bad record and keeps only the first N, without payloads and with short messages', async () => {
    const sink = new BadRecordSink(undefined, 3)
    const outcome = await sink.push([0, 1, 2, 3, 4].map(o => letter(0, o)))
    assert.deepEqual(outcome, { pushed: 5, dropped: {} })
    const seen = sink.snapshot()
    assert.equal(seen.count, 5)
    assert.deepEqual(
      seen.first.map(b => b.offset),
      ['0', '1', '2'],
    )
    assert.ok(seen.first.every(b => b.message.length <= 300 && !('payload' in b)))
    assert.ok(sink.entryMaxBytes <= 1024)
  })

  it('does not count a record of a partition again, also across runs (from its snapshot)', async () => {
    const sink = new BadRecordSink()
    await sink.push([letter(0, 5), letter(1, 2)])
    await sink.push([letter(0, 5), letter(0, 4), letter(0, 6)])
    assert.equal(sink.snapshot().count, 3)
    const next = new BadRecordSink(JSON.parse(JSON.stringify(sink.snapshot())))
    await next.push([letter(0, 6), letter(1, 2), letter(1, 3)])
    assert.equal(next.snapshot().count, 4)
    assert.deepEqual(next.snapshot().counted, { '0': '6', '1': '3' })
  })

  it('counts entries without coordinates each time', async () => {
    const sink = new BadRecordSink()
    await sink.push([letter(null, null), letter(null, null)])
    assert.equal(sink.snapshot().count, 2)
  })
})
