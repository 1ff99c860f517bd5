// Fault 3: Redis (the DLQ) unreachable while poison records arrive.
import assert from 'node:assert/strict'
import { it } from 'node:test'
import { Redis } from 'ioredis'
import { committedOffsets, eventually, produceRaw } from '../helpers/kafka.ts'
import { startPipeline } from '../helpers/pipeline.ts'
import { tcpProxy } from '../helpers/proxy.ts'
import { kafkaTopic, postgresDatabase, uniqueName } from '../helpers/resources.ts'
import { redisHostPort, testServices } from '../helpers/services.ts'
import { audit, full, makeWorkload, report, sum } from './workload.ts'

it('fault 3: Redis unreachable while poison arrives: no commit past it, then dead-lettered exactly once', async t => {
  const poison = full ? 50 : 5
  const topic = await kafkaTopic(t, 3)
  const url = await postgresDatabase(t)
  const { host, port } = redisHostPort()
  const proxy = await tcpProxy(t, host, port)
  const workload = makeWorkload(uniqueName('r'), 100, 500)
  const env = {
    KAFKA_TOPIC: topic,
    KAFKA_GROUP_ID: uniqueName('g'),
    DLQ_KEY: uniqueName('dlq'),
    DATABASE_URL: url,
    REDIS_ADDR: `127.0.0.1:${proxy.port}`,
    REDIS_PASSWORD: testServices.redisPassword,
    LOG_LEVEL: 'ERROR',
  }
  const committed = async () => sum((await committedOffsets(env.KAFKA_GROUP_ID, topic)).values())
  const consumer = await startPipeline(t, 'consumer', env)
  await eventually('consumer ready', async () => (await fetch(`${consumer.urls.consumer}/ready`)).status === 200)

  await proxy.cut()
  const records = [...workload.records]
  for (let i = 0; i < poison; i++) {
    records.splice(Math.floor((i * records.length) / poison), 0, {
      key: `poison-${i}`,
      value: `{"not":"an event" ${i}`,
    })
  }
  await produceRaw(topic, records)
  const total = BigInt(records.length)
  await eventually(
    '/ready reports the DLQ',
    async () => (await fetch(`${consumer.urls.consumer}/ready`)).status === 503,
  )
  await new Promise(resolve => setTimeout(resolve, full ? 10_000 : 2000))
  assert.ok((await committed()) < total, 'offsets stop before the poison records')

  await proxy.restore()
  await eventually('everything committed once Redis is back', async () => (await committed()) === total, 60_000)
  const redis = new Redis(redisHostPort())
  t.after(async () => {
    await redis.del(env.DLQ_KEY)
    redis.disconnect()
  })
  const entries = (await redis.lrange(env.DLQ_KEY, 0, -1)).map(e => JSON.parse(e) as { key: string })
  assert.equal(new Set(entries.map(e => e.key)).size, entries.length, 'no record dead-lettered twice')
  assert.equal(entries.filter(e => e.key.startsWith('poison-')).length, poison, 'every poison record dead-lettered')
  report('redis-down', 1, 1, await audit(url, workload), entries.length - poison)
})
