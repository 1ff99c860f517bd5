// The benchmark's workload: a deterministic, realistic mix of the four event types, as the producer would have
// published it (canonical JSON, keyed, partitioned with the same murmur2 partitioner), plus what the store
// must hold once every record is applied, so each drain can be checked and not only timed.
//
//   bootstrap   the first `bootstrapUsers` records create users, so orders have someone to belong to
//   then        8% UserCreated (1 in 5 of them a profile update of an existing user, newer timestamp)
//               30% OrderPlaced for a user created at least `userLag` records earlier ("existing users")
//               20% PaymentSettled for an order placed at least `userLag` records earlier
//               37% InventoryAdjusted: 80% on 100 hot SKUs, 20% on 10,000 cold ones
//               5% duplicates: a record from the last 5,000 sent again, byte for byte (a producer retry)
import { partitionOf } from '../src/kafka/index.ts'

export interface WorkloadRecord {
  readonly key: string
  /** The canonical JSON the producer would have written. */
  readonly value: string
  readonly partition: number
  /** Offset in a fresh topic that received the records in this order from one producer. */
  readonly offset: number
  readonly type: 'UserCreated' | 'OrderPlaced' | 'PaymentSettled' | 'InventoryAdjusted'
}

/** What the tables hold after the whole workload is applied once (or any number of times). */
export interface Expected {
  readonly users: number
  readonly orders: number
  readonly payments: number
  readonly skus: number
  readonly ledger: number
  /** Sum of inventory.quantity over all SKUs. */
  readonly quantity: number
}

export interface Workload {
  readonly records: readonly WorkloadRecord[]
  readonly expected: Expected
  /** Ids of orders that exist once the workload is applied (for the read benchmark). */
  readonly orderIds: readonly string[]
  readonly partitions: number
  readonly counts: Readonly<Record<WorkloadRecord['type'] | 'duplicates', number>>
}

export interface WorkloadOptions {
  readonly events: number
  readonly partitions: number
  readonly seed?: number
  readonly userLag?: number
}

/** mulberry32: small, fast and deterministic, so two runs (and two machines) see the same workload. */
function random(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const firstNames = ['Ada', 'Grace', 'Alan', 'Edsger', 'Barbara', 'Donald', 'Margaret', 'Ken', 'Frances', 'Dennis']
const lastNames = ['Lovelace', 'Hopper', 'Turing', 'Dijkstra', 'Liskov', 'Knuth', 'Hamilton', 'Thompson', 'Allen']
const reasons = ['sale', 'restock', 'return', 'correction', 'damaged']
const hotSkus = 100
const coldSkus = 10_000

export function generateWorkload(options: WorkloadOptions): Workload {
  const rnd = random(options.seed ?? 42)
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rnd() * items.length)]!
  const total = options.events
  const userLag = options.userLag ?? 5000
  const bootstrapUsers = Math.min(Math.floor(total / 2), Math.max(userLag, Math.floor(total * 0.03)))
  const start = Date.parse('2025-01-01T00:00:00.000Z')
  const records: WorkloadRecord[] = []
  const nextOffset = new Array<number>(options.partitions).fill(0)
  const counts = { UserCreated: 0, OrderPlaced: 0, PaymentSettled: 0, InventoryAdjusted: 0, duplicates: 0 }

  // Users and orders by the record index that created them, so "existing" can mean "created long enough ago".
  const users: { id: string; at: number }[] = []
  const orders: { id: string; at: number; total: number }[] = []
  let paidUpTo = 0
  const userIds = new Set<string>()
  const orderIds = new Set<string>()
  const paid = new Set<string>()
  const skus = new Set<string>()
  let ledger = 0
  let quantity = 0
  let seq = 0

  function push(type: WorkloadRecord['type'], key: string, value: string): void {
    const partition = partitionOf(key, options.partitions)
    const offset = nextOffset[partition]!
    nextOffset[partition] = offset + 1
    records.push({ key, value, partition, offset, type })
    counts[type]++
  }

  function event(type: WorkloadRecord['type'], data: Record<string, unknown>, timestamp: string): string {
    return JSON.stringify({ eventId: `evt-${(++seq).toString(36)}-${type.slice(0, 1)}`, type, timestamp, data })
  }

  function newUser(i: number, timestamp: string, id?: string): void {
    const userId = id ?? `user-${users.length + 1}`
    const name = `${pick(firstNames)} ${pick(lastNames)}`
    const email = `${userId}@example.com`
    push('UserCreated', userId, event('UserCreated', { userId, name, email, createdAt: timestamp }, timestamp))
    if (id === undefined) users.push({ id: userId, at: i })
    userIds.add(userId)
  }

  for (let i = 0; i < total; i++) {
    const timestamp = new Date(start + i * 10).toISOString()
    if (i < bootstrapUsers) {
      newUser(i, timestamp)
      continue
    }
    const r = rnd()
    if (r < 0.05 && records.length > 0) {
      // Redelivery: the same bytes again, same key, so the same partition and a later offset.
      const again = records[Math.max(0, records.length - 1 - Math.floor(rnd() * 5000))]!
      push(again.type, again.key, again.value)
      counts[again.type]--
      counts.duplicates++
      continue
    }
    if (r < 0.13) {
      const update = rnd() < 0.2
      newUser(i, timestamp, update ? pick(users).id : undefined)
      continue
    }
    if (r < 0.43) {
      // An existing user: one created at least userLag records ago, so it is stored before the order arrives
      // even when another partition runs behind.
      let candidates = users.length
      while (candidates > 0 && users[candidates - 1]!.at > i - userLag) candidates--
      const user = users[Math.floor(rnd() * Math.max(1, Math.min(candidates, users.length)))]!
      const orderId = `order-${orders.length + 1}`
      const totalAmount = Math.round(100 + rnd() * 50_000) / 100
      const status = rnd() < 0.9 ? undefined : 'pending'
      const data: Record<string, unknown> = { orderId, userId: user.id, total: totalAmount, createdAt: timestamp }
      if (status !== undefined) data['status'] = status
      push('OrderPlaced', orderId, event('OrderPlaced', data, timestamp))
      orders.push({ id: orderId, at: i, total: totalAmount })
      orderIds.add(orderId)
      continue
    }
    if (r < 0.63 && paidUpTo < orders.length && orders[paidUpTo]!.at <= i - userLag) {
      const order = orders[paidUpTo++]!
      const status = rnd() < 0.95 ? 'settled' : 'failed'
      push(
        'PaymentSettled',
        order.id,
        event('PaymentSettled', { orderId: order.id, status, amount: order.total, settledAt: timestamp }, timestamp),
      )
      paid.add(order.id)
      continue
    }
    const sku = rnd() < 0.8 ? `sku-hot-${Math.floor(rnd() * hotSkus)}` : `sku-${Math.floor(rnd() * coldSkus)}`
    const delta = Math.floor(rnd() * 25) - 5
    push(
      'InventoryAdjusted',
      sku,
      event('InventoryAdjusted', { sku, delta, reason: pick(reasons), adjustedAt: timestamp }, timestamp),
    )
    skus.add(sku)
    ledger++
    quantity += delta
  }

  return {
    records,
    partitions: options.partitions,
    counts,
    orderIds: [...orderIds],
    expected: { users: userIds.size, orders: orderIds.size, payments: paid.size, skus: skus.size, ledger, quantity },
  }
}
