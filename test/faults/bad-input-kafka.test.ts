// Bad input straight into Kafka, from "any producer": every record is applied or dead-lettered, never dropped,
// the consumer never crashes, and strings (SQL-injection text, emoji, any unicode) are stored literally.
import assert from 'node:assert/strict'
import { it } from 'node:test'
import fc from 'fast-check'
import { Redis } from 'ioredis'
import pg from 'pg'
import { parseRecord } from '../../src/events/index.ts'
import { createStore } from '../../src/store/index.ts'
import { startConsumer } from '../consumer/harness.ts'
import { committedOffsets, eventually, produceRaw } from '../helpers/kafka.ts'
import { kafkaTopic, postgresDatabase, uniqueName } from '../helpers/resources.ts'
import { redisHostPort } from '../helpers/services.ts'
import { hostileBytes, validDelta, validUser } from './arbitraries.ts'
import { full, report, sum } from './workload.ts'

const accepts = (value: Buffer) => {
  try {
    parseRecord(value)
    return true
  } catch {
    return false
  }
}

it('raw hostile records are each applied or dead-lettered, and strings are stored literally', async t => {
  const n = full ? 2000 : 300
  const topic = await kafkaTopic(t, 3)
  const url = await postgresDatabase(t)
  const store = await createStore({ engine: 'postgres', url })
  await store.migrate()
  t.after(() => store.close())
  const seed = Number(process.env['FC_SEED'] ?? Date.now() % 100_000)
  const run = uniqueName('bi')
  // Valid events get ids of this run, so the audit below finds exactly them.
  const users = fc
    .sample(validUser, { numRuns: n / 3, seed })
    .map((e, i) => ({ ...e, data: { ...e.data, userId: `${run}-u-${i}` } }))
  const deltas = fc
    .sample(validDelta, { numRuns: n / 3, seed })
    .map((e, i) => ({ ...e, data: { ...e.data, sku: `${run}-s-${i % 7}` } }))
  const hostile = fc.sample(hostileBytes, { numRuns: n, seed }).map(b => b.buffer)
  const values = [
    ...users.map(e => Buffer.from(JSON.stringify(e))),
    ...deltas.map(e => Buffer.from(JSON.stringify(e))),
    ...hostile,
  ]
  // Interleave, so poison sits in the middle of batches.
  const shuffled = fc.sample(fc.shuffledSubarray(values, { minLength: values.length }), {
    numRuns: 1,
    seed,
  })[0] as Buffer[]
  await produceRaw(
    topic,
    shuffled.map((value, i) => ({ key: `k-${i % 50}`, value })),
  )

  const dlqKey = uniqueName('dlq')
  const { service, groupId } = await startConsumer(t, { topic, store, dlqKey })
  await eventually(
    'every record committed',
    async () => sum((await committedOffsets(groupId, topic)).values()) === BigInt(shuffled.length),
    120_000,
  )
  assert.equal(service.status().degraded, undefined, 'the consumer is healthy')

  const redis = new Redis(redisHostPort())
  t.after(async () => {
    await redis.del(dlqKey)
    redis.disconnect()
  })
  const letters = (await redis.lrange(dlqKey, 0, -1)).map(
    e => JSON.parse(e) as { payload: string; payloadEncoding: string },
  )
  const expectedRejects = shuffled.filter(v => !accepts(v)).length
  const dlqPayloads = letters.map(l => Buffer.from(l.payload ?? '', l.payloadEncoding === 'base64' ? 'base64' : 'utf8'))
  const mistaken = dlqPayloads.filter(p => p.length > 0 && accepts(p)).length

  // Every valid user of the run is stored with its strings exactly as sent (the last event per user wins; ids
  // are unique here, so each user has one event).
  const db = new pg.Client({ connectionString: url })
  db.on('error', () => {})
  await db.connect()
  t.after(() => db.end())
  const rows = new Map(
    (
      (await db.query('SELECT user_id, name, email FROM users WHERE user_id LIKE $1', [`${run}-%`])).rows as {
        user_id: string
        name: string
        email: string
      }[]
    ).map(r => [r.user_id, r]),
  )
  let lost = 0
  for (const u of users) {
    const row = rows.get(u.data.userId)
    if (!row) lost++
    else {
      assert.equal(row.name, u.data.name, 'name stored literally')
      assert.equal(row.email, u.data.email, 'email stored literally')
    }
  }
  const ledger = Number(
    (await db.query('SELECT COUNT(*) AS n FROM inventory_ledger WHERE sku LIKE $1', [`${run}-%`])).rows[0].n,
  )
  lost += deltas.length - ledger
  assert.equal(letters.length, expectedRejects, 'every record the schema refuses is dead-lettered, once')
  console.log(`bad-input-kafka: ${shuffled.length} records (seed ${seed}), ${letters.length} dead-lettered`)
  report('bad-input-kafka', 1, 1, { lost, appliedTwice: 0, outOfOrder: 0 }, mistaken)
})
