// The seed README's acceptance checklist, item by item, against `pipeline all` as a real process on the real
// broker, Redis and each SQL engine, with the seed's own sample requests.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { Consumer } from '@platformatic/kafka'
import { Redis } from 'ioredis'
import pg from 'pg'
import { committedOffsets, eventually } from '../helpers/kafka.ts'
import { startPipeline } from '../helpers/pipeline.ts'
import { type Cleanup, kafkaTopic, postgresDatabase, sqliteFile, uniqueName } from '../helpers/resources.ts'
import { redisHostPort, testServices } from '../helpers/services.ts'

const post = (url: string, body: unknown) =>
  fetch(`${url}/produce`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })

const getJson = async (url: string) => {
  const response = await fetch(url)
  // biome-ignore lint/suspicious/noExplicitAny: a test reads JSON bodies by path and asserts on the values
  return { status: response.status, body: (await response.json()) as Record<string, any> }
}

const metric = async (url: string, name: string) => {
  const text = await (await fetch(`${url}/metrics`)).text()
  return text.split('\n').filter(line => line.startsWith(name))
}

function samples(suffix: string) {
  const user = `user-123-${suffix}`
  const order = `order-456-${suffix}`
  const sku = `sku-789-${suffix}`
  const id = (n: number) => `550e8400-e29b-41d4-a716-${suffix}-${n}`
  return {
    user,
    order,
    sku,
    userCreated: {
      eventId: id(1),
      type: 'UserCreated',
      timestamp: '2025-01-11T12:00:00Z',
      data: { userId: user, name: 'Alice Example', email: 'alice@example.com', createdAt: '2025-01-11T12:00:00Z' },
    },
    orderPlaced: (n: number, orderId: string, total: number, minute: number) => ({
      eventId: id(10 + n),
      type: 'OrderPlaced',
      timestamp: `2025-01-11T12:0${minute}:00Z`,
      data: { orderId, userId: user, total, createdAt: `2025-01-11T12:0${minute}:00Z` },
    }),
    paymentSettled: {
      eventId: id(3),
      type: 'PaymentSettled',
      timestamp: '2025-01-11T12:02:00Z',
      data: { orderId: order, status: 'settled', amount: 123.45, settledAt: '2025-01-11T12:02:00Z' },
    },
    inventoryAdjusted: {
      eventId: id(4),
      type: 'InventoryAdjusted',
      timestamp: '2025-01-11T12:03:00Z',
      data: { sku, delta: -2, reason: 'order', adjustedAt: '2025-01-11T12:03:00Z' },
    },
    missingData: { eventId: id(5), type: 'UserCreated', timestamp: '2025-01-11T12:04:00Z' },
    invalidType: {
      eventId: id(6),
      type: 'InvalidEvent',
      timestamp: '2025-01-11T12:05:00Z',
      data: { someField: 'someValue' },
    },
    orphanOrder: {
      eventId: id(7),
      type: 'OrderPlaced',
      timestamp: '2025-01-11T12:06:00Z',
      data: {
        orderId: `order-999-${suffix}`,
        userId: `non-existent-user-${suffix}`,
        total: 99.99,
        createdAt: '2025-01-11T12:06:00Z',
      },
    },
    sameUser: (name: string, email: string) => ({
      eventId: id(8),
      type: 'UserCreated',
      timestamp: '2025-01-11T12:07:00Z',
      data: { userId: `user-999-${suffix}`, name, email, createdAt: '2025-01-11T12:07:00Z' },
    }),
  }
}

async function runChecklist(
  t: Cleanup,
  database: { DATABASE_URL: string },
  countUsers: (id: string) => Promise<number>,
) {
  const topic = await kafkaTopic(t)
  const dlqKey = uniqueName('dlq')
  const groupId = uniqueName('group')
  const redis = new Redis({ ...redisHostPort(), password: testServices.redisPassword || undefined })
  t.after(async () => {
    await redis.del(dlqKey)
    redis.disconnect()
  })
  const p = await startPipeline(t, 'all', {
    KAFKA_TOPIC: topic,
    KAFKA_GROUP_ID: groupId,
    DLQ_KEY: dlqKey,
    // Short, so the seed's check "an order for a non-existent user is in the DLQ" holds within the test.
    PENDING_MAX_AGE: '1s',
    ...database,
  })
  const s = samples(Math.random().toString(16).slice(2, 10))
  const { producer, consumer, api } = p.urls

  // Happy path: UserCreated → Kafka (acknowledged with its offset) → SQL → GET /users/{id}
  const produced = await post(producer, s.userCreated)
  assert.equal(produced.status, 200)
  const ack = (await produced.json()) as { eventId: string; topic: string; partition: number; offset: string }
  assert.equal(ack.eventId, s.userCreated.eventId)
  assert.equal(ack.topic, topic)
  assert.equal(typeof ack.partition, 'number')
  await eventually('user readable', async () => (await getJson(`${api}/users/${s.user}`)).status === 200)
  const userView = await getJson(`${api}/users/${s.user}`)
  assert.equal(userView.body.user.name, 'Alice Example')
  assert.equal(userView.body.user.email, 'alice@example.com')

  // OrderPlaced → order; PaymentSettled → the order shows its payment; InventoryAdjusted → inventory row
  assert.equal((await post(producer, s.orderPlaced(1, s.order, 123.45, 1))).status, 200)
  await eventually('order readable', async () => (await getJson(`${api}/orders/${s.order}`)).status === 200)
  let orderView = await getJson(`${api}/orders/${s.order}`)
  assert.equal(orderView.body.order.total, 123.45)
  assert.equal(orderView.body.payment, null)
  assert.equal((await post(producer, s.paymentSettled)).status, 200)
  await eventually('payment visible', async () => (await getJson(`${api}/orders/${s.order}`)).body.payment !== null)
  orderView = await getJson(`${api}/orders/${s.order}`)
  assert.equal(orderView.body.payment.status, 'settled')
  assert.equal(orderView.body.payment.amount, 123.45)
  assert.equal((await post(producer, s.inventoryAdjusted)).status, 200)
  await eventually('inventory readable', async () => (await getJson(`${api}/inventory/${s.sku}`)).status === 200)
  assert.equal((await getJson(`${api}/inventory/${s.sku}`)).body.quantity, -2)

  // Two more orders (one in a batch request): GET /users shows the newest first.
  const batch = await post(producer, [
    s.orderPlaced(2, `${s.order}-b`, 67.89, 8),
    s.orderPlaced(3, `${s.order}-c`, 234.56, 9),
  ])
  assert.equal(batch.status, 200)
  await eventually(
    'three orders',
    async () => (await getJson(`${api}/users/${s.user}`)).body.recentOrders?.length === 3,
  )
  const recent = (await getJson(`${api}/users/${s.user}`)).body.recentOrders as { orderId: string }[]
  assert.deepEqual(
    recent.map(o => o.orderId),
    [`${s.order}-c`, `${s.order}-b`, s.order],
  )

  // Idempotency: the same eventId twice with changed fields → updated, not duplicated.
  assert.equal((await post(producer, s.sameUser('Test User', 'test@example.com'))).status, 200)
  assert.equal((await post(producer, s.sameUser('Test User Updated', 'test.updated@example.com'))).status, 200)
  const sameUserId = s.sameUser('', '').data.userId
  await eventually(
    'user updated',
    async () => (await getJson(`${api}/users/${sameUserId}`)).body.user?.name === 'Test User Updated',
  )
  assert.equal((await getJson(`${api}/users/${sameUserId}`)).body.user.email, 'test.updated@example.com')
  assert.equal(await countUsers(sameUserId), 1)

  // DLQ: a malformed event and an unknown type are refused with 400 and recorded with payload and error;
  // an order for a user that does not exist goes through Kafka and is dead-lettered by the consumer.
  const missing = await post(producer, s.missingData)
  assert.equal(missing.status, 400)
  assert.match(JSON.stringify(await missing.json()), /\/data/)
  assert.equal((await post(producer, s.invalidType)).status, 400)
  assert.equal((await post(producer, s.orphanOrder)).status, 200)
  await eventually('3 DLQ entries', async () => (await redis.llen(dlqKey)) === 3)
  const entries = (await redis.lrange(dlqKey, 0, -1)).map(e => JSON.parse(e))
  const byId = new Map(entries.map(e => [e.eventId, e]))
  const missingEntry = byId.get(s.missingData.eventId)
  assert.deepEqual(JSON.parse(missingEntry.payload), s.missingData)
  assert.equal(missingEntry.error.code, 'SCHEMA_VIOLATION')
  assert.equal(byId.get(s.invalidType.eventId).error.code, 'UNKNOWN_TYPE')
  const orphan = byId.get(s.orphanOrder.eventId)
  assert.equal(orphan.error.code, 'CONSTRAINT_VIOLATION')
  assert.match(orphan.error.message, /FK_Orders_Users/i)
  assert.equal(orphan.topic, topic)
  // The payload is the record as the consumer received it: the producer publishes the validated event with
  // its timestamps normalised to ISO-8601 UTC with milliseconds.
  const orphanPayload = JSON.parse(orphan.payload)
  assert.equal(orphanPayload.eventId, s.orphanOrder.eventId)
  assert.deepEqual({ ...orphanPayload.data, createdAt: undefined }, { ...s.orphanOrder.data, createdAt: undefined })
  assert.equal((await getJson(`${api}/orders/${s.orphanOrder.data.orderId}`)).status, 404)
  assert.equal((await getJson(`${api}/users/non-existent-user`)).status, 404)
  assert.equal((await getJson(`${api}/orders/non-existent-order`)).status, 404)

  // Offsets: everything consumed is committed (stored or dead-lettered): 9 records went to Kafka.
  await eventually('all 9 records committed', async () => {
    let sum = 0n
    for (const v of (await committedOffsets(groupId, topic)).values()) sum += v
    return sum === 9n
  })

  // Metrics on each role, with the seed's names.
  assert.ok((await metric(producer, 'events_produced_total{')).some(l => l.includes('type="UserCreated"')))
  assert.ok((await metric(consumer, 'messages_processed_total{')).some(l => l.includes('type="OrderPlaced"')))
  assert.ok((await metric(consumer, 'dlq_count_total')).length > 0)
  assert.ok((await metric(consumer, 'db_latency_seconds_bucket')).length > 0)
  assert.ok((await metric(api, 'http_requests_total{')).some(l => l.includes('route="/users/:id"')))
  assert.ok((await metric(api, 'http_latency_seconds_bucket')).length > 0)
  // Lag per partition is sampled every few seconds.
  await eventually('consumer_lag per partition', async () => (await metric(consumer, 'consumer_lag{')).length === 3)

  // Logs: structured lines about events carry eventId, type, key, topic, partition, offset; success lines
  // carry latency; error lines carry the error.
  const applied = p.logs.find(l => l['msg'] === 'event applied' && l['eventId'] === s.userCreated.eventId)
  assert.ok(applied, 'an "event applied" line for the first user')
  for (const field of ['eventId', 'type', 'key', 'topic', 'partition', 'offset', 'latencyMs']) {
    assert.ok(field in applied, `applied line has ${field}`)
  }
  const dead = p.logs.find(l => l['msg'] === 'event dead-lettered' && l['eventId'] === s.orphanOrder.eventId)
  assert.ok(dead, 'a dead-letter line for the orphan order')
  assert.match(JSON.stringify(dead['err']), /FK_Orders_Users/i)
  assert.equal(dead['level'], 'error')

  const { code, ms } = await p.stop()
  assert.equal(code, 0, `clean exit (stderr: ${p.stderr.join('')})`)
  assert.ok(ms < 10_000, `exited in ${ms} ms`)
  // The record acknowledged first is really in Kafka, at the offset the producer reported.
  const check = new Consumer({
    clientId: 'e2e-check',
    groupId: uniqueName('check'),
    bootstrapBrokers: [...testServices.kafkaBrokers],
  })
  t.after(() => check.close(true))
  const stream = await check.consume({ topics: [topic], mode: 'earliest', autocommit: false, maxWaitTime: 200 })
  for await (const message of stream) {
    if (message.partition === ack.partition && String(message.offset) === String(ack.offset)) {
      assert.equal(message.key.toString(), s.user)
      assert.equal(JSON.parse(message.value.toString()).eventId, s.userCreated.eventId)
      break
    }
  }
  await stream.close()
}

describe('the seed acceptance checklist, end to end', () => {
  it('on SQLite', async t => {
    const path = sqliteFile(t)
    const { DatabaseSync } = await import('node:sqlite')
    await runChecklist(t, { DATABASE_URL: `sqlite:${path}` }, async id => {
      const db = new DatabaseSync(path, { readOnly: true })
      try {
        return Number((db.prepare('SELECT COUNT(*) AS n FROM users WHERE user_id = ?').get(id) as { n: number }).n)
      } finally {
        db.close()
      }
    })
  })

  it('on PostgreSQL', async t => {
    const url = await postgresDatabase(t)
    await runChecklist(t, { DATABASE_URL: url }, async id => {
      const client = new pg.Client({ connectionString: url })
      await client.connect()
      try {
        return Number((await client.query('SELECT COUNT(*) AS n FROM users WHERE user_id = $1', [id])).rows[0].n)
      } finally {
        await client.end()
      }
    })
  })
})
