import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { it } from 'node:test'
import { compatibilityPartitioner } from '@platformatic/kafka'
import { murmur2, partitionOf, partitionOfBytes } from '../../src/kafka/index.ts'

it('computes the Java client murmur2 (the vectors of Kafka UtilsTest)', () => {
  const vectors: [string, number][] = [
    ['21', -973932308],
    ['foobar', -790332482],
    ['a-little-bit-long-string', -985981536],
    ['a-little-bit-longer-string', -1486304829],
    ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
    ['abc', 479470107],
  ]
  for (const [key, expected] of vectors) assert.equal(murmur2(Buffer.from(key)), expected, key)
})

it('places keys where the Java-compatible partitioner of the client would', () => {
  for (let i = 0; i < 2000; i++) {
    const key = randomBytes(1 + (i % 40)).toString('base64url')
    const expected = compatibilityPartitioner({ topic: 't' }, Buffer.from(key)) % 7
    assert.equal(partitionOf(key, 7), expected, key)
    assert.equal(partitionOfBytes(Buffer.from(key), 7), expected, key)
  }
  assert.equal(partitionOf('ünïcödé-sku', 1), 0)
  // The bytes of a view into a larger buffer (as the publisher's keys are) hash like a buffer of their own.
  const within = Buffer.from('xxorder-17yy')
  assert.equal(partitionOfBytes(within.subarray(2, 10), 12), partitionOf('order-17', 12))
})
