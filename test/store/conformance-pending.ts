// Pending events, last-writer-wins by Kafka position and reused delta eventIds: the rules that keep the
// projection exact when records of one key, or a child and its parent, reach the store out of order.
import assert from 'node:assert/strict'
import { describe, it, type TestContext } from 'node:test'
import type { Event } from '../../src/events/index.ts'
import type { SourcedEvent, Store } from '../../src/store/index.ts'
import { at, inventoryAdjusted, orderPlaced, paymentSettled, sourced, userCreated } from './events.ts'

/** Events at explicit offsets of partition 0, to replay records in an order other than their offsets'. */
const at0 = (offset: number, event: Event): SourcedEvent => ({
  event,
  source: { topic: 'events', partition: 0, offset: BigInt(offset) },
})

export function runPendingConformance(open: (t: TestContext) => Promise<Store>): void {
  describe('an order whose user is not stored', () => {
    it('waits as pending while the rest of its batch is applied', async t => {
      const store = await open(t)
      const result = await store.applyBatch(
        sourced(
          userCreated({ userId: 'u2' }),
          orderPlaced({ orderId: 'fine', userId: 'u2' }),
          orderPlaced({ orderId: 'orphan', userId: 'ghost' }),
          paymentSettled({ orderId: 'orphan' }),
          inventoryAdjusted({ sku: 'a', delta: 5 }),
        ),
      )
      assert.equal(result.pending, 1)
      assert.equal(result.upserts, 3)
      assert.equal(await store.getOrder('orphan'), undefined)
      assert.equal((await store.getOrder('fine'))?.userId, 'u2')
      assert.equal((await store.getPayment('orphan'))?.status, 'settled')
      assert.equal(await store.getOrderWithPayment('orphan'), undefined, 'a payment alone is no order')
      assert.equal((await store.getInventory('a'))?.quantity, 5)
      const stats = await store.pendingStats()
      assert.equal(stats.count, 1)
      assert.ok(stats.oldestSince !== undefined && Date.now() - Date.parse(stats.oldestSince) < 60_000)
    })

    it('is applied in the transaction that stores its user, and stored once however often it is redelivered', async t => {
      const store = await open(t)
      const order = sourced(orderPlaced({ orderId: 'o1', userId: 'late', total: 10 }))
      await store.applyBatch(order)
      await store.applyBatch(order)
      assert.equal((await store.pendingStats()).count, 1)
      const result = await store.applyBatch(sourced(userCreated({ userId: 'late' })))
      assert.equal(result.resolved, 1)
      assert.deepEqual([(await store.getOrder('o1'))?.userId, (await store.getOrder('o1'))?.total], ['late', 10])
      assert.deepEqual(await store.pendingStats(), { count: 0, capped: false, oldestSince: undefined })
      assert.equal((await store.getRecentOrders('late', 5)).length, 1)
    })

    it('never overwrites a newer copy of its order when its user finally arrives', async t => {
      const store = await open(t)
      await store.applyBatch(sourced(userCreated({ userId: 'u-now' })))
      // Offset 10 waits for its user; offset 11, the same eventId re-sent with corrected fields and the same
      // timestamp, is applied at once (its user exists). When the first user arrives, the first copy loses.
      await store.applyBatch([
        at0(10, orderPlaced({ orderId: 'o', userId: 'u-later', total: 1 }, { eventId: 'e', timestamp: at(5) })),
      ])
      await store.applyBatch([
        at0(11, orderPlaced({ orderId: 'o', userId: 'u-now', total: 2 }, { eventId: 'e', timestamp: at(5) })),
      ])
      await store.applyBatch([at0(12, userCreated({ userId: 'u-later' }))])
      assert.deepEqual([(await store.getOrder('o'))?.userId, (await store.getOrder('o'))?.total], ['u-now', 2])
      assert.equal((await store.pendingStats()).count, 0)
    })

    it('claims expired pending events oldest first, drops superseded ones, and removes what it is told', async t => {
      const store = await open(t)
      await store.applyBatch(sourced(userCreated({ userId: 'here' })))
      await store.applyBatch([at0(30, orderPlaced({ orderId: 'x', userId: 'never' }, { timestamp: at(1) }))])
      await store.applyBatch([at0(31, orderPlaced({ orderId: 'y', userId: 'never' }, { timestamp: at(1) }))])
      await store.applyBatch([at0(32, orderPlaced({ orderId: 'y', userId: 'here' }, { timestamp: at(2) }))])
      assert.deepEqual(await store.claimExpired(new Date(Date.now() - 60_000).toISOString(), 10), [])
      const expired = await store.claimExpired(new Date(Date.now() + 60_000).toISOString(), 10)
      assert.deepEqual(
        expired.map(p => [p.key, p.superseded, p.parentTable, p.parentKey, p.constraint, p.type]),
        [
          ['x', false, 'users', 'never', 'FK_Orders_Users', 'OrderPlaced'],
          ['y', true, 'users', 'never', 'FK_Orders_Users', 'OrderPlaced'],
        ],
      )
      assert.equal((JSON.parse(expired[0]!.payload) as Event).eventId, expired[0]!.eventId)
      assert.equal(expired[0]!.source.offset, 30n)
      // The superseded row is gone; the claimed one waits for its DLQ push, and a sweep after a crash gets it again.
      assert.equal((await store.pendingStats()).count, 1)
      const again = await store.claimExpired(new Date(Date.now() + 60_000).toISOString(), 10)
      assert.deepEqual(
        again.map(p => [p.key, p.superseded]),
        [['x', false]],
      )
      await store.removePending(expired.map(p => p.source))
      assert.equal((await store.pendingStats()).count, 0)
    })

    it('never applies an order its expiry claimed, even when its user arrives before the DLQ push', async t => {
      const store = await open(t)
      await store.applyBatch([at0(50, orderPlaced({ orderId: 'late', userId: 'slow' }, { timestamp: at(1) }))])
      const claimed = await store.claimExpired(new Date(Date.now() + 60_000).toISOString(), 10)
      assert.deepEqual(
        claimed.map(p => [p.key, p.superseded]),
        [['late', false]],
      )
      const result = await store.applyBatch([at0(51, userCreated({ userId: 'slow' }))])
      assert.equal(result.resolved, 0)
      assert.equal(await store.resolvePending(10), 0)
      assert.equal(await store.getOrder('late'), undefined, 'dead-lettered, so not applied too')
    })

    it('applies an order whose user arrived before the sweep could claim it, and claims nothing', async t => {
      const store = await open(t)
      await store.applyBatch([at0(60, orderPlaced({ orderId: 'saved', userId: 'just-in-time' }, { timestamp: at(1) }))])
      await store.applyBatch([at0(61, userCreated({ userId: 'just-in-time' }))])
      assert.deepEqual(await store.claimExpired(new Date(Date.now() + 60_000).toISOString(), 10), [])
      assert.equal((await store.getOrder('saved'))?.userId, 'just-in-time')
    })
  })

  describe('last writer wins by (timestamp, Kafka offset)', () => {
    it('keeps the record with the greater offset when timestamps are equal, whatever order they are applied in', async t => {
      const store = await open(t)
      await store.applyBatch([at0(41, userCreated({ userId: 'lww', name: 'second' }, { timestamp: at(1) }))])
      await store.applyBatch([at0(40, userCreated({ userId: 'lww', name: 'first' }, { timestamp: at(1) }))])
      assert.equal((await store.getUser('lww'))?.name, 'second')
      await store.applyBatch([
        at0(43, paymentSettled({ orderId: 'p', status: 'b' }, { timestamp: at(1) })),
        at0(42, paymentSettled({ orderId: 'p', status: 'a' }, { timestamp: at(1) })),
      ])
      assert.equal((await store.getPayment('p'))?.status, 'b')
    })
  })

  describe('a delta eventId reused with another payload', () => {
    it('is refused on its own as EVENT_ID_CONFLICT naming both digests; identical redeliveries stay silent', async t => {
      const store = await open(t)
      await store.applyBatch(sourced(inventoryAdjusted({ sku: 's', delta: 3 }, { eventId: 'd1' })))
      const result = await store.applyBatch(
        sourced(
          inventoryAdjusted({ sku: 's', delta: 3 }, { eventId: 'd1' }),
          inventoryAdjusted({ sku: 's', delta: 30 }, { eventId: 'd1' }),
          inventoryAdjusted({ sku: 's', delta: 2 }, { eventId: 'd2' }),
          inventoryAdjusted({ sku: 's', delta: 20 }, { eventId: 'd2' }),
          userCreated({ userId: 'with-conflicts' }),
        ),
      )
      assert.deepEqual(
        result.conflicts.map(c => [c.position, c.error.code, c.error.retryable]),
        [
          [3, 'EVENT_ID_CONFLICT', false],
          [1, 'EVENT_ID_CONFLICT', false],
        ].sort((a, b) => Number(a[0]) - Number(b[0])),
      )
      for (const c of result.conflicts) assert.match(c.error.message, /digest [0-9a-f]{16}.*digest [0-9a-f]{16}/)
      assert.equal(result.deltasApplied, 1)
      assert.equal((await store.getInventory('s'))?.quantity, 5)
      assert.ok(await store.getUser('with-conflicts'))
    })
  })

  describe('the projection is a function of the log', () => {
    /** A record of `partition` at `offset`; with `origin`, a redriven copy of the record there. */
    const rec = (partition: number, offset: number, event: Event, origin?: [number, number]): SourcedEvent => ({
      event,
      source: { topic: 'events', partition, offset: BigInt(offset) },
      ...(origin === undefined ? {} : { origin: { topic: 'events', partition: origin[0], offset: BigInt(origin[1]) } }),
    })

    it('judges a reused delta eventId against the ledger, not against the first record of its batch', async t => {
      const store = await open(t)
      const p1 = (offset: number) => rec(0, offset, inventoryAdjusted({ sku: 'x', delta: 1 }, { eventId: 'X' }))
      const p2 = (offset: number) => rec(0, offset, inventoryAdjusted({ sku: 'x', delta: 2 }, { eventId: 'X' }))
      await store.applyBatch([p1(1)])
      // In one batch or two, the same two records: P2 conflicts with the applied P1, P1 is a redelivery.
      const result = await store.applyBatch([p2(2), p1(3)])
      assert.deepEqual(
        result.conflicts.map(c => [c.position, c.error.code]),
        [[0, 'EVENT_ID_CONFLICT']],
      )
      assert.equal(result.deltasDuplicate, 1)
      assert.equal((await store.getInventory('x'))?.quantity, 1)
    })

    it('stores the older order version whose user exists, and keeps the newer one waiting, in one batch', async t => {
      const store = await open(t)
      await store.applyBatch([rec(0, 1, userCreated({ userId: 'here' }))])
      const result = await store.applyBatch([
        rec(1, 10, orderPlaced({ orderId: 'o', userId: 'here', total: 1 }, { timestamp: at(1) })),
        rec(1, 11, orderPlaced({ orderId: 'o', userId: 'not-yet', total: 2 }, { timestamp: at(2) })),
      ])
      assert.deepEqual(result.pendingPositions, [1])
      assert.equal((await store.getOrder('o'))?.total, 1)
      await store.applyBatch([rec(0, 2, userCreated({ userId: 'not-yet' }))])
      assert.deepEqual([(await store.getOrder('o'))?.userId, (await store.getOrder('o'))?.total], ['not-yet', 2])
    })

    it('never lets a redriven copy of an older version replace the correction that followed it', async t => {
      const store = await open(t)
      await store.applyBatch([rec(0, 1, userCreated({ userId: 'u' }))])
      // v1 at offset 5 and its correction v2 at offset 9: same eventId and timestamp. v1 is redriven much later
      // (offset 40) and carries its original position, so it loses to v2 as it did the first time.
      const v1 = orderPlaced({ orderId: 'o', userId: 'u', total: 1 }, { eventId: 'e', timestamp: at(1) })
      const v2 = orderPlaced({ orderId: 'o', userId: 'u', total: 2 }, { eventId: 'e', timestamp: at(1) })
      await store.applyBatch([rec(0, 9, v2)])
      const result = await store.applyBatch([rec(0, 40, v1, [0, 5])])
      assert.equal(result.stale, 1)
      assert.equal((await store.getOrder('o'))?.total, 2)
      // A copy whose original came after the stored version does replace it.
      await store.applyBatch([rec(2, 3, { ...v1, data: { ...v1.data, total: 3 } }, [0, 12])])
      assert.equal((await store.getOrder('o'))?.total, 3)
    })

    it('keeps a redriven copy waiting for its user at its original position', async t => {
      const store = await open(t)
      const v1 = orderPlaced({ orderId: 'o', userId: 'late', total: 1 }, { eventId: 'e', timestamp: at(1) })
      const v2 = orderPlaced({ orderId: 'o', userId: 'late', total: 2 }, { eventId: 'e', timestamp: at(1) })
      await store.applyBatch([rec(0, 40, v1, [0, 5]), rec(0, 41, v2)])
      assert.equal((await store.pendingStats()).count, 2)
      await store.applyBatch([rec(1, 1, userCreated({ userId: 'late' }))])
      assert.equal((await store.getOrder('o'))?.total, 2)
    })

    it('decides equal timestamps across partitions by partition, whatever order they are applied in', async t => {
      for (const order of [
        [0, 1],
        [1, 0],
      ]) {
        const store = await open(t)
        // The key moved from partition 2 to partition 0 (a partition-count change): offsets are not comparable.
        const records = [
          rec(2, 3, userCreated({ userId: 'moved', name: 'on two' }, { timestamp: at(1) })),
          rec(0, 900, userCreated({ userId: 'moved', name: 'on zero' }, { timestamp: at(1) })),
        ]
        for (const i of order) await store.applyBatch([records[i]!])
        assert.equal((await store.getUser('moved'))?.name, 'on two')
      }
    })
  })
}
