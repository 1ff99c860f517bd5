import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { Admin } from '@platformatic/kafka'
import { PipelineError } from '../../src/errors.ts'
import { type Event, keyOf, parseEvent } from '../../src/events/index.ts'
import { partitionOf } from '../../src/kafka/index.ts'
import { createLogger } from '../../src/observability/index.ts'
import { createPublisher, type PublishedOffset } from '../../src/producer/index.ts'
import { inventoryAdjusted, orderPlaced, paymentSettled, userCreated } from '../helpers/events.ts'
import { kafkaTopic } from '../helpers/resources.ts'
import { testServices } from '../helpers/services.ts'
import { capturingLogger, consumeBack, place, testPublisher } from './helpers.ts'

/** A mix of types and keys, with repeated keys so several events share a partition batch. */
function mixedEvents(n: number): Event[] {
  const raw = Array.from({ length: n }, (_, i) => {
    switch (i % 4) {
      case 0:
        return userCreated(`user-${i % 7}`)
      case 1:
        return orderPlaced(`order-${i % 5}`, `user-${i % 7}`)
      case 2:
        return paymentSettled(`order-${i % 5}`)
      default:
        return inventoryAdjusted(`sku-${i % 3}`, i)
    }
  })
  return raw.map(e => parseEvent(e))
}

/** Every reported place holds the event that was published there, keyed and partitioned as it should be. */
async function assertInKafka(topic: string, events: readonly Event[], offsets: readonly PublishedOffset[]) {
  assert.equal(offsets.length, events.length)
  const records = await consumeBack(topic, events.length)
  const byPlace = new Map(records.map(r => [place(r), r]))
  assert.equal(byPlace.size, events.length, 'every event has a place of its own')
  events.forEach((event, i) => {
    const at = offsets[i]!
    assert.equal(at.topic, topic)
    assert.equal(at.partition, partitionOf(keyOf(event), 3))
    const record = byPlace.get(place(at))
    assert.ok(record, `a record at ${place(at)}`)
    assert.equal(record.key, keyOf(event))
    assert.equal(record.value, JSON.stringify(event))
    assert.equal(record.eventId, event.eventId)
  })
}

describe('publisher', () => {
  it('resolves with the partition and offset of every event, as Kafka holds them', async t => {
    const topic = await kafkaTopic(t)
    const publisher = await testPublisher(t, topic)
    const events = mixedEvents(40)
    const offsets = await publisher.publish(events)
    await assertInKafka(topic, events, offsets)
  })

  it('coalesces concurrent calls into few sends and answers each call with its own offsets', async t => {
    const topic = await kafkaTopic(t)
    const { logger, lines } = capturingLogger()
    const publisher = await testPublisher(t, topic, { logger, lingerMs: 5 })
    const calls = Array.from({ length: 50 }, () => mixedEvents(3))
    const answers = await Promise.all(calls.map(events => publisher.publish(events)))
    const sends = lines.filter(l => l.msg === 'batch acknowledged')
    assert.ok(sends.length < 10, `50 concurrent calls went out in ${sends.length} sends`)
    assert.equal(
      sends.reduce((n, l) => n + (l['events'] as number), 0),
      150,
    )
    await assertInKafka(topic, calls.flat(), answers.flat())
  })

  it('splits a call larger than one send and still reports each offset', async t => {
    const topic = await kafkaTopic(t)
    const { logger, lines } = capturingLogger()
    const publisher = await testPublisher(t, topic, { logger, maxBatchBytes: 4000, maxBatchMessages: 7 })
    const events = mixedEvents(60)
    const offsets = await publisher.publish(events)
    assert.ok(lines.filter(l => l.msg === 'batch acknowledged').length >= 9)
    await assertInKafka(topic, events, offsets)
  })

  it('fails with KAFKA_UNAVAILABLE, quickly, when Kafka cannot be reached', async t => {
    const started = Date.now()
    const publisher = await createPublisher({
      connection: { clientId: 'test-dead', bootstrapBrokers: ['127.0.0.1:1'] },
      topic: 'never-created',
      partitions: 1,
      logger: createLogger('silent', 'producer'),
      timeoutMs: 800,
    })
    t.after(() => publisher.close())
    await assert.rejects(publisher.publish(mixedEvents(2)), (error: unknown) => {
      assert.ok(error instanceof PipelineError)
      assert.equal(error.code, 'KAFKA_UNAVAILABLE')
      assert.equal(error.retryable, true)
      return true
    })
    assert.deepEqual((await publisher.ready()).ok, false)
    assert.ok(Date.now() - started < 5000, `took ${Date.now() - started} ms`)
  })

  it('reports ready when the broker answers, and refuses events once closed', async t => {
    const topic = await kafkaTopic(t)
    const publisher = await testPublisher(t, topic)
    assert.deepEqual(await publisher.ready(), { ok: true })
    await publisher.close()
    await assert.rejects(publisher.publish(mixedEvents(1)), { code: 'SHUTTING_DOWN' })
    assert.equal((await publisher.ready()).ok, false)
  })

  it('creates its topic when it does not exist', async t => {
    const topic = await kafkaTopic(t)
    const fresh = `${topic}-fresh`
    // kafkaTopic's cleanup only knows its own topic: this one needs its own.
    t.after(async () => {
      const admin = new Admin({ clientId: 'test-admin', bootstrapBrokers: [...testServices.kafkaBrokers] })
      await admin.deleteTopics({ topics: [fresh] }).catch(() => {})
      await admin.close()
    })
    const publisher = await testPublisher(t, fresh)
    const events = mixedEvents(5)
    const offsets = await publisher.publish(events)
    await assertInKafka(fresh, events, offsets)
  })
})
