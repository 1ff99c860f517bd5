// Bad input straight into Kafka, from "any producer": every record is applied or dead-lettered, never dropped,
// the consumer never crashes, and strings (SQL-injection text, emoji, any unicode) are stored literally.
import assert from 'node:assert/strict'
import { it } from 'node:test'
import fc from 'fast-check'
import { createStore } from '../../src/store/index.ts'
import { startConsumer } from '../consumer/harness.ts'
import { produceRaw } from '../helpers/kafka.ts'
import { kafkaTopic, postgresDatabase, uniqueName } from '../helpers/resources.ts'
import { hostileBytes, validDelta, validUser } from './arbitraries.ts'
import { assertClean, checkOutcome } from './checker.ts'
import { full, waitCommitted } from './workload.ts'

it('raw hostile records are each applied or dead-lettered, and strings are stored literally', async t => {
  const n = full ? 2000 : 300
  const topic = await kafkaTopic(t, 3)
  const url = await postgresDatabase(t)
  const store = await createStore({ engine: 'postgres', url })
  await store.migrate()
  t.after(() => store.close())
  const seed = Number(process.env['FC_SEED'] ?? Date.now() % 100_000)
  const run = uniqueName('bi')
  // Valid events get ids of this run, so no other run's rows can meet them.
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
  const { complete } = await waitCommitted(groupId, topic, BigInt(shuffled.length), 120_000)
  assert.equal(service.status().degraded, undefined, 'the consumer is healthy')
  // The checker decides validity with its own rules (rules.ts) and compares names and emails byte for byte.
  const records = shuffled.map((value, i) => ({ key: `k-${i % 50}`, value }))
  const result = await checkOutcome({ records }, { topic, databaseUrl: url, dlqKey })
  console.log(
    `bad-input-kafka: ${shuffled.length} records (seed ${seed}), ${result.stats.invalid} invalid by the checker's rules`,
  )
  assertClean('bad-input-kafka', 1, complete ? 1 : 0, result)
})
