// Progress from two looks at the shadow: lag per partition, a smoothed rate, the ETA of the slowest partition, and
// the check that the shadow has what the live tables have.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { behindLive, durationText, progressOf, type Sample } from '../../src/rebuild/progress.ts'

const sample = (at: number, marks: [number, bigint][], ends: [number, bigint][]): Sample => ({
  at,
  marks: new Map(marks),
  ends: new Map(ends),
})

describe('rebuild progress', () => {
  it('counts the lag from the next offset to the log end, and no rate on the first look', () => {
    const p = progressOf(
      sample(
        0,
        [[0, 99n]],
        [
          [0, 1000n],
          [1, 50n],
        ],
      ),
    )
    assert.deepEqual(
      p.partitions.map(r => [r.partition, r.reached, r.end, r.lag, r.perSecond, r.etaSeconds]),
      [
        [0, '100', '1000', 900, 0, null],
        [1, '0', '50', 50, 0, null],
      ],
    )
    assert.equal(p.lag, 950)
    assert.equal(p.caughtUp, false)
    assert.equal(p.etaSeconds, null)
  })

  it('rates each partition from the records it moved, smoothed, and takes the slowest ETA', () => {
    const first = sample(
      0,
      [
        [0, 99n],
        [1, -1n],
      ],
      [
        [0, 1100n],
        [1, 400n],
      ],
    )
    const p1 = progressOf(first)
    const second = sample(
      2000,
      [
        [0, 299n],
        [1, 99n],
      ],
      [
        [0, 1100n],
        [1, 400n],
      ],
    )
    const p2 = progressOf(second, { sample: first, progress: p1 })
    // 200 records in 2 s, and 100 in 2 s; the first rate has nothing to smooth against.
    assert.deepEqual(
      p2.partitions.map(r => [r.perSecond, r.lag, r.etaSeconds]),
      [
        [100, 800, 8],
        [50, 300, 6],
      ],
    )
    assert.equal(p2.perSecond, 150)
    assert.equal(p2.etaSeconds, 8)
    const third = sample(
      4000,
      [
        [0, 299n],
        [1, 199n],
      ],
      [
        [0, 1100n],
        [1, 400n],
      ],
    )
    const p3 = progressOf(third, { sample: second, progress: p2 })
    // Partition 0 stood still: half its old rate remains, so the ETA grows instead of jumping to "never".
    assert.equal(p3.partitions[0]?.perSecond, 50)
    assert.equal(p3.partitions[0]?.etaSeconds, 16)
  })

  it('is caught up when every partition reached its end, also past an end read a moment earlier', () => {
    const p = progressOf(
      sample(
        0,
        [
          [0, 9n],
          [1, 20n],
        ],
        [
          [0, 10n],
          [1, 15n],
        ],
      ),
    )
    assert.equal(p.caughtUp, true)
    assert.equal(p.lag, 0)
    assert.equal(p.etaSeconds, 0)
    assert.deepEqual(
      p.partitions.map(r => r.lag),
      [0, 0],
    )
  })

  it('names the partitions where the shadow has not processed what the live tables have', () => {
    const shadow = new Map([
      [0, 10n],
      [2, 5n],
    ])
    const live = new Map([
      [0, 10n],
      [1, 3n],
      [2, 6n],
    ])
    assert.deepEqual(behindLive(shadow, live), [
      { partition: 1, shadow: -1n, live: 3n },
      { partition: 2, shadow: 5n, live: 6n },
    ])
    assert.deepEqual(behindLive(live, shadow), [])
  })

  it('writes durations for people', () => {
    assert.equal(durationText(null), '—')
    assert.equal(durationText(12.4), '12 s')
    assert.equal(durationText(200), '3 min 20 s')
    assert.equal(durationText(7500), '2 h 05 min')
  })
})
