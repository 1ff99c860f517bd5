// Draining a backlog: partitions are applied in produce-time order, so a child whose parent was produced earlier
// on another partition finds it stored, however far apart the two sit in their partitions, and nothing waits as a
// pending event at the end.
import assert from 'node:assert/strict'
import { it } from 'node:test'
import { createStore } from '../../src/store/index.ts'
import { inventoryAdjusted, keyOfTest, orderPlaced, type TestEvent, userCreated } from '../helpers/events.ts'
import { committedOffsets, eventually, produceRaw } from '../helpers/kafka.ts'
import { kafkaTopic, redisPrefix, sqliteFile, uniqueName } from '../helpers/resources.ts'
import { startConsumer } from './harness.ts'

it('drains a backlog whose orders (partition 0) follow their users (partition 1) without dead-lettering', async t => {
  const topic = await kafkaTopic(t, 2)
  const store = await createStore({ engine: 'sqlite', path: sqliteFile(t) })
  await store.migrate()
  t.after(() => store.close())
  const { redis, prefix } = redisPrefix(t)
  const dlqKey = `${prefix}dlq:events`
  const at = (e: TestEvent, partition: number) => ({ key: keyOfTest(e), value: JSON.stringify(e), partition })

  // First, in the past: a run of inventory deltas on partition 0 and the users on partition 1. Then, later: an
  // order for each user and another long run of deltas, all on partition 0. Read partition by partition, the
  // orders would reach the store long before their users.
  const sku = uniqueName('sku')
  const users = Array.from({ length: 200 }, () => userCreated(uniqueName('u')))
  const deltas = Array.from({ length: 3000 }, () => inventoryAdjusted(sku, 1))
  await produceRaw(topic, [...deltas.map(d => at(d, 0)), ...users.map(u => at(u, 1))])
  await new Promise(resolve => setTimeout(resolve, 20))
  const orders = users.map(u => orderPlaced(uniqueName('o'), u.data.userId))
  const later = Array.from({ length: 8000 }, () => inventoryAdjusted(sku, 1))
  await produceRaw(topic, [...orders.map(o => at(o, 0)), ...later.map(d => at(d, 0))])

  const total = BigInt(deltas.length + users.length + orders.length + later.length)
  const { groupId } = await startConsumer(t, { topic, store, dlqKey, batchMax: 100 })
  await eventually(
    'every record committed',
    async () => [...(await committedOffsets(groupId, topic)).values()].reduce((a, b) => a + b, 0n) === total,
    60_000,
  )
  assert.equal(await redis.llen(dlqKey), 0, 'nothing dead-lettered')
  for (const o of orders) assert.ok(await store.getOrder(o.data.orderId), `order ${o.data.orderId} stored`)
  assert.equal((await store.getInventory(sku))?.quantity, deltas.length + later.length)
  assert.equal((await store.pendingStats()).count, 0)
})
