// Fault 3: Redis (the DLQ) unreachable while poison records arrive.
import assert from 'node:assert/strict'
import { it } from 'node:test'
import { Redis } from 'ioredis'
import { committedOffsets, eventually, produceRaw } from '../helpers/kafka.ts'
import { startPipeline } from '../helpers/pipeline.ts'
import { tcpProxy } from '../helpers/proxy.ts'
import { kafkaTopic, postgresDatabase, uniqueName } from '../helpers/resources.ts'
import { redisHostPort, testServices } from '../helpers/services.ts'
import { assertClean, checkOutcome } from './checker.ts'
import { full, makeWorkload, sum, waitCommitted } from './workload.ts'

it('fault 3: Redis unreachable while poison arrives: no commit past it, then dead-lettered exactly once', async t => {
  const poison = full ? 50 : 5
  const topic = await kafkaTopic(t, 3)
  const url = await postgresDatabase(t)
  const { host, port } = redisHostPort()
  const proxy = await tcpProxy(t, host, port)
  const workload = makeWorkload(uniqueName('r'), {
    users: 50,
    payments: true,
    deltas: 500,
    conflicts: 3,
    poison,
    partitions: 3,
  })
  const env = {
    KAFKA_TOPIC: topic,
    KAFKA_GROUP_ID: uniqueName('g'),
    DLQ_KEY: uniqueName('dlq'),
    DATABASE_URL: url,
    REDIS_ADDR: `127.0.0.1:${proxy.port}`,
    REDIS_PASSWORD: testServices.redisPassword,
    LOG_LEVEL: 'ERROR',
    PENDING_MAX_AGE: '1h',
  }
  const committed = async () => sum((await committedOffsets(env.KAFKA_GROUP_ID, topic)).values())
  const consumer = await startPipeline(t, 'consumer', env)
  await eventually('consumer ready', async () => (await fetch(`${consumer.urls.consumer}/ready`)).status === 200)

  await proxy.cut()
  await produceRaw(topic, workload.records)
  const total = BigInt(workload.records.length)
  await eventually(
    '/ready reports the DLQ',
    async () => (await fetch(`${consumer.urls.consumer}/ready`)).status === 503,
  )
  await new Promise(resolve => setTimeout(resolve, full ? 10_000 : 2000))
  assert.ok((await committed()) < total, 'offsets stop before the poison records')

  await proxy.restore()
  const { complete } = await waitCommitted(env.KAFKA_GROUP_ID, topic, total, 60_000)
  const redis = new Redis(redisHostPort())
  t.after(async () => {
    await redis.del(env.DLQ_KEY)
    redis.disconnect()
  })
  const result = await checkOutcome({ records: workload.records }, { topic, databaseUrl: url, dlqKey: env.DLQ_KEY })
  assert.ok(result.stats.invalid >= poison, 'the poison records are in the topic')
  assertClean('redis-unreachable', 1, complete ? 1 : 0, result)
})
