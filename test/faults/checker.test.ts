// The checker can fail: on a real outcome (records through the real consumer into PostgreSQL and the Redis
// DLQ) it reports all zeros, and each single, deliberate corruption of that outcome shows up as exactly one
// mismatch of its class. The workload needs nothing beyond what every consumer version does: distinct
// timestamps, orders produced once their users are committed, no orphans.
import assert from 'node:assert/strict'
import { it } from 'node:test'
import { Redis } from 'ioredis'
import pg from 'pg'
import { createStore } from '../../src/store/index.ts'
import { startConsumer } from '../consumer/harness.ts'
import { inventoryAdjusted, orderPlaced, paymentSettled, userCreated } from '../helpers/events.ts'
import { committedOffsets, eventually, produceRaw, type RawRecord, type TopicRecord } from '../helpers/kafka.ts'
import { kafkaTopic, postgresDatabase, uniqueName } from '../helpers/resources.ts'
import { redisHostPort } from '../helpers/services.ts'
import { type CheckResult, check, checkOutcome, reportLine } from './checker.ts'
import { sum } from './workload.ts'

const only = (r: CheckResult) => Object.fromEntries(Object.entries(r.counts).filter(([, n]) => n > 0))

it('the checker reports zero on a real outcome, and exactly one mismatch per corruption', async t => {
  const topic = await kafkaTopic(t, 3)
  const databaseUrl = await postgresDatabase(t)
  const store = await createStore({ engine: 'postgres', url: databaseUrl })
  await store.migrate()
  t.after(() => store.close())
  const dlqKey = uniqueName('dlq')
  const redis = new Redis(redisHostPort())
  t.after(async () => {
    await redis.del(dlqKey)
    redis.disconnect()
  })
  const run = uniqueName('chk')
  const base = Date.parse('2025-02-01T00:00:00Z')
  const at = (s: number) => new Date(base + s * 1000).toISOString()
  const users: RawRecord[] = []
  const rest: RawRecord[] = []
  for (let i = 0; i < 20; i++) {
    const userId = `${run}-u-${i}`
    users.push({ key: userId, value: JSON.stringify(userCreated(userId, { name: 'first', timestamp: at(i) })) })
    users.push({ key: userId, value: JSON.stringify(userCreated(userId, { name: 'second', timestamp: at(i + 1) })) })
    const orderId = `${run}-o-${i}`
    rest.push({ key: orderId, value: JSON.stringify(orderPlaced(orderId, userId, { timestamp: at(i) })) })
    rest.push({ key: orderId, value: JSON.stringify(paymentSettled(orderId, { timestamp: at(i) })) })
    const sku = `${run}-s-${i % 4}`
    const delta = inventoryAdjusted(sku, i + 1, { timestamp: at(i) })
    rest.push({ key: sku, value: JSON.stringify(delta) })
    if (i % 5 === 0) rest.push({ key: sku, value: JSON.stringify(delta) })
  }
  rest.push(
    { key: 'p-1', value: '{"truncated' },
    { key: 'p-2', value: '{"eventId":"x","type":"Nope","timestamp":"2025-02-01T00:00:00Z","data":{}}' },
    // Valid, but dated far past its record: EVENT_TIME_SKEW, by the checker's rules and the consumer's.
    { key: 'p-3', value: JSON.stringify(userCreated(`${run}-future`, { timestamp: '9999-12-31T00:00:00.000Z' })) },
  )
  const { groupId } = await startConsumer(t, { topic, store, dlqKey })
  const committed = async () => sum((await committedOffsets(groupId, topic)).values())
  await produceRaw(topic, users)
  await eventually('users committed', async () => (await committed()) === BigInt(users.length), 60_000)
  await produceRaw(topic, rest)
  const total = BigInt(users.length + rest.length)
  await eventually('everything committed', async () => (await committed()) === total, 60_000)

  const produced = { records: [...users, ...rest] }
  const where = { topic, databaseUrl, dlqKey }
  const baseline = await checkOutcome(produced, where)
  console.log(reportLine('checker baseline', 1, 1, baseline))
  assert.deepEqual(only(baseline), {}, JSON.stringify(baseline.examples))
  assert.equal(baseline.stats.invalid, 3)
  assert.equal(baseline.stats.redeliveries, 4)

  const db = new pg.Client({ connectionString: databaseUrl })
  db.on('error', () => {})
  await db.connect()
  t.after(() => db.end())

  // (a) one row of the projection gone: one event lost.
  await db.query('DELETE FROM payments WHERE order_id = $1', [`${run}-o-3`])
  assert.deepEqual(only(await checkOutcome(produced, where)), { lost: 1 })

  // (b) one DLQ entry pushed again: one record dead-lettered twice.
  const first = (await redis.lindex(dlqKey, 0)) as string
  await redis.lpush(dlqKey, first)
  assert.deepEqual(only(await checkOutcome(produced, where)), { lost: 1, dlqTwice: 1 })

  // (c) a user row holding its loser's fields: one order violation.
  const loser = JSON.parse(users[2 * 7]?.value as string) as ReturnType<typeof userCreated>
  await db.query('UPDATE users SET name = $1, email = $2, event_id = $3 WHERE user_id = $4', [
    loser.data.name,
    loser.data.email,
    loser.eventId,
    loser.data.userId,
  ])
  assert.deepEqual(only(await checkOutcome(produced, where)), { lost: 1, dlqTwice: 1, orderViolations: 1 })

  // (d) a DLQ entry for a valid record that was applied: one dead-lettered by mistake.
  const observed = await checkOutcome(produced, where)
  const { rows } = await db.query('SELECT source_partition, source_offset FROM users WHERE user_id = $1', [
    `${run}-u-9`,
  ])
  await redis.lpush(
    dlqKey,
    JSON.stringify({
      topic,
      partition: rows[0].source_partition,
      offset: String(rows[0].source_offset),
      error: { code: 'SCHEMA_VIOLATION', message: 'planted by the test' },
      source: 'consumer',
    }),
  )
  const last = await checkOutcome(produced, where)
  console.log(reportLine('checker corrupted', 1, 1, last))
  assert.deepEqual(only(last), { lost: 1, dlqTwice: 1, orderViolations: 1, mistaken: 1 })
  assert.equal(observed.stats.records, last.stats.records)
})

it('the checker holds expiry and redriven copies to their rules, and can fail on each', () => {
  const topic = 'events'
  const at = (s: number) => new Date(Date.parse('2025-02-01T00:00:00Z') + s * 1000).toISOString()
  const rec = (offset: number, value: unknown, headers: Record<string, string> = {}): TopicRecord => ({
    partition: 0,
    offset: BigInt(offset),
    key: Buffer.from('k'),
    value: Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)),
    headers: new Map(Object.entries(headers)),
    rawHeaders: Object.entries(headers).map(([name, value]) => [Buffer.from(name), Buffer.from(value)]),
    timestamp: BigInt(Date.parse(at(0))),
  })
  const user = userCreated('u', { timestamp: at(1) })
  const older = userCreated('v', { name: 'older', timestamp: at(1) })
  const newer = userCreated('v', { name: 'newer', timestamp: at(1) })
  const order = orderPlaced('o', 'u', { timestamp: at(1) })
  const records = [
    rec(0, user),
    rec(1, order),
    rec(2, older),
    rec(3, newer),
    rec(4, '{"broken'),
    // Copies redriven later: of the broken record, and of the older version of v.
    rec(5, '{"broken', { 'x-redrive-source': `${topic}/0/4` }),
    rec(6, older, { 'x-redrive-source': `${topic}/0/2` }),
  ]
  const row = (e: ReturnType<typeof userCreated>) => ({
    user_id: e.data.userId,
    name: e.data.name,
    email: e.data.email,
    created_at: e.data.createdAt,
    event_id: e.eventId,
  })
  const entry = (offset: number, code: string) => ({
    topic,
    partition: 0,
    offset: String(offset),
    code,
    source: 'consumer',
    raw: `entry ${offset}`,
  })
  const sql = { users: [row(user), row(newer)], orders: [], payments: [], inventory: [], ledger: [], pending: [] }
  // The order expired (its user came after PENDING_MAX_AGE): dead-lettered, not applied. The broken record's
  // entry left the DLQ with its redrive; its copy is dead-lettered again.
  const observed = { topic, records, sql, dlq: [entry(1, 'CONSTRAINT_VIOLATION'), entry(5, 'INVALID_JSON')] }
  const clean = check({ pendingMayExpire: true }, observed)
  assert.deepEqual(only(clean), {}, JSON.stringify(clean.examples))
  assert.equal(clean.stats.ordersExpired, 1)
  assert.equal(clean.stats.copies, 2)

  // Expiry not allowed: the dead-lettered order is a mistake, and its missing row a loss.
  assert.deepEqual(only(check({}, observed)), { lost: 1, mistaken: 1 })
  // Applied and dead-lettered both.
  const both = {
    ...sql,
    orders: [{ order_id: 'o', user_id: 'u', total: 123.45, status: 'placed', event_id: order.eventId }],
  }
  assert.deepEqual(only(check({ pendingMayExpire: true }, { ...observed, sql: both })), { appliedTwice: 1 })
  // The copy of the older version at the row: it sits at its original's position, so it lost.
  const copyWon = { ...sql, users: [row(user), row(older)] }
  assert.deepEqual(only(check({ pendingMayExpire: true }, { ...observed, sql: copyWon })), { orderViolations: 1 })
  // The copy's own entry missing: it was not redriven, so it must be there.
  assert.deepEqual(only(check({ pendingMayExpire: true }, { ...observed, dlq: [entry(1, 'CONSTRAINT_VIOLATION')] })), {
    missingFromDlq: 1,
  })
})
