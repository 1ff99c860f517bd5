import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { decodeCursor, encodeCursor, parseLimit, UsageError } from '../../src/dlq-ops/index.ts'
import { windowDown, windowUp } from '../../src/dlq-ops/paging.ts'

describe('DLQ paging', () => {
  it('turns a distance from the tail into LRANGE windows both ways', () => {
    assert.deepEqual(windowDown(1200, 500), { start: -1200, stop: -701, last: 701 })
    assert.deepEqual(windowDown(3, 500), { start: -3, stop: -1, last: 1 })
    assert.deepEqual(windowUp(1, 1200, 500), { start: -500, stop: -1, last: 500 })
    assert.deepEqual(windowUp(1001, 1200, 500), { start: -1200, stop: -1001, last: 1200 })
  })

  it('round-trips cursors and refuses anything else', () => {
    assert.equal(decodeCursor(encodeCursor(42)), 42)
    for (const bad of ['', '42', 't0', 't-1', 'tx', `t${'9'.repeat(16)}`]) {
      assert.throws(() => decodeCursor(bad), UsageError, bad)
    }
  })

  it('bounds limits', () => {
    assert.equal(parseLimit(undefined), 50)
    assert.equal(parseLimit('1000'), 1000)
    assert.equal(parseLimit(7), 7)
    for (const bad of ['0', '1001', '-1', '1.5', 'ten', 1001]) assert.throws(() => parseLimit(bad), UsageError)
  })
})
