// PostgreSQL goes silent (connections stay open, nothing answers) while the consumer is applying a batch, and
// the consumer gets SIGTERM: it must exit cleanly within 10 s, with the default DB_TIMEOUT_MS, and commit no
// offset past a record that is not in SQL. Restarted against a PostgreSQL that answers, it finishes the topic and
// the checker finds the projection exact.
import assert from 'node:assert/strict'
import { it } from 'node:test'
import { committedOffsets, eventually, produceRaw } from '../helpers/kafka.ts'
import { startPipeline } from '../helpers/pipeline.ts'
import { tcpProxy } from '../helpers/proxy.ts'
import { kafkaTopic, postgresDatabase, uniqueName } from '../helpers/resources.ts'
import { assertClean, checkOutcome } from './checker.ts'
import { consumerEnv, makeWorkload, sum, waitCommitted } from './workload.ts'

it('SIGTERM while PostgreSQL is black-holed: exit 0 within 10 s, no offset committed past unstored records', async t => {
  const topic = await kafkaTopic(t, 3)
  const databaseUrl = await postgresDatabase(t)
  const url = new URL(databaseUrl)
  const proxy = await tcpProxy(t, url.hostname, Number(url.port || 5432))
  const viaProxy = new URL(url)
  viaProxy.port = String(proxy.port)
  const before = makeWorkload(uniqueName('a'), { users: 100, deltas: 300, partitions: 3 })
  const during = makeWorkload(uniqueName('b'), { users: 100, deltas: 300, partitions: 3 })
  const env = consumerEnv(topic, viaProxy.toString(), { LOG_LEVEL: 'ERROR' })
  const committed = async () => sum((await committedOffsets(env.KAFKA_GROUP_ID, topic)).values())
  await produceRaw(topic, before.records)
  const consumer = await startPipeline(t, 'consumer', env)
  await eventually('first half committed', async () => (await committed()) === BigInt(before.records.length), 60_000)

  proxy.blackhole()
  await produceRaw(topic, during.records)
  // The consumer has taken the new records and sent its transaction into the silence.
  await eventually('the consumer writing to the silent server', () => proxy.swallowed > 0, 20_000)
  await new Promise(resolve => setTimeout(resolve, 500))

  const { code, ms } = await consumer.stop('SIGTERM')
  t.diagnostic(`exit ${code} after ${ms} ms`)
  assert.equal(code, 0, `exit code ${code}; stderr: ${consumer.stderr.join('')}`)
  assert.ok(ms < 10_000, `exit took ${ms} ms`)
  assert.equal(await committed(), BigInt(before.records.length), 'no offset committed past the unstored records')

  await proxy.restore()
  await startPipeline(t, 'consumer', env)
  const total = BigInt(before.records.length + during.records.length)
  const { complete } = await waitCommitted(env.KAFKA_GROUP_ID, topic, total, 60_000)
  const result = await checkOutcome(
    { records: [...before.records, ...during.records] },
    { topic, databaseUrl, dlqKey: env.DLQ_KEY },
  )
  assertClean('db-blackhole', 1, complete ? 1 : 0, result)
})
