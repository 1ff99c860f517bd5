// Conformance of inventory deltas (exactly once) and of failures (atomic, classified).
import assert from 'node:assert/strict'
import { describe, it, type TestContext } from 'node:test'
import { at, inventoryAdjusted, sourced, t0, unchecked, userCreated } from './events.ts'
import { assertPipelineError, type FreshDatabase, openStore, outcome } from './harness.ts'

export function runDeltaAndFailureConformance(fresh: FreshDatabase): void {
  const open = async (t: TestContext) => openStore(t, await fresh(t))

  describe('inventory deltas', () => {
    it('apply exactly once across repeated batches', async t => {
      const store = await open(t)
      const batch = sourced(
        inventoryAdjusted({ sku: 'a', delta: 10, adjustedAt: at(1) }),
        inventoryAdjusted({ sku: 'a', delta: -3, adjustedAt: at(3) }),
        inventoryAdjusted({ sku: 'a', delta: 1, adjustedAt: at(2) }),
        inventoryAdjusted({ sku: 'b', delta: -4, adjustedAt: at(1) }),
      )
      assert.deepEqual(
        await store.applyBatch(batch),
        outcome({ upserts: 0, stale: 0, deltasApplied: 4, deltasDuplicate: 0 }),
      )
      for (let i = 0; i < 3; i++) {
        assert.deepEqual(
          await store.applyBatch(batch),
          outcome({ upserts: 0, stale: 0, deltasApplied: 0, deltasDuplicate: 4 }),
        )
      }
      assert.deepEqual(await store.getInventory('a'), { sku: 'a', quantity: 8, lastAdjustedAt: at(3) })
      assert.deepEqual(await store.getInventory('b'), { sku: 'b', quantity: -4, lastAdjustedAt: at(1) })

      // A redelivery mixed with new deltas: only the new ones count, and an older adjustedAt keeps the latest.
      const mixed = await store.applyBatch([
        batch[0]!,
        ...sourced(inventoryAdjusted({ sku: 'a', delta: 2, adjustedAt: at(0) })),
      ])
      assert.deepEqual(mixed, outcome({ upserts: 0, stale: 0, deltasApplied: 1, deltasDuplicate: 1 }))
      assert.deepEqual(await store.getInventory('a'), { sku: 'a', quantity: 10, lastAdjustedAt: at(3) })
    })

    it('apply once when the same eventId appears twice in one batch', async t => {
      const store = await open(t)
      const once = inventoryAdjusted({ sku: 'a', delta: 5 }, { eventId: 'delta-1' })
      const result = await store.applyBatch(sourced(once, once, once, inventoryAdjusted({ sku: 'a', delta: 1 })))
      assert.deepEqual(result, outcome({ upserts: 0, stale: 0, deltasApplied: 2, deltasDuplicate: 2 }))
      assert.equal((await store.getInventory('a'))?.quantity, 6)
    })
  })

  describe('failures', () => {
    it('rejects values that do not fit their columns, not retryable', async t => {
      const store = await open(t)
      await store.applyBatch(sourced(userCreated({ userId: 'u1' })))
      const cases = [
        unchecked('UserCreated', { userId: 'x'.repeat(101), name: 'n', email: 'e', createdAt: t0 }),
        unchecked('UserCreated', { userId: 'u1', name: 'n'.repeat(256), email: 'e', createdAt: t0 }),
        unchecked('OrderPlaced', { orderId: 'o1', userId: 'u1', total: 1, status: 's'.repeat(51), createdAt: t0 }),
        unchecked('OrderPlaced', { orderId: 'o1', userId: 'u1', total: 1e16, createdAt: t0 }),
        unchecked('PaymentSettled', { orderId: 'o1', status: 'ok', amount: -1e17, settledAt: t0 }),
        unchecked('PaymentSettled', { orderId: 'o1', status: 'ok', amount: Number.NaN, settledAt: t0 }),
        unchecked('InventoryAdjusted', { sku: 'a', delta: 2 ** 31, adjustedAt: t0 }),
      ]
      for (const event of cases) {
        await assertPipelineError(store.applyBatch(sourced(event)), {
          code: ['DATA_OUT_OF_RANGE', 'CONSTRAINT_VIOLATION'],
          retryable: false,
        })
      }
      // A running total past INT overflows too, and leaves the previous total.
      await store.applyBatch(sourced(inventoryAdjusted({ sku: 'big', delta: 2_000_000_000 })))
      await assertPipelineError(store.applyBatch(sourced(inventoryAdjusted({ sku: 'big', delta: 2_000_000_000 }))), {
        code: ['DATA_OUT_OF_RANGE', 'CONSTRAINT_VIOLATION'],
        retryable: false,
      })
      assert.equal((await store.getInventory('big'))?.quantity, 2_000_000_000)
    })

    it('throws a retryable DB_UNAVAILABLE once closed', async t => {
      const store = await open(t)
      await store.ping()
      await store.close()
      await store.close()
      await assertPipelineError(store.ping(), { code: 'DB_UNAVAILABLE', retryable: true })
      await assertPipelineError(store.applyBatch(sourced(userCreated({ userId: 'u1' }))), {
        code: 'DB_UNAVAILABLE',
        retryable: true,
      })
    })
  })
}
