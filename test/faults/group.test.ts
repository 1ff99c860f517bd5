// Fault 5: three consumer processes in one group; one is killed and one added while events flow.
import { it } from 'node:test'
import { Redis } from 'ioredis'
import { committedOffsets, eventually, produceRaw } from '../helpers/kafka.ts'
import { type RunningPipeline, startPipeline } from '../helpers/pipeline.ts'
import { kafkaTopic, postgresDatabase, uniqueName } from '../helpers/resources.ts'
import { redisHostPort } from '../helpers/services.ts'
import { audit, full, makeWorkload, report, sum } from './workload.ts'

it('fault 5: a group of three loses one member and gains one under load', async t => {
  const topic = await kafkaTopic(t, 6)
  const url = await postgresDatabase(t)
  const workload = makeWorkload(uniqueName('g'), full ? 2000 : 400, full ? 10_000 : 2000)
  const env = {
    KAFKA_TOPIC: topic,
    KAFKA_GROUP_ID: uniqueName('g'),
    DLQ_KEY: uniqueName('dlq'),
    DATABASE_URL: url,
    LOG_LEVEL: 'WARN',
    CONSUMER_BATCH_MAX: '100',
  }
  const members: RunningPipeline[] = []
  for (let i = 0; i < 3; i++) members.push(await startPipeline(t, 'consumer', env))

  const chunks = 10
  const size = Math.ceil(workload.records.length / chunks)
  let faults = 0
  for (let c = 0; c < chunks; c++) {
    // Chunks keep each key's events in order: a user's three versions are adjacent in the workload.
    await produceRaw(topic, workload.records.slice(c * size, (c + 1) * size))
    if (c === 3) {
      await members[0]?.stop('SIGKILL')
      faults++
    }
    if (c === 6) {
      members.push(await startPipeline(t, 'consumer', env))
      faults++
    }
    await new Promise(resolve => setTimeout(resolve, 200))
  }
  const total = BigInt(workload.records.length)
  try {
    await eventually(
      'everything committed by the group',
      async () => sum((await committedOffsets(env.KAFKA_GROUP_ID, topic)).values()) === total,
      120_000,
    )
  } catch (error) {
    const committed = Object.fromEntries(
      [...(await committedOffsets(env.KAFKA_GROUP_ID, topic))].map(([p, o]) => [p, String(o)]),
    )
    const alive = members.map(m => m.child.exitCode === null && m.child.signalCode === null)
    const lags = await Promise.all(
      members.map(m =>
        fetch(`${m.urls.consumer}/metrics`).then(
          async r =>
            (await r.text())
              .split('\n')
              .filter(l => l.startsWith('consumer_lag{'))
              .join(' '),
          () => 'down',
        ),
      ),
    )
    const warnings = members.flatMap(m => m.logs.filter(l => l['level'] !== 'info').slice(-5))
    throw new Error(
      `${(error as Error).message}; committed ${JSON.stringify(committed)} of ${total}; alive ${alive}; lags ${JSON.stringify(lags)}; last warnings ${JSON.stringify(warnings).slice(0, 3000)}`,
    )
  }
  const redis = new Redis(redisHostPort())
  t.after(() => redis.disconnect())
  report('group', 2, faults, await audit(url, workload), await redis.llen(env.DLQ_KEY))
})
