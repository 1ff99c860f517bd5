// A rebuild against the real Kafka, Redis and SQLite: a live consumer projects a few thousand events, rows are
// corrupted by hand, a rebuild fills a shadow while more events arrive, verify names exactly the corrupted keys,
// swap puts the truth live, the events the live consumer applied meanwhile survive the swap and the rollback, a
// second rebuild is refused while one is under way, and every command is audited.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { Admin } from '@platformatic/kafka'
import { type Database, loadConfig } from '../../src/config/index.ts'
import { consumerSettingsOf } from '../../src/consumer/index.ts'
import { readAudit } from '../../src/dlq-ops/audit.ts'
import { createOffsetsReader } from '../../src/kafka/index.ts'
import { createLogger } from '../../src/observability/index.ts'
import { RebuildError, type RebuildStatus, Rebuilds, storeIdOf } from '../../src/rebuild/index.ts'
import { rebuildKeyOf } from '../../src/redis/keys.ts'
import { createGenerations, createStore, type Store } from '../../src/store/index.ts'
import { startConsumer } from '../consumer/harness.ts'
import { keyOfTest, type TestEvent } from '../helpers/events.ts'
import { eventually, produceAtRate, produceRaw } from '../helpers/kafka.ts'
import { rawSql, userHistory } from '../helpers/rebuild-history.ts'
import { type Cleanup, kafkaTopic, postgresDatabase, redisPrefix, sqliteFile } from '../helpers/resources.ts'
import { testServices } from '../helpers/services.ts'
import { noPending } from './settled.ts'

const records = (events: TestEvent[]) => events.map(e => ({ key: keyOfTest(e), value: JSON.stringify(e) }))

const history = (from: number, users: number, tag: string) =>
  userHistory(from, users, { nameTag: tag, sku: u => `s${u % 50}` })

type Engine = 'sqlite' | 'postgres'

async function setup(t: Cleanup, engine: Engine = 'sqlite', pauseLive = false) {
  const topic = await kafkaTopic(t, 3)
  const database: Database =
    engine === 'sqlite' ? { engine, path: sqliteFile(t) } : { engine, url: await postgresDatabase(t) }
  const { redis, prefix } = redisPrefix(t)
  const dlqKey = `${prefix}dlq`
  const live = await createStore(database)
  t.after(() => live.close())
  const consumer = await startConsumer(t, { topic, store: live, dlqKey })
  const config = loadConfig({
    KAFKA_BROKERS: testServices.kafkaBrokers.join(','),
    KAFKA_CLIENT_ID: 'test-rebuild',
    KAFKA_TOPIC: topic,
    KAFKA_GROUP_ID: consumer.groupId,
    KAFKA_PARTITIONS: '3',
    CONSUMER_BATCH_WAIT_MS: '20',
    DATABASE_URL: database.engine === 'sqlite' ? `sqlite:${database.path}` : database.url,
  })
  const offsets = createOffsetsReader(consumerSettingsOf(config).connection, { timeoutMs: 5000 })
  t.after(() => offsets.close())
  const generations = await createGenerations(config.database)
  t.after(() => generations.close())
  const rebuilds = new Rebuilds({
    generations,
    live,
    redis,
    dlqKey,
    storeId: storeIdOf(config.database),
    consumer: consumerSettingsOf(config),
    offsets,
    logger: createLogger((process.env['TEST_LOG_LEVEL'] as 'info' | undefined) ?? 'silent', 'consumer'),
    leaseMs: 3000,
    tickMs: 200,
    settleMs: 1000,
    // With the live group's pause board, a swap pauses the live consumer; without, it closes the gap after.
    ...(pauseLive ? { pause: consumer.role.pause } : {}),
  })
  const sql = await rawSql(t, database)
  const count = async (table: string) => Number((await sql(`SELECT count(*) AS n FROM ${table}`))[0]?.['n'])
  // An order read before its user (another partition) waits as pending until the user is stored: counts settle.
  const counted = (table: string, n: number) =>
    eventually(
      `${n} rows in ${table}`,
      async () => (await count(table)) === n,
      30_000,
      async () => `${await count(table)}`,
    )
  return { topic, database, sql, count, counted, redis, dlqKey, live, consumer, rebuilds, generations, offsets }
}

/** Waits until the store's marks reach the log end on every partition. */
async function drained(store: Store, offsets: ReturnType<typeof createOffsetsReader>, topic: string): Promise<void> {
  await eventually(
    'the store to process the whole topic',
    async () => {
      const [marks, ends] = await Promise.all([store.appliedOffsets(topic), offsets.ends(topic)])
      return [...ends].every(([p, end]) => end === 0n || (marks.get(p) ?? -1n) >= end - 1n)
    },
    60_000,
  )
}

for (const [engine, pauseLive] of [
  ['sqlite', false],
  ['postgres', true],
] as const) {
  describe(`rebuild (Kafka, Redis, ${engine}, ${pauseLive ? 'pausing the live group' : 'closing the gap'})`, () => {
    it('rebuilds a corrupted projection while events keep coming, verifies, swaps and rolls back', async t => {
      const { topic, database, sql, counted, redis, dlqKey, live, rebuilds, offsets } = await setup(
        t,
        engine,
        pauseLive,
      )
      await produceRaw(topic, records(history(0, 200, 'v1')))
      // One bad record: the rebuild counts it instead of dead-lettering it a second time.
      await produceRaw(topic, [{ key: 'bad', value: '{not json', partition: 1 }])
      await drained(live, offsets, topic)
      await counted('users', 200)
      await counted('orders', 800)

      // Corruption by hand, as a bug or an operator's UPDATE would leave it.
      await sql("UPDATE users SET name = 'corrupt' WHERE user_id IN ('u1', 'u2')")
      await sql("UPDATE orders SET total = '0' WHERE order_id = 'o7-3'")
      await sql("UPDATE inventory SET quantity = quantity + 1000 WHERE sku = 's3'")
      await sql("DELETE FROM payments WHERE order_id = 'o9-1'")

      assert.equal(await rebuilds.status(), undefined)
      const started = await rebuilds.start({ by: 'test' })
      assert.equal(started.state, 'creating')
      assert.equal(started.generation, 'rebuild_1')
      const stop = new AbortController()
      const seen: RebuildStatus[] = []
      const filling = rebuilds.fill(stop.signal, (_, status) => seen.push(status))
      // More events while the shadow fills: the live consumer and the shadow both take them.
      const more = produceAtRate(topic, records(history(200, 60, 'v1')), 1500)

      await assert.rejects(
        rebuilds.start({ by: 'test' }),
        (e: unknown) => e instanceof RebuildError && e.kind === 'busy',
      )
      await more.done
      await drained(live, offsets, topic)
      await eventually('the rebuild to catch up', async () => (await rebuilds.status())?.state === 'caught-up', 60_000)
      const status = (await rebuilds.status()) as RebuildStatus
      assert.equal(status.progress?.caughtUp, true)
      assert.equal(status.progress?.partitions.length, 3)
      assert.equal(status.badRecords.count, 1)
      assert.equal(status.badRecords.first[0]?.code, 'INVALID_JSON')
      assert.equal(status.worker.active, true)
      assert.ok(seen.some(s => s.state === 'filling' || s.state === 'caught-up'))

      await noPending(database, 'rebuild_1')
      const report = await rebuilds.verify({ by: 'test', limit: 50 })
      const differing = Object.fromEntries(report.tables.map(t => [t.table, t.differing.map(d => d.key)]))
      assert.deepEqual(differing, {
        users: ['u1', 'u2'],
        orders: ['o7-3'],
        payments: ['o9-1'],
        inventory: ['s3'],
        inventory_ledger: [],
        pending_events: [],
      })
      const u1 = report.tables.find(t => t.table === 'users')?.differing[0]
      assert.equal(u1?.live?.['name'], 'corrupt')
      assert.equal(u1?.shadow?.['name'], 'User 1 v1')
      assert.equal(report.tables.find(t => t.table === 'payments')?.differing[0]?.live, null)
      assert.equal(report.summary.matches, false)
      const users = report.tables.find(t => t.table === 'users')
      assert.equal(users?.liveRows, 260)
      assert.equal(users?.shadowRows, 260)

      // The swap stops the fill (it runs here, in the background), swaps, and closes the gap: events arriving all
      // along are in the new tables whether the live consumer applied them before or after the swap.
      const during = produceAtRate(topic, records(history(260, 20, 'during-swap')), 400)
      const swapped = await rebuilds.swap({ by: 'test' })
      assert.equal(swapped.state, 'swapped')
      const filled = await filling
      assert.ok(['stopped', 'swapping', 'swapped'].includes(filled.state))
      assert.equal(filled.stoppedBy, 'request')
      assert.equal((await live.getUser('u1'))?.name, 'User 1 v1')
      assert.equal((await live.getOrder('o7-3'))?.total, 7.75)
      assert.equal((await live.getPayment('o9-1'))?.amount, 9.25)
      // u3, u53, …, u253: six users, each adding 1 + 2 + 3.
      assert.equal((await live.getInventory('s3'))?.quantity, 6 * 6)
      await assert.rejects(rebuilds.abort({ by: 'test' }), /rebuild 1 is swapped: cannot abort/)
      await during.done
      await drained(live, offsets, topic)
      await counted('users', 280)
      await counted('orders', 1120)
      for (let u = 260; u < 280; u++) assert.equal((await live.getUser(`u${u}`))?.name, `User ${u} during-swap`)

      // The live consumer goes on into the new tables; a rollback brings these events along to the old ones.
      await produceRaw(topic, records(history(280, 20, 'after-swap')))
      await drained(live, offsets, topic)
      assert.equal((await live.getUser('u299'))?.name, 'User 299 after-swap')
      const rolled = await rebuilds.rollback({ by: 'test' })
      assert.equal(rolled.state, 'rolled-back')
      assert.equal((await live.getUser('u1'))?.name, 'corrupt')
      assert.equal((await live.getUser('u299'))?.name, 'User 299 after-swap')
      await counted('users', 300)
      await counted('orders', 1200)

      const aborted = await rebuilds.abort({ by: 'test' })
      assert.equal(aborted.state, 'aborted')
      const audit = await readAudit(redis, dlqKey, 20)
      // The swap and the rollback paused the live group and resumed it, each audited as any pause.
      assert.deepEqual(
        audit.filter(a => a.action.startsWith('consumer-')).map(a => [a.action, a.who, a.reason]),
        pauseLive
          ? [
              ['consumer-resume', 'test', undefined],
              ['consumer-pause', 'test', 'rebuild 1 rollback'],
              ['consumer-resume', 'test', undefined],
              ['consumer-pause', 'test', 'rebuild 1 swap'],
            ]
          : [],
      )
      assert.deepEqual(
        audit.filter(a => a.action.startsWith('rebuild-')).map(a => [a.action, a.who, a.rebuild]),
        [
          ['rebuild-abort', 'test', '1 rebuild_1'],
          ['rebuild-rollback', 'test', '1 rebuild_1'],
          ['rebuild-swap', 'test', '1 rebuild_1'],
          ['rebuild-start', 'test', '1 rebuild_1'],
        ],
      )
      // Once one is over, the next may begin.
      const next = await rebuilds.start({ by: 'test', from: Date.now() })
      assert.equal(next.generation, 'rebuild_2')
      assert.equal((await rebuilds.abort({ by: 'test' })).state, 'aborted')
    })
  })
}

describe('rebuild and the log', () => {
  it('refuses to rebuild from a log that lost records, and starts a group at a time when asked', async t => {
    const { topic, rebuilds, generations, redis, dlqKey, database } = await setup(t)
    await produceRaw(topic, records(history(0, 20, 'old')))
    const cut = Date.now()
    await new Promise(resolve => setTimeout(resolve, 20))
    await produceRaw(topic, records(history(20, 5, 'new')))
    const admin = new Admin({ clientId: 'test-admin', bootstrapBrokers: [...testServices.kafkaBrokers] })
    try {
      await admin.deleteRecords({ topics: [{ name: topic, partitions: [{ partition: 0, offset: 3n }] }] })
    } finally {
      await admin.close()
    }
    await assert.rejects(
      rebuilds.start({ by: 'test' }),
      (e: unknown) =>
        e instanceof RebuildError && e.kind === 'refused' && /partition 0 starts at offset 3/.test(e.message),
    )
    assert.equal(await rebuilds.status(), undefined)
    const started = await rebuilds.start({ by: 'test', from: cut })
    assert.equal(started.from, new Date(cut).toISOString())
    const stop = new AbortController()
    const filling = rebuilds.fill(stop.signal)
    await eventually(
      'the rebuild from a time to catch up',
      async () => (await rebuilds.status())?.state === 'caught-up',
    )
    stop.abort()
    const stopped = await filling
    assert.equal(stopped.state, 'stopped')
    assert.equal(stopped.worker.active, false)
    // Only what was produced after the cut is in the shadow.
    const shadow = await generations.open('rebuild_1')
    try {
      assert.equal(await shadow.getUser('u19'), undefined)
      assert.equal((await shadow.getUser('u24'))?.name, 'User 24 new')
    } finally {
      await shadow.close()
    }

    // Resumed, it goes on from its group's commits with what came since.
    await produceRaw(topic, records(history(25, 5, 'later')))
    const again = new AbortController()
    const resumed = rebuilds.fill(again.signal)
    await eventually('the resumed rebuild to catch up', async () => (await rebuilds.status())?.state === 'caught-up')
    again.abort()
    assert.equal((await resumed).state, 'stopped')
    const after = await generations.open('rebuild_1')
    try {
      assert.equal((await after.getUser('u29'))?.name, 'User 29 later')
      assert.equal(await after.getUser('u19'), undefined)
    } finally {
      await after.close()
    }

    // A swap whose process died before swapping: the next command finds the shadow intact and takes it over.
    await redis.hset(rebuildKeyOf(dlqKey, storeIdOf(database)), 'state', 'swapping')
    const aborted = await rebuilds.abort({ by: 'test' })
    assert.equal(aborted.state, 'aborted')
    assert.equal(aborted.error, 'the process swapping it stopped before the swap')
  })
})
