// The scale-out drain starts its clock only once the group has settled, and judges the group as a whole.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { groupDrain, settled } from '../../bench/scenarios/scale.ts'
import type { DrainResult } from '../../bench/workers/protocol.ts'

function member(startedAt: number, finishedAt: number, cpuMs: number, peakRssBytes: number, deadLettered = 0) {
  return {
    handled: 0,
    ms: finishedAt - startedAt,
    deadLettered,
    pendingAtEnd: 0,
    batches: 0,
    peakRssBytes,
    maxRssBytes: peakRssBytes,
    cpuMs,
    startedAt,
    finishedAt,
  } satisfies DrainResult
}

describe('scale-out drain', () => {
  it('waits for every member to own a fair share of the partitions, each partition once', () => {
    assert.equal(
      settled(
        [
          [0, 1],
          [2, 3],
          [4, 5],
        ],
        3,
        6,
      ),
      true,
    )
    assert.equal(settled([[0, 1, 2, 3, 4, 5]], 1, 6), true)
    assert.equal(settled([[0, 1, 2], [3, 4], [5]], 3, 6), false, 'one member owns two more than another')
    assert.equal(settled([[0, 1, 2, 3], [4, 5], []], 3, 6), false, 'a member owns nothing')
    assert.equal(settled([[0, 1], [2, 3], undefined], 3, 6), false, 'a member has not reported')
    assert.equal(
      settled(
        [
          [0, 1],
          [1, 2],
          [4, 5],
        ],
        3,
        6,
      ),
      false,
      'two owners of one partition',
    )
    assert.equal(settled([[0, 1], [2, 3], [4]], 3, 6), false, 'a partition without owner')
    assert.equal(
      settled(
        [
          [0, 1],
          [2, 3],
        ],
        3,
        6,
      ),
      false,
      'fewer members than started',
    )
  })

  it('times the group from the release of the records to the last member, with the CPU of all', () => {
    const group = groupDrain(1000, 10_000, [member(9000, 12_000, 500, 100), member(9100, 12_500, 700, 300, 2)])
    assert.deepEqual(group, { events: 1000, ms: 2500, cpuMs: 1200, peakRssBytes: 300, deadLettered: 2 })
    assert.throws(() => groupDrain(1, 0, []), /at least one member/)
  })
})
