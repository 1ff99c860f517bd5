// What an event's status and read-your-own-writes rest on, in every engine: applied_offsets marked in the batch's
// transaction (never moved back), the event log and the facts the status is decided from, and its pruning.
import assert from 'node:assert/strict'
import { describe, it, type TestContext } from 'node:test'
import { decideStatus } from '../../src/event-status/status.ts'
import type { Event } from '../../src/events/index.ts'
import type { SourcedEvent, Store } from '../../src/store/index.ts'
import { at, inventoryAdjusted, orderPlaced, paymentSettled, userCreated } from './events.ts'

const on = (partition: number, offset: number, event: Event, topic = 'events'): SourcedEvent => ({
  event,
  source: { topic, partition, offset: BigInt(offset) },
})

async function statusOf(store: Store, eventId: string) {
  return decideStatus(eventId, await store.eventFacts(eventId), [])
}

export function runStatusConformance(open: (t: TestContext) => Promise<Store>): void {
  describe('applied offsets', () => {
    it('keep the greatest offset per topic and partition, with or without events', async t => {
      const store = await open(t)
      assert.deepEqual(await store.appliedOffsets('events'), new Map())
      const batch = [on(0, 7, userCreated({ userId: 'u1' })), on(1, 3, userCreated({ userId: 'u2' }))]
      await store.applyBatch(
        batch,
        batch.map(e => e.source),
      )
      assert.deepEqual(
        await store.appliedOffsets('events'),
        new Map([
          [0, 7n],
          [1, 3n],
        ]),
      )
      // A batch of a revoked partition finishing late marks a lower offset: the mark stays where it was.
      const late = [on(0, 5, userCreated({ userId: 'u3' }))]
      await store.applyBatch(
        late,
        late.map(e => e.source),
      )
      // Marks alone (the tail of a batch that was dead-lettered), and several positions of one partition.
      await store.applyBatch(
        [],
        [1, 9, 4].map(offset => ({ topic: 'events', partition: 1, offset: BigInt(offset) })),
      )
      await store.applyBatch([], [{ topic: 'other', partition: 0, offset: 2n ** 40n }])
      assert.deepEqual(
        await store.appliedOffsets('events'),
        new Map([
          [0, 7n],
          [1, 9n],
        ]),
      )
      assert.deepEqual(await store.appliedOffsets('other'), new Map([[0, 2n ** 40n]]))
      // Without marks, nothing moves.
      await store.applyBatch([on(0, 100, userCreated({ userId: 'u4' }))])
      assert.equal((await store.appliedOffsets('events')).get(0), 7n)
    })

    it('roll back with the batch that failed', async t => {
      const store = await open(t)
      const bad = [on(2, 40, orderPlaced({ orderId: 'o1', userId: 'u1' })), on(2, 41, userCreated({ userId: 'u1' }))]
      // An order whose user comes later in the same batch is fine; an out-of-range value is not.
      const failing = [
        ...bad,
        on(2, 42, { ...userCreated({ userId: 'u9' }), data: { userId: 'u9', name: 'x'.repeat(300) } } as Event),
      ]
      await assert.rejects(
        store.applyBatch(
          failing,
          failing.map(e => e.source),
        ),
      )
      assert.deepEqual(await store.appliedOffsets('events'), new Map())
    })
  })

  describe('event facts', () => {
    it('tell applied, superseded (in the batch, by a later batch, or arriving stale), pending and deltas', async t => {
      const store = await open(t)
      await store.applyBatch([
        on(0, 1, userCreated({ userId: 'u1', name: 'First' }, { eventId: 'u1-a', timestamp: at(1) })),
        on(0, 2, userCreated({ userId: 'u1', name: 'Second' }, { eventId: 'u1-b', timestamp: at(2) })),
        on(1, 1, orderPlaced({ orderId: 'o1', userId: 'u1' }, { eventId: 'o1-a', timestamp: at(1) })),
        on(1, 2, orderPlaced({ orderId: 'o2', userId: 'ghost' }, { eventId: 'o2-a', timestamp: at(1) })),
        on(2, 1, paymentSettled({ orderId: 'o1' }, { eventId: 'p1-a', timestamp: at(5) })),
        on(2, 2, inventoryAdjusted({ sku: 's1', delta: 4 }, { eventId: 'd1' })),
      ])
      await store.applyBatch([
        on(0, 3, userCreated({ userId: 'u1', name: 'Third' }, { eventId: 'u1-c', timestamp: at(3) })),
        // Older than the stored payment: it never holds the row.
        on(2, 3, paymentSettled({ orderId: 'o1' }, { eventId: 'p1-old', timestamp: at(4) })),
      ])

      const applied = await statusOf(store, 'u1-c')
      assert.equal(applied?.status, 'applied')
      assert.deepEqual(applied?.status === 'applied' && [applied.table, applied.key, applied.position], [
        'users',
        'u1',
        { topic: 'events', partition: 0, offset: '3' },
      ])
      for (const [loser, table] of [
        ['u1-a', 'users'],
        ['u1-b', 'users'],
        ['p1-old', 'payments'],
      ] as const) {
        const s = await statusOf(store, loser)
        assert.equal(s?.status, 'superseded', loser)
        if (s?.status !== 'superseded') continue
        assert.equal(s.table, table)
        assert.equal(s.by.eventId, table === 'users' ? 'u1-c' : 'p1-a', loser)
      }
      const superseded = await statusOf(store, 'u1-a')
      assert.deepEqual(superseded?.status === 'superseded' && [superseded.position, superseded.by.position], [
        { topic: 'events', partition: 0, offset: '1' },
        { topic: 'events', partition: 0, offset: '3' },
      ])
      assert.equal((await statusOf(store, 'o1-a'))?.status, 'applied')
      assert.equal((await statusOf(store, 'p1-a'))?.status, 'applied')

      const pending = await statusOf(store, 'o2-a')
      assert.equal(pending?.status, 'pending')
      assert.deepEqual(pending?.status === 'pending' && [pending.key, pending.waitingFor, pending.records], [
        'o2',
        { table: 'users', key: 'ghost', constraint: 'FK_Orders_Users' },
        1,
      ])
      const delta = await statusOf(store, 'd1')
      assert.deepEqual(delta?.status === 'applied' && [delta.type, delta.table, delta.key, delta.position.offset], [
        'InventoryAdjusted',
        'inventory',
        's1',
        '2',
      ])
      assert.deepEqual(await statusOf(store, 'never-sent'), { eventId: 'never-sent', status: 'unknown' })

      // The user arrives: the pending order is applied by the transaction that stores it.
      await store.applyBatch([on(0, 4, userCreated({ userId: 'ghost' }, { eventId: 'ghost-a' }))])
      assert.equal((await statusOf(store, 'o2-a'))?.status, 'applied')
    })

    it('are pruned from the event log past the retention, oldest first; deltas stay in the ledger', async t => {
      const store = await open(t)
      const events = Array.from({ length: 12 }, (_, i) =>
        on(0, i, userCreated({ userId: `u${i}` }, { eventId: `prune-${i}` })),
      )
      await store.applyBatch([...events, on(1, 0, inventoryAdjusted({ sku: 's', delta: 1 }, { eventId: 'kept' }))])
      assert.equal(await store.pruneEventLog(new Date(Date.now() - 3_600_000).toISOString(), 5), 0)
      const future = new Date(Date.now() + 60_000).toISOString()
      assert.equal(await store.pruneEventLog(future, 5), 5)
      assert.equal(await store.pruneEventLog(future, 5), 5)
      assert.equal(await store.pruneEventLog(future, 5), 2)
      assert.equal(await store.pruneEventLog(future, 5), 0)
      // Its row still holds it, but nothing says which row any more: older than the retention is unknown.
      assert.equal((await store.getUser('u3'))?.userId, 'u3')
      assert.equal((await store.eventFacts('prune-3')).logged, undefined)
      assert.equal((await statusOf(store, 'prune-3'))?.status, 'unknown')
      assert.equal((await statusOf(store, 'kept'))?.status, 'applied')
    })
  })
}
