// Which positions a transaction may mark as processed while some records of the batch wait for their DLQ push.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { marksBelow } from '../../src/consumer/process.ts'
import type { SourcedEvent } from '../../src/store/index.ts'

const item = (partition: number, offset: number) =>
  ({ source: { topic: 't', partition, offset: BigInt(offset) } }) as unknown as SourcedEvent
const failure = (partition: number, offset: number) => ({
  record: { topic: 't', partition, offset: BigInt(offset), key: null, value: null },
})

describe('marksBelow', () => {
  it('marks every item when nothing failed', () => {
    const items = [item(0, 1), item(0, 2)]
    assert.deepEqual(marksBelow(items, []), [items[0]!.source, items[1]!.source])
  })

  it('stops each partition below its lowest failure not yet in the DLQ', () => {
    const items = [item(0, 1), item(0, 3), item(0, 5), item(1, 9)]
    const marks = marksBelow(items, [failure(0, 4), failure(0, 2)])
    assert.deepEqual(
      marks.map(m => [m.partition, Number(m.offset)]),
      [
        [0, 1],
        [1, 9],
      ],
    )
  })
})
