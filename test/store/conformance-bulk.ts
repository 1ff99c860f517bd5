// Conformance at volume: a large mixed batch checked against a model, and two stores writing overlapping keys
// at the same time (which must neither deadlock nor lose a delta).
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { Event } from '../../src/events/index.ts'
import { at, type EventOf, inventoryAdjusted, orderPlaced, paymentSettled, sourced, userCreated } from './events.ts'
import { type FreshDatabase, openStore, outcome } from './harness.ts'

/** A small deterministic generator, so a failure can be replayed. */
function random(seed: number): (n: number) => number {
  let state = seed >>> 0
  return n => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0
    return state % n
  }
}

interface Model {
  users: Map<string, EventOf<'UserCreated'>>
  orders: Map<string, EventOf<'OrderPlaced'>>
  payments: Map<string, EventOf<'PaymentSettled'>>
  quantities: Map<string, number>
  stateEvents: number
  deltaEvents: number
  distinctDeltas: number
}

function mixedBatch(size: number): { events: Event[]; model: Model } {
  const next = random(42)
  const events: Event[] = []
  const deltas: EventOf<'InventoryAdjusted'>[] = []
  const model: Model = {
    users: new Map(),
    orders: new Map(),
    payments: new Map(),
    quantities: new Map(),
    stateEvents: 0,
    deltaEvents: 0,
    distinctDeltas: 0,
  }
  const keep = <E extends Event>(map: Map<string, E>, key: string, event: E) => {
    const current = map.get(key)
    if (current === undefined || event.timestamp >= current.timestamp) map.set(key, event)
  }
  for (let i = 0; events.length < size; i++) {
    const ts = { timestamp: at(next(50)) }
    const kind = i < 600 ? 0 : next(4)
    if (kind === 0) {
      const e = userCreated({ userId: `u${i < 600 ? i : next(600)}`, name: `name ${i}`, email: `${i}@example.com` }, ts)
      keep(model.users, e.data.userId, e)
      events.push(e)
    } else if (kind === 1) {
      const total = next(10_000_000) / 100
      const e = orderPlaced({ orderId: `o${next(900)}`, userId: `u${next(600)}`, total, createdAt: at(i) }, ts)
      keep(model.orders, e.data.orderId, e)
      events.push(e)
    } else if (kind === 2) {
      const e = paymentSettled({ orderId: `o${next(900)}`, amount: next(100_000) / 100, status: `s${next(5)}` }, ts)
      keep(model.payments, e.data.orderId, e)
      events.push(e)
    } else {
      // One delta in eight is a redelivery of an earlier one.
      const again = deltas.length > 0 && next(8) === 0 ? deltas[next(deltas.length)] : undefined
      const e = again ?? inventoryAdjusted({ sku: `sku${next(40)}`, delta: next(200) - 100, adjustedAt: ts.timestamp })
      if (again === undefined) {
        deltas.push(e)
        model.quantities.set(e.data.sku, (model.quantities.get(e.data.sku) ?? 0) + e.data.delta)
      }
      events.push(e)
      model.deltaEvents++
      continue
    }
    model.stateEvents++
  }
  model.distinctDeltas = deltas.length
  return { events, model }
}

export function runBulkConformance(fresh: FreshDatabase): void {
  describe('at volume', () => {
    it('applies a batch of 5,000 mixed events, and the same batch again', async t => {
      const store = await openStore(t, await fresh(t))
      const { events, model } = mixedBatch(5000)
      const batch = sourced(...events)
      const winners = model.users.size + model.orders.size + model.payments.size
      const first = await store.applyBatch(batch)
      assert.deepEqual(
        first,
        outcome({
          upserts: winners,
          stale: model.stateEvents - winners,
          deltasApplied: model.distinctDeltas,
          deltasDuplicate: model.deltaEvents - model.distinctDeltas,
        }),
      )
      for (const [userId, e] of model.users) {
        const user = await store.getUser(userId)
        assert.deepEqual([user?.name, user?.email], [e.data.name, e.data.email], userId)
      }
      for (const [orderId, e] of model.orders) {
        const order = await store.getOrder(orderId)
        assert.deepEqual(
          [order?.userId, order?.total, order?.createdAt],
          [e.data.userId, e.data.total, e.data.createdAt],
        )
      }
      for (const [orderId, e] of model.payments) {
        const payment = await store.getPayment(orderId)
        assert.deepEqual([payment?.status, payment?.amount], [e.data.status, e.data.amount], orderId)
      }
      for (const [sku, quantity] of model.quantities) assert.equal((await store.getInventory(sku))?.quantity, quantity)

      // A redelivery of the whole batch: rows are rewritten with the same values, deltas are all duplicates.
      const again = await store.applyBatch(batch)
      assert.deepEqual(again, { ...first, deltasApplied: 0, deltasDuplicate: model.deltaEvents })
      for (const [sku, quantity] of model.quantities) assert.equal((await store.getInventory(sku))?.quantity, quantity)
    })

    it('lets two stores write overlapping keys at the same time', async t => {
      const database = await fresh(t)
      const [a, b] = [await openStore(t, database), await openStore(t, database, false)]
      const keys = Array.from({ length: 100 }, (_, i) => i)
      const rounds = 10
      // Store a writes even seconds, store b odd ones; each batch lists the keys in a different order.
      const write = async (store: typeof a, parity: number) => {
        for (let round = 0; round < rounds; round++) {
          const order = parity === 0 ? keys : [...keys].reverse()
          const second = 2 * round + parity
          await store.applyBatch(
            sourced(
              ...order.map(k => userCreated({ userId: `u${k}`, name: `${second}` }, { timestamp: at(second) })),
              ...order.map(k => inventoryAdjusted({ sku: `sku${k % 10}`, delta: 1 })),
            ),
          )
        }
      }
      await Promise.all([write(a, 0), write(b, 1)])
      for (const k of keys) assert.equal((await a.getUser(`u${k}`))?.name, `${2 * rounds - 1}`)
      for (let s = 0; s < 10; s++) assert.equal((await b.getInventory(`sku${s}`))?.quantity, 2 * rounds * 10)
    })
  })
}
