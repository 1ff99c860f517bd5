// Fault 1: the consumer is killed with SIGKILL while records are in flight, and restarted: on PostgreSQL, and on
// the default engine (SQLite) with a PENDING_MAX_AGE short enough that pending orders expire between the kills,
// and a redrive of every dead letter followed by one more kill.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { it, type TestContext } from 'node:test'
import { fileURLToPath } from 'node:url'
import { nodeFlags } from '../../src/cli/node-flags.ts'
import { endOffsets } from '../../src/kafka/index.ts'
import { cliEnv } from '../helpers/cli.ts'
import { committedOffsets, eventually, produceAtRate } from '../helpers/kafka.ts'
import { startPipeline } from '../helpers/pipeline.ts'
import { kafkaTopic, postgresDatabase, sqliteFile, uniqueName } from '../helpers/resources.ts'
import { testServices } from '../helpers/services.ts'
import { assertClean, checkOutcome } from './checker.ts'
import { consumerEnv, full, inFlight, makeWorkload, sum, waitCommitted } from './workload.ts'

const main = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url))

/** `pipeline dlq redrive` of every entry, as an operator runs it; returns what it printed. */
function redriveAll(env: Record<string, string>): string {
  const r = spawnSync(process.execPath, [...nodeFlags, main, 'dlq', 'redrive'], {
    env: cliEnv(env),
    encoding: 'utf8',
    timeout: 60_000,
  })
  assert.equal(r.status, 0, `dlq redrive failed: ${r.stdout}${r.stderr}`)
  return r.stdout + r.stderr
}

async function killAndCheck(
  t: TestContext,
  name: string,
  databaseUrl: string,
  options: { pendingMaxAge?: string; redrive?: boolean } = {},
) {
  const { pendingMaxAge } = options
  const kills = (full ? 3 : 1) + (options.redrive ? 1 : 0)
  const topic = await kafkaTopic(t, 3)
  const workload = makeWorkload(uniqueName('k'), {
    users: full ? 1500 : 300,
    payments: true,
    deltas: full ? 10_000 : 1500,
    orphans: 3,
    poison: 6,
    partitions: 3,
  })
  const env = consumerEnv(topic, databaseUrl, {
    CONSUMER_BATCH_MAX: '200',
    ...(pendingMaxAge === undefined ? {} : { PENDING_MAX_AGE: pendingMaxAge }),
  })
  const committed = async () => sum((await committedOffsets(env.KAFKA_GROUP_ID, topic)).values())
  // Records keep arriving during the kills, so each kill lands with records fetched and not yet committed.
  const stream = produceAtRate(topic, workload.records, full ? 2000 : 1000)
  const atKills: bigint[] = []
  for (let kill = 0; kill < (full ? 3 : 1); kill++) {
    const consumer = await startPipeline(t, 'consumer', env)
    const before = await committed()
    await eventually('progress before the kill', async () => (await committed()) > before, 60_000)
    atKills.push(await inFlight(env.KAFKA_GROUP_ID, topic, before, () => stream.acknowledged()))
    await consumer.stop('SIGKILL')
  }
  const consumer = await startPipeline(t, 'consumer', env)
  await stream.done
  let total = BigInt(workload.records.length)
  if (options.redrive) {
    // Once the workload is through, the consumer is killed, every dead letter so far is redriven while it is
    // down, and a new consumer takes the copies: each is judged at its original's position.
    await waitCommitted(env.KAFKA_GROUP_ID, topic, total, 120_000)
    await consumer.stop('SIGKILL')
    atKills.push(await committed())
    console.log(`${name}: ${redriveAll({ KAFKA_TOPIC: topic, DLQ_KEY: env.DLQ_KEY }).trim().split('\n').at(-1)}`)
    await startPipeline(t, 'consumer', env)
    const connection = { clientId: 'test-sigkill', bootstrapBrokers: [...testServices.kafkaBrokers] }
    total = sum(await endOffsets(connection, topic, 10_000))
  }
  const { committed: end, complete } = await waitCommitted(env.KAFKA_GROUP_ID, topic, total, 120_000)
  const where = { topic, databaseUrl, dlqKey: env.DLQ_KEY }
  const pendingMayExpire = pendingMaxAge !== undefined
  if (pendingMayExpire) {
    // The orphans' users never come: each is dead-lettered once its PENDING_MAX_AGE has passed.
    await eventually(
      'the orphan orders expired',
      async () => (await checkOutcome({ records: workload.records, pendingMayExpire }, where)).stats.ordersExpired >= 3,
      30_000,
    )
  }
  // A kill is survived when the group finished the topic after it, past where it stood at the kill.
  const survived = complete ? atKills.filter(at => end > at).length : 0
  const result = await checkOutcome({ records: workload.records, pendingMayExpire }, where)
  assertClean(name, kills, survived, result)
  return result
}

it('fault 1: consumer killed with SIGKILL mid-batch, restarted (PostgreSQL)', async t => {
  await killAndCheck(t, 'sigkill', await postgresDatabase(t))
})

it('fault 1b: the same on SQLite, pending orders expiring between the kills, and a redrive', async t => {
  const result = await killAndCheck(t, 'sigkill-sqlite', `sqlite:${sqliteFile(t)}`, {
    pendingMaxAge: '2s',
    redrive: true,
  })
  assert.ok(result.stats.ordersExpired >= 3, `orders expired: ${result.stats.ordersExpired}`)
  assert.ok(result.stats.copies > 0, 'the redrive sent copies')
})
