// The acceptance test of durable pending events: three consumer processes in one group take a live stream of
// users and their orders (mostly on other partitions than their user); one member is frozen with SIGSTOP for a
// long time (so its partitions' users arrive late) and resumed, another is killed with SIGKILL while records are
// in flight and restarted. PENDING_MAX_AGE is an hour, so no order may be dead-lettered: an order whose user is
// late must wait in pending_events and be applied when the user is stored, whichever member stores it.
import assert from 'node:assert/strict'
import { it } from 'node:test'
import { committedOffsets, produceAtRate } from '../helpers/kafka.ts'
import { type RunningPipeline, startPipeline } from '../helpers/pipeline.ts'
import { kafkaTopic, postgresDatabase, uniqueName } from '../helpers/resources.ts'
import { assertClean, check, observe } from './checker.ts'
import { consumerEnv, full, inFlight, makeWorkload, sum, waitCommitted } from './workload.ts'

const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms))

it('group stall: a member frozen, another killed; orders wait for their users, none dead-lettered', {
  timeout: (full ? 300 : 150) * 1000,
}, async t => {
  const stallMs = full ? 60_000 : 15_000
  const rate = 300
  const streamSeconds = full ? 90 : 30
  const topic = await kafkaTopic(t, 6)
  const databaseUrl = await postgresDatabase(t)
  const run = uniqueName('gs')
  // Per user: 4 user events, 2 orders × (2 placements + 2 payments) = 12 records.
  const workload = makeWorkload(run, {
    users: Math.floor((rate * streamSeconds) / 12),
    payments: true,
    orphans: 5,
    partitions: 6,
  })
  const env = consumerEnv(topic, databaseUrl, { CONSUMER_BATCH_MAX: '100' })
  const committed = async () => sum((await committedOffsets(env.KAFKA_GROUP_ID, topic)).values())
  const members: RunningPipeline[] = []
  for (let i = 0; i < 3; i++) members.push(await startPipeline(t, 'consumer', env))
  const frozen = members[0] as RunningPipeline
  t.after(() => frozen.child.kill('SIGCONT'))

  const stream = produceAtRate(topic, workload.records, rate)
  let faults = 0
  let survived = 0
  await sleep(3000)
  frozen.child.kill('SIGSTOP')
  faults++
  const stalledAt = Date.now()

  await sleep(5000)
  const previous = await committed()
  await sleep(1000)
  const atKill = await inFlight(env.KAFKA_GROUP_ID, topic, previous, () => stream.acknowledged())
  await members[1]?.stop('SIGKILL')
  faults++
  members[1] = await startPipeline(t, 'consumer', env)

  await sleep(Math.max(0, stallMs - (Date.now() - stalledAt)))
  frozen.child.kill('SIGCONT')
  await stream.done
  const total = BigInt(workload.records.length)
  const { complete, committed: end } = await waitCommitted(env.KAFKA_GROUP_ID, topic, total, 60_000)
  // A fault is survived when the group went on past where it stood at the fault and finished the stream.
  if (complete && end > atKill) survived = faults

  const observed = await observe({ topic, databaseUrl, dlqKey: env.DLQ_KEY })
  const result = check({ records: workload.records }, observed)
  console.log(
    `group-stall: ${workload.records.length} records at ${rate}/s, stall ${stallMs} ms, committed ${end}; orders ${result.stats.orders}, on another partition than their user ${result.stats.ordersOnAnotherPartition}, dead-lettered ${result.stats.ordersDeadLettered}`,
  )
  assert.ok(result.stats.ordersOnAnotherPartition > result.stats.orders / 2, 'most orders on another partition')
  assertClean('group-stall', faults, survived, result)
  assert.equal(result.stats.ordersDeadLettered, 0, 'no order dead-lettered')
})
