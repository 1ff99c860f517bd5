// The consumer's chart samples: rates between two readings, the lag in seconds as series.ts defines it, and the
// fixed ring, checked against a model that keeps every point and cuts the last `capacity` of them.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import {
  lagSeconds,
  type PartitionReading,
  perSecond,
  pointOf,
  type SeriesPoint,
  type SeriesReading,
  SeriesRing,
  SeriesSampler,
} from '../../src/consumer/series.ts'

const partition = (p: Partial<PartitionReading> = {}): PartitionReading => ({
  lagRecords: undefined,
  oldestHeld: undefined,
  lastHandled: undefined,
  ...p,
})

const point = (at: number, partitions: Record<number, number> = {}, applied?: number): SeriesPoint => ({
  at,
  applied,
  deadLetters: undefined,
  pending: undefined,
  partitions: new Map(Object.entries(partitions).map(([p, lag]) => [Number(p), { lagRecords: lag }])),
})

describe('rates', () => {
  it('are the change of a counter per second, none for the first reading', () => {
    assert.equal(perSecond(100, 350, 2000), 125)
    assert.equal(perSecond(0, 1, 3000), 0.33)
    assert.equal(perSecond(undefined, 350, 2000), undefined, 'no previous reading')
    assert.equal(perSecond(100, 350, 0), undefined, 'no time between')
    assert.equal(perSecond(100, 50, 1000), 0, 'never negative')
  })

  it('are taken against the previous reading, with the pending count and each partition as read', () => {
    const reading = (at: number, applied: number, deadLettered: number): SeriesReading => ({
      at,
      applied,
      deadLettered,
      pending: 7,
      partitions: new Map([[2, partition({ lagRecords: 40, oldestHeld: at - 1500 })]]),
    })
    const first = pointOf(undefined, reading(10_000, 0, 0))
    assert.equal(first.applied, undefined)
    assert.equal(first.deadLetters, undefined)
    assert.equal(first.pending, 7)
    const second = pointOf(reading(10_000, 0, 0), reading(12_000, 500, 4))
    assert.equal(second.applied, 250)
    assert.equal(second.deadLetters, 2)
    assert.deepEqual(second.partitions.get(2), { lagRecords: 40, lagSeconds: 1.5 })
  })
})

describe('lag in seconds', () => {
  const now = 1_000_000

  it('is the age of the oldest record held, whatever the lag report says', () => {
    assert.equal(lagSeconds(now, partition({ oldestHeld: now - 2500, lastHandled: now - 9000 })), 2.5)
    assert.equal(lagSeconds(now, partition({ oldestHeld: now - 2500, lagRecords: 0 })), 2.5, 'a stale report')
  })

  it('is 0 when caught up and nothing is held', () => {
    assert.equal(lagSeconds(now, partition({ lagRecords: 0, lastHandled: now - 60_000 })), 0)
  })

  it('is the time since the last record handled when behind with nothing held (not fetched yet)', () => {
    assert.equal(lagSeconds(now, partition({ lagRecords: 12, lastHandled: now - 4000 })), 4)
  })

  it('is unknown before a lag report, or behind with nothing handled yet', () => {
    assert.equal(lagSeconds(now, partition()), undefined)
    assert.equal(lagSeconds(now, partition({ lagRecords: 12 })), undefined)
  })

  it('is never negative (a producer clock ahead of ours)', () => {
    assert.equal(lagSeconds(now, partition({ oldestHeld: now + 5000 })), 0)
    assert.equal(lagSeconds(now, partition({ lagRecords: 3, lastHandled: now + 5000 })), 0)
  })
})

describe('the ring', () => {
  it('keeps the last `capacity` samples, oldest first, null where unknown', () => {
    const ring = new SeriesRing({ capacity: 3, intervalMs: 1000 })
    assert.deepEqual(ring.snapshot().at, [])
    for (let k = 1; k <= 5; k++) ring.record(point(k * 1000, {}, k === 4 ? undefined : k))
    const shot = ring.snapshot()
    assert.deepEqual(shot.at, [3000, 4000, 5000])
    assert.deepEqual(shot.applied, [3, null, 5])
    assert.deepEqual(shot.pending, [null, null, null])
    assert.equal(shot.capacity, 3)
    assert.equal(shot.intervalMs, 1000)
  })

  it('gives a partition nulls where it was not owned, and drops it once none of its values is left', () => {
    const ring = new SeriesRing({ capacity: 3 })
    ring.record(point(1, { 0: 5 }))
    ring.record(point(2, { 0: 6, 1: 9 }))
    ring.record(point(3, { 1: 8 }))
    assert.deepEqual(
      ring.snapshot().partitions.map(p => [p.partition, p.lagRecords]),
      [
        [0, [5, 6, null]],
        [1, [null, 9, 8]],
      ],
    )
    assert.equal(ring.bytes, 3 * 8 * (4 + 2 * 2))
    ring.record(point(4, { 1: 7 }))
    ring.record(point(5, { 1: 6 }))
    assert.deepEqual(
      ring.snapshot().partitions.map(p => [p.partition, p.lagRecords]),
      [[1, [8, 7, 6]]],
      'partition 0 left the ring with its last value',
    )
    assert.equal(ring.bytes, 3 * 8 * (4 + 2))
  })

  it('charts at most maxPartitions partitions and counts the others', () => {
    const ring = new SeriesRing({ capacity: 4, maxPartitions: 2 })
    ring.record(point(1, { 0: 1, 1: 1, 2: 1, 3: 1 }))
    const shot = ring.snapshot()
    assert.deepEqual(
      shot.partitions.map(p => p.partition),
      [0, 1],
    )
    assert.equal(shot.partitionsOmitted, 2)
    assert.equal(shot.bytes, 4 * 8 * (4 + 2 * 2))
  })

  it('stays within its bound in bytes, whatever it is fed', () => {
    const ring = new SeriesRing({ capacity: 360, maxPartitions: 16 })
    for (let k = 0; k < 5000; k++) {
      const partitions: Record<number, number> = {}
      for (let p = 0; p < 64; p++) if ((k + p) % 3 === 0) partitions[p] = k
      ring.record(point(k, partitions, k))
    }
    const shot = ring.snapshot()
    assert.equal(shot.at.length, 360)
    assert.ok(shot.partitions.length <= 16)
    for (const p of shot.partitions) assert.equal(p.lagRecords.length, 360)
    assert.ok(ring.bytes <= 360 * 8 * (4 + 2 * 16), `${ring.bytes} bytes`)
  })

  it('answers what a model keeping every point answers for its last `capacity` points', () => {
    const pointArb = fc.record({
      applied: fc.option(fc.integer({ min: 0, max: 1e6 }), { nil: undefined }),
      lags: fc.dictionary(fc.integer({ min: 0, max: 5 }).map(String), fc.integer({ min: 0, max: 1e6 })),
    })
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 8 }), fc.array(pointArb, { maxLength: 40 }), (capacity, points) => {
        const ring = new SeriesRing({ capacity })
        points.forEach((p, k) => {
          ring.record(point(k, Object.fromEntries(Object.entries(p.lags).map(([q, v]) => [Number(q), v])), p.applied))
        })
        // The model: the last `capacity` points; a partition is charted when one of them has it.
        const kept = points.slice(-capacity)
        const shot = ring.snapshot()
        assert.deepEqual(
          shot.at,
          kept.map((_, k) => points.length - kept.length + k),
        )
        assert.deepEqual(
          shot.applied,
          kept.map(p => p.applied ?? null),
        )
        const owned = [...new Set(kept.flatMap(p => Object.keys(p.lags).map(Number)))].sort((a, b) => a - b)
        assert.deepEqual(
          shot.partitions.map(p => p.partition),
          owned,
        )
        for (const column of shot.partitions) {
          assert.deepEqual(
            column.lagRecords,
            kept.map(p => p.lags[String(column.partition)] ?? null),
          )
        }
      }),
    )
  })
})

describe('the sampler', () => {
  it('samples at once on start, then every interval, until stopped', async () => {
    let applied = 0
    const ring = new SeriesRing({ capacity: 10, intervalMs: 20 })
    const sampler = new SeriesSampler(ring, () => {
      applied += 10
      return { at: Date.now(), applied, deadLettered: 0, pending: 0, partitions: new Map() }
    })
    sampler.start()
    assert.equal(ring.size, 1)
    await new Promise(resolve => setTimeout(resolve, 110))
    sampler.stop()
    const taken = ring.size
    assert.ok(taken >= 3, `${taken} samples`)
    const shot = ring.snapshot()
    assert.equal(shot.applied[0], null, 'the first sample has no rate')
    assert.ok(shot.applied.slice(1).every(rate => rate !== null && rate > 0))
    await new Promise(resolve => setTimeout(resolve, 60))
    assert.equal(ring.size, taken, 'no sample after stop')
  })
})
