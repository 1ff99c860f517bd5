// Bad input straight into Kafka, from "any producer": every record is applied or dead-lettered, never dropped,
// the consumer never crashes, strings (SQL-injection text, emoji, any unicode) are stored literally, and hostile
// headers (x-redrive-source of every kind) change a record's place in the log exactly as the contract says.
import assert from 'node:assert/strict'
import { it } from 'node:test'
import fc from 'fast-check'
import { createStore } from '../../src/store/index.ts'
import { startConsumer } from '../consumer/harness.ts'
import { produceRaw } from '../helpers/kafka.ts'
import { kafkaTopic, postgresDatabase, uniqueName } from '../helpers/resources.ts'
import { hostileBytes, hostileHeaders, redrive, validDelta, validUser } from './arbitraries.ts'
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
  // Valid events get ids of this run, so no other run's rows can meet them. Users compete: about ten records per
  // userId, half of them at one of three instants, so equal timestamps (decided by place in the log) are common.
  const instants = ['2025-03-01T00:00:00.000Z', '2025-03-01T00:00:01.000Z', '2025-03-01T00:00:02.000Z']
  const userIds = Math.ceil(n / 30)
  const users = fc.sample(validUser, { numRuns: n / 3, seed }).map((e, i) => ({
    ...e,
    timestamp: i % 2 === 0 ? (instants[i % 3] as string) : e.timestamp,
    data: { ...e.data, userId: `${run}-u-${i % userIds}` },
  }))
  // Deltas: every sixth repeats the one before it (a redelivery) and every sixth after that re-uses its eventId
  // with its own content (a conflict), so which record of an eventId is first in the log decides.
  const sampled = fc.sample(validDelta, { numRuns: n / 3, seed })
  const deltas = sampled.map((e, i) => {
    const delta = { ...e, data: { ...e.data, sku: `${run}-s-${i % 7}` } }
    if (i % 6 === 4) return { ...delta, eventId: (sampled[i - 1] as typeof e).eventId }
    return delta
  })
  for (let i = 5; i < deltas.length; i += 6) deltas[i] = { ...(deltas[i - 1] as (typeof deltas)[number]) }
  const total = users.length + deltas.length + n
  const hostile = fc.sample(hostileHeaders(topic, 3, total), { numRuns: total, seed })
  // A user's records share a partition, and every other round of them names a record of that partition, before or
  // after them, as the one they copy: that place, not their own offset, must decide between equal timestamps.
  const userRecords = users.map((e, i) => {
    const partition = (i % userIds) % 3
    const copy = [redrive(`${topic}/${partition}/${(i * 7919) % Math.ceil(total / 6)}`)]
    return {
      key: e.data.userId,
      partition,
      value: Buffer.from(JSON.stringify(e)),
      rawHeaders: Math.floor(i / userIds) % 2 === 1 ? copy : undefined,
    }
  })
  const keyed = [
    ...userRecords,
    ...deltas.map(e => ({ key: e.data.sku, value: Buffer.from(JSON.stringify(e)), rawHeaders: undefined })),
    ...fc
      .sample(hostileBytes, { numRuns: n, seed })
      .map((b, i) => ({ key: `k-${i % 50}`, value: b.buffer, rawHeaders: undefined })),
  ]
  // Interleave, so poison sits in the middle of batches, and give every other record headers "any producer" might
  // send.
  const shuffled = fc.sample(fc.shuffledSubarray(keyed, { minLength: keyed.length }), { numRuns: 1, seed })[0] ?? []
  const records = shuffled.map((r, i) => ({ ...r, rawHeaders: r.rawHeaders ?? hostile[i] ?? [] }))
  await produceRaw(topic, records)

  const dlqKey = uniqueName('dlq')
  const { service, groupId } = await startConsumer(t, { topic, store, dlqKey })
  const { complete } = await waitCommitted(groupId, topic, BigInt(records.length), 120_000)
  assert.equal(service.status().degraded, undefined, 'the consumer is healthy')
  // The checker decides validity and places with its own rules (rules.ts, originOf) and compares names and emails
  // byte for byte. Nothing was redriven, so every dead letter a header names must still be in the DLQ.
  const result = await checkOutcome({ records, noRedrive: true }, { topic, databaseUrl: url, dlqKey })
  const { invalid, copies, equalTimestampKeys, redeliveries, conflicts } = result.stats
  console.log(
    `bad-input-kafka: ${records.length} records (seed ${seed}), ${invalid} invalid by the checker's rules, ` +
      `${copies} placed by their x-redrive-source header, ${equalTimestampKeys} keys with equal timestamps, ` +
      `${redeliveries} repeated and ${conflicts} conflicting deltas`,
  )
  assert.ok(copies > 0 && equalTimestampKeys > 0 && conflicts > 0, 'the workload exercises places and eventIds')
  assertClean('bad-input-kafka', 1, complete ? 1 : 0, result)
})
