// The workloads of the fault tests, built to expose the bugs the checker (checker.ts) looks for:
// - orders whose user is on another partition (most of them), and for some users every order produced before
//   the user, so an order's parent may be stored by another member, later;
// - several updates of one key with EQUAL timestamps and different fields, so only the Kafka position can
//   decide the winner, plus a stale update (older timestamp, produced last) that must lose;
// - deltas of varying size re-sent identically (must be no-ops) and, optionally, an eventId re-used with a
//   different delta (must be dead-lettered EVENT_ID_CONFLICT);
// - payments, orders whose user never exists (must wait in pending_events), and poison records.
import assert from 'node:assert/strict'
import { inventoryAdjusted, orderPlaced, paymentSettled, userCreated } from '../helpers/events.ts'
import { committedOffsets, type RawRecord } from '../helpers/kafka.ts'
import { uniqueName } from '../helpers/resources.ts'

/** Short in `npm test`, longer in `npm run test:faults` (FAULTS_FULL=1). */
export const full = process.env['FAULTS_FULL'] === '1'

export interface WorkloadOptions {
  users: number
  /** Orders per user (each placed, then updated with an equal timestamp). */
  ordersPerUser?: number
  payments?: boolean
  deltas?: number
  skus?: number
  /** Orders for users that never exist. */
  orphans?: number
  /** Records that are not events (each invalid class in turn). */
  poison?: number
  /** Deltas whose eventId a later record re-uses with another delta. */
  conflicts?: number
  /** When set, each record names its partition: a key always the same one, an order's mostly not its user's. */
  partitions?: number
}

export interface Workload {
  readonly run: string
  /** In produce order. */
  readonly records: RawRecord[]
}

// FNV-1a: a stable key → partition map of the test's own (the consumer only needs one partition per key).
function partitionOf(key: string, partitions: number): number {
  let h = 0x811c9dc5
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193) >>> 0
  return h % partitions
}

// In the past: an event dated more than MAX_EVENT_SKEW after its record is dead-lettered.
let runClock = Date.parse('2025-03-01T00:00:00Z')
const iso = (ms: number) => new Date(ms).toISOString()

export function makeWorkload(run: string, o: WorkloadOptions): Workload {
  const records: RawRecord[] = []
  const partitions = o.partitions
  const push = (key: string, value: unknown) =>
    records.push({
      key,
      value: typeof value === 'string' ? value : JSON.stringify(value),
      ...(partitions === undefined ? {} : { partition: partitionOf(key, partitions) }),
    })
  // Each run gets its own hour of timestamps, so runs never compete for a key's last write.
  const t0 = runClock
  runClock += 3_600_000
  const at = (i: number, step: number) => iso(t0 + i * 10_000 + step * 1000)
  const ordersPerUser = o.ordersPerUser ?? 2

  for (let i = 0; i < o.users; i++) {
    const userId = `${run}-u-${i}`
    const userEvents = [
      userCreated(userId, { name: 'v0', timestamp: at(i, 0) }),
      userCreated(userId, { name: 'v1', email: `v1-${userId}@example.com`, timestamp: at(i, 1) }),
      // Same timestamp as v1: it wins only because it comes later in the partition.
      userCreated(userId, { name: 'v2', email: `v2-${userId}@example.com`, timestamp: at(i, 1) }),
      // Older than v1 and v2 but produced last: must lose on its timestamp.
      userCreated(userId, { name: 'stale', timestamp: at(i, 0) }),
    ]
    const orderEvents: { key: string; value: unknown }[] = []
    for (let j = 0; j < ordersPerUser; j++) {
      let orderId = `${run}-o-${i}-${j}`
      // Most orders on another partition than their user: every fifth stays on the user's.
      if (partitions !== undefined && partitions > 1) {
        const wantSame = (i * ordersPerUser + j) % 5 === 4
        for (let salt = 0; salt < 100; salt++) {
          const candidate = `${run}-o-${i}-${j}-${salt}`
          if ((partitionOf(candidate, partitions) === partitionOf(userId, partitions)) === wantSame) {
            orderId = candidate
            break
          }
        }
      }
      orderEvents.push({ key: orderId, value: orderPlaced(orderId, userId, { total: 10 + j, timestamp: at(i, 2) }) })
      const update = orderPlaced(orderId, userId, { total: 20 + j, timestamp: at(i, 2) })
      orderEvents.push({ key: orderId, value: { ...update, data: { ...update.data, status: 'confirmed' } } })
      if (o.payments) {
        orderEvents.push({
          key: orderId,
          value: paymentSettled(orderId, { amount: 10 + j, status: 'authorized', timestamp: at(i, 3) }),
        })
        orderEvents.push({
          key: orderId,
          value: paymentSettled(orderId, { amount: 20 + j, status: 'settled', timestamp: at(i, 3) }),
        })
      }
    }
    // Every third user's orders go out before the user itself.
    if (i % 3 === 0) for (const e of orderEvents) push(e.key, e.value)
    for (const e of userEvents) push(userId, e)
    if (i % 3 !== 0) for (const e of orderEvents) push(e.key, e.value)
  }

  for (let i = 0; i < (o.orphans ?? 0); i++) {
    const orderId = `${run}-orphan-${i}`
    push(orderId, orderPlaced(orderId, `${run}-nobody-${i}`, { timestamp: at(i, 4) }))
  }

  const skus = o.skus ?? 10
  const sent: { key: string; value: unknown }[] = []
  for (let i = 0; i < (o.deltas ?? 0); i++) {
    const sku = `${run}-sku-${i % skus}`
    const e = inventoryAdjusted(sku, (i % 5) + 1, { timestamp: at(i, 5) })
    push(sku, e)
    sent.push({ key: sku, value: e })
    // Every tenth delta is sent again, identically, a little later: a redelivery that must change nothing.
    const again = sent[i - 3]
    if (i % 10 === 9 && again !== undefined) push(again.key, again.value)
  }
  for (let i = 0; i < (o.conflicts ?? 0) && i < sent.length; i++) {
    const first = sent[i] as { key: string; value: ReturnType<typeof inventoryAdjusted> }
    push(first.key, { ...first.value, data: { ...first.value.data, delta: first.value.data.delta + 100 } })
  }

  const poisons = [
    (i: number) => `{"not":"an event" ${i}`,
    (i: number) => JSON.stringify({ eventId: `${run}-bad-${i}`, type: 'UserCreated', timestamp: at(i, 6), data: {} }),
    (i: number) => JSON.stringify({ eventId: `${run}-bad-${i}`, type: 'Nope', timestamp: at(i, 6), data: {} }),
  ]
  for (let i = 0; i < (o.poison ?? 0); i++) {
    const index = Math.floor(((i + 0.5) * records.length) / (o.poison ?? 1))
    const value = (poisons[i % poisons.length] as (i: number) => string)(i)
    records.splice(index, 0, {
      key: `${run}-poison-${i}`,
      value,
      ...(partitions === undefined ? {} : { partition: partitionOf(`${run}-poison-${i}`, partitions) }),
    })
  }
  return { run, records }
}

/** Sum of offsets (e.g. a group's committed offsets on a topic: the records it is done with). */
export function sum(values: Iterable<bigint>): bigint {
  let total = 0n
  for (const v of values) total += v
  return total
}

/**
 * Waits for a moment when records are in flight (the group committed more than `previous` and less than the
 * records the producer had acknowledged then) and returns what was committed at that moment: the fault is then
 * dealt with work in hand, as chosen from what was observed, not from when the test happened to look. Polls every
 * 20 ms for at most `timeoutMs`; a consumer that never has work in hand over that time fails the test.
 */
export async function inFlight(
  groupId: string,
  topic: string,
  previous: bigint,
  acknowledged: () => number,
  timeoutMs = 60_000,
): Promise<bigint> {
  const deadline = Date.now() + timeoutMs
  let last = { committed: 0n, inTopic: 0n }
  while (Date.now() < deadline) {
    const inTopic = BigInt(acknowledged())
    const committed = sum((await committedOffsets(groupId, topic)).values())
    if (committed > previous && committed < inTopic) return committed
    last = { committed, inTopic }
    await new Promise(resolve => setTimeout(resolve, 20))
  }
  assert.fail(
    `no moment with records in flight within ${timeoutMs} ms: last committed ${last.committed}, previously ${previous}, acknowledged ${last.inTopic}`,
  )
}

/**
 * Waits, bounded, until the group has committed every record of the topic (`total`), then returns; when the
 * time is up it returns as well, with what was committed, so the checker still runs and reports what went wrong
 * instead of the test ending in a bare timeout.
 */
export async function waitCommitted(
  groupId: string,
  topic: string,
  total: bigint,
  timeoutMs: number,
  brokers?: readonly string[],
): Promise<{ committed: bigint; complete: boolean }> {
  const deadline = Date.now() + timeoutMs
  let committed = 0n
  while (Date.now() < deadline) {
    committed = sum((await committedOffsets(groupId, topic, brokers)).values())
    if (committed === total) return { committed, complete: true }
    await new Promise(resolve => setTimeout(resolve, 200))
  }
  console.log(`waitCommitted: ${committed} of ${total} committed after ${timeoutMs} ms`)
  return { committed, complete: false }
}

/**
 * The environment of a consumer process in a fault test: its own group and DLQ key, PostgreSQL, and a
 * PENDING_MAX_AGE long enough that only the durable pending path can explain an order that ends up applied.
 */
export function consumerEnv<Extra extends Record<string, string>>(
  topic: string,
  databaseUrl: string,
  extra: Extra = {} as Extra,
) {
  return {
    KAFKA_TOPIC: topic,
    KAFKA_GROUP_ID: uniqueName('g'),
    DLQ_KEY: uniqueName('dlq'),
    DATABASE_URL: databaseUrl,
    LOG_LEVEL: 'WARN',
    PENDING_MAX_AGE: '1h',
    ...extra,
  }
}
