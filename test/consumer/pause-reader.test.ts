// The reader held while every partition a member owns is paused: the stream stays paused whatever the lanes
// hold, and back-pressure decides again once the hold is lifted. Driven by a real object stream standing where
// the Kafka client's stream stands.
import assert from 'node:assert/strict'
import { Readable } from 'node:stream'
import { describe, it } from 'node:test'
import { PartitionReader, type RawMessage, type RawStream } from '../../src/consumer/batch-reader.ts'

const message = (partition: number, offset: number): RawMessage =>
  ({
    topic: 't',
    partition,
    offset: BigInt(offset),
    key: Buffer.from('k'),
    value: Buffer.alloc(99),
    timestamp: BigInt(offset),
    headers: new Map(),
  }) as unknown as RawMessage

describe('PartitionReader.hold', () => {
  it('keeps the stream paused while held, and lets back-pressure decide when released', async () => {
    const stream = new Readable({ objectMode: true, read() {} })
    const reader = new PartitionReader(stream as unknown as RawStream, { records: 4, bytes: 1 << 20 }, m => m)
    const flush = () => new Promise(resolve => setImmediate(resolve))
    stream.push(message(0, 0))
    await flush()
    assert.equal(stream.isPaused(), false)

    reader.hold(true)
    assert.equal(stream.isPaused(), true)
    // Taking records would resume a stream paused by back-pressure; a held one stays paused.
    const lane = [...reader.lanes.values()][0]!
    reader.take(lane, 10)
    assert.equal(stream.isPaused(), true)
    stream.push(message(0, 1))
    await flush()
    assert.equal(reader.waiting(lane), 0, 'nothing is delivered while held')

    reader.hold(false)
    assert.equal(stream.isPaused(), false, 'released, with room in the lanes: the stream goes on')
    await flush()
    assert.deepEqual(
      reader.take(reader.lanes.get(lane.key) ?? lane, 10).map(m => m.offset),
      [1n],
      'what arrived meanwhile comes in order',
    )
  })
})
