import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import pg from 'pg'
import { isoFromTimestamptz } from '../../../src/store/postgres/driver.ts'
import { toPipelineError } from '../../../src/store/postgres/errors.ts'
import { postgresDatabase, postgresLoginWithoutCreatedb } from '../../helpers/resources.ts'
import { testServices } from '../../helpers/services.ts'
import { runConformance } from '../conformance.ts'
import { orderPlaced, sourced, userCreated } from '../events.ts'
import { assertPipelineError, openStore } from '../harness.ts'

runConformance('postgres', async t => ({ engine: 'postgres', url: await postgresDatabase(t) }))

function databaseError(code: string, constraint?: string): pg.DatabaseError {
  const error = new pg.DatabaseError(`error ${code}`, 0, 'error')
  error.code = code
  error.constraint = constraint
  return error
}

describe('postgres store specifics', () => {
  it('throws a retryable DB_UNAVAILABLE when PostgreSQL cannot be reached', async t => {
    const store = await openStore(t, { engine: 'postgres', url: 'postgres://postgres@127.0.0.1:1/none' }, false)
    await assertPipelineError(store.ping(), { code: 'DB_UNAVAILABLE', retryable: true })
    await assertPipelineError(store.applyBatch(sourced(userCreated({ userId: 'u1' }))), {
      code: 'DB_UNAVAILABLE',
      retryable: true,
    })
    await assertPipelineError(store.migrate(), { code: 'DB_UNAVAILABLE', retryable: true })
  })

  it('records each migration step once, with the seed names', async t => {
    const url = await postgresDatabase(t)
    const stores = await Promise.all([
      openStore(t, { engine: 'postgres', url }),
      openStore(t, { engine: 'postgres', url }),
    ])
    await Promise.all(stores.map(s => s.migrate()))
    const client = new pg.Client({ connectionString: url })
    await client.connect()
    const [versions, names] = await Promise.all([
      client.query('SELECT version FROM schema_migrations'),
      client.query(
        `SELECT conname AS name FROM pg_constraint WHERE conname = 'FK_Orders_Users'
         UNION ALL SELECT indexname FROM pg_indexes WHERE indexname LIKE 'IX_orders_%' ORDER BY 1`,
      ),
    ]).finally(() => client.end())
    assert.deepEqual(versions.rows, [{ version: 1 }, { version: 2 }, { version: 3 }, { version: 4 }, { version: 5 }])
    assert.deepEqual(
      names.rows.map(r => r.name),
      ['FK_Orders_Users', 'IX_orders_created_at', 'IX_orders_user_id'],
    )
  })

  it('writes the event log and the applied offsets in the batch, as the rows say', async t => {
    const url = await postgresDatabase(t)
    const store = await openStore(t, { engine: 'postgres', url })
    const batch = sourced(
      userCreated({ userId: 'u1' }, { eventId: 'log-1' }),
      orderPlaced({ orderId: 'o1', userId: 'u1' }, { eventId: 'log-2' }),
    )
    await store.applyBatch(
      batch,
      batch.map(e => e.source),
    )
    // A redelivery appends a second row for the eventId (no uniqueness check); lookups take the first.
    await store.applyBatch([{ ...batch[0]!, source: { ...batch[0]!.source, offset: 10_000n } }])
    const client = new pg.Client({ connectionString: url })
    await client.connect()
    const [log, offsets, indexes] = await Promise.all([
      client.query(
        'SELECT event_id, entity_table, entity_key, source_offset::text AS o FROM event_log ORDER BY event_id, source_offset',
      ),
      client.query('SELECT source_topic, source_partition, source_offset::text AS o FROM applied_offsets'),
      client.query(
        `SELECT indexname AS name FROM pg_indexes WHERE tablename IN ('event_log', 'pending_events', 'applied_offsets')
         ORDER BY 1`,
      ),
    ]).finally(() => client.end())
    const [first, second] = batch.map(e => e.source.offset.toString())
    assert.deepEqual(log.rows, [
      { event_id: 'log-1', entity_table: 'users', entity_key: 'u1', o: first },
      { event_id: 'log-1', entity_table: 'users', entity_key: 'u1', o: '10000' },
      { event_id: 'log-2', entity_table: 'orders', entity_key: 'o1', o: second },
    ])
    assert.deepEqual(offsets.rows, [{ source_topic: 'events', source_partition: 0, o: second }])
    assert.deepEqual(
      indexes.rows.map(r => r.name),
      [
        'IX_event_log_event_id',
        'IX_event_log_logged_at',
        'IX_pending_events_event_id',
        'IX_pending_events_expiry',
        'IX_pending_events_parent',
        'applied_offsets_pkey',
        'pending_events_pkey',
      ],
    )
    assert.equal((await store.eventFacts('log-1')).logged?.source.offset.toString(), first)
  })

  it('applies a pending order whose user another member stored after the order was found missing', async t => {
    // Two members: one stores the order as pending after reading no user, while the other stores the user and
    // looks for pending children before that pending row is committed. resolvePending closes that gap.
    const url = await postgresDatabase(t)
    const store = await openStore(t, { engine: 'postgres', url })
    await store.applyBatch(sourced(orderPlaced({ orderId: 'raced', userId: 'racer' })))
    const client = new pg.Client({ connectionString: url })
    await client.connect()
    await client
      .query(
        `INSERT INTO users (user_id, name, email, created_at, event_id, event_ts, source_topic, source_partition,
           source_offset) VALUES ('racer', 'R', 'r@example.com', now(), 'e-racer', now(), 'events', 1, 0)`,
      )
      .finally(() => client.end())
    assert.equal(await store.getOrder('raced'), undefined)
    assert.equal(await store.resolvePending(100), 1)
    assert.equal((await store.getOrder('raced'))?.userId, 'racer')
    assert.equal((await store.pendingStats()).count, 0)
    assert.equal(await store.resolvePending(100), 0)
  })

  it('finds users stored behind its back by the parents named, by recent rows, and by the walk', async t => {
    const url = await postgresDatabase(t)
    const store = await openStore(t, { engine: 'postgres', url })
    await store.applyBatch(
      sourced(
        orderPlaced({ orderId: 'o-a', userId: 'a' }),
        orderPlaced({ orderId: 'o-b', userId: 'b' }),
        orderPlaced({ orderId: 'o-c', userId: 'c' }),
        orderPlaced({ orderId: 'o-z', userId: 'z' }),
      ),
    )
    // The users arrive without taking their orders (another member's transaction that looked too early), and c's
    // order has waited an hour, longer than a tick looks back.
    const client = new pg.Client({ connectionString: url })
    await client.connect()
    try {
      await client.query(
        `INSERT INTO users (user_id, name, email, created_at, event_id, event_ts, source_topic, source_partition,
           source_offset)
         SELECT id, 'R', 'r@example.com', now(), 'e-' || id, now(), 'events', 1, 0 FROM unnest($1::text[]) AS id`,
        [['a', 'b', 'c']],
      )
      await client.query(`UPDATE pending_events SET pending_since = now() - interval '1 hour' WHERE parent_key = 'c'`)
    } finally {
      await client.end()
    }
    const ago = (ms: number) => new Date(Date.now() - ms).toISOString()
    assert.equal(await store.resolvePending(100, { parents: ['z', 'nobody'] }), 0, 'z has no user')
    assert.equal(await store.resolvePending(100, { parents: ['a'] }), 1)
    assert.equal(await store.resolvePending(100, { since: ago(-60_000) }), 0, 'nothing stored after the cut')
    assert.equal(await store.resolvePending(100, { since: ago(60_000) }), 1, 'b, not c')
    assert.deepEqual(await store.pendingParents(undefined, 1), ['c'])
    assert.deepEqual(await store.pendingParents('c', 1), ['z'])
    assert.deepEqual(await store.pendingParents('z', 1), [])
    assert.equal(await store.resolvePending(100, { parents: ['c', 'z'] }), 1)
    assert.deepEqual(await store.pendingParents(undefined, 10), ['z'])
    for (const [order, user] of [
      ['o-a', 'a'],
      ['o-b', 'b'],
      ['o-c', 'c'],
    ] as const) {
      assert.equal((await store.getOrder(order))?.userId, user)
    }
    assert.deepEqual(await store.pendingStats().then(s => [s.count, s.capped]), [1, false])
  })

  it('creates the database named in the URL when it does not exist, or says what to do when it may not', async t => {
    // The admin creates the absent database; the login without CREATEDB then meets another one.
    const { role, password, absentDatabase: name } = await postgresLoginWithoutCreatedb(t)
    const url = new URL(testServices.postgresAdminUrl)
    url.pathname = `/${name}`
    const store = await openStore(t, { engine: 'postgres', url: url.toString() })
    await store.applyBatch(sourced(userCreated({ userId: 'in-a-new-database' })))
    assert.ok(await store.getUser('in-a-new-database'))

    const other = new URL(url)
    other.username = role
    other.password = password
    other.pathname = `/${name}_not_there`
    const denied = await openStore(t, { engine: 'postgres', url: other.toString() }, false)
    await assertPipelineError(denied.migrate(), {
      code: 'DB_NOT_FOUND',
      retryable: false,
      message: /does not exist and this login may not create databases; create it \(createdb /,
    })
  })

  it('classifies SQLSTATE codes', () => {
    const cases: [string, string, boolean][] = [
      ['23503', 'CONSTRAINT_VIOLATION', false],
      ['23505', 'CONSTRAINT_VIOLATION', false],
      ['23514', 'CONSTRAINT_VIOLATION', false],
      ['22001', 'DATA_OUT_OF_RANGE', false],
      ['22003', 'DATA_OUT_OF_RANGE', false],
      ['40001', 'DB_UNAVAILABLE', true],
      ['40P01', 'DB_UNAVAILABLE', true],
      ['57P01', 'DB_UNAVAILABLE', true],
      ['57P03', 'DB_UNAVAILABLE', true],
      ['08006', 'DB_UNAVAILABLE', true],
      ['28P01', 'DB_UNAVAILABLE', true],
      ['28000', 'DB_UNAVAILABLE', true],
      ['3D000', 'DB_UNAVAILABLE', true],
      ['42501', 'DB_UNAVAILABLE', true],
      ['53300', 'DB_UNAVAILABLE', true],
      ['42P01', 'INTERNAL', false],
      ['XX000', 'INTERNAL', false],
    ]
    for (const [state, code, retryable] of cases) {
      const error = toPipelineError(databaseError(state))
      assert.deepEqual([error.code, error.retryable], [code, retryable], state)
    }
    assert.equal(toPipelineError(databaseError('23503', 'FK_Orders_Users')).constraint, 'FK_Orders_Users')
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' })
    assert.equal(toPipelineError(refused).code, 'DB_UNAVAILABLE')
    assert.equal(toPipelineError(new AggregateError([refused])).code, 'DB_UNAVAILABLE')
    assert.equal(toPipelineError(new Error('Connection terminated unexpectedly')).retryable, true)
    assert.equal(toPipelineError(new TypeError('a bug')).code, 'INTERNAL')
  })

  it('reads timestamptz text as ISO-8601 UTC with milliseconds', () => {
    assert.equal(isoFromTimestamptz('2025-01-11 12:00:00+00'), '2025-01-11T12:00:00.000Z')
    assert.equal(isoFromTimestamptz('2025-01-11 12:00:00.5+00'), '2025-01-11T12:00:00.500Z')
    assert.equal(isoFromTimestamptz('2025-01-11 14:30:00.123+02:30'), '2025-01-11T12:00:00.123Z')
    assert.equal(isoFromTimestamptz('2025-01-11 07:00:00-05'), '2025-01-11T12:00:00.000Z')
    assert.equal(isoFromTimestamptz('0001-01-01 00:00:00+00'), '0001-01-01T00:00:00.000Z')
    assert.equal(isoFromTimestamptz('9999-12-31 23:59:59.999+00'), '9999-12-31T23:59:59.999Z')
    assert.equal(isoFromTimestamptz('infinity'), 'infinity')
  })
})
