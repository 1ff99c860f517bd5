import assert from 'node:assert/strict'
import { it } from 'node:test'
import { Consumer, ProduceAcks, Producer, stringDeserializers, stringSerializers } from '@platformatic/kafka'
import { kafkaTopic } from '../helpers/resources.ts'
import { testServices } from '../helpers/services.ts'

it('produces to and consumes from the real broker', async t => {
  const topic = await kafkaTopic(t)
  const producer = new Producer({
    clientId: 'test-producer',
    bootstrapBrokers: [...testServices.kafkaBrokers],
    serializers: stringSerializers,
    idempotent: true,
    acks: ProduceAcks.ALL,
  })
  t.after(() => producer.close())
  const sent = await producer.send({
    messages: Array.from({ length: 10 }, (_, i) => ({ topic, key: `k${i}`, value: `v${i}` })),
  })
  // acks=all: every batch came back with the offset the broker gave it.
  assert.ok((sent.offsets ?? []).length > 0)
  for (const o of sent.offsets ?? []) assert.equal(typeof o.offset, 'bigint')

  const consumer = new Consumer({
    clientId: 'test-consumer',
    groupId: `g-${topic}`,
    bootstrapBrokers: [...testServices.kafkaBrokers],
    deserializers: stringDeserializers,
  })
  t.after(() => consumer.close(true))
  const stream = await consumer.consume({ topics: [topic], mode: 'earliest', autocommit: false, maxWaitTime: 200 })
  const seen = new Map<string, string>()
  for await (const message of stream) {
    seen.set(message.key, message.value)
    if (seen.size === 10) break
  }
  await stream.close()
  assert.deepEqual([...seen.entries()].sort(), Array.from({ length: 10 }, (_, i) => [`k${i}`, `v${i}`]).sort())
})
