// Fault 1: the consumer is killed with SIGKILL in the middle of batches and restarted.
import { it } from 'node:test'
import { Redis } from 'ioredis'
import { committedOffsets, eventually, produceRaw } from '../helpers/kafka.ts'
import { startPipeline } from '../helpers/pipeline.ts'
import { kafkaTopic, postgresDatabase, uniqueName } from '../helpers/resources.ts'
import { redisHostPort } from '../helpers/services.ts'
import { audit, full, makeWorkload, report, sum } from './workload.ts'

it('fault 1: consumer killed with SIGKILL mid-batch, restarted', async t => {
  const kills = full ? 3 : 1
  const topic = await kafkaTopic(t, 3)
  const url = await postgresDatabase(t)
  const workload = makeWorkload(uniqueName('k'), full ? 3000 : 600, full ? 20_000 : 3000)
  const total = BigInt(workload.records.length)
  await produceRaw(topic, workload.records)
  const env = {
    KAFKA_TOPIC: topic,
    KAFKA_GROUP_ID: uniqueName('g'),
    DLQ_KEY: uniqueName('dlq'),
    DATABASE_URL: url,
    LOG_LEVEL: 'WARN',
    CONSUMER_BATCH_MAX: '200',
  }
  let survived = 0
  for (let kill = 0; kill < kills; kill++) {
    const consumer = await startPipeline(t, 'consumer', env)
    const before = sum((await committedOffsets(env.KAFKA_GROUP_ID, topic)).values())
    // Kill it once it has moved on, while later batches are still in flight.
    await eventually('progress before the kill', async () => {
      const now = sum((await committedOffsets(env.KAFKA_GROUP_ID, topic)).values())
      return now > before || now === total
    })
    await consumer.stop('SIGKILL')
    survived++
  }
  await startPipeline(t, 'consumer', env)
  await eventually(
    'everything committed after the restart',
    async () => sum((await committedOffsets(env.KAFKA_GROUP_ID, topic)).values()) === total,
    120_000,
  )
  const redis = new Redis(redisHostPort())
  t.after(() => redis.disconnect())
  report('sigkill', kills, survived, await audit(url, workload), await redis.llen(env.DLQ_KEY))
})
