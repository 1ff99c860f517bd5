// PostgreSQL goes silent (connections stay open, nothing answers) while the consumer is applying a batch, and
// the consumer gets SIGTERM: it must exit cleanly within 10 s, with the default DB_TIMEOUT_MS, and commit no
// offset past a record that is not in SQL.
import assert from 'node:assert/strict'
import { it } from 'node:test'
import { committedOffsets, eventually, produceRaw } from '../helpers/kafka.ts'
import { startPipeline } from '../helpers/pipeline.ts'
import { tcpProxy } from '../helpers/proxy.ts'
import { kafkaTopic, postgresDatabase, uniqueName } from '../helpers/resources.ts'
import { audit, makeWorkload, sum } from './workload.ts'

it('SIGTERM while PostgreSQL is black-holed: exit 0 within 10 s, no offset committed past unstored records', async t => {
  const topic = await kafkaTopic(t, 3)
  const url = new URL(await postgresDatabase(t))
  const proxy = await tcpProxy(t, url.hostname, Number(url.port || 5432))
  const viaProxy = new URL(url)
  viaProxy.port = String(proxy.port)
  const before = makeWorkload(uniqueName('a'), 100, 300)
  const during = makeWorkload(uniqueName('b'), 100, 300)
  const env = {
    KAFKA_TOPIC: topic,
    KAFKA_GROUP_ID: uniqueName('g'),
    DLQ_KEY: uniqueName('dlq'),
    DATABASE_URL: viaProxy.toString(),
    LOG_LEVEL: 'ERROR',
  }
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
  const a = await audit(url.toString(), before)
  assert.equal(a.lost + a.appliedTwice, 0, 'the first half is stored, once')
  const b = await audit(url.toString(), during)
  assert.equal(b.lost, during.users + during.deltas, 'nothing of the second half is stored')
})
