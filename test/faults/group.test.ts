// Fault 5: three consumer processes in one group; one is killed (with records in flight) and one added while
// events flow.
import { it } from 'node:test'
import { committedOffsets, eventually, produceAtRate } from '../helpers/kafka.ts'
import { type RunningPipeline, startPipeline } from '../helpers/pipeline.ts'
import { kafkaTopic, postgresDatabase, uniqueName } from '../helpers/resources.ts'
import { assertClean, checkOutcome } from './checker.ts'
import { consumerEnv, full, inFlight, makeWorkload, sum, waitCommitted } from './workload.ts'

it('fault 5: a group of three loses one member and gains one under load', async t => {
  const topic = await kafkaTopic(t, 6)
  const databaseUrl = await postgresDatabase(t)
  const workload = makeWorkload(uniqueName('g'), {
    users: full ? 1500 : 300,
    payments: true,
    deltas: full ? 8000 : 1500,
    orphans: 3,
    partitions: 6,
  })
  const env = consumerEnv(topic, databaseUrl, { CONSUMER_BATCH_MAX: '100' })
  const committed = async () => sum((await committedOffsets(env.KAFKA_GROUP_ID, topic)).values())
  const members: RunningPipeline[] = []
  for (let i = 0; i < 3; i++) members.push(await startPipeline(t, 'consumer', env))
  // The first 60 % stream while a member is killed, the rest after the new member joined: both faults land with
  // records still to come. Produce order is kept, so each key's records stay in order.
  const split = Math.floor(workload.records.length * 0.6)
  const rate = full ? 2000 : 500
  const first = produceAtRate(topic, workload.records.slice(0, split), rate)

  const before = await committed()
  await eventually('progress before the kill', async () => (await committed()) > before, 60_000)
  const atKill = await inFlight(env.KAFKA_GROUP_ID, topic, before, () => first.acknowledged())
  await members[0]?.stop('SIGKILL')
  await new Promise(resolve => setTimeout(resolve, 1000))
  await first.done
  members.push(await startPipeline(t, 'consumer', env))
  const atJoin = await committed()
  await produceAtRate(topic, workload.records.slice(split), rate).done
  const { committed: end, complete } = await waitCommitted(
    env.KAFKA_GROUP_ID,
    topic,
    BigInt(workload.records.length),
    120_000,
  )
  const survived = complete ? [atKill, atJoin].filter(at => end > at).length : 0
  const result = await checkOutcome({ records: workload.records }, { topic, databaseUrl, dlqKey: env.DLQ_KEY })
  assertClean('group', 2, survived, result)
})
