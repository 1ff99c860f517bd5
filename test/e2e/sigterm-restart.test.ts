// SIGTERM while the consumer is busy: it drains (batch in hand → SQL → commit), leaves the group and exits
// within 10 s; a restarted consumer finishes the rest. Nothing lost, no delta applied twice.
import assert from 'node:assert/strict'
import { it } from 'node:test'
import { Redis } from 'ioredis'
import pg from 'pg'
import { inventoryAdjusted, userCreated } from '../helpers/events.ts'
import { committedOffsets, eventually, produceRaw } from '../helpers/kafka.ts'
import { startPipeline } from '../helpers/pipeline.ts'
import { kafkaTopic, postgresDatabase, uniqueName } from '../helpers/resources.ts'
import { redisHostPort, testServices } from '../helpers/services.ts'

const USERS = 1000
const DELTAS = 3000
const SKUS = 20

it('drains on SIGTERM under load, and a restart applies the rest exactly once', async t => {
  const topic = await kafkaTopic(t, 3)
  const url = await postgresDatabase(t)
  const dlqKey = uniqueName('dlq')
  const groupId = uniqueName('group')
  const run = uniqueName('r')

  const expected = new Map<string, number>()
  const records = []
  for (let i = 0; i < USERS; i++) {
    const e = userCreated(`${run}-user-${i}`)
    records.push({ key: e.data.userId, value: JSON.stringify(e) })
  }
  for (let i = 0; i < DELTAS; i++) {
    const sku = `${run}-sku-${i % SKUS}`
    const delta = (i % 7) - 2
    expected.set(sku, (expected.get(sku) ?? 0) + delta)
    const e = inventoryAdjusted(sku, delta)
    records.push({ key: sku, value: JSON.stringify(e) })
  }
  await produceRaw(topic, records)

  const env = {
    KAFKA_TOPIC: topic,
    KAFKA_GROUP_ID: groupId,
    DLQ_KEY: dlqKey,
    DATABASE_URL: url,
    LOG_LEVEL: 'WARN',
    CONSUMER_BATCH_MAX: '100',
  }
  const db = new pg.Client({ connectionString: url })
  const count = async (sql: string) => {
    try {
      return Number((await db.query(sql)).rows[0].n)
    } catch {
      return 0 // the consumer has not created the tables yet
    }
  }
  // The database is dropped with FORCE after the test, which ends this connection from the server side.
  db.on('error', () => {})
  await db.connect()
  t.after(() => db.end())

  const first = await startPipeline(t, 'consumer', env)
  await eventually('some events applied', async () => (await count('SELECT COUNT(*) AS n FROM inventory_ledger')) > 0)
  const { code, ms } = await first.stop('SIGTERM')
  assert.equal(code, 0, `clean exit (stderr: ${first.stderr.join('')})`)
  assert.ok(ms < 10_000, `exited within 10 s (took ${ms} ms)`)
  const committedAtStop = [...(await committedOffsets(groupId, topic)).values()].reduce((a, b) => a + b, 0n)
  assert.ok(committedAtStop > 0n, 'the drained batches were committed')
  assert.ok(
    committedAtStop < BigInt(USERS + DELTAS),
    `stopped in the middle of the load (${committedAtStop} committed)`,
  )

  await startPipeline(t, 'consumer', env)
  await eventually(
    'everything committed',
    async () =>
      [...(await committedOffsets(groupId, topic)).values()].reduce((a, b) => a + b, 0n) === BigInt(USERS + DELTAS),
    60_000,
  )
  assert.equal(await count(`SELECT COUNT(*) AS n FROM users WHERE user_id LIKE '${run}-%'`), USERS)
  assert.equal(await count('SELECT COUNT(*) AS n FROM inventory_ledger'), DELTAS)
  const rows = (await db.query('SELECT sku, quantity FROM inventory')).rows as { sku: string; quantity: number }[]
  assert.equal(rows.length, SKUS)
  for (const row of rows) assert.equal(Number(row.quantity), expected.get(row.sku), `quantity of ${row.sku}`)

  const redis = new Redis({ ...redisHostPort(), password: testServices.redisPassword || undefined })
  t.after(() => redis.disconnect())
  assert.equal(await redis.llen(dlqKey), 0, 'nothing dead-lettered')
})
