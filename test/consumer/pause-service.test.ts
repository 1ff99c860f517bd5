// Pausing the live consumer group, against the real Kafka, Redis and SQLite: a paused partition applies and
// commits nothing while the others go on; a pause of every partition stops every member, one that joins during
// the pause too; a resume lands every record produced meanwhile, once. Each partition carries InventoryAdjusted
// deltas of +1 on a SKU of its own, so the SKU's quantity is the count of that partition's records applied
// (exactly once: the ledger keeps one row per eventId).
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { PauseBoard } from '../../src/consumer/index.ts'
import { readAudit } from '../../src/dlq-ops/audit.ts'
import { createStore, type Store } from '../../src/store/index.ts'
import { inventoryAdjusted } from '../helpers/events.ts'
import { committedOffsets, eventually, produceRaw } from '../helpers/kafka.ts'
import { type Cleanup, dropPauseKeys, kafkaTopic, redisPrefix, sqliteFile, uniqueName } from '../helpers/resources.ts'
import { type Harness, startConsumer } from './harness.ts'

const token = 'admin-token-for-the-pause-tests-0123'
const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms))

async function sqliteStore(t: Cleanup): Promise<Store> {
  const store = await createStore({ engine: 'sqlite', path: sqliteFile(t) })
  await store.migrate()
  t.after(() => store.close())
  return store
}

/** One SKU per partition of a 3-partition topic; `produce(n)` adds n deltas of +1 to each. */
function partitionsOf(topic: string) {
  const skus = [0, 1, 2].map(p => uniqueName(`sku${p}`))
  return {
    produce: (n: number) =>
      produceRaw(
        topic,
        skus.flatMap((sku, partition) =>
          Array.from({ length: n }, () => ({ key: sku, value: JSON.stringify(inventoryAdjusted(sku, 1)), partition })),
        ),
      ),
    applied: async (store: Store) => Promise.all(skus.map(async sku => (await store.getInventory(sku))?.quantity ?? 0)),
  }
}

async function committed(groupId: string, topic: string): Promise<number[]> {
  const offsets = await committedOffsets(groupId, topic)
  return [0, 1, 2].map(p => Number(offsets.get(p) ?? 0n))
}

async function landed(what: string, groupId: string, topic: string, counts: () => Promise<number[]>, want: number[]) {
  await eventually(
    what,
    async () =>
      JSON.stringify(await counts()) === JSON.stringify(want) &&
      JSON.stringify(await committed(groupId, topic)) === JSON.stringify(want),
    30_000,
    async () =>
      `applied ${JSON.stringify(await counts())}, committed ${JSON.stringify(await committed(groupId, topic))}`,
  )
}

async function pausedGauge(consumer: Harness): Promise<Record<string, number>> {
  const metric = await consumer.registry.getSingleMetric('consumer_paused')?.get()
  return Object.fromEntries((metric?.values ?? []).map(v => [String(v.labels['partition']), v.value]))
}

describe('pausing the consumer group', () => {
  it('a paused partition applies and commits nothing while the others go on; resumed, it catches up once', async t => {
    const topic = await kafkaTopic(t, 3)
    const store = await sqliteStore(t)
    const { redis, prefix } = redisPrefix(t)
    const dlqKey = `${prefix}dlq:events`
    const consumer = await startConsumer(t, { topic, store, dlqKey, batchMax: 20, env: { ADMIN_TOKEN: token } })
    dropPauseKeys(t, consumer.groupId, topic)
    const board: PauseBoard = consumer.role.pause
    const records = partitionsOf(topic)
    const applied = () => records.applied(store)

    await records.produce(50)
    await landed('the first 50 per partition', consumer.groupId, topic, applied, [50, 50, 50])

    const paused = await board.pause([0], 'test', 'checking the pause')
    assert.deepEqual(paused.record.partitions['0']?.reason, 'checking the pause')
    const idle = await board.waitIdle(10_000)
    assert.equal(idle.members.length, 1)
    assert.deepEqual(idle.members[0]?.paused, [0])
    assert.deepEqual(idle.members[0]?.busy, [])
    await eventually('the gauge shows partition 0 paused', async () => (await pausedGauge(consumer))['0'] === 1)
    const ready = await consumer.role.app.inject({ url: '/ready', headers: { authorization: `Bearer ${token}` } })
    assert.equal(ready.statusCode, 200, 'a paused consumer is still ready')
    assert.deepEqual(ready.json().checks.paused, { ok: true, partitions: [0] })

    // While partition 0 is paused, 300 more records arrive: partitions 1 and 2 apply theirs, 0 holds still.
    await records.produce(100)
    await eventually(
      'partitions 1 and 2 apply while 0 is paused',
      async () => {
        const [, one, two] = await committed(consumer.groupId, topic)
        return one === 150 && two === 150
      },
      30_000,
    )
    await sleep(1500)
    assert.deepEqual(await applied(), [50, 150, 150])
    assert.deepEqual(await committed(consumer.groupId, topic), [50, 150, 150])
    assert.deepEqual(consumer.service.status().paused, [0])

    await board.resume([0], 'test')
    await landed('partition 0 catches up after the resume', consumer.groupId, topic, applied, [150, 150, 150])
    assert.equal(consumer.service.status().applied, 450, 'every record applied once')
    await eventually(
      'the gauge shows nothing paused',
      async () => Object.keys(await pausedGauge(consumer)).length === 0,
    )

    const audit = await readAudit(redis, dlqKey, 10)
    assert.deepEqual(
      audit.map(a => [a.action, a.who, a.partitions]),
      [
        ['consumer-resume', 'test', [0]],
        ['consumer-pause', 'test', [0]],
      ],
    )
    assert.equal(audit[1]?.reason, 'checking the pause')
  })

  it('pausing every partition stops every member, one that joins during the pause too; resume lands it all', async t => {
    const topic = await kafkaTopic(t, 3)
    const store = await sqliteStore(t)
    const { prefix } = redisPrefix(t)
    const dlqKey = `${prefix}dlq:events`
    const groupId = `group-${topic}`
    dropPauseKeys(t, groupId, topic)
    const first = await startConsumer(t, { topic, store, dlqKey, groupId, batchMax: 20 })
    const board = first.role.pause
    const records = partitionsOf(topic)
    const applied = () => records.applied(store)

    await records.produce(30)
    await landed('the first 30 per partition', groupId, topic, applied, [30, 30, 30])
    await board.pause('all', 'test', 'rebuild')
    await board.waitIdle(10_000)

    // A second member joins while every partition is paused, and records keep arriving for a few seconds.
    const second = await startConsumer(t, { topic, store, dlqKey, groupId, batchMax: 20 })
    for (let round = 0; round < 5; round++) {
      await records.produce(20)
      await sleep(300)
    }
    await eventually(
      'both members report, own every partition between them, and are idle',
      async () => {
        const state = await board.state()
        const owned = state.members.flatMap(m => m.owned).sort()
        return state.members.length === 2 && JSON.stringify(owned) === '[0,1,2]' && state.idle
      },
      30_000,
      async () => JSON.stringify(await board.state()),
    )
    const idle = await board.waitIdle(5000)
    for (const member of idle.members) assert.deepEqual(member.paused, member.owned)
    await sleep(1000)
    assert.deepEqual(await applied(), [30, 30, 30], 'nothing applied during the pause')
    assert.deepEqual(await committed(groupId, topic), [30, 30, 30], 'nothing committed during the pause')
    assert.equal(first.service.status().applied + second.service.status().applied, 90)

    await board.resume('all', 'test')
    await landed('everything lands after the resume', groupId, topic, applied, [130, 130, 130])
    assert.equal(first.service.status().applied + second.service.status().applied, 390, 'each record applied once')
    await assert.rejects(board.waitIdle(1000), /nothing is paused/)
  })
})
