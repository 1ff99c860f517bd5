import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createTopic, deleteTopics } from '../../dev/resources.ts'
import { seenKeyOf } from '../../src/dlq/index.ts'
import { createStore, type Store } from '../../src/store/index.ts'
import {
  inventoryAdjusted,
  keyOfTest,
  orderPlaced,
  paymentSettled,
  type TestEvent,
  userCreated,
} from '../helpers/events.ts'
import { committedOffsets, eventually, produceRaw } from '../helpers/kafka.ts'
import { type Cleanup, kafkaTopic, redisPrefix, sqliteFile, uniqueName } from '../helpers/resources.ts'
import { type Harness, startConsumer } from './harness.ts'

async function sqliteStore(t: Cleanup): Promise<Store> {
  const store = await createStore({ engine: 'sqlite', path: sqliteFile(t) })
  await store.migrate()
  t.after(() => store.close())
  return store
}

const json = (e: TestEvent) => ({ key: keyOfTest(e), value: JSON.stringify(e) })

async function offsetsTotal(groupId: string, topic: string): Promise<bigint> {
  let sum = 0n
  for (const v of (await committedOffsets(groupId, topic)).values()) sum += v
  return sum
}

/** Waits until the group's committed offsets of `topic` add up to `total`; a timeout says what the consumer saw. */
async function committedInAll(consumer: Harness, topic: string, total: bigint, what = `${total} committed`) {
  await eventually(
    what,
    async () => (await offsetsTotal(consumer.groupId, topic)) === total,
    20_000,
    async () => {
      const offsets = Object.fromEntries(
        [...(await committedOffsets(consumer.groupId, topic))].map(([p, o]) => [p, `${o}`]),
      )
      return `committed per partition ${JSON.stringify(offsets)}, consumer ${JSON.stringify(consumer.service.status())}`
    },
  )
}

describe('consumer', () => {
  it('applies good records, dead-letters a poison record in the middle of a batch, and commits everything', async t => {
    const topic = await kafkaTopic(t, 1)
    const store = await sqliteStore(t)
    const { redis, prefix } = redisPrefix(t)
    const dlqKey = `${prefix}dlq:events`
    const u = userCreated(uniqueName('u'))
    const o = orderPlaced(uniqueName('o'), u.data.userId)
    const unknown = { ...userCreated('x'), type: 'InvalidEvent' }
    const missingData = { eventId: 'missing-data', type: 'UserCreated', timestamp: '2025-01-11T12:04:00Z' }
    await produceRaw(topic, [
      json(u),
      { key: 'k', value: 'this is not json {' },
      { key: 'k', value: Buffer.from([0xff, 0xfe, 0x00]) },
      { key: 'k', value: JSON.stringify(unknown) },
      { key: 'k', value: JSON.stringify(missingData) },
      { key: 'k', value: null },
      json(o),
    ])
    await committedInAll(await startConsumer(t, { topic, store, dlqKey }), topic, 7n)

    assert.equal((await store.getUser(u.data.userId))?.name, u.data.name)
    assert.equal((await store.getOrder(o.data.orderId))?.total, 123.45)
    const entries = (await redis.lrange(dlqKey, 0, -1)).map(e => JSON.parse(e))
    assert.equal(entries.length, 5)
    // LPUSH: newest first, so the list read backwards is offset order.
    const byOffset = entries.reverse()
    assert.deepEqual(
      byOffset.map(e => [e.offset, e.error.code]),
      [
        ['1', 'INVALID_JSON'],
        ['2', 'INVALID_JSON'],
        ['3', 'UNKNOWN_TYPE'],
        ['4', 'SCHEMA_VIOLATION'],
        ['5', 'INVALID_JSON'],
      ],
    )
    const first = byOffset[0]
    assert.equal(first.payload, 'this is not json {')
    assert.equal(first.topic, topic)
    assert.equal(first.partition, 0)
    assert.equal(first.key, 'k')
    assert.equal(typeof first.failedAt, 'string')
    assert.equal(byOffset[1].payloadEncoding, 'base64')
    assert.deepEqual(Buffer.from(byOffset[1].payload, 'base64'), Buffer.from([0xff, 0xfe, 0x00]))
    assert.equal(byOffset[3].eventId, 'missing-data')
    assert.match(byOffset[3].error.message, /\/data/)
    assert.equal(JSON.parse(byOffset[3].payload).eventId, 'missing-data')
  })

  it('applies a redriven copy at its original position: an older version never replaces the correction', async t => {
    const topic = await kafkaTopic(t, 1)
    const store = await sqliteStore(t)
    const { prefix } = redisPrefix(t)
    const u = userCreated(uniqueName('u'))
    const orderId = uniqueName('o')
    const v1 = orderPlaced(orderId, u.data.userId, { total: 1, eventId: 'e-v1' })
    // The documented correction: the same eventId and timestamp, other fields, a later record.
    const v2 = { ...v1, data: { ...v1.data, total: 2 } }
    // A redriven copy of v1 (offset 1): it loses to v2 as v1 did.
    await produceRaw(topic, [
      json(u),
      json(v1),
      json(v2),
      { ...json(v1), headers: { 'x-redrive-source': `${topic}/0/1` } },
    ])
    const consumer = await startConsumer(t, { topic, store, dlqKey: `${prefix}dlq:events` })
    await committedInAll(consumer, topic, 4n)
    assert.equal((await store.getOrder(orderId))?.total, 2)
    // A copy whose header names no record is its own record: the newest, so it wins.
    const v3 = { ...v1, data: { ...v1.data, total: 3 } }
    await produceRaw(topic, [{ ...json(v3), headers: { 'x-redrive-source': 'producer' } }])
    await committedInAll(consumer, topic, 5n)
    assert.equal((await store.getOrder(orderId))?.total, 3)
  })

  it('applies records whose headers have no value, an x-redrive-source among them, as their own records', async t => {
    // Kafka allows a header without a value (the broker refuses one without a name).
    const topic = await kafkaTopic(t, 1)
    const store = await sqliteStore(t)
    const { prefix } = redisPrefix(t)
    const users = [1, 2].map(i => userCreated(uniqueName(`u${i}`)))
    await produceRaw(topic, [
      { ...json(users[0]!), rawHeaders: [[Buffer.from('x-redrive-source'), null]] },
      { ...json(users[1]!), rawHeaders: [[Buffer.from('eventId'), null]] },
    ])
    const consumer = await startConsumer(t, { topic, store, dlqKey: `${prefix}dlq:events` })
    await committedInAll(consumer, topic, 2n)
    for (const u of users) assert.equal((await store.getUser(u.data.userId))?.name, u.data.name)
    assert.equal(consumer.service.status().degraded, undefined)
  })

  it('skips what the store handled when a new group reads the topic again: no entry twice, nothing re-applied', async t => {
    // A group whose offsets expired (Kafka forgets an idle group's offsets after offsets.retention.minutes) starts
    // from the earliest record, as a new group does.
    const topic = await kafkaTopic(t, 1)
    const store = await sqliteStore(t)
    const { redis, prefix } = redisPrefix(t)
    const dlqKey = `${prefix}dlq:events`
    const u = userCreated(uniqueName('u'))
    const records = [json(u), { key: 'k', value: 'not json' }, json(orderPlaced(uniqueName('o'), u.data.userId))]
    await produceRaw(topic, records)
    const first = await startConsumer(t, { topic, store, dlqKey, groupId: uniqueName('first') })
    await committedInAll(first, topic, 3n)
    await first.close()
    assert.equal(await redis.llen(dlqKey), 1)
    // The DLQ forgets what it saw (its seen-set is trimmed by age and count): the store's marks must not.
    await redis.del(seenKeyOf(dlqKey))
    await redis.del(dlqKey)
    const again = await startConsumer(t, { topic, store, dlqKey, groupId: uniqueName('again') })
    await committedInAll(again, topic, 3n)
    assert.equal(await redis.llen(dlqKey), 0, 'the dead letter purged since is not pushed again')
    assert.equal(again.service.status().applied, 0, 'nothing applied a second time')
    // Records after the marks are handled as usual.
    await produceRaw(topic, [{ key: 'k', value: 'also not json' }])
    await committedInAll(again, topic, 4n)
    assert.deepEqual(
      (await redis.lrange(dlqKey, 0, -1)).map(e => JSON.parse(e).offset),
      ['3'],
    )
  })

  it('tells a re-created topic from the old one: a poison record at a reused offset is dead-lettered', async t => {
    const topic = await kafkaTopic(t, 1)
    const store = await sqliteStore(t)
    const { redis, prefix } = redisPrefix(t)
    const dlqKey = `${prefix}dlq:events`
    await produceRaw(topic, [{ key: 'k', value: 'old poison' }])
    const old = await startConsumer(t, { topic, store, dlqKey, groupId: uniqueName('old') })
    await committedInAll(old, topic, 1n)
    await old.close()
    await deleteTopics([topic])
    await eventually(
      'the topic re-created',
      async () => {
        try {
          await createTopic(topic, 1)
          return true
        } catch {
          return false
        }
      },
      30_000,
    )
    await produceRaw(topic, [{ key: 'k', value: 'new poison' }])
    const renewed = await startConsumer(t, { topic, store, dlqKey, groupId: uniqueName('new') })
    await committedInAll(renewed, topic, 1n)
    const entries = (await redis.lrange(dlqKey, 0, -1)).map(e => JSON.parse(e))
    assert.deepEqual(
      entries.map(e => [e.payload, e.offset]),
      [
        ['new poison', '0'],
        ['old poison', '0'],
      ],
    )
    assert.notEqual(entries[0].topicId, entries[1].topicId)
  })

  it('commits an order for an unknown user at once as pending, and dead-letters it once after PENDING_MAX_AGE', async t => {
    const topic = await kafkaTopic(t, 1)
    const store = await sqliteStore(t)
    const { redis, prefix } = redisPrefix(t)
    const dlqKey = `${prefix}dlq:events`
    const orphan = orderPlaced(uniqueName('o'), 'non-existent-user')
    const u = userCreated(uniqueName('u'))
    await produceRaw(topic, [json(orphan), json(u)])
    const consumer = await startConsumer(t, { topic, store, dlqKey, pendingMaxAgeMs: 1500, pendingSweepMs: 100 })
    await committedInAll(consumer, topic, 2n)
    assert.equal(await redis.llen(dlqKey), 0, 'nothing dead-lettered while the order is younger than PENDING_MAX_AGE')
    assert.equal((await store.pendingStats()).count, 1)
    await eventually('the expired pending order dead-lettered', async () => (await redis.llen(dlqKey)) > 0, 10_000)
    await eventually('the pending row removed', async () => (await store.pendingStats()).count === 0, 5000)
    const entries = (await redis.lrange(dlqKey, 0, -1)).map(e => JSON.parse(e))
    assert.equal(entries.length, 1, 'one entry')
    const [entry] = entries
    assert.equal(entry.eventId, orphan.eventId)
    assert.deepEqual([entry.topic, entry.partition, entry.offset], [topic, 0, '0'])
    assert.equal(entry.error.code, 'CONSTRAINT_VIOLATION')
    assert.match(entry.error.message, /FK_Orders_Users/)
    assert.match(entry.error.message, /non-existent-user/)
    assert.equal(JSON.parse(entry.payload).eventId, orphan.eventId)
    assert.equal(await store.getOrder(orphan.data.orderId), undefined)
    assert.ok(await store.getUser(u.data.userId))
  })

  it('applies an order whose user arrives on another partition long after it, without dead-lettering', async t => {
    const topic = await kafkaTopic(t, 2)
    const store = await sqliteStore(t)
    const { redis, prefix } = redisPrefix(t)
    const dlqKey = `${prefix}dlq:events`
    const u = userCreated(uniqueName('u'))
    const o = orderPlaced(uniqueName('o'), u.data.userId)
    await produceRaw(topic, [{ ...json(o), partition: 0 }])
    const consumer = await startConsumer(t, { topic, store, dlqKey })
    // The order's offset is committed while its user is missing: its partition is not held up.
    await committedInAll(consumer, topic, 1n, 'the order committed as pending')
    assert.equal(await store.getOrder(o.data.orderId), undefined)
    // Longer than any retry window on a clock (the 2 s FK_RETRY_MS of earlier versions).
    await new Promise(resolve => setTimeout(resolve, 2500))
    await produceRaw(topic, [{ ...json(u), partition: 1 }])
    await committedInAll(consumer, topic, 2n, 'both committed')
    await eventually('the order applied', async () => (await store.getOrder(o.data.orderId)) !== undefined, 5000)
    assert.equal(await redis.llen(dlqKey), 0)
    assert.equal((await store.pendingStats()).count, 0)
  })

  it('dead-letters a delta eventId re-sent with another delta as EVENT_ID_CONFLICT, once', async t => {
    const topic = await kafkaTopic(t, 1)
    const store = await sqliteStore(t)
    const { redis, prefix } = redisPrefix(t)
    const dlqKey = `${prefix}dlq:events`
    const sku = uniqueName('sku')
    const first = inventoryAdjusted(sku, 4)
    const changed = { ...first, data: { ...first.data, delta: 40 } }
    await produceRaw(topic, [json(first), json(first), json(changed)])
    await committedInAll(await startConsumer(t, { topic, store, dlqKey }), topic, 3n)
    const entries = (await redis.lrange(dlqKey, 0, -1)).map(e => JSON.parse(e))
    assert.deepEqual(
      entries.map(e => [e.eventId, e.offset, e.error.code]),
      [[first.eventId, '2', 'EVENT_ID_CONFLICT']],
    )
    assert.match(entries[0].error.message, /digest [0-9a-f]{16}.*digest [0-9a-f]{16}/)
    assert.equal((await store.getInventory(sku))?.quantity, 4)
  })

  it('applies deltas exactly once under redelivery, and an old event never overwrites a newer one', async t => {
    const topic = await kafkaTopic(t, 3)
    const store = await sqliteStore(t)
    const { prefix } = redisPrefix(t)
    const dlqKey = `${prefix}dlq:events`
    const sku = uniqueName('sku')
    const deltas = [inventoryAdjusted(sku, 10), inventoryAdjusted(sku, -3), inventoryAdjusted(sku, 5)]
    const uid = uniqueName('u')
    const newer = userCreated(uid, { name: 'Newer', timestamp: '2025-06-01T00:00:00.000Z' })
    const older = userCreated(uid, { name: 'Older', timestamp: '2025-01-01T00:00:00.000Z' })
    // Each delta twice (a producer retry), the newer user event before the older one.
    await produceRaw(topic, [...deltas, ...deltas, newer, older].map(json))
    const first = await startConsumer(t, { topic, store, dlqKey })
    await committedInAll(first, topic, 8n)
    await first.close()
    assert.equal((await store.getInventory(sku))?.quantity, 12)
    assert.equal((await store.getUser(uid))?.name, 'Newer')

    // A second group reads the whole topic again: a full redelivery.
    const second = await startConsumer(t, { topic, store, dlqKey, groupId: uniqueName('replay') })
    await committedInAll(second, topic, 8n, 'replayed')
    assert.equal((await store.getInventory(sku))?.quantity, 12)
    assert.equal((await store.getUser(uid))?.name, 'Newer')
  })

  it('updates a row when the same eventId comes again with changed fields (the seed idempotency sample)', async t => {
    const topic = await kafkaTopic(t, 1)
    const store = await sqliteStore(t)
    const { prefix } = redisPrefix(t)
    const uid = uniqueName('user')
    const first = userCreated(uid, { name: 'Test User', email: 'test@example.com' })
    const again = { ...first, data: { ...first.data, name: 'Test User Updated', email: 'test.updated@example.com' } }
    const o = orderPlaced(uniqueName('o'), uid)
    const p = paymentSettled(o.data.orderId, { amount: 99.99 })
    await produceRaw(topic, [json(first), json(o), json(p)])
    const consumer = await startConsumer(t, { topic, store, dlqKey: `${prefix}dlq` })
    await committedInAll(consumer, topic, 3n)
    await produceRaw(topic, [json(again)])
    await committedInAll(consumer, topic, 4n)
    const user = await store.getUser(uid)
    assert.equal(user?.name, 'Test User Updated')
    assert.equal(user?.email, 'test.updated@example.com')
    assert.equal((await store.getPayment(o.data.orderId))?.amount, 99.99)
  })
})
