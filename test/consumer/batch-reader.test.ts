// The reader's memory bounds, driven by a real object stream standing where the Kafka client's stream stands.
import assert from 'node:assert/strict'
import { Readable } from 'node:stream'
import { describe, it } from 'node:test'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { PartitionReader, type RawMessage, type RawStream } from '../../src/consumer/batch-reader.ts'

function message(partition: number, offset: number, bytes: number): RawMessage {
  return {
    topic: 't',
    partition,
    offset: BigInt(offset),
    key: Buffer.from('k'),
    value: Buffer.alloc(bytes - 1),
    timestamp: BigInt(offset),
    headers: new Map(),
  } as unknown as RawMessage
}

function reader(limits: { records: number; bytes: number }) {
  const stream = new Readable({ objectMode: true, read() {} })
  const r = new PartitionReader(stream as unknown as RawStream, limits, m => m)
  // The reader listens for 'data', which puts the stream in flowing mode.
  const push = async (...ms: RawMessage[]) => {
    for (const m of ms) stream.push(m)
    await new Promise(resolve => setImmediate(resolve))
  }
  return { stream, r, push }
}

describe('PartitionReader', () => {
  it('closes a batch by bytes as well as by records, and always takes at least one record', async () => {
    const { r, push } = reader({ records: 1000, bytes: 1 << 30 })
    await push(message(0, 0, 400), message(0, 1, 400), message(0, 2, 400), message(0, 3, 5000))
    const lane = r.lanes.get([...r.lanes.keys()][0]!)!
    assert.deepEqual(
      r.take(lane, 10, 1000).map(m => m.offset),
      [0n, 1n],
    )
    assert.deepEqual(
      r.take(lane, 10, 1000).map(m => m.offset),
      [2n],
    )
    assert.deepEqual(
      r.take(lane, 10, 1000).map(m => m.offset),
      [3n],
      'a record larger than the batch limit still goes, alone',
    )
  })

  it('pauses the stream once the bytes waiting reach their limit, and resumes below half', async () => {
    const { stream, r, push } = reader({ records: 1000, bytes: 10_000 })
    await push(message(0, 0, 3000), message(1, 0, 3000))
    assert.equal(stream.isPaused(), false)
    await push(message(0, 1, 3000), message(1, 1, 3000))
    assert.equal(stream.isPaused(), true, '12,000 bytes wait, more than 10,000')
    const lanes = [...r.lanes.values()]
    r.take(lanes[0]!, 1)
    assert.equal(stream.isPaused(), true, '9,000 bytes still wait: above half')
    r.take(lanes[1]!, 1)
    assert.equal(stream.isPaused(), true, '6,000 bytes still wait: not below half')
    r.take(lanes[0]!, 1)
    assert.equal(stream.isPaused(), false, '3,000 bytes: below half, fetching resumes')
  })

  it('holds no taken record while its lane still has records waiting', async () => {
    setFlagsFromString('--expose-gc')
    const gc = runInNewContext('gc') as () => void
    const { r, push } = reader({ records: 1000, bytes: 1 << 30 })
    const taken: WeakRef<Buffer>[] = []
    for (let offset = 0; offset < 20; offset++) {
      const m = message(0, offset, 1 << 20)
      if (offset < 10) taken.push(new WeakRef(m.value))
      await push(m)
    }
    const lane = r.lanes.get([...r.lanes.keys()][0]!)!
    for (let i = 0; i < 10; i++) assert.equal(r.take(lane, 1).length, 1)
    assert.equal(r.waiting(lane), 10)
    gc()
    await new Promise(resolve => setImmediate(resolve))
    gc()
    const held = taken.filter(w => w.deref() !== undefined).length
    assert.equal(held, 0, `the reader still holds ${held} of the 10 records it handed out`)
  })
  it('keeps what adopt makes of a message, and lets the message itself go at once', async () => {
    setFlagsFromString('--expose-gc')
    const gc = runInNewContext('gc') as () => void
    const stream = new Readable({ objectMode: true, read() {} })
    const r = new PartitionReader(stream as unknown as RawStream, { records: 1000, bytes: 1 << 30 }, m => ({
      topic: m.topic,
      partition: m.partition,
      offset: m.offset,
      value: m.value,
    }))
    // In a function of its own, so that no variable of this test's frame keeps the last message alive.
    const pushAll = () => {
      const refs: WeakRef<object>[] = []
      for (let offset = 0; offset < 5; offset++) {
        const m = message(0, offset, 100)
        refs.push(new WeakRef(m))
        stream.push(m)
      }
      return refs
    }
    const messages = pushAll()
    await new Promise(resolve => setImmediate(resolve))
    gc()
    await new Promise(resolve => setImmediate(resolve))
    gc()
    const lane = r.lanes.get([...r.lanes.keys()][0]!)!
    assert.equal(r.waiting(lane), 5)
    const held = messages.filter(w => w.deref() !== undefined).length
    assert.equal(held, 0, `the lanes still hold ${held} of the 5 messages they adopted`)
    const taken = r.take(lane, 10)
    assert.deepEqual(
      taken.map(m => [m.offset, m.value?.length]),
      [0n, 1n, 2n, 3n, 4n].map(o => [o, 99]),
    )
    assert.deepEqual(Object.keys(taken[0]!), ['topic', 'partition', 'offset', 'value'])
  })
})
