// What every engine's generations must do, run against a real database by each engine's test file: a shadow
// filled by the same Store code while the live one keeps applying, an exact compare, swap, rollback, dropOld, drop,
// and the refusals (names, a second create, a missing generation), plus a compare at 50,000 rows that pages.
import assert from 'node:assert/strict'
import { describe, it, type TestContext } from 'node:test'
import fc from 'fast-check'
import type { Database } from '../../src/config/index.ts'
import type { Event } from '../../src/events/index.ts'
import {
  createGenerations,
  GenerationError,
  type Generations,
  type SourcedEvent,
  type Store,
  type TableCheck,
} from '../../src/store/index.ts'
import { at, inventoryAdjusted, orderPlaced, paymentSettled, sourced, userCreated } from './events.ts'
import { openStore } from './harness.ts'

/** Plain SQL on the live tables (`'live'`) or on generation `target`, unqualified, outside the Store. */
export type RawSql = (target: string, text: string) => Promise<void>

export interface GenerationEngine {
  fresh(t: TestContext): Promise<Database>
  sql(t: TestContext, database: Database): RawSql
  /** Runs of the generated replays (40 when not given). */
  readonly runs?: number
}

export async function openGenerations(
  t: TestContext,
  database: Database,
  onPage?: (table: string, rows: number) => void,
): Promise<Generations> {
  const generations = await createGenerations(database, {}, { onPage })
  t.after(() => generations.close())
  return generations
}

export async function assertRefused(promise: Promise<unknown>, reason: GenerationError['reason'], message?: RegExp) {
  const error = await promise.then(
    () => assert.fail(`expected a GenerationError (${reason})`),
    (e: unknown) => e,
  )
  assert.ok(error instanceof GenerationError, `expected a GenerationError, got ${String(error)}`)
  assert.equal(error.reason, reason, error.message)
  if (message !== undefined) assert.match(error.message, message)
}

/** A small log touching every table: users, orders (one pending), payments, deltas. */
export function sampleLog(): SourcedEvent[] {
  return sourced(
    userCreated({ userId: 'u1', name: 'Ada' }, { timestamp: at(1) }),
    userCreated({ userId: 'u2', name: 'Bob' }, { timestamp: at(2) }),
    userCreated({ userId: 'u3', name: 'Cy' }, { timestamp: at(3) }),
    orderPlaced({ orderId: 'o1', userId: 'u1', total: 10.5 }, { timestamp: at(4) }),
    orderPlaced({ orderId: 'o2', userId: 'u2', total: 20 }, { timestamp: at(5) }),
    orderPlaced({ orderId: 'o3', userId: 'u9', total: 30 }, { timestamp: at(6) }),
    paymentSettled({ orderId: 'o1', amount: 10.5 }, { timestamp: at(7) }),
    inventoryAdjusted({ sku: 'sku-1', delta: 5 }, { eventId: 'd1', timestamp: at(8) }),
    inventoryAdjusted({ sku: 'sku-1', delta: -2 }, { eventId: 'd2', timestamp: at(9) }),
    inventoryAdjusted({ sku: 'sku-2', delta: 7 }, { eventId: 'd3', timestamp: at(10) }),
  )
}

const byTable = (checks: readonly TableCheck[]) => new Map(checks.map(c => [c.table, c]))

const partitions = 3
const partitionOf = (key: string) => [...key].reduce((h, c) => h + c.charCodeAt(0), 0) % partitions

/** One generated record: its event and the partition it goes to (its key's, or another: a key that moved). */
const record = fc.oneof(
  fc.record({
    kind: fc.constant('user' as const),
    key: fc.nat(2),
    ts: fc.nat(2),
    variant: fc.nat(3),
    moved: fc.nat(4),
  }),
  fc.record({
    kind: fc.constant('order' as const),
    key: fc.nat(2),
    user: fc.nat(3),
    ts: fc.nat(2),
    variant: fc.nat(3),
    moved: fc.nat(4),
  }),
  fc.record({
    kind: fc.constant('payment' as const),
    key: fc.nat(2),
    ts: fc.nat(2),
    variant: fc.nat(3),
    moved: fc.nat(4),
  }),
  // A delta's eventId belongs to one sku, so all its records are on that sku's partition, where the log orders
  // them: a reused eventId is a redelivery or, with another payload, a conflict the first record wins.
  fc.record({
    kind: fc.constant('delta' as const),
    key: fc.nat(1),
    id: fc.nat(3),
    variant: fc.nat(2),
    moved: fc.constant(4),
  }),
)

type Draw = typeof record extends fc.Arbitrary<infer T> ? T : never

/** Per partition, its records in log order with their offsets. */
function partitionLogs(draws: readonly Draw[]): SourcedEvent[][] {
  const logs: SourcedEvent[][] = Array.from({ length: partitions }, () => [])
  draws.forEach((d, i) => {
    let key: string
    let event: Event
    const timestamp = at(d.kind === 'delta' ? 0 : d.ts)
    const eventId = `e${i}`
    switch (d.kind) {
      case 'user':
        key = `u${d.key}`
        event = userCreated({ userId: key, name: `n${d.variant}` }, { eventId, timestamp })
        break
      case 'order':
        key = `o${d.key}`
        event = orderPlaced({ orderId: key, userId: `u${d.user}`, total: d.variant }, { eventId, timestamp })
        break
      case 'payment':
        key = `o${d.key}`
        event = paymentSettled({ orderId: key, amount: d.variant }, { eventId, timestamp })
        break
      case 'delta':
        key = `s${d.key}`
        event = inventoryAdjusted(
          { sku: key, delta: d.variant + 1 },
          { eventId: `d-${key}-${d.id}`, timestamp: at(d.variant) },
        )
        break
    }
    const partition = d.moved < 3 ? d.moved : partitionOf(key)
    const log = logs[partition]!
    log.push({ event, source: { topic: 'events', partition, offset: BigInt(log.length) } })
  })
  return logs
}

/**
 * Applies the partitions' logs as a consumer's lanes would: each batch the next records of one partition, in the
 * order `turns` names the partitions and with its sizes; whatever is left, partition after partition.
 */
async function applyLanes(store: Store, logs: readonly SourcedEvent[][], turns: readonly [number, number][]) {
  const next = logs.map(() => 0)
  const take = async (partition: number, size: number) => {
    const batch = logs[partition]!.slice(next[partition], next[partition]! + size)
    next[partition]! += batch.length
    if (batch.length > 0) await store.applyBatch(batch, [batch.at(-1)!.source])
  }
  for (const [partition, size] of turns) await take(partition, size)
  for (let p = 0; p < partitions; p++) await take(p, logs[p]!.length)
}

const emptyAll = [
  'applied_offsets',
  'event_log',
  'inventory',
  'inventory_ledger',
  'payments',
  'orders',
  'pending_events',
  'users',
]
  .map(t => `DELETE FROM ${t}`)
  .join('; ')

export function runGenerationSuite(name: string, engine: GenerationEngine): void {
  describe(`${name} generations`, () => {
    it('fills a shadow by the Store while the live one applies, and compares them exactly', async t => {
      const database = await engine.fresh(t)
      const live = await openStore(t, database)
      const generations = await openGenerations(t, database)
      await generations.create('rebuild_1')
      const shadow = await generations.open('rebuild_1')
      t.after(() => shadow.close())
      const log = sampleLog()
      // The live store and the shadow apply the same log at the same time, in other batch cuts.
      await Promise.all([
        live.applyBatch(log.slice(0, 4)).then(() => live.applyBatch(log.slice(4))),
        (async () => {
          for (const record of log) await shadow.applyBatch([record])
        })(),
      ])
      assert.equal((await shadow.getUser('u2'))?.name, 'Bob')
      assert.equal((await shadow.getInventory('sku-1'))?.quantity, 3)
      const same = await generations.compare('rebuild_1', { limit: 10 })
      assert.deepEqual(
        same.map(c => c.table),
        ['users', 'orders', 'payments', 'inventory', 'inventory_ledger', 'pending_events'],
      )
      const counts = Object.fromEntries(same.map(c => [c.table, [c.liveRows, c.shadowRows]]))
      assert.deepEqual(counts, {
        users: [3, 3],
        orders: [2, 2],
        payments: [1, 1],
        inventory: [2, 2],
        inventory_ledger: [3, 3],
        pending_events: [1, 1],
      })
      for (const check of same) {
        assert.equal(check.liveChecksum, check.shadowChecksum, check.table)
        assert.deepEqual(check.differing, [], check.table)
      }

      // Hand corruption on both sides, and a wall-clock column that must not count.
      const sql = engine.sql(t, database)
      await sql('live', "UPDATE users SET name = 'Mallory' WHERE user_id = 'u2'")
      await sql('live', "UPDATE users SET updated_at = created_at WHERE user_id = 'u1'")
      await sql('live', "DELETE FROM payments WHERE order_id = 'o1'")
      await sql('rebuild_1', "UPDATE inventory SET quantity = 99 WHERE sku = 'sku-2'")
      await sql('rebuild_1', "DELETE FROM pending_events WHERE event_key = 'o3'")
      const checks = byTable(await generations.compare('rebuild_1', { limit: 10 }))
      const users = checks.get('users')!
      assert.deepEqual(
        users.differing.map(d => [d.key, d.live?.['name'], d.shadow?.['name']]),
        [['u2', 'Mallory', 'Bob']],
      )
      assert.equal(users.differing[0]!.live?.['email'], 'ada@example.com', 'both versions are whole canonical rows')
      assert.notEqual(users.liveChecksum, users.shadowChecksum)
      assert.deepEqual([users.liveRows, users.shadowRows], [3, 3])
      const payments = checks.get('payments')!
      assert.deepEqual(
        payments.differing.map(d => [d.key, d.live, d.shadow?.['amount']]),
        [['o1', null, '10.50']],
      )
      assert.deepEqual([payments.liveRows, payments.shadowRows], [0, 1])
      const inventory = checks.get('inventory')!
      assert.deepEqual(
        inventory.differing.map(d => [d.key, d.live?.['quantity'], d.shadow?.['quantity']]),
        [['sku-2', '7', '99']],
      )
      const pending = checks.get('pending_events')!
      assert.equal(pending.differing.length, 1)
      assert.match(pending.differing[0]!.key, /^events\/0\/\d+$/)
      assert.equal(pending.differing[0]!.shadow, null)
      assert.equal(pending.differing[0]!.live?.['event_key'], 'o3')
      for (const table of ['orders', 'inventory_ledger']) {
        const check = checks.get(table)!
        assert.equal(check.liveChecksum, check.shadowChecksum, table)
        assert.deepEqual(check.differing, [], table)
      }
      // The limit caps the keys reported, not the counting.
      await sql('live', "UPDATE users SET name = 'Eve' WHERE user_id IN ('u1', 'u3')")
      const capped = byTable(await generations.compare('rebuild_1', { limit: 2 })).get('users')!
      assert.deepEqual(
        capped.differing.map(d => d.key),
        ['u1', 'u2'],
      )
      await assertRefused(generations.compare('rebuild_1', { limit: 100_000 }), 'invalid-argument')
      await assertRefused(generations.compare('rebuild_1', { limit: -1 }), 'invalid-argument')
    })

    it('compares equal after one log applied in other batches and other partition interleavings', async t => {
      const database = await engine.fresh(t)
      const live = await openStore(t, database)
      const generations = await openGenerations(t, database)
      await generations.create('replay')
      const shadow = await generations.open('replay')
      t.after(() => shadow.close())
      const sql = engine.sql(t, database)
      const turns = fc.array(fc.tuple(fc.nat(partitions - 1), fc.integer({ min: 1, max: 6 })), { maxLength: 12 })
      await fc.assert(
        fc.asyncProperty(fc.array(record, { minLength: 1, maxLength: 30 }), turns, turns, async (draws, a, b) => {
          await sql('live', emptyAll)
          await sql('replay', emptyAll)
          const logs = partitionLogs(draws)
          await applyLanes(live, logs, a)
          await applyLanes(shadow, logs, b)
          for (const check of await generations.compare('replay', { limit: 5 })) {
            assert.deepEqual(check.differing, [], check.table)
            assert.equal(check.liveChecksum, check.shadowChecksum, check.table)
          }
        }),
        { numRuns: engine.runs ?? 40 },
      )
    })

    it('swaps, rolls back, swaps again and drops the old generation', async t => {
      const database = await engine.fresh(t)
      const live = await openStore(t, database)
      const generations = await openGenerations(t, database)
      await live.applyBatch(sourced(userCreated({ userId: 'u1', name: 'Before' }), userCreated({ userId: 'gone' })))
      await generations.create('gen_a')
      const shadow = await generations.open('gen_a')
      await shadow.applyBatch(
        sourced(
          userCreated({ userId: 'u1', name: 'After' }),
          orderPlaced({ orderId: 'o1', userId: 'u1' }),
          inventoryAdjusted({ sku: 's1', delta: 4 }),
        ),
      )
      await shadow.close()
      const listed = await generations.list()
      assert.deepEqual(
        listed.map(g => [g.name, g.role]),
        [
          ['live', 'live'],
          ['gen_a', 'shadow'],
        ],
      )
      assert.ok(Date.parse(listed[1]?.createdAt ?? '') > Date.now() - 60_000, `created at ${listed[1]?.createdAt}`)

      await generations.swap('gen_a')
      assert.equal((await live.getUser('u1'))?.name, 'After', 'the live store reads the swapped-in rows')
      assert.equal(await live.getUser('gone'), undefined)
      assert.equal((await live.getInventory('s1'))?.quantity, 4)
      assert.deepEqual(
        (await generations.list()).map(g => [g.name, g.role]),
        [
          ['gen_a', 'live'],
          ['gen_a_old', 'old'],
        ],
      )
      // The live store keeps writing into what is live now.
      await live.applyBatch(sourced(userCreated({ userId: 'u2', name: 'Later' })))
      await assertRefused(generations.open('gen_a'), 'not-found')
      await assertRefused(generations.swap('gen_a'), 'not-found')
      await assertRefused(generations.create('gen_a'), 'exists', /gen_a_old/)

      await generations.rollback('gen_a')
      assert.equal((await live.getUser('u1'))?.name, 'Before', 'the old rows are live again')
      assert.equal((await live.getUser('gone'))?.userId, 'gone')
      assert.equal(await live.getInventory('s1'), undefined)
      const back = await generations.open('gen_a')
      t.after(() => back.close())
      assert.equal((await back.getUser('u1'))?.name, 'After', 'the swapped-in rows are the shadow again')
      assert.equal((await back.getUser('u2'))?.name, 'Later', 'with what was written while they were live')
      await back.close()
      assert.deepEqual(
        (await generations.list()).map(g => [g.name, g.role]),
        [
          ['live', 'live'],
          ['gen_a', 'shadow'],
        ],
      )
      await assertRefused(generations.rollback('gen_a'), 'not-found')
      await assertRefused(generations.dropOld('gen_a'), 'not-found')

      await generations.swap('gen_a')
      assert.equal((await live.getUser('u2'))?.name, 'Later')
      await generations.dropOld('gen_a')
      assert.deepEqual(
        (await generations.list()).map(g => [g.name, g.role]),
        [['live', 'live']],
      )
      await assertRefused(generations.rollback('gen_a'), 'not-found')
      assert.equal((await live.getUser('u1'))?.name, 'After', 'dropping the old generation leaves the live one')
      // The name is free again.
      await generations.create('gen_a')
      await generations.drop('gen_a')
    })

    it('drops a shadow, and refuses bad names, a second create and missing generations', async t => {
      const database = await engine.fresh(t)
      await openStore(t, database)
      const generations = await openGenerations(t, database)
      for (const bad of [
        '',
        'Rebuild',
        '1st',
        'a-b',
        'a b',
        'a;drop',
        'public',
        'live',
        'pg_x',
        'x_old',
        'a'.repeat(41),
      ]) {
        await assertRefused(generations.create(bad), 'invalid-name')
        await assertRefused(generations.open(bad), 'invalid-name')
        await assertRefused(generations.swap(bad), 'invalid-name')
        await assertRefused(generations.drop(bad), 'invalid-name')
      }
      await generations.create('rebuild_2')
      await assertRefused(generations.create('rebuild_2'), 'exists', /rebuild_2/)
      const shadow = await generations.open('rebuild_2')
      await shadow.applyBatch(sourced(userCreated({ userId: 'x' })))
      await shadow.close()
      await generations.drop('rebuild_2')
      await assertRefused(generations.open('rebuild_2'), 'not-found')
      await assertRefused(generations.drop('rebuild_2'), 'not-found')
      await assertRefused(generations.compare('rebuild_2', { limit: 1 }), 'not-found')
      await assertRefused(generations.swap('rebuild_2'), 'not-found')
      assert.deepEqual(
        (await generations.list()).map(g => g.role),
        ['live'],
      )
      // Created again from nothing: empty. Of two creates at once, one is refused.
      const both = await Promise.allSettled([generations.create('rebuild_2'), generations.create('rebuild_2')])
      assert.deepEqual(both.map(r => r.status).sort(), ['fulfilled', 'rejected'])
      const refusal = both.find(r => r.status === 'rejected')
      assert.ok(
        refusal?.status === 'rejected' &&
          refusal.reason instanceof GenerationError &&
          refusal.reason.reason === 'exists',
        String(refusal?.status === 'rejected' ? refusal.reason : ''),
      )
      const again = await generations.open('rebuild_2')
      t.after(() => again.close())
      assert.equal(await again.getUser('x'), undefined)
    })

    it('refuses to swap generations of different schema versions', async t => {
      const database = await engine.fresh(t)
      await openStore(t, database)
      const generations = await openGenerations(t, database)
      await generations.create('behind')
      await engine.sql(t, database)('behind', 'DELETE FROM schema_migrations WHERE version = 5')
      await assertRefused(generations.swap('behind'), 'not-ready', /schema versions/)
      assert.deepEqual(
        (await generations.list()).map(g => [g.name, g.role]),
        [
          ['live', 'live'],
          ['behind', 'shadow'],
        ],
        'nothing moved',
      )
    })

    it('compares 50,000 rows a page at a time and finds the keys that differ', async t => {
      const database = await engine.fresh(t)
      const live = await openStore(t, database)
      const pages: number[] = []
      const generations = await openGenerations(t, database, (table, rows) => {
        if (table === 'users') pages.push(rows)
      })
      await generations.create('big')
      const shadow = await generations.open('big')
      t.after(() => shadow.close())
      const total = 50_000
      const batch = 2000
      for (let from = 0; from < total; from += batch) {
        const events = sourced(
          ...Array.from({ length: batch }, (_, i) =>
            userCreated({ userId: `user-${String(from + i).padStart(6, '0')}`, name: `n${from + i}` }),
          ),
        )
        // The shadow misses one key, the live one another, and one key differs, each on a page boundary's side.
        await live.applyBatch(events.filter(e => (e.event.data as { userId: string }).userId !== 'user-020000'))
        await shadow.applyBatch(events.filter(e => (e.event.data as { userId: string }).userId !== 'user-031999'))
      }
      await engine.sql(t, database)('big', "UPDATE users SET email = 'x@example.com' WHERE user_id = 'user-045000'")
      const users = byTable(await generations.compare('big', { limit: 10 })).get('users')!
      assert.deepEqual([users.liveRows, users.shadowRows], [total - 1, total - 1])
      assert.deepEqual(
        users.differing.map(d => [d.key, d.live === null, d.shadow === null]),
        [
          ['user-020000', true, false],
          ['user-031999', false, true],
          ['user-045000', false, false],
        ],
      )
      assert.ok(pages.length >= total / 1000, `users were read in ${pages.length} pages`)
      assert.ok(Math.max(...pages) <= 2000, `a page held at most 2 × 1,000 rows (${Math.max(...pages)})`)
      t.diagnostic(`users: ${pages.length} pages, at most ${Math.max(...pages)} rows each`)
    })
  })
}
