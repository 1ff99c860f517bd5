// Which offsets a processor still has to mark after a batch that ended with dead-lettered records.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { InboundRecord } from '../../src/consumer/dead-letters.ts'
import { TailMarks } from '../../src/consumer/tail-marks.ts'

const record = (partition: number, offset: number, topicId?: string): InboundRecord => ({
  topic: 't',
  partition,
  offset: BigInt(offset),
  key: Buffer.from('k'),
  value: Buffer.from('a value that must not reach the store'),
  ...(topicId === undefined ? {} : { topicId }),
})

describe('TailMarks', () => {
  it('owes the greatest offset per partition, as coordinates only', () => {
    const tail = new TailMarks()
    tail.add([record(0, 3), record(0, 5), record(1, 2, 'id')], new Map())
    assert.equal(tail.size, 2)
    assert.deepEqual(tail.take(), [
      { topic: 't', partition: 0, offset: 5n },
      { topic: 't', partition: 1, offset: 2n, topicId: 'id' },
    ])
    assert.equal(tail.size, 0)
  })

  it('owes nothing a transaction of the batch marked already', () => {
    const tail = new TailMarks()
    tail.add([record(0, 3), record(0, 4)], new Map([[0, 4n]]))
    assert.equal(tail.size, 0)
    assert.deepEqual(tail.take(), [])
  })

  it('keeps the greater of what is owed and what a later batch adds', () => {
    const tail = new TailMarks()
    tail.add([record(0, 7)], new Map())
    tail.add([record(0, 6)], new Map())
    assert.deepEqual(
      tail.take().map(m => m.offset),
      [7n],
    )
    tail.add([record(0, 6)], new Map())
    assert.deepEqual(
      tail.take().map(m => m.offset),
      [6n],
    )
  })
})
