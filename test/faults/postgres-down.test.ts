// Fault 2: PostgreSQL refuses connections (its TCP port closed, open connections dropped) for a while.
import assert from 'node:assert/strict'
import { it } from 'node:test'
import { committedOffsets, eventually, produceRaw } from '../helpers/kafka.ts'
import { startPipeline } from '../helpers/pipeline.ts'
import { tcpProxy } from '../helpers/proxy.ts'
import { kafkaTopic, postgresDatabase, uniqueName } from '../helpers/resources.ts'
import { assertClean, checkOutcome } from './checker.ts'
import { consumerEnv, full, makeWorkload, sum, waitCommitted } from './workload.ts'

it('fault 2: PostgreSQL unreachable, then back: the consumer pauses and retries, nothing dead-lettered', async t => {
  const downMs = full ? 20_000 : 3000
  const topic = await kafkaTopic(t, 3)
  const url = new URL(await postgresDatabase(t))
  const proxy = await tcpProxy(t, url.hostname, Number(url.port || 5432))
  const viaProxy = new URL(url)
  viaProxy.port = String(proxy.port)
  const shape = { users: 100, payments: true, deltas: 1000, orphans: 2, partitions: 3 }
  const before = makeWorkload(uniqueName('a'), shape)
  const during = makeWorkload(uniqueName('b'), shape)
  const env = consumerEnv(topic, viaProxy.toString(), {
    LOG_LEVEL: 'ERROR',
    // /ready shows which check fails only to the admin.
    ADMIN_TOKEN: 'fault-test-admin-token',
  })
  const committed = async () => sum((await committedOffsets(env.KAFKA_GROUP_ID, topic)).values())
  await produceRaw(topic, before.records)
  const consumer = await startPipeline(t, 'consumer', env)
  await eventually('first half committed', async () => (await committed()) === BigInt(before.records.length), 60_000)

  await proxy.cut()
  await produceRaw(topic, during.records)
  await eventually('/ready reports the database', async () => {
    const r = await fetch(`${consumer.urls.consumer}/ready`, {
      headers: { authorization: `Bearer ${env.ADMIN_TOKEN}` },
    })
    const body = (await r.json()) as { checks: Record<string, { ok: boolean }> }
    return r.status === 503 && body.checks['database']?.ok === false
  })
  await new Promise(resolve => setTimeout(resolve, downMs))
  assert.equal(await committed(), BigInt(before.records.length), 'no offset committed while nothing could be stored')
  await proxy.restore()

  const total = BigInt(before.records.length + during.records.length)
  const { complete } = await waitCommitted(env.KAFKA_GROUP_ID, topic, total, 60_000)
  const ready = complete && (await fetch(`${consumer.urls.consumer}/ready`)).status === 200
  const result = await checkOutcome(
    { records: [...before.records, ...during.records] },
    { topic, databaseUrl: url.toString(), dlqKey: env.DLQ_KEY },
  )
  // Survived: everything produced while the database was away was committed afterwards and /ready is 200 again.
  assertClean('postgres-down', 1, ready ? 1 : 0, result)
})
