// The behaviour every Store engine must show, run against a real database by each engine's test file.
import assert from 'node:assert/strict'
import { describe, it, type TestContext } from 'node:test'
import { readSourceOf } from '../../src/store/index.ts'
import { runBulkConformance } from './conformance-bulk.ts'
import { runDeltaAndFailureConformance } from './conformance-failures.ts'
import { runPendingConformance } from './conformance-pending.ts'
import { runStatusConformance } from './conformance-status.ts'
import { at, inventoryAdjusted, orderPlaced, paymentSettled, sourced, userCreated } from './events.ts'
import { type FreshDatabase, openStore, outcome } from './harness.ts'

export type { FreshDatabase } from './harness.ts'

export function runConformance(name: string, fresh: FreshDatabase): void {
  describe(`${name} store`, () => {
    const open = async (t: TestContext) => openStore(t, await fresh(t))

    describe('migrate', () => {
      it('is idempotent', async t => {
        const store = await open(t)
        await store.migrate()
        await store.migrate()
        const result = await store.applyBatch(sourced(userCreated({ userId: 'u1' })))
        assert.equal(result.upserts, 1)
      })

      it('is safe from several stores at once', async t => {
        const database = await fresh(t)
        const stores = await Promise.all([1, 2, 3].map(() => openStore(t, database, false)))
        await Promise.all(stores.map(s => s.migrate()))
        await Promise.all(stores.map(s => s.migrate()))
        await stores[0]!.applyBatch(sourced(userCreated({ userId: 'u1' })))
        assert.equal((await stores[2]!.getUser('u1'))?.userId, 'u1')
      })
    })

    describe('state events', () => {
      it('upserts and reads back every type with exact values', async t => {
        const store = await open(t)
        const result = await store.applyBatch(
          sourced(
            userCreated({ userId: 'u1', name: 'Ada Lovelace', email: 'ada@example.com', createdAt: at(1) }),
            orderPlaced({ orderId: 'o1', userId: 'u1', total: 123.45, status: 'shipped', createdAt: at(2) }),
            orderPlaced({ orderId: 'o2', userId: 'u1', total: 0.1, createdAt: at(3) }),
            orderPlaced({ orderId: 'o3', userId: 'u1', total: 9_999_999_999_999.99, createdAt: at(4) }),
            paymentSettled({ orderId: 'o1', status: 'settled', amount: -0.07, settledAt: at(5) }),
            inventoryAdjusted({ sku: 'sku-1', delta: 7, reason: 'restock', adjustedAt: at(6) }),
          ),
        )
        assert.deepEqual(result, outcome({ upserts: 5, stale: 0, deltasApplied: 1, deltasDuplicate: 0 }))

        const user = await store.getUser('u1')
        assert.ok(user)
        assert.deepEqual(
          { ...user, updatedAt: '' },
          {
            userId: 'u1',
            name: 'Ada Lovelace',
            email: 'ada@example.com',
            createdAt: at(1),
            updatedAt: '',
          },
        )
        assert.match(user.updatedAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
        assert.ok(Math.abs(Date.parse(user.updatedAt) - Date.now()) < 60_000, 'updatedAt is the time of the write')

        const o1 = await store.getOrder('o1')
        assert.deepEqual(
          { ...o1, updatedAt: '' },
          {
            orderId: 'o1',
            userId: 'u1',
            total: 123.45,
            status: 'shipped',
            createdAt: at(2),
            updatedAt: '',
          },
        )
        assert.equal((await store.getOrder('o2'))?.total, 0.1)
        assert.equal((await store.getOrder('o2'))?.status, 'placed', 'status defaults to placed')
        assert.equal((await store.getOrder('o3'))?.total, 9_999_999_999_999.99)

        const payment = await store.getPayment('o1')
        assert.deepEqual(
          { ...payment, updatedAt: '' },
          {
            orderId: 'o1',
            status: 'settled',
            amount: -0.07,
            settledAt: at(5),
            updatedAt: '',
          },
        )
        assert.deepEqual(await store.getInventory('sku-1'), { sku: 'sku-1', quantity: 7, lastAdjustedAt: at(6) })

        // One read of both, batched as the read API asks: the same rows as the two lookups, null without a payment.
        const [both, alone, none] = await Promise.all([
          store.getOrderWithPayment('o1'),
          store.getOrderWithPayment('o2'),
          store.getOrderWithPayment('none'),
        ])
        assert.deepEqual(both, { order: o1, payment })
        assert.deepEqual(alone, { order: await store.getOrder('o2'), payment: null })
        assert.equal(none, undefined)
      })

      it('tells where each row read by key came from (its partition and offset), beside the object', async t => {
        const store = await open(t)
        const events = [
          userCreated({ userId: 'u1' }),
          orderPlaced({ orderId: 'o1', userId: 'u1' }),
          paymentSettled({ orderId: 'o1' }),
          inventoryAdjusted({ sku: 'sku-1', delta: 1 }),
        ]
        // Offsets come back as decimal text, past 2^32 too.
        const batch = events.map((event, i) => ({
          event,
          source: { topic: 'events', partition: i, offset: 1_099_511_627_776n + BigInt(i) },
        }))
        await store.applyBatch(batch)
        const where = (value: object | null | undefined) => (value ? readSourceOf(value) : undefined)
        const [user, withPayment, inventory] = await Promise.all([
          store.getUser('u1'),
          store.getOrderWithPayment('o1'),
          store.getInventory('sku-1'),
        ])
        assert.deepEqual(where(user), { partition: 0, offset: '1099511627776' })
        assert.deepEqual(where(withPayment?.order), { partition: 1, offset: '1099511627777' })
        assert.deepEqual(where(withPayment?.payment), { partition: 2, offset: '1099511627778' })
        assert.deepEqual(where(inventory), { partition: 3, offset: '1099511627779' })
        assert.equal(Object.keys(user ?? {}).includes('source'), false, 'the object keeps its fields')
      })

      it('returns undefined for what is absent, and nothing for an empty batch', async t => {
        const store = await open(t)
        assert.deepEqual(
          await store.applyBatch([]),
          outcome({ upserts: 0, stale: 0, deltasApplied: 0, deltasDuplicate: 0 }),
        )
        assert.equal(await store.getUser('nobody'), undefined)
        assert.equal(await store.getOrder('none'), undefined)
        assert.equal(await store.getPayment('none'), undefined)
        assert.equal(await store.getInventory('none'), undefined)
        assert.deepEqual(await store.getRecentOrders('nobody', 5), [])
      })

      it('updates the row when the same eventId arrives again with changed fields', async t => {
        const store = await open(t)
        await store.applyBatch(sourced(userCreated({ userId: 'u1', name: 'First' }, { eventId: 'same' })))
        const again = await store.applyBatch(
          sourced(userCreated({ userId: 'u1', name: 'Changed' }, { eventId: 'same' })),
        )
        assert.deepEqual(again, outcome({ upserts: 1, stale: 0, deltasApplied: 0, deltasDuplicate: 0 }))
        assert.equal((await store.getUser('u1'))?.name, 'Changed')

        // Within one batch too: the later record is the one kept.
        await store.applyBatch(
          sourced(
            userCreated({ userId: 'u2', name: 'One' }, { eventId: 'dup' }),
            userCreated({ userId: 'u2', name: 'Two' }, { eventId: 'dup' }),
          ),
        )
        assert.equal((await store.getUser('u2'))?.name, 'Two')
      })

      it('never lets an older event overwrite a newer one, across batches', async t => {
        const store = await open(t)
        await store.applyBatch(
          sourced(
            userCreated({ userId: 'u1', name: 'New' }, { timestamp: at(10) }),
            orderPlaced({ orderId: 'o1', userId: 'u1', total: 20, status: 'shipped' }, { timestamp: at(10) }),
            paymentSettled({ orderId: 'o1', status: 'refunded', amount: 20 }, { timestamp: at(10) }),
          ),
        )
        const stale = await store.applyBatch(
          sourced(
            userCreated({ userId: 'u1', name: 'Old' }, { timestamp: at(9) }),
            orderPlaced({ orderId: 'o1', userId: 'u1', total: 10, status: 'placed' }, { timestamp: at(9) }),
            paymentSettled({ orderId: 'o1', status: 'settled', amount: 10 }, { timestamp: at(9) }),
          ),
        )
        assert.deepEqual(stale, outcome({ upserts: 0, stale: 3, deltasApplied: 0, deltasDuplicate: 0 }))
        assert.equal((await store.getUser('u1'))?.name, 'New')
        assert.equal((await store.getOrder('o1'))?.total, 20)
        assert.equal((await store.getOrder('o1'))?.status, 'shipped')
        assert.equal((await store.getPayment('o1'))?.status, 'refunded')
      })

      it('never lets an older event overwrite a newer one, within a batch', async t => {
        const store = await open(t)
        const result = await store.applyBatch(
          sourced(
            userCreated({ userId: 'u1', name: 'New' }, { timestamp: at(10) }),
            userCreated({ userId: 'u1', name: 'Old' }, { timestamp: at(9) }),
            paymentSettled({ orderId: 'p1', status: 'refunded' }, { timestamp: at(10) }),
            paymentSettled({ orderId: 'p1', status: 'settled' }, { timestamp: at(5) }),
          ),
        )
        assert.deepEqual(result, outcome({ upserts: 2, stale: 2, deltasApplied: 0, deltasDuplicate: 0 }))
        assert.equal((await store.getUser('u1'))?.name, 'New')
        assert.equal((await store.getPayment('p1'))?.status, 'refunded')
      })

      it('lets the later record win when timestamps are equal', async t => {
        const store = await open(t)
        await store.applyBatch(
          sourced(
            userCreated({ userId: 'u1', name: 'A' }, { timestamp: at(1) }),
            userCreated({ userId: 'u1', name: 'B' }, { timestamp: at(1) }),
          ),
        )
        assert.equal((await store.getUser('u1'))?.name, 'B')
        await store.applyBatch(sourced(userCreated({ userId: 'u1', name: 'C' }, { timestamp: at(1) })))
        assert.equal((await store.getUser('u1'))?.name, 'C')
      })

      it('applies an order whose user comes later in the same batch', async t => {
        const store = await open(t)
        const result = await store.applyBatch(
          sourced(orderPlaced({ orderId: 'o1', userId: 'late-user' }), userCreated({ userId: 'late-user' })),
        )
        assert.equal(result.upserts, 2)
        assert.equal((await store.getOrder('o1'))?.userId, 'late-user')
      })

      it('returns the newest orders of a user by createdAt, newest first', async t => {
        const store = await open(t)
        const seconds = [30, 10, 70, 50, 20, 60, 40]
        await store.applyBatch(
          sourced(
            userCreated({ userId: 'u1' }),
            userCreated({ userId: 'u2' }),
            ...seconds.map(s => orderPlaced({ orderId: `o-${s}`, userId: 'u1', createdAt: at(s) })),
            orderPlaced({ orderId: 'other', userId: 'u2', createdAt: at(100) }),
          ),
        )
        const recent = await store.getRecentOrders('u1', 5)
        assert.deepEqual(
          recent.map(o => o.orderId),
          ['o-70', 'o-60', 'o-50', 'o-40', 'o-30'],
        )
        assert.equal(recent[0]?.createdAt, at(70))
        assert.equal((await store.getRecentOrders('u1', 100)).length, 7)
        assert.deepEqual(await store.getRecentOrders('u1', 0), [])
      })

      it('stores quotes, SQL and unicode literally', async t => {
        const store = await open(t)
        const nasty = [
          `Robert'); DROP TABLE users;--`,
          `"double" 'single' \`back\` \\backslash\\ ?1 $1 %s`,
          'Zoë 日本語 🎉 مرحبا e\u0301 \t tab \n newline',
        ]
        await store.applyBatch(
          sourced(
            ...nasty.map((name, i) => userCreated({ userId: `u'${i}"`, name, email: name })),
            orderPlaced({ orderId: `o'1;--`, userId: `u'0"`, status: `it's "done"` }),
            inventoryAdjusted({ sku: `sku'); DELETE FROM inventory;--`, delta: 3, reason: nasty[2] }),
          ),
        )
        for (const [i, name] of nasty.entries()) {
          const user = await store.getUser(`u'${i}"`)
          assert.equal(user?.name, name)
          assert.equal(user?.email, name)
        }
        assert.equal((await store.getOrder(`o'1;--`))?.status, `it's "done"`)
        assert.equal((await store.getInventory(`sku'); DELETE FROM inventory;--`))?.quantity, 3)
        assert.equal(await store.getUser('u1'), undefined)
      })
    })

    describe('lookups of many keys at once', () => {
      it('answers each key of the same turn with its own row, whatever characters the keys hold', async t => {
        const store = await open(t)
        const ids = [
          'NULL',
          'a,b',
          '{x}',
          'q"uote',
          'back\\slash',
          'sp ace',

          ...Array.from({ length: 40 }, (_, i) => `k${i}`),
        ]
        await store.applyBatch(sourced(...ids.map(userId => userCreated({ userId, name: `name of ${userId}` }))))
        const asked = [...ids, 'absent', 'k']
        const users = await Promise.all(asked.map(id => store.getUser(id)))
        for (const [i, id] of asked.entries()) {
          assert.equal(users[i]?.name, ids.includes(id) ? `name of ${id}` : undefined, id)
        }
      })
    })

    runDeltaAndFailureConformance(fresh)
    runPendingConformance(open)
    runStatusConformance(open)
    runBulkConformance(fresh)
  })
}
