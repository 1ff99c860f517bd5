// The whole MSSQL store offline, over connections that record what tedious would send: every statement of a
// session compared with expected T-SQL (expected-session.sql), transactions, result counting, error handling,
// and the fallback to NVARCHAR parameters on a database whose code page is not UTF-8.
import assert from 'node:assert/strict'
import { readFileSync, writeFileSync } from 'node:fs'
import { describe, it, type TestContext } from 'node:test'
import { inspect } from 'node:util'
import { PipelineError } from '../../../src/errors.ts'
import type { Store } from '../../../src/store/index.ts'
import { createMssqlStore } from '../../../src/store/mssql/store.ts'
import { at, inventoryAdjusted, orderPlaced, paymentSettled, sourced, t0, unchecked, userCreated } from '../events.ts'
import { assertPipelineError, outcome } from '../harness.ts'
import { cp1252Collation, FakeServer, fkMessage, type Recorded, serverError } from './fake-server.ts'

const seedConn = 'server=mssql;user id=sa;password=Your_strong_pwd1;database=events;encrypt=disable'
const expectedFile = new URL('./expected-session.sql', import.meta.url)

const tuples = (r: Recorded) => r.sql.match(/\(@\d+/g)?.length ?? 0

/** Answers like a database where every MERGE row is written and every ledger row is new. */
function happy(r: Recorded) {
  if (r.sql.startsWith('MERGE INTO inventory_ledger')) {
    const perRow = r.values.length / tuples(r)
    return { rows: r.values.filter((_, i) => i % perRow === 0).map(eventId => ({ event_id: eventId })) }
  }
  if (r.sql.startsWith('MERGE')) return { rowCount: tuples(r) }
  return undefined
}

function open(t: TestContext, server: FakeServer): Store {
  const store = createMssqlStore({ connectionString: seedConn, connectionFactory: server.factory })
  t.after(() => store.close())
  return store
}

const batch = () =>
  sourced(
    userCreated({ userId: 'u2', name: 'Bob' }, { eventId: 'e-1', timestamp: at(1) }),
    userCreated({ userId: 'u1', name: 'Ada' }, { eventId: 'e-2', timestamp: at(2) }),
    orderPlaced({ orderId: 'o1', userId: 'u1', total: 12.5 }, { eventId: 'e-3' }),
    paymentSettled({ orderId: 'o1', amount: 12.5 }, { eventId: 'e-4' }),
    inventoryAdjusted({ sku: 's1', delta: 3 }, { eventId: 'e-5' }),
    inventoryAdjusted({ sku: 's1', delta: -1 }, { eventId: 'e-6' }),
  )

describe('mssql store, offline', () => {
  it('issues exactly the expected T-SQL for a session', async t => {
    const server = new FakeServer()
    server.respond = happy
    const store = open(t, server)
    await store.migrate()
    const events = batch()
    assert.deepEqual(
      await store.applyBatch(
        events,
        events.map(e => e.source),
      ),
      outcome({ upserts: 4, stale: 0, deltasApplied: 2, deltasDuplicate: 0 }),
    )
    await store.getUser('u1')
    await store.getRecentOrders('u1', 5)
    await store.getOrder('o1')
    await store.getPayment('o1')
    await store.getInventory('s1')
    await store.eventFacts('e-3')
    await store.appliedOffsets('events')
    await store.pruneEventLog('2025-01-01T00:00:00.000Z', 5000)
    // The pending sweep's reads: the capped count and the oldest row, the walk, and a resolve of each scope.
    await store.pendingStats()
    await store.pendingParents('u0', 1000)
    await store.resolvePending(500, { since: '2025-01-01T00:00:00.000Z' })
    await store.resolvePending(500, { parents: ['u8', 'u9'] })
    await store.ping()
    const transcript = `${server.transcript.join('\n\n')}\n`
    // UPDATE_EXPECTED_SQL=1 rewrites the file after a deliberate change; review its diff like code.
    if (process.env['UPDATE_EXPECTED_SQL'] === '1') writeFileSync(expectedFile, transcript)
    assert.equal(transcript, readFileSync(expectedFile, 'utf8'))
    // What the file must keep saying, whoever regenerates it.
    const text = server.statements().map(r => r.sql)
    // The database exists, so master is never logged in to and nothing is created.
    assert.ok(!server.logins.includes('master'))
    assert.ok(!text.some(s => s.includes('CREATE DATABASE')))
    assert.match(
      text[0] ?? '',
      /sp_getapplock @Resource = N'event-pipeline:schema', @LockMode = N'Exclusive', @LockOwner = N'Transaction'/,
    )
    // orders.user_id is declared as users.user_id is, which may be the seed's column in the server's collation:
    // FK_Orders_Users needs the same type and collation on both sides.
    const orders = text.find(s => s.startsWith("IF OBJECT_ID(N'orders', N'U') IS NULL")) ?? ''
    assert.match(orders, /FROM sys\.columns AS c WHERE c\.object_id = OBJECT_ID\(N'users'\) AND c\.name = N'user_id'/)
    assert.match(orders, /N'\) COLLATE ' \+ c\.collation_name/)
    assert.match(orders, /\n {2}user_id ' \+ @userId \+ N' NOT NULL,\n/)
    // Every text column the pipeline creates holds n characters in 4n bytes, checked by a named CHECK.
    for (const s of text.filter(s => s.includes(' VARCHAR('))) {
      for (const [, bytes, column, name, chars] of s.matchAll(
        /(?:^|\s)VARCHAR\((\d+)\) COLLATE Latin1_General_100_BIN2_UTF8 [^,\n]*?CONSTRAINT CK_\w+?_(\w+)_len CHECK \(LEN\((\w+) \+ '+\.'+\) <= (\d+)\)/g,
      )) {
        assert.equal(Number(bytes), (Number(chars) - 1) * 4, s)
        assert.equal(name, column?.slice(-name!.length), s)
      }
      // VARCHAR(MAX) (a pending event's payload) has no length to check.
      assert.equal(s.match(/ VARCHAR\(\d/g)?.length, s.match(/_len CHECK/g)?.length, s)
    }
    assert.equal(text.filter(s => /^MERGE INTO \w+ WITH \(UPDLOCK, HOLDLOCK\) AS t\n/.test(s)).length, 6)
    // The event log is appended to, one INSERT for the batch's four state events; the applied offset only rises,
    // unless the mark belongs to another topic ID (a re-created topic).
    assert.equal(text.filter(s => s.startsWith('INSERT INTO event_log (')).length, 1)
    assert.match(
      text.find(s => s.startsWith('MERGE INTO applied_offsets')) ?? '',
      /WHEN MATCHED AND \(t\.source_offset < s\.source_offset OR t\.topic_id <> s\.topic_id\) THEN/,
    )
    for (const name of ['FK_Orders_Users', 'IX_orders_user_id', 'IX_orders_created_at']) {
      assert.ok(
        text.some(s => s.includes(name)),
        name,
      )
    }
  })

  it('applies the steps of a migration once', async t => {
    const server = new FakeServer()
    server.respond = r =>
      r.sql === 'select "version" from "schema_migrations"'
        ? { rows: [{ version: 1 }, { version: 2 }, { version: 3 }, { version: 4 }, { version: 5 }] }
        : undefined
    await open(t, server).migrate()
    assert.deepEqual(
      server.statements().map(r => r.sql.split('\n')[0]),
      [
        'DECLARE @status INT;',
        "IF OBJECT_ID(N'schema_migrations', N'U') IS NULL CREATE TABLE schema_migrations (",
        'select "version" from "schema_migrations"',
      ],
    )
    assert.deepEqual(server.transactions, ['BEGIN events', 'COMMIT events'])
  })

  it('claims an expired pending row with UPDATE … OUTPUT inserted.*, in one transaction', async t => {
    const server = new FakeServer()
    const row = {
      source_topic: 'events',
      source_partition: 0,
      source_offset: '5',
      event_id: 'e-9',
      event_type: 'OrderPlaced',
      event_key: 'o9',
      parent_table: 'users',
      parent_key: 'ghost',
      constraint_name: 'FK_Orders_Users',
      event_ts: new Date('2025-01-11T12:00:00.000Z'),
      payload: '{}',
      pending_since: new Date('2025-01-11T12:00:00.000Z'),
      origin_topic: null,
      origin_partition: null,
      origin_offset: null,
    }
    server.respond = r => {
      if (r.sql.startsWith('select') && r.sql.includes('"pending_events" as "p"')) {
        return { rows: [{ ...row, current_ts: null, current_partition: null, current_offset: null }] }
      }
      if (r.sql.startsWith('update "pending_events"')) return { rows: [{ ...row, parent_table: '(dead-letter)' }] }
      return undefined
    }
    const claimed = await open(t, server).claimExpired('2026-01-01T00:00:00.000Z', 10)
    assert.deepEqual(
      claimed.map(p => [p.key, p.parentTable, p.superseded, p.source.offset]),
      [['o9', 'users', false, 5n]],
    )
    const update = server.statements().find(r => r.sql.startsWith('update "pending_events"'))
    assert.match(
      update?.sql ?? '',
      /^update "pending_events" set "parent_table" = @1 output "inserted"\.\* where "parent_table" = @2 and/,
    )
    assert.deepEqual(update?.values.slice(0, 2), ['(dead-letter)', 'users'])
    assert.deepEqual(server.transactions, ['BEGIN events', 'COMMIT events'])
  })

  it('counts rows the MERGEs wrote and ledger rows OUTPUT returned', async t => {
    const server = new FakeServer()
    server.respond = r => {
      // One user row was newer in the table; e-5 was applied before.
      if (r.sql.startsWith('MERGE INTO users')) return { rowCount: 1 }
      if (r.sql.startsWith('MERGE INTO inventory_ledger')) return { rows: [{ event_id: 'e-6' }] }
      return happy(r)
    }
    const result = await open(t, server).applyBatch(batch())
    assert.deepEqual(result, outcome({ upserts: 3, stale: 1, deltasApplied: 1, deltasDuplicate: 1 }))
    const inventory = server.statements().find(r => r.sql.startsWith('MERGE INTO inventory WITH'))
    assert.deepEqual(inventory?.values.slice(0, 2), ['s1', -1n])
    assert.deepEqual(server.transactions, ['BEGIN events', 'COMMIT events'])
  })

  it('rolls back a failed batch and reports its own error even when the rollback fails too', async t => {
    const server = new FakeServer()
    server.respond = r =>
      r.sql.startsWith('MERGE INTO orders')
        ? {
            error: new AggregateError([
              serverError(547, fkMessage),
              serverError(3621, 'The statement has been terminated.'),
            ]),
          }
        : happy(r)
    server.rollbackError = serverError(3903, 'The ROLLBACK TRANSACTION request has no corresponding BEGIN TRANSACTION.')
    const store = open(t, server)
    await assertPipelineError(store.applyBatch(batch()), {
      code: 'CONSTRAINT_VIOLATION',
      retryable: false,
      constraint: 'FK_Orders_Users',
      message: /FK_Orders_Users/,
    })
    assert.deepEqual(server.transactions, ['BEGIN events', 'ROLLBACK events'])
    assert.ok(!server.statements().some(r => r.sql.startsWith('MERGE INTO payments')), 'stops at the failure')
  })

  it('refuses a value that does not fit before sending anything of the batch', async t => {
    const server = new FakeServer()
    server.respond = happy
    const store = open(t, server)
    await assertPipelineError(
      store.applyBatch(
        sourced(unchecked('UserCreated', { userId: 'u', name: 'é'.repeat(256), email: 'e', createdAt: t0 })),
      ),
      {
        code: 'DATA_OUT_OF_RANGE',
        retryable: false,
        message: /users\.name is 256 characters, more than the 255 it holds/,
      },
    )
    assert.equal(server.statements().length, 0)
    assert.deepEqual(server.transactions, ['BEGIN events', 'ROLLBACK events'])
  })

  it('runs a deadlock victim again, and reports a deadlock that persists as retryable', async t => {
    const server = new FakeServer()
    let deadlocks = 1
    server.respond = r =>
      r.sql.startsWith('MERGE INTO users') && deadlocks-- > 0
        ? { error: serverError(1205, 'deadlock victim') }
        : happy(r)
    const store = open(t, server)
    assert.equal((await store.applyBatch(batch())).upserts, 4)
    assert.deepEqual(server.transactions, ['BEGIN events', 'ROLLBACK events', 'BEGIN events', 'COMMIT events'])

    deadlocks = Number.POSITIVE_INFINITY
    server.transactions.length = 0
    await assertPipelineError(store.applyBatch(batch()), { code: 'DB_UNAVAILABLE', retryable: true, message: /1205/ })
    assert.equal(server.transactions.filter(x => x.startsWith('BEGIN')).length, 3)
  })

  it('sends text that fits the seed lengths in characters, whatever its size in bytes or UTF-16 units', async t => {
    for (const collation of [undefined, cp1252Collation]) {
      const server = new FakeServer()
      if (collation) server.collation = collation
      server.respond = happy
      const store = open(t, server)
      const id = '字'.repeat(100)
      const name = '🎉'.repeat(255)
      await store.applyBatch(sourced(userCreated({ userId: id, name })))
      const merge = server.statements()[0]
      assert.deepEqual(merge?.values.slice(0, 2), [id, name])
      assert.match(
        merge?.declarations ?? '',
        collation ? /^@1 nvarchar\(200\), @2 nvarchar\(510\), / : /^@1 varchar\(400\), @2 varchar\(1020\), /,
      )
    }
  })

  it('binds text as NVARCHAR when the database code page is not UTF-8', async t => {
    const server = new FakeServer()
    server.collation = cp1252Collation
    server.respond = happy
    const store = open(t, server)
    await store.applyBatch(sourced(userCreated({ userId: 'u1', name: 'Zoë 日本語 🎉' })))
    await store.getUser('u1')
    const [merge] = server.statements()
    const read = server.statements().find(r => r.sql.startsWith('select "user_id", "name"'))
    assert.match(
      merge?.declarations ?? '',
      /^@1 nvarchar\(200\), @2 nvarchar\(510\), @3 nvarchar\(510\), @4 datetime2\(3\), /,
    )
    assert.equal(read?.declarations, '@1 nvarchar(4000)')
  })

  it('reads DATETIME2 as ISO-8601 text and DECIMAL as a number', async t => {
    const server = new FakeServer()
    const createdAt = new Date('2025-01-11T12:00:00.123Z')
    server.respond = r =>
      r.sql.startsWith('select "order_id"')
        ? {
            rows: [
              {
                order_id: 'o1',
                user_id: 'u1',
                total: 123.45,
                status: 'placed',
                created_at: createdAt,
                updated_at: createdAt,
              },
            ],
          }
        : undefined
    const store = open(t, server)
    assert.deepEqual(await store.getOrder('o1'), {
      orderId: 'o1',
      userId: 'u1',
      total: 123.45,
      status: 'placed',
      createdAt: '2025-01-11T12:00:00.123Z',
      updatedAt: '2025-01-11T12:00:00.123Z',
    })
    assert.equal(server.statements()[0]?.declarations, '@1 varchar(8000)')
  })

  it('reports an unreachable server as retryable DB_UNAVAILABLE, with no password in sight', async t => {
    const password = 'Never_Show_Me_42'
    const store = createMssqlStore({
      connectionString: `server=127.0.0.1,1;user id=sa;password=${password};database=events;encrypt=disable;timeout=2`,
    })
    t.after(() => store.close())
    for (const attempt of [() => store.ping(), () => store.migrate(), () => store.applyBatch(batch())]) {
      const error = await assertPipelineError(attempt(), { code: 'DB_UNAVAILABLE', retryable: true })
      for (const shown of [error.message, JSON.stringify(error), inspect(error, { depth: 10 })]) {
        assert.ok(!shown.includes(password), shown)
      }
    }
    const refused = new FakeServer()
    refused.refuse = new PipelineError('DB_UNAVAILABLE', 'refused')
    await assertPipelineError(open(t, refused).ping(), { code: 'DB_UNAVAILABLE', retryable: true })
  })
})
