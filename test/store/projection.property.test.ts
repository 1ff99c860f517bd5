// The store against the reference model (projection-model.ts): generated logs — equal timestamps, corrections
// under one eventId, orders before and after their users, users on other partitions, reused delta eventIds with
// the same and with other payloads, redriven copies of old records, expiries — cut into random batches, must
// leave exactly the model's rows, pending rows and dead letters, on every engine. What SQL holds is read with
// plain SQL, not through the store's own reads.
import assert from 'node:assert/strict'
import { DatabaseSync } from 'node:sqlite'
import { describe, it, type TestContext } from 'node:test'
import fc from 'fast-check'
import pg from 'pg'
import type { Database } from '../../src/config/index.ts'
import { eventTimeCheck } from '../../src/consumer/event-time.ts'
import type { Event } from '../../src/events/index.ts'
import { createStore, type SourcedEvent, type Store } from '../../src/store/index.ts'
import { postgresDatabase, sqliteFile } from '../helpers/resources.ts'
import { freshDatabase, liveConnection, query as mssqlQuery, skipReason } from './mssql/live.ts'
import {
  type Coords,
  coordsText,
  type ModelEvent,
  maxEventSkewMs,
  type Projection,
  project,
  type Step,
} from './projection-model.ts'

const full = process.env['FAULTS_FULL'] === '1'
const topic = 'events'
const partitions = 3

// Small pools, so keys, eventIds and timestamps collide often.
const userIds = ['u0', 'u1', 'u2']
const orderIds = ['o0', 'o1', 'o2']
const skus = ['s0', 's1']
const deltaIds = ['d0', 'd1', 'd2']
// The last two are ahead of some records: 1.5 h ahead of the earlier record time, far ahead of both.
const times = [
  '2026-01-01T00:00:00.000Z',
  '2026-01-01T00:00:01.000Z',
  '2026-01-01T00:00:02.000Z',
  '2026-01-01T01:30:00.000Z',
  '2099-01-01T00:00:00.000Z',
]
/** Kafka record timestamps: just after the ordinary event times, and two hours later. */
const recordTimes = [Date.parse('2026-01-01T00:00:05.000Z'), Date.parse('2026-01-01T02:00:05.000Z')]

/** What the generator draws per step, before offsets are given out. */
type Draw =
  | { kind: 'user'; user: number; ts: number; variant: number; moved: number }
  | { kind: 'order'; order: number; user: number; ts: number; variant: number; moved: number }
  | { kind: 'payment'; order: number; ts: number; variant: number; moved: number }
  | { kind: 'delta'; id: number; sku: number; variant: number; moved: number }
  | { kind: 'correct'; of: number; variant: number }
  | { kind: 'redrive'; of: number; moved: number }
  | { kind: 'expire' }

const pick = <T>(pool: readonly T[], i: number): T => pool[i % pool.length] as T
const small = fc.nat({ max: 14 })
/** Most events are dated at ordinary times: the pool's first three, two times in three. */
const pickTime = (i: number) => (i % 3 === 0 ? pick(times, i / 3) : pick(times, i % 3))
/** A partition other than the key's in one draw of five: a partition-count change, or a copy sent elsewhere. */
const moved = fc.nat({ max: 9 })

const draw: fc.Arbitrary<Draw> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({ kind: fc.constant('user' as const), user: small, ts: small, variant: small, moved }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('order' as const),
      order: small,
      user: small,
      ts: small,
      variant: small,
      moved,
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('payment' as const), order: small, ts: small, variant: small, moved }),
  },
  {
    weight: 3,
    arbitrary: fc.record({ kind: fc.constant('delta' as const), id: small, sku: small, variant: small, moved }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('correct' as const), of: fc.nat(), variant: small }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('redrive' as const), of: fc.nat(), moved }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('expire' as const) }) },
)

const partitionOfKey = (key: string) => [...key].reduce((h, c) => h + c.charCodeAt(0), 0) % partitions

/** Turns draws into a log: offsets grow per partition in log order. */
function logOf(draws: readonly Draw[]): Step[] {
  const next = new Array<number>(partitions).fill(0)
  const records: Extract<Step, { kind: 'record' }>[] = []
  const steps: Step[] = []
  const place = (key: string, m: number): Coords => {
    const partition = m < 2 ? (partitionOfKey(key) + 1 + m) % partitions : partitionOfKey(key)
    return { partition, offset: next[partition]!++ }
  }
  const add = (step: Omit<Extract<Step, { kind: 'record' }>, 'recordTs'>) => {
    // Records produced later carry later Kafka timestamps; which one is a function of the step, not of a clock.
    const full = { ...step, recordTs: pick(recordTimes, records.length) }
    records.push(full)
    steps.push(full)
  }
  for (const d of draws) {
    switch (d.kind) {
      case 'expire':
        steps.push({ kind: 'expire' })
        break
      case 'user': {
        const userId = pick(userIds, d.user)
        const event: ModelEvent = {
          type: 'UserCreated',
          eventId: `user-${records.length}`,
          timestamp: pickTime(d.ts),
          data: {
            userId,
            name: `name ${d.variant % 3}`,
            email: `${userId}@example.com`,
            createdAt: pick(times, d.variant),
          },
        }
        add({ kind: 'record', at: place(userId, d.moved), event })
        break
      }
      case 'order': {
        const orderId = pick(orderIds, d.order)
        const event: ModelEvent = {
          type: 'OrderPlaced',
          eventId: `order-${records.length}`,
          timestamp: pickTime(d.ts),
          data: {
            orderId,
            userId: pick(userIds, d.user),
            total: 1 + (d.variant % 4),
            status: 'placed',
            createdAt: pick(times, d.variant),
          },
        }
        add({ kind: 'record', at: place(orderId, d.moved), event })
        break
      }
      case 'payment': {
        const orderId = pick(orderIds, d.order)
        const event: ModelEvent = {
          type: 'PaymentSettled',
          eventId: `payment-${records.length}`,
          timestamp: pickTime(d.ts),
          data: {
            orderId,
            status: d.variant % 2 === 0 ? 'settled' : 'refunded',
            amount: 2 + (d.variant % 3),
            settledAt: pick(times, d.variant),
          },
        }
        add({ kind: 'record', at: place(orderId, d.moved), event })
        break
      }
      case 'delta': {
        const sku = pick(skus, d.sku)
        const event: ModelEvent = {
          type: 'InventoryAdjusted',
          eventId: pick(deltaIds, d.id),
          timestamp: times[0]!,
          // Two payloads in three draws are the same for one eventId and sku: identical redeliveries and conflicts.
          data: { sku, delta: 1 + (d.variant % 2), reason: 'count', adjustedAt: pick(times, d.variant % 2) },
        }
        add({ kind: 'record', at: place(sku, d.moved), event })
        break
      }
      case 'correct': {
        // The same eventId and timestamp with other fields: how a client corrects a state event.
        const state = records.filter(r => r.event.type !== 'InventoryAdjusted')
        if (state.length === 0) break
        const of = state[d.of % state.length]!
        const e = of.event
        const key = e.type === 'UserCreated' ? e.data.userId : (e.data as { orderId: string }).orderId
        const data =
          e.type === 'UserCreated'
            ? { ...e.data, name: `corrected ${d.variant}` }
            : e.type === 'OrderPlaced'
              ? { ...e.data, total: 10 + d.variant, userId: pick(userIds, d.variant) }
              : { ...e.data, amount: 20 + d.variant }
        add({ kind: 'record', at: place(key, 2), event: { ...e, data } as ModelEvent })
        break
      }
      case 'redrive': {
        // A copy of an earlier record, appended to the log with headers naming the record it copies.
        if (records.length === 0) break
        const of = records[d.of % records.length]!
        const origin = of.origin ?? of.at
        const partition = d.moved < 3 ? d.moved : origin.partition
        add({ kind: 'record', at: { partition, offset: next[partition]!++ }, origin, event: of.event })
        break
      }
    }
  }
  return steps
}

/** The real store's side: the engine, and plain SQL to read what it holds. */
interface Subject {
  store: Store
  query(text: string): Promise<Record<string, unknown>[]>
  reset(): Promise<void>
}

// Children before parents: the raw connection enforces foreign keys too.
const tables = [
  'orders',
  'users',
  'payments',
  'inventory',
  'inventory_ledger',
  'pending_events',
  'event_log',
  'applied_offsets',
]

function eventOf(e: ModelEvent): Event {
  return structuredClone(e) as Event
}

const iso = (v: unknown) => new Date(v instanceof Date ? v : String(v).replace(' ', 'T')).toISOString()
const money = (v: unknown) => Number(v).toFixed(2)

/** Runs the log through the store in batches of the given sizes (an expiry ends a batch) and reads the outcome. */
async function runStore(subject: Subject, log: readonly Step[], sizes: readonly number[]): Promise<Projection> {
  const { store } = subject
  const deadLetters = new Set<string>()
  let batch: (SourcedEvent & { recordTs: number })[] = []
  let sizeIndex = 0
  const flush = async () => {
    if (batch.length === 0) return
    // The consumer's own check, per batch as it runs it: refused records go to the DLQ, the rest to the store.
    const tooFarAhead = eventTimeCheck(
      batch.map(b => ({ timestamp: BigInt(b.recordTs) })),
      maxEventSkewMs,
      Date.now(),
    )
    const refused = batch.filter(b => tooFarAhead({ timestamp: BigInt(b.recordTs) }, b.event.timestamp) !== undefined)
    for (const b of refused) {
      deadLetters.add(
        `${coordsText({ partition: b.source.partition, offset: Number(b.source.offset) })} EVENT_TIME_SKEW`,
      )
    }
    if (refused.length > 0) batch = batch.filter(b => !refused.includes(b))
    const result = await store.applyBatch(
      batch,
      batch.map(b => b.source),
    )
    for (const c of result.conflicts) {
      const s = batch[c.position]!.source
      deadLetters.add(`${coordsText({ partition: s.partition, offset: Number(s.offset) })} ${c.error.code}`)
    }
    batch = []
    sizeIndex++
  }
  for (const step of log) {
    if (step.kind === 'expire') {
      await flush()
      for (const letter of await expireAll(store)) deadLetters.add(`${letter} CONSTRAINT_VIOLATION`)
      continue
    }
    const item: SourcedEvent & { recordTs: number } = {
      recordTs: step.recordTs,
      event: eventOf(step.event),
      source: { topic, partition: step.at.partition, offset: BigInt(step.at.offset) },
      ...(step.origin === undefined
        ? {}
        : { origin: { topic, partition: step.origin.partition, offset: BigInt(step.origin.offset) } }),
    }
    batch.push(item)
    if (batch.length >= (sizes[sizeIndex % sizes.length] ?? 1)) await flush()
  }
  await flush()

  const rows = (text: string) => subject.query(text)
  const users = new Map(
    (await rows('SELECT user_id, name, email, created_at FROM users')).map(r => [
      String(r['user_id']),
      [r['name'], r['email'], iso(r['created_at'])].join('|'),
    ]),
  )
  const orders = new Map(
    (await rows('SELECT order_id, user_id, total, status, created_at FROM orders')).map(r => [
      String(r['order_id']),
      [r['user_id'], money(r['total']), r['status'], iso(r['created_at'])].join('|'),
    ]),
  )
  const payments = new Map(
    (await rows('SELECT order_id, status, amount, settled_at FROM payments')).map(r => [
      String(r['order_id']),
      [r['status'], money(r['amount']), iso(r['settled_at'])].join('|'),
    ]),
  )
  const inventory = new Map(
    (await rows('SELECT sku, quantity, last_adjusted_at FROM inventory')).map(r => [
      String(r['sku']),
      `${Number(r['quantity'])}|${iso(r['last_adjusted_at'])}`,
    ]),
  )
  const pending = new Set(
    (await rows('SELECT source_partition, source_offset FROM pending_events')).map(r =>
      coordsText({ partition: Number(r['source_partition']), offset: Number(r['source_offset']) }),
    ),
  )
  return { users, orders, payments, inventory, pending, deadLetters }
}

/**
 * One sweep with every pending order past its horizon: the rows the store claims for the DLQ are its dead
 * letters, and are removed once "pushed", as the sweeper does.
 */
async function expireAll(store: Store): Promise<string[]> {
  const far = '9999-01-01T00:00:00.000Z'
  const claimed = await store.claimExpired(far, 100_000)
  const letters = claimed.filter(p => !p.superseded)
  await store.removePending(claimed.map(p => p.source))
  return letters.map(p => coordsText({ partition: p.source.partition, offset: Number(p.source.offset) }))
}

const sorted = <K, V>(m: Map<K, V>) => [...m].sort((a, b) => String(a[0]).localeCompare(String(b[0])))

function assertSame(actual: Projection, expected: Projection): void {
  assert.deepEqual(
    {
      users: sorted(actual.users),
      orders: sorted(actual.orders),
      payments: sorted(actual.payments),
      inventory: sorted(actual.inventory),
      pending: [...actual.pending].sort(),
      deadLetters: [...actual.deadLetters].sort(),
    },
    {
      users: sorted(expected.users),
      orders: sorted(expected.orders),
      payments: sorted(expected.payments),
      inventory: sorted(expected.inventory),
      pending: [...expected.pending].sort(),
      deadLetters: [...expected.deadLetters].sort(),
    },
  )
}

const logs = fc.array(draw, { minLength: 1, maxLength: 40 })
const splits = fc.array(fc.integer({ min: 1, max: 12 }), { minLength: 1, maxLength: 8 })

async function holdsToModel(subject: Subject, numRuns: number): Promise<void> {
  await fc.assert(
    fc.asyncProperty(logs, splits, async (draws, sizes) => {
      await subject.reset()
      const log = logOf(draws)
      assertSame(await runStore(subject, log, sizes), project(log))
    }),
    { numRuns },
  )
}

async function sqliteSubject(t: TestContext): Promise<Subject> {
  const path = sqliteFile(t)
  const database: Database = { engine: 'sqlite', path }
  const store = await createStore(database)
  t.after(() => store.close())
  await store.migrate()
  const raw = new DatabaseSync(path, { readOnly: false })
  t.after(() => raw.close())
  return {
    store,
    query: async text => raw.prepare(text).all() as Record<string, unknown>[],
    reset: async () => {
      for (const table of tables) raw.exec(`DELETE FROM ${table}`)
    },
  }
}

async function postgresSubject(t: TestContext): Promise<Subject> {
  const url = await postgresDatabase(t)
  const store = await createStore({ engine: 'postgres', url })
  t.after(() => store.close())
  await store.migrate()
  const client = new pg.Client({ connectionString: url })
  // The database is dropped with its connections after the test, maybe before this client ends.
  client.on('error', () => {})
  await client.connect()
  t.after(() => client.end())
  return {
    store,
    query: async text => (await client.query(text)).rows,
    reset: async () => {
      await client.query(`TRUNCATE ${tables.join(', ')}`)
    },
  }
}

async function mssqlSubject(t: TestContext, raw: string): Promise<Subject> {
  const { connectionString, name } = freshDatabase(t, raw)
  const store = await createStore({ engine: 'mssql', connectionString })
  t.after(() => store.close())
  await store.migrate()
  const query = (text: string) => mssqlQuery(raw, name, text)
  return {
    store,
    query,
    reset: async () => {
      for (const table of tables) await query(`DELETE FROM ${table}`)
    },
  }
}

describe('the projection is a function of the log', () => {
  it('on SQLite, whatever the batches', async t => {
    await holdsToModel(await sqliteSubject(t), full ? 3000 : 300)
  })

  it('on PostgreSQL, whatever the batches', async t => {
    await holdsToModel(await postgresSubject(t), full ? 1000 : 100)
  })

  it('on SQL Server, whatever the batches', { skip: liveConnection === undefined && skipReason }, async t => {
    await holdsToModel(await mssqlSubject(t, liveConnection as string), full ? 300 : 30)
  })
})
