import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { LaneScheduler, type LaneView } from '../../src/consumer/schedule.ts'

const lane = (key: string, over: Partial<LaneView> = {}): LaneView => ({
  key,
  waiting: 10,
  since: 0,
  oldest: 100n,
  busy: false,
  ...over,
})

describe('LaneScheduler', () => {
  const options = { batchMax: 10, batchWaitMs: 20, concurrency: 2 }

  it('launches full lanes at once and waits out the batch wait of a short one', () => {
    const s = new LaneScheduler(options)
    const d = s.decide([lane('full'), lane('short', { waiting: 3, since: 995 })], 0, 1000)
    assert.deepEqual(d.launch, ['full'])
    assert.equal(d.wake, 15)
    assert.deepEqual(s.decide([lane('short', { waiting: 3, since: 995 })], 0, 1015).launch, ['short'])
  })

  it('never launches a busy lane, an empty one, or more than the concurrency allows', () => {
    const s = new LaneScheduler(options)
    const d = s.decide([lane('a', { busy: true }), lane('b', { waiting: 0 }), lane('c'), lane('d'), lane('e')], 1, 1000)
    assert.deepEqual(d.launch, ['c'])
  })

  it('runs the lane with the oldest records first and holds a newer one while older records wait', () => {
    const s = new LaneScheduler({ ...options, concurrency: 1 })
    const lanes = [lane('new', { oldest: 200n }), lane('old', { oldest: 100n })]
    assert.deepEqual(s.decide(lanes, 0, 1000).launch, ['old'])
    // With a slot free and 'old' busy, 'new' is still held: 'old' has older records waiting.
    const held = s.decide([lane('new', { oldest: 200n }), lane('old', { oldest: 150n, busy: true })], 0, 1001)
    assert.deepEqual(held.launch, [])
    assert.ok(held.wake <= 5000)
  })

  it('holds no lane for longer than maxHoldMs when the others make no progress', () => {
    const s = new LaneScheduler({ ...options, maxHoldMs: 100 })
    const lanes = [lane('new', { oldest: 200n }), lane('old', { oldest: 100n, busy: true })]
    assert.deepEqual(s.decide(lanes, 1, 1000).launch, [])
    assert.deepEqual(s.decide(lanes, 1, 1099).launch, [])
    assert.deepEqual(s.decide(lanes, 1, 1100).launch, ['new'])
  })

  it('holds no lane for more than maxHoldBatches launches of the others', () => {
    const s = new LaneScheduler({ ...options, maxHoldBatches: 2, maxHoldMs: 60_000 })
    // 'old' keeps older records waiting (busy), 'x' runs batch after batch: 'new' goes after two of them.
    const lanes = [lane('new', { oldest: 200n }), lane('old', { oldest: 100n, busy: true }), lane('x', { oldest: 50n })]
    assert.deepEqual(s.decide(lanes, 0, 1000).launch, ['x'])
    assert.deepEqual(s.decide(lanes, 0, 1001).launch, ['x'])
    assert.deepEqual(s.decide(lanes, 0, 1002).launch, ['x', 'new'])
  })

  it('lets equal timestamps run side by side', () => {
    const s = new LaneScheduler(options)
    assert.deepEqual(s.decide([lane('a', { oldest: 5n }), lane('b', { oldest: 5n })], 0, 1000).launch, ['a', 'b'])
  })
})
