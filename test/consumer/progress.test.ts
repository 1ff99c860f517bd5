import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { PartitionProgress } from '../../src/consumer/progress.ts'

const offsets = (p: PartitionProgress) => [...p.offsets()].map(o => [o.partition, o.offset])

describe('PartitionProgress', () => {
  it('commits the offset after the last handled record of owned partitions, once the floor is known', () => {
    const p = new PartitionProgress('t')
    assert.deepEqual(p.assign([0, 1]), { added: [0, 1], revoked: [] })
    const t0 = p.begin(0)!
    assert.ok(p.finish(t0, 41n, 3))
    assert.deepEqual(offsets(p), [], 'nothing before the group says where the partition stood')
    p.setFloor(0, p.generationOf(0)!, 10n)
    assert.deepEqual(offsets(p), [[0, 42n]])
    assert.equal([...p.offsets()][0]?.leaderEpoch, 3)
  })

  it('never commits at or below the group offset the partition had when it came', () => {
    const p = new PartitionProgress('t')
    p.assign([0])
    p.setFloor(0, p.generationOf(0)!, 100n)
    p.finish(p.begin(0)!, 49n, 0)
    assert.deepEqual(offsets(p), [])
    p.finish(p.begin(0)!, 120n, 0)
    assert.deepEqual(offsets(p), [[0, 121n]])
  })

  it('forgets a revoked partition: its batch in flight moves nothing, also when it comes back', () => {
    const p = new PartitionProgress('t')
    p.assign([0, 1])
    for (const q of [0, 1]) p.setFloor(q, p.generationOf(q)!, -1n)
    const stale = p.begin(1)!
    assert.deepEqual(p.assign([0]), { added: [], revoked: [1] })
    assert.equal(p.begin(1), undefined, 'no batch starts for a partition this member does not own')
    assert.equal(p.finish(stale, 500n, 0), false)
    assert.deepEqual(p.assign([0, 1]), { added: [1], revoked: [] })
    assert.equal(p.finish(stale, 500n, 0), false, 'a batch of the earlier ownership stays stale')
    assert.deepEqual(offsets(p), [])
    p.setFloor(1, stale.generation, 900n)
    assert.deepEqual(offsets(p), [], 'a floor for the earlier ownership is ignored')
    assert.deepEqual(p.withoutFloor(), [{ partition: 1, generation: p.generationOf(1)! }])
  })

  it('never moves an offset back when batches finish out of order', () => {
    const p = new PartitionProgress('t')
    p.assign([0])
    p.setFloor(0, p.generationOf(0)!, -1n)
    const a = p.begin(0)!
    const b = p.begin(0)!
    p.finish(b, 20n, 0)
    p.finish(a, 10n, 0)
    assert.deepEqual(offsets(p), [[0, 21n]])
  })
})
