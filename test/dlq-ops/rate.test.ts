import assert from 'node:assert/strict'
import { it } from 'node:test'
import { delayBefore, sliceSize } from '../../src/dlq-ops/index.ts'

it('paces sends so that the average rate holds however long each send takes', () => {
  assert.equal(sliceSize(undefined), 500)
  assert.equal(sliceSize(200), 20)
  assert.equal(sliceSize(3), 1)
  assert.equal(sliceSize(1_000_000), 500)
  const start = 10_000
  assert.equal(delayBefore(0, start, start, 100), 0)
  assert.equal(delayBefore(50, start, start + 100, 100), 400) // 50 records at 100/s are due at +500 ms
  assert.equal(delayBefore(50, start, start + 900, 100), 0) // late: no wait, no catching up beyond the rate
  assert.equal(delayBefore(50, start, start, undefined), 0)
})
