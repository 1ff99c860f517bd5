// The rebuild end to end at 100,000 events: `pipeline all` as a real process on the real broker, Redis and
// PostgreSQL, then SQLite, driven through its admin API. 100,000 events are loaded, rows are corrupted by hand in
// the live tables, a rebuild fills a shadow while more events arrive, verify names exactly the corrupted keys, the swap runs
// under a loop of reads that must never fail or come back empty, the live rows then equal a model of the log, a
// rollback brings the corrupted rows back, and a second start is refused while one is under way.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { Redis } from 'ioredis'
import type { Database } from '../../src/config/index.ts'
import { companionPrefixOf, pauseKeys } from '../../src/redis/keys.ts'
import { createStore } from '../../src/store/index.ts'
import { keyOfTest, type TestEvent } from '../helpers/events.ts'
import { endOffsets, eventually, produceAtRate, produceRaw } from '../helpers/kafka.ts'
import { startPipeline } from '../helpers/pipeline.ts'
import { type Query, type Rows, rawSql, userHistory } from '../helpers/rebuild-history.ts'
import { kafkaTopic, keysMatching, postgresDatabase, sqliteFile, uniqueName } from '../helpers/resources.ts'
import { redisHostPort, testServices } from '../helpers/services.ts'
import { noPending } from '../rebuild/settled.ts'

/** The size of the load: 10 events per user. */
const loadUsers = 10_000
const loadEvents = loadUsers * 10
/** Users produced while the shadow fills: new keys only, so the corrupted rows stay as corrupted in the live tables. */
const laterUsers = 600

/**
 * What the log says the tables hold, written from the events alone: every key is created once, so a row is its
 * one event's fields, and a sku's quantity is the sum of its deltas.
 */
function truthOf(events: readonly TestEvent[]) {
  const users = new Map<string, string>()
  const orders = new Map<string, string>()
  const payments = new Map<string, string>()
  const inventory = new Map<string, number>()
  for (const e of events) {
    const d = e.data as Record<string, string | number>
    if (e.type === 'UserCreated') users.set(String(d['userId']), `${d['name']}|${d['email']}`)
    else if (e.type === 'OrderPlaced') orders.set(String(d['orderId']), `${d['userId']}|${Number(d['total'])}`)
    else if (e.type === 'PaymentSettled') payments.set(String(d['orderId']), `${d['status']}|${Number(d['amount'])}`)
    else inventory.set(String(d['sku']), (inventory.get(String(d['sku'])) ?? 0) + Number(d['delta']))
  }
  return { users, orders, payments, inventory }
}

/** The live tables in the model's shape (numbers read as numbers whatever type the engine answers). */
async function tablesOf(sql: Query) {
  const map = (rows: Rows, key: string, value: (r: Record<string, unknown>) => string) =>
    new Map(rows.map(r => [String(r[key]), value(r)]))
  return {
    users: map(await sql('SELECT user_id, name, email FROM users'), 'user_id', r => `${r['name']}|${r['email']}`),
    orders: map(
      await sql('SELECT order_id, user_id, total FROM orders'),
      'order_id',
      r => `${r['user_id']}|${Number(r['total'])}`,
    ),
    payments: map(
      await sql('SELECT order_id, status, amount FROM payments'),
      'order_id',
      r => `${r['status']}|${Number(r['amount'])}`,
    ),
    inventory: new Map(
      (await sql('SELECT sku, quantity FROM inventory')).map(r => [String(r['sku']), Number(r['quantity'])]),
    ),
  }
}

/** The keys whose values differ between two maps, or that one of them lacks, sorted. */
function differing<V>(a: ReadonlyMap<string, V>, b: ReadonlyMap<string, V>): string[] {
  const keys = new Set([...a.keys(), ...b.keys()])
  return [...keys].filter(k => a.get(k) !== b.get(k)).sort()
}

type Tables = Awaited<ReturnType<typeof tablesOf>>

/** Per table, the keys whose rows differ from the model's. */
function differingKeys(tables: Tables, truth: ReturnType<typeof truthOf>) {
  return {
    users: differing(tables.users, truth.users),
    orders: differing(tables.orders, truth.orders),
    payments: differing(tables.payments, truth.payments),
    inventory: differing(tables.inventory, truth.inventory),
  }
}

for (const engine of ['postgres', 'sqlite'] as const) {
  describe(`rebuild end to end (pipeline all, Kafka, Redis, ${engine})`, () => {
    it(`rebuilds ${loadEvents.toLocaleString()} events under traffic and reads, swaps and rolls back`, async t => {
      const began = Date.now()
      const topic = await kafkaTopic(t, 3)
      const database: Database =
        engine === 'sqlite' ? { engine, path: sqliteFile(t) } : { engine, url: await postgresDatabase(t) }
      const dlqKey = uniqueName('dlq')
      const groupId = uniqueName('group')
      const token = uniqueName('token')
      const redis = new Redis({ ...redisHostPort(), password: testServices.redisPassword || undefined })
      t.after(async () => {
        // The DLQ's companions hold the rebuild's state and the audit; the swap and the rollback paused the group.
        const keys = [
          dlqKey,
          ...Object.values(pauseKeys(groupId, topic)),
          ...(await keysMatching(redis, `${companionPrefixOf(dlqKey)}*`)),
        ]
        await redis.del(...keys)
        redis.disconnect()
      })
      const p = await startPipeline(t, 'all', {
        KAFKA_TOPIC: topic,
        KAFKA_GROUP_ID: groupId,
        KAFKA_PARTITIONS: '3',
        DLQ_KEY: dlqKey,
        DATABASE_URL: database.engine === 'sqlite' ? `sqlite:${database.path}` : database.url,
        ADMIN_TOKEN: token,
        LOG_LEVEL: 'WARN',
      })
      const { consumer, api } = p.urls
      const admin = (path: string, body?: unknown) =>
        fetch(`${consumer}/admin/rebuild${path}`, {
          method: body === undefined ? 'GET' : 'POST',
          headers: {
            authorization: `Bearer ${token}`,
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        })
      // biome-ignore lint/suspicious/noExplicitAny: the status is read by path and asserted on
      const status = async (): Promise<Record<string, any>> => (await (await admin('')).json()) as Record<string, any>
      const stateIs = (state: string, ms = 60_000) =>
        eventually(
          `the rebuild to be ${state}`,
          async () => (await status())['state'] === state,
          ms,
          async () => JSON.stringify(await status()),
        )
      const sql = await rawSql(t, database)
      const live = await createStore(database)
      t.after(() => live.close())
      /** Waits until the live tables processed the whole topic and hold no pending event. */
      const liveDrained = async () => {
        await eventually(
          'the live consumer to process the whole topic',
          async () => {
            const [marks, ends] = await Promise.all([live.appliedOffsets(topic), endOffsets(topic)])
            return [...ends].every(([partition, end]) => end === 0n || (marks.get(partition) ?? -1n) >= end - 1n)
          },
          90_000,
        )
        await noPending(database)
      }

      // The load, straight to the topic as the bench pre-fills it.
      const load = userHistory(0, loadUsers, { sku: u => `s${u % 100}` })
      assert.equal(load.length, loadEvents)
      const toRecords = (events: TestEvent[]) => events.map(e => ({ key: keyOfTest(e), value: JSON.stringify(e) }))
      await produceRaw(topic, toRecords(load))
      const loaded = Date.now()
      await liveDrained()
      const drained = Date.now()
      assert.equal(differing((await tablesOf(sql)).users, truthOf(load).users).length, 0)

      // Corruption by hand behind the pipeline's back: changed rows and deleted rows, all of them on keys the later
      // traffic never touches (new users, skus t*), so the live tables keep them until the swap.
      await sql("UPDATE users SET name = 'corrupt' WHERE user_id IN ('u1', 'u2')")
      await sql("UPDATE orders SET total = 0 WHERE order_id = 'o7-3'")
      await sql("DELETE FROM orders WHERE order_id = 'o12-3'")
      await sql("UPDATE payments SET amount = 1 WHERE order_id = 'o10-0'")
      await sql("DELETE FROM payments WHERE order_id = 'o9-1'")
      await sql("UPDATE inventory SET quantity = quantity + 1000 WHERE sku = 's3'")
      await sql("DELETE FROM inventory WHERE sku = 's5'")
      const corrupted = {
        users: ['u1', 'u2'],
        orders: ['o12-3', 'o7-3'],
        payments: ['o10-0', 'o9-1'],
        inventory: ['s3', 's5'],
        inventory_ledger: [],
        pending_events: [],
      }

      // The rebuild, with more events arriving while its shadow fills; a second start meanwhile is refused.
      const started = await admin('/start', {})
      assert.equal(started.status, 202, await started.clone().text())
      const generation = ((await started.json()) as { generation: string }).generation
      assert.equal(generation, 'rebuild_1')
      const later = userHistory(loadUsers, laterUsers, { sku: u => `t${u % 100}` })
      const more = produceAtRate(topic, toRecords(later), 3000)
      const second = await admin('/start', {})
      assert.equal(second.status, 409, await second.text())
      await more.done
      await liveDrained()
      await stateIs('caught-up', 120_000)
      await noPending(database, generation)
      const caughtUp = Date.now()

      // Verify names exactly the corrupted keys: the model's difference from the live tables, computed here too.
      const truth = truthOf([...load, ...later])
      const before = await tablesOf(sql)
      assert.deepEqual(differingKeys(before, truth), {
        users: corrupted.users,
        orders: corrupted.orders,
        payments: corrupted.payments,
        inventory: corrupted.inventory,
      })
      const verified = await admin('/verify', { limit: 50 })
      assert.equal(verified.status, 200)
      const report = (await verified.json()) as { tables: { table: string; differing: { key: string }[] }[] }
      assert.deepEqual(Object.fromEntries(report.tables.map(x => [x.table, x.differing.map(d => d.key)])), corrupted)

      // The swap under a loop of reads through the read API: none may fail, none may find nothing.
      const ids = Array.from({ length: 200 }, (_, i) => `o${(i * 37) % loadUsers}-${i % 3}`)
      const reads = { total: 0, failed: 0, empty: 0, problems: [] as string[] }
      let reading = true
      const reader = (async () => {
        for (let i = 0; reading; i++) {
          const id = ids[i % ids.length] as string
          reads.total++
          try {
            const response = await fetch(`${api}/orders/${id}`)
            const body = (await response.json()) as { order?: { orderId?: string } | null }
            if (response.status === 404 || body.order === null || body.order === undefined) {
              reads.empty++
              reads.problems.push(`${id}: ${response.status}`)
            } else if (response.status !== 200) {
              reads.failed++
              reads.problems.push(`${id}: ${response.status} ${JSON.stringify(body).slice(0, 200)}`)
            }
          } catch (error) {
            reads.failed++
            reads.problems.push(`${id}: ${(error as Error).message}`)
          }
        }
      })()
      await new Promise(resolve => setTimeout(resolve, 300))
      const readsBefore = reads.total
      const swapping = await admin('/swap', {})
      assert.equal(swapping.status, 202, await swapping.clone().text())
      await stateIs('swapped')
      await new Promise(resolve => setTimeout(resolve, 300))
      reading = false
      await reader
      assert.deepEqual(
        { failed: reads.failed, empty: reads.empty, problems: reads.problems.slice(0, 5) },
        { failed: 0, empty: 0, problems: [] },
      )
      assert.ok(reads.total - readsBefore > 10, `only ${reads.total - readsBefore} reads ran during the swap`)

      // The live tables now say what the log says, row for row.
      await liveDrained()
      const after = await tablesOf(sql)
      assert.deepEqual(differingKeys(after, truth), { users: [], orders: [], payments: [], inventory: [] })
      assert.equal(after.users.size, loadUsers + laterUsers)
      assert.equal(after.orders.size, (loadUsers + laterUsers) * 4)

      // A start while the swapped rebuild awaits drop-old or rollback is refused too.
      assert.equal((await admin('/start', {})).status, 409)

      // The rollback brings the old tables back, corrupted rows included.
      const rolling = await admin('/rollback', {})
      assert.equal(rolling.status, 202, await rolling.clone().text())
      await stateIs('rolled-back')
      const restored = await tablesOf(sql)
      assert.deepEqual(differingKeys(restored, truth), {
        users: corrupted.users,
        orders: corrupted.orders,
        payments: corrupted.payments,
        inventory: corrupted.inventory,
      })
      assert.equal(restored.users.get('u1')?.split('|')[0], 'corrupt')
      assert.equal(restored.payments.has('o9-1'), false)
      assert.equal(restored.inventory.get('s3'), (truth.inventory.get('s3') ?? 0) + 1000)

      assert.equal((await admin('/abort', {})).status, 200)
      // Stopped before the clean-up deletes its Redis keys, so no heartbeat of its group writes them again.
      assert.equal((await p.stop()).code, 0)
      const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`
      t.diagnostic(
        `${engine}: ` +
          `load ${seconds(loaded - began)}, live drain ${seconds(drained - loaded)}, ` +
          `rebuild to caught-up ${seconds(caughtUp - drained)}, total ${seconds(Date.now() - began)}; ` +
          `${reads.total} reads`,
      )
    })
  })
}
