// Fault 1: the consumer is killed with SIGKILL while records are in flight, and restarted.
import { it } from 'node:test'
import { committedOffsets, eventually, produceAtRate } from '../helpers/kafka.ts'
import { startPipeline } from '../helpers/pipeline.ts'
import { kafkaTopic, postgresDatabase, uniqueName } from '../helpers/resources.ts'
import { assertClean, checkOutcome } from './checker.ts'
import { assertInFlight, consumerEnv, full, makeWorkload, sum, waitCommitted } from './workload.ts'

it('fault 1: consumer killed with SIGKILL mid-batch, restarted', async t => {
  const kills = full ? 3 : 1
  const topic = await kafkaTopic(t, 3)
  const databaseUrl = await postgresDatabase(t)
  const workload = makeWorkload(uniqueName('k'), {
    users: full ? 1500 : 300,
    payments: true,
    deltas: full ? 10_000 : 1500,
    orphans: 3,
    poison: 6,
    partitions: 3,
  })
  const env = consumerEnv(topic, databaseUrl, { CONSUMER_BATCH_MAX: '200' })
  const committed = async () => sum((await committedOffsets(env.KAFKA_GROUP_ID, topic)).values())
  // Records keep arriving during the kills, so each kill lands with records fetched and not yet committed.
  const stream = produceAtRate(topic, workload.records, full ? 2000 : 1000)
  const atKills: bigint[] = []
  for (let kill = 0; kill < kills; kill++) {
    const consumer = await startPipeline(t, 'consumer', env)
    const before = await committed()
    await eventually('progress before the kill', async () => (await committed()) > before, 60_000)
    atKills.push(await assertInFlight(env.KAFKA_GROUP_ID, topic, before, BigInt(stream.acknowledged())))
    await consumer.stop('SIGKILL')
  }
  await startPipeline(t, 'consumer', env)
  await stream.done
  const { committed: end, complete } = await waitCommitted(
    env.KAFKA_GROUP_ID,
    topic,
    BigInt(workload.records.length),
    120_000,
  )
  // A kill is survived when the group finished the topic after it, past where it stood at the kill.
  const survived = complete ? atKills.filter(at => end > at).length : 0
  const result = await checkOutcome({ records: workload.records }, { topic, databaseUrl, dlqKey: env.DLQ_KEY })
  assertClean('sigkill', kills, survived, result)
})
