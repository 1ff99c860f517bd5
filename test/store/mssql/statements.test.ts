// The MSSQL write statements offline: their T-SQL, the declared type of every parameter, and the chunking that
// keeps each request within 2,000 parameters and 1,000 VALUES rows while covering every row exactly once.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { CompiledQuery } from 'kysely'
import { PipelineError } from '../../../src/errors.ts'
import type { Event } from '../../../src/events/index.ts'
import { inventoryChanges, planBatch } from '../../../src/store/batch.ts'
import { Typed } from '../../../src/store/mssql/params.ts'
import { maxParameters, maxValuesRows, rowsPerRequest, statements } from '../../../src/store/mssql/statements.ts'
import { at, inventoryAdjusted, orderPlaced, paymentSettled, sourced, t0, unchecked, userCreated } from '../events.ts'

const declarations = (q: CompiledQuery) => q.parameters.map(p => (p as Typed).declaration)

/** The VALUES tuples of a MERGE, each as its parameter numbers. */
function tuples(q: CompiledQuery): number[][] {
  const values = /USING \(VALUES (.*)\) AS s \(/s.exec(q.sql)?.[1] ?? ''
  return [...values.matchAll(/\(([^()]*)\)/g)].map(m => m[1]!.split(', ').map(p => Number(p.slice(1))))
}

interface Case {
  readonly name: string
  readonly columns: number
  readonly build: (n: number) => CompiledQuery[]
}

const cases: Case[] = [
  {
    name: 'users',
    columns: 9,
    build: n => statements.upsertUsers(planBatch(sourced(...range(n, i => userCreated({ userId: key(i) })))).users),
  },
  {
    name: 'orders',
    columns: 10,
    build: n =>
      statements.upsertOrders(
        planBatch(sourced(...range(n, i => orderPlaced({ orderId: key(i), userId: 'u' })))).orders,
      ),
  },
  {
    name: 'payments',
    columns: 9,
    build: n =>
      statements.upsertPayments(planBatch(sourced(...range(n, i => paymentSettled({ orderId: key(i) })))).payments),
  },
  {
    name: 'inventory_ledger',
    columns: 8,
    build: n =>
      statements.insertLedger(
        planBatch(sourced(...range(n, i => inventoryAdjusted({ sku: 's', delta: 1 }, { eventId: key(i) })))).deltas,
      ),
  },
  {
    name: 'inventory',
    columns: 6,
    build: n => {
      const deltas = planBatch(sourced(...range(n, i => inventoryAdjusted({ sku: key(i), delta: 1 })))).deltas
      return statements.upsertInventory(inventoryChanges(deltas, new Set(deltas.map(d => d.eventId))))
    },
  },
]

function range<T>(n: number, f: (i: number) => T): T[] {
  return Array.from({ length: n }, (_, i) => f(i))
}

// Zero-padded so that the key order planBatch sorts by is the numeric order.
const key = (i: number) => `k${String(i).padStart(5, '0')}`

describe('mssql statements: chunking', () => {
  for (const c of cases) {
    it(`${c.name}: batches of 1, 999, 1,000, 1,001 and 5,000 rows stay within the limits, each row once`, () => {
      for (const n of [1, 999, 1000, 1001, 5000]) {
        const queries = c.build(n)
        const perRequest = rowsPerRequest(c.columns)
        assert.equal(queries.length, Math.ceil(n / perRequest), `${n} rows`)
        const seen: string[] = []
        for (const q of queries) {
          assert.ok(q.parameters.length <= maxParameters, `${q.parameters.length} parameters`)
          const rows = tuples(q)
          assert.ok(rows.length <= maxValuesRows, `${rows.length} VALUES rows`)
          assert.equal(q.parameters.length, rows.length * c.columns)
          // Placeholders @1…@N in order, one per parameter, and nothing else numbered.
          assert.deepEqual(
            rows.flat(),
            range(q.parameters.length, i => i + 1),
          )
          assert.equal(q.sql.match(/@\d+/g)?.length, q.parameters.length)
          // The key is the first column of every tuple.
          for (const row of rows) seen.push((q.parameters[row[0]! - 1] as Typed).value as string)
        }
        assert.deepEqual(seen, range(n, key), `${n} rows: every row exactly once, in key order`)
      }
    })
  }

  it('puts as many rows in a request as both limits allow', () => {
    assert.deepEqual(
      cases.map(c => rowsPerRequest(c.columns)),
      [222, 200, 222, 250, 333],
    )
    assert.equal(rowsPerRequest(1), 1000)
    assert.deepEqual(statements.upsertUsers([]), [])
  })
})

describe('mssql statements: T-SQL and parameter types', () => {
  it('upserts state rows with MERGE … WITH (UPDLOCK, HOLDLOCK), the newer (timestamp, offset) wins', () => {
    const plan = planBatch(
      sourced(
        userCreated({ userId: 'a', name: 'Ada' }, { eventId: 'e1', timestamp: at(1) }),
        userCreated({ userId: 'b', name: 'Bob' }, { eventId: 'e2', timestamp: at(2) }),
      ),
    )
    const [q, ...rest] = statements.upsertUsers(plan.users)
    assert.equal(rest.length, 0)
    assert.equal(
      q!.sql,
      `MERGE INTO users WITH (UPDLOCK, HOLDLOCK) AS t
USING (VALUES (@1, @2, @3, @4, @5, @6, @7, @8, @9), (@10, @11, @12, @13, @14, @15, @16, @17, @18)) AS s (user_id, name, email, created_at, event_id, event_ts, source_topic, source_partition, source_offset)
ON t.user_id = s.user_id
WHEN MATCHED AND (t.event_ts < s.event_ts
    OR (t.event_ts = s.event_ts AND (t.source_partition < s.source_partition
      OR (t.source_partition = s.source_partition AND t.source_offset <= s.source_offset)))) THEN
  UPDATE SET name = s.name, email = s.email, created_at = s.created_at, event_id = s.event_id, event_ts = s.event_ts, source_topic = s.source_topic, source_partition = s.source_partition, source_offset = s.source_offset, updated_at = SYSUTCDATETIME()
WHEN NOT MATCHED BY TARGET THEN
  INSERT (user_id, name, email, created_at, event_id, event_ts, source_topic, source_partition, source_offset)
  VALUES (s.user_id, s.name, s.email, s.created_at, s.event_id, s.event_ts, s.source_topic, s.source_partition, s.source_offset);`,
    )
    // n characters of the seed's VARCHAR(n) take at most 4n bytes of UTF-8.
    assert.deepEqual(declarations(q!).slice(0, 9), [
      'varchar(400)',
      'varchar(1020)',
      'varchar(1020)',
      'datetime2(3)',
      'varchar(400)',
      'datetime2(3)',
      'varchar(1020)',
      'int',
      'bigint',
    ])
    const values = q!.parameters.slice(0, 9).map(p => (p as Typed).value)
    assert.deepEqual(values.slice(0, 3), ['a', 'Ada', 'ada@example.com'])
    assert.deepEqual(values[5], new Date(at(1)))
    assert.equal(typeof values[8], 'bigint')
  })

  it('binds money as DECIMAL(18,2) exactly and the inventory sum as BIGINT', () => {
    const plan = planBatch(
      sourced(
        orderPlaced({ orderId: 'o', userId: 'u', total: 9_999_999_999_999.99 }),
        paymentSettled({ orderId: 'o', amount: 0.1 }),
        inventoryAdjusted({ sku: 's', delta: 2_000_000_000 }),
        inventoryAdjusted({ sku: 's', delta: 2_000_000_000 }),
      ),
    )
    const order = statements.upsertOrders(plan.orders)[0]!
    assert.deepEqual(declarations(order).slice(0, 5), [
      'varchar(400)',
      'varchar(400)',
      'decimal(18, 2)',
      'varchar(200)',
      'datetime2(3)',
    ])
    assert.equal((order.parameters[2] as Typed).value, 9_999_999_999_999.99)
    assert.equal((statements.upsertPayments(plan.payments)[0]!.parameters[2] as Typed).value, 0.1)
    const ledger = statements.insertLedger(plan.deltas)[0]!
    assert.match(ledger.sql, /WHEN NOT MATCHED BY TARGET THEN\n {2}INSERT .*\nOUTPUT inserted\.event_id;$/s)
    assert.doesNotMatch(ledger.sql, /WHEN MATCHED/)
    assert.deepEqual(declarations(ledger).slice(0, 5), [
      'varchar(400)',
      'varchar(400)',
      'int',
      'varchar(1020)',
      'datetime2(3)',
    ])
    const inventory = statements.upsertInventory(
      inventoryChanges(plan.deltas, new Set(plan.deltas.map(d => d.eventId))),
    )[0]!
    assert.deepEqual(declarations(inventory), [
      'varchar(400)',
      'bigint',
      'datetime2(3)',
      'varchar(1020)',
      'int',
      'bigint',
    ])
    assert.equal((inventory.parameters[1] as Typed).value, 4_000_000_000n)
    assert.match(inventory.sql, /UPDATE SET quantity = t\.quantity \+ s\.quantity,/)
  })

  it('refuses, before sending, values their column cannot hold exactly', () => {
    // 101 characters that are 202 UTF-16 units and 404 UTF-8 bytes: too long by its characters alone.
    const long = '🎉'.repeat(101)
    const bad: [Event, RegExp][] = [
      [
        unchecked('UserCreated', { userId: 'x'.repeat(101), name: 'n', email: 'e', createdAt: t0 }),
        /users\.user_id is 101 characters, more than the 100 it holds/,
      ],
      [
        unchecked('UserCreated', { userId: long, name: 'n', email: 'e', createdAt: t0 }),
        /users\.user_id is 101 characters/,
      ],
      [
        unchecked('UserCreated', { userId: 'u', name: 'n'.repeat(256), email: 'e', createdAt: t0 }),
        /users\.name is 256 characters/,
      ],
      [
        unchecked('UserCreated', { userId: 'u', name: 'a\uD800b', email: 'e', createdAt: t0 }),
        /users\.name is not valid Unicode/,
      ],
      [
        unchecked('OrderPlaced', { orderId: 'o', userId: 'u', total: 1e16, createdAt: t0 }),
        /orders\.total 10000000000000000\.00 does not fit DECIMAL\(18,2\)/,
      ],
      [
        unchecked('OrderPlaced', { orderId: 'o', userId: 'u', total: 9_999_999_999_999_998, createdAt: t0 }),
        /orders\.total 9999999999999998\.00 cannot be sent exactly/,
      ],
      [
        unchecked('PaymentSettled', { orderId: 'o', status: 's', amount: 999_999_999_999_999.9, settledAt: t0 }),
        /payments\.amount 999999999999999\.88 cannot be sent exactly/,
      ],
      [
        unchecked('OrderPlaced', { orderId: 'o', userId: 'u', total: 1, status: 's'.repeat(51), createdAt: t0 }),
        /orders\.status is 51 characters/,
      ],
      [
        unchecked('UserCreated', { userId: 'u', name: 'n', email: 'e', createdAt: 'not a date' }),
        /users\.created_at not a date is not a DATETIME2/,
      ],
      [
        unchecked('InventoryAdjusted', { sku: 's', delta: 2 ** 31, adjustedAt: t0 }),
        /inventory_ledger\.delta 2147483648 does not fit INT/,
      ],
      [
        unchecked('InventoryAdjusted', { sku: 's', delta: 1.5, adjustedAt: t0 }),
        /inventory_ledger\.delta 1\.5 does not fit INT/,
      ],
    ]
    for (const [event, message] of bad) {
      const plan = planBatch(sourced(event))
      assert.throws(
        () => {
          statements.upsertUsers(plan.users)
          statements.upsertOrders(plan.orders)
          statements.upsertPayments(plan.payments)
          statements.insertLedger(plan.deltas)
        },
        (e: unknown) =>
          e instanceof PipelineError && e.code === 'DATA_OUT_OF_RANGE' && !e.retryable && message.test(e.message),
        String(message),
      )
    }
    // At the limits, everything fits whatever its UTF-8 size: 100 CJK characters (300 bytes), 255 emoji (510
    // UTF-16 units, 1,020 bytes), the largest total the event schema allows.
    const fits = planBatch(
      sourced(
        userCreated({ userId: '字'.repeat(100), name: 'é'.repeat(255), email: '🎉'.repeat(255) }),
        orderPlaced({ orderId: 'o', userId: 'u', total: -9_999_999_999_999.99 }),
      ),
    )
    assert.equal(statements.upsertUsers(fits.users).length, 1)
    assert.equal((statements.upsertOrders(fits.orders)[0]!.parameters[2] as Typed).value, -9_999_999_999_999.99)
  })

  it('describes each typed value by the declaration tedious sends', () => {
    assert.equal(new Typed('varchar', 'x', { length: 50 }).declaration, 'varchar(200)')
    assert.equal(new Typed('decimal', 1, { precision: 18, scale: 2 }).declaration, 'decimal(18, 2)')
    assert.equal(new Typed('bigint', 1n).declaration, 'bigint')
  })
})
