// The engine-independent planning of a batch, the SQL each engine generates for it, and the engine choice.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { PipelineError } from '../../src/errors.ts'
import { inventoryChanges, judgeDeltas, moneyText, planBatch, processedThrough } from '../../src/store/batch.ts'
import { createStore } from '../../src/store/index.ts'
import { statements as postgres } from '../../src/store/postgres/statements.ts'
import { statements as sqlite } from '../../src/store/sqlite/statements.ts'
import { at, inventoryAdjusted, orderPlaced, paymentSettled, sourced, userCreated } from './events.ts'

describe('planBatch', () => {
  it('keeps one winner per key: the newest event, the later record on a tie', () => {
    const plan = planBatch(
      sourced(
        userCreated({ userId: 'b', name: 'newest' }, { timestamp: at(5) }),
        userCreated({ userId: 'b', name: 'older' }, { timestamp: at(4) }),
        userCreated({ userId: 'a', name: 'first' }, { timestamp: at(1) }),
        userCreated({ userId: 'a', name: 'second' }, { timestamp: at(1) }),
        orderPlaced({ orderId: 'o', userId: 'a', total: 5 }),
        paymentSettled({ orderId: 'o', amount: 0.1 }),
      ),
    )
    assert.deepEqual(
      plan.users.map(u => [u.userId, u.name]),
      [
        ['a', 'second'],
        ['b', 'newest'],
      ],
    )
    assert.equal(plan.stateEvents, 6)
    assert.deepEqual(
      plan.orders.map(o => [o.total, o.status]),
      [['5.00', 'placed']],
    )
    assert.equal(plan.payments[0]?.amount, '0.10')
  })

  it('breaks timestamp ties by Kafka offset, not by the order records are handed over in', () => {
    const record = (offset: number, name: string) => ({
      event: userCreated({ userId: 'k', name }, { timestamp: at(1) }),
      source: { topic: 'events', partition: 0, offset: BigInt(offset) },
    })
    assert.equal(planBatch([record(8, 'later offset'), record(7, 'earlier offset')]).users[0]?.name, 'later offset')
    assert.equal(planBatch([record(7, 'earlier offset'), record(8, 'later offset')]).users[0]?.name, 'later offset')
  })

  it('judges a delta eventId repeated in one batch against its first record', () => {
    const plan = planBatch(
      sourced(
        inventoryAdjusted({ sku: 's', delta: 1 }, { eventId: 'd' }),
        inventoryAdjusted({ sku: 's', delta: 1 }, { eventId: 'd' }),
        inventoryAdjusted({ sku: 's', delta: 9 }, { eventId: 'd' }),
      ),
    )
    assert.deepEqual(
      plan.deltas.map(d => d.delta),
      [1],
    )
    const firsts = new Map(plan.deltas.map(d => [d.eventId, d]))
    const verdict = judgeDeltas(plan.repeatedDeltas, id => firsts.get(id))
    assert.equal(verdict.duplicates, 1)
    assert.deepEqual(
      verdict.conflicts.map(c => [c.position, c.error.code]),
      [[2, 'EVENT_ID_CONFLICT']],
    )
  })

  it('drops repeated delta eventIds and sums the applied deltas per sku', () => {
    const once = inventoryAdjusted({ sku: 's', delta: 4, adjustedAt: at(2) }, { eventId: 'd1' })
    const batch = sourced(
      once,
      inventoryAdjusted({ sku: 's', delta: -1, adjustedAt: at(1) }, { eventId: 'd2' }),
      once,
      inventoryAdjusted({ sku: 'r', delta: 7, adjustedAt: at(1) }, { eventId: 'd0' }),
    )
    const plan = planBatch(batch)
    assert.deepEqual(
      plan.deltas.map(d => d.eventId),
      ['d0', 'd1', 'd2'],
    )
    assert.deepEqual(
      plan.repeatedDeltas.map(d => d.eventId),
      ['d1'],
    )
    const changes = inventoryChanges(plan.deltas, new Set(['d1', 'd2']))
    assert.deepEqual(changes, [{ sku: 's', delta: 3, lastAdjustedAt: at(2), source: batch[1]!.source }])
  })

  it('refuses money that is not a finite number', () => {
    assert.equal(moneyText(123.45, 'total'), '123.45')
    assert.throws(
      () => moneyText(Number.POSITIVE_INFINITY, 'total'),
      (e: unknown) => {
        return e instanceof PipelineError && e.code === 'DATA_OUT_OF_RANGE' && !e.retryable
      },
    )
  })
})

describe('event log rows and processed marks', () => {
  it('logs each eventId of a state event once, its first record, winners and losers, but no delta', () => {
    const plan = planBatch(
      sourced(
        userCreated({ userId: 'u1' }, { eventId: 'a', timestamp: at(2) }),
        userCreated({ userId: 'u1' }, { eventId: 'b', timestamp: at(1) }),
        userCreated({ userId: 'u1' }, { eventId: 'a', timestamp: at(2) }),
        paymentSettled({ orderId: 'o1' }, { eventId: 'c' }),
        inventoryAdjusted({ sku: 's', delta: 1 }, { eventId: 'd' }),
      ),
    )
    assert.deepEqual(
      plan.logged.map(r => [r.eventId, r.table, r.key]),
      [
        ['a', 'users', 'u1'],
        ['b', 'users', 'u1'],
        ['c', 'payments', 'o1'],
      ],
    )
    const [a] = plan.logged
    const [winner] = plan.users
    assert.ok(a !== undefined && winner !== undefined && a.source.offset < winner.source.offset, 'a: its first record')
  })

  it('marks the greatest offset per topic and partition', () => {
    const s = (topic: string, partition: number, offset: bigint) => ({ topic, partition, offset })
    assert.deepEqual(processedThrough([s('t', 0, 5n), s('t', 1, 2n), s('t', 0, 9n), s('t', 0, 7n), s('u', 0, 1n)]), [
      s('t', 0, 9n),
      s('t', 1, 2n),
      s('u', 0, 1n),
    ])
    assert.deepEqual(processedThrough([]), [])
  })
})

describe('generated SQL', () => {
  const plan = planBatch(
    sourced(...Array.from({ length: 1201 }, (_, i) => userCreated({ userId: `u${i}` }, { timestamp: at(i) }))),
  )

  it('postgres: one statement of arrays per table, whatever the batch size', () => {
    const [query, ...rest] = postgres.upsertUsers(plan.users)
    assert.equal(rest.length, 0)
    assert.match(query!.sql, /^WITH input AS \(SELECT \* FROM unnest\(\$1::varchar\[\], .+\) AS i \(user_id, /)
    // The same statement appends every input row to event_log, from the same arrays.
    assert.match(
      query!.sql,
      /logged AS \(INSERT INTO event_log \(.+\)\s+SELECT event_id, 'users', user_id, event_ts, .+ FROM input\)\nINSERT INTO users \(.+\) SELECT \* FROM input ON CONFLICT/,
    )
    assert.match(
      query!.sql,
      /ON CONFLICT \(user_id\) DO UPDATE SET .* WHERE users\.event_ts < excluded\.event_ts\s+OR \(users\.event_ts = excluded\.event_ts AND \(users\.source_partition < excluded\.source_partition\s+OR \(users\.source_partition = excluded\.source_partition AND users\.source_offset <= excluded\.source_offset\)\)\)$/s,
    )
    assert.equal(query!.parameters.length, 9)
    // Each parameter is its column's array literal, one quoted element per row.
    const userIds = query!.parameters[0] as string
    assert.equal(userIds.split(',').length, 1201)
    // Sorted by key, as every statement's rows are.
    assert.ok(userIds.startsWith('{"u0","u1","u10",') && userIds.endsWith(',"u999"}'))
    assert.deepEqual(postgres.upsertOrders([]), [])
  })

  it('sqlite: multi-row VALUES chunked under the parameter limit', () => {
    const queries = sqlite.upsertUsers(plan.users)
    assert.deepEqual(
      queries.map(q => q.parameters.length / 9),
      [500, 500, 201],
    )
    for (const q of queries) {
      assert.equal(q.sql.split('?').length - 1, q.parameters.length)
      assert.match(
        q.sql,
        /WHERE users\.event_ts < excluded\.event_ts\s+OR \(users\.event_ts = excluded\.event_ts AND \(users\.source_partition < excluded\.source_partition\s+OR \(users\.source_partition = excluded\.source_partition AND users\.source_offset <= excluded\.source_offset\)\)\)$/,
      )
    }
    assert.match(
      sqlite.insertLedger(planBatch(sourced(inventoryAdjusted({ sku: 's', delta: 1 }))).deltas)[0]!.sql,
      /ON CONFLICT \(event_id\) DO NOTHING RETURNING event_id$/,
    )
  })
})

describe('createStore', () => {
  it('builds an MS SQL Server store without connecting (test/store/mssql has its tests)', async () => {
    const store = await createStore({ engine: 'mssql', url: 'mssql://sa:x@localhost/db' })
    assert.equal(store.engine, 'mssql')
    await store.close()
  })
})
