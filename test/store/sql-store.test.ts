// The key lookups SqlStore shares between engines, over real SQLite and PostgreSQL databases whose Kysely logs
// every statement: keys asked in one turn share a query (at most 500 keys each, through the engine's array
// lookup when it has one), an engine without batched lookups reads each key on its own, nothing is remembered
// from one turn to the next, and a failed query rejects only the keys it was reading.
import assert from 'node:assert/strict'
import { describe, it, type TestContext } from 'node:test'
import { Kysely, type LogEvent, PostgresDialect } from 'kysely'
import { PipelineError } from '../../src/errors.ts'
import * as pgDriver from '../../src/store/postgres/driver.ts'
import * as pgErrors from '../../src/store/postgres/errors.ts'
import * as pgMigrations from '../../src/store/postgres/migrations.ts'
import * as pgStatements from '../../src/store/postgres/statements.ts'
import { type EngineParts, SqlStore } from '../../src/store/sql-store.ts'
import { NodeSqliteDialect } from '../../src/store/sqlite/driver.ts'
import * as sqliteErrors from '../../src/store/sqlite/errors.ts'
import * as sqliteMigrations from '../../src/store/sqlite/migrations.ts'
import * as sqliteStatements from '../../src/store/sqlite/statements.ts'
import type { Tables } from '../../src/store/tables.ts'
import { postgresDatabase, sqliteFile } from '../helpers/resources.ts'
import { orderPlaced, sourced, userCreated } from './events.ts'

interface Logged {
  readonly store: SqlStore
  /** The SELECTs on `orders` run since the last call, with their parameters. */
  reads(): { sql: string; parameters: readonly unknown[] }[]
}

type Engine = 'sqlite' | 'postgres'

async function logged(t: TestContext, engine: Engine, batchedLookups: boolean): Promise<Logged> {
  let queries: LogEvent['query'][] = []
  const log = (event: LogEvent) => {
    if (event.level === 'query') queries.push(event.query)
  }
  let parts: EngineParts
  if (engine === 'sqlite') {
    const db = new Kysely<Tables>({ dialect: new NodeSqliteDialect({ path: sqliteFile(t), busyTimeoutMs: 1000 }), log })
    parts = {
      engine,
      db,
      statements: sqliteStatements.statements,
      batchedLookups,
      migrate: sqliteMigrations.migrate,
      toPipelineError: sqliteErrors.toPipelineError,
      write: work => db.transaction().execute(work),
    }
  } else {
    const url = await postgresDatabase(t)
    const { pool } = pgDriver.createPool({ url, poolSize: 4, prepared: pgStatements.preparedNames })
    const db = new Kysely<Tables>({ dialect: new PostgresDialect({ pool }), log })
    parts = {
      engine,
      db,
      statements: pgStatements.statements,
      lookups: pgStatements.lookups,
      batchedLookups,
      migrate: pgMigrations.migrate,
      toPipelineError: pgErrors.toPipelineError,
      write: work => db.transaction().execute(work),
    }
  }
  const store = new SqlStore(parts)
  t.after(() => store.close())
  await store.migrate()
  queries = []
  return {
    store,
    reads() {
      const orders = queries.filter(q => /^select .* from "?orders"? where/is.test(q.sql))
      queries = []
      return orders.map(q => ({ sql: q.sql, parameters: q.parameters }))
    },
  }
}

/** How many keys one logged read asked for: the array lookup's one array, or one parameter per key. */
const keysOf = (read: { parameters: readonly unknown[] }) =>
  Array.isArray(read.parameters[0]) ? read.parameters[0].length : read.parameters.length

for (const engine of ['sqlite', 'postgres'] as const) {
  describe(`SqlStore key lookups, ${engine}`, () => {
    it('serves the keys of one turn with one query, and reads again in the next turn', async t => {
      const { store, reads } = await logged(t, engine, true)
      await store.applyBatch(
        sourced(userCreated({ userId: 'u1' }), orderPlaced({ orderId: 'o1', userId: 'u1', total: 1 })),
      )
      reads()
      const [a, b, again, missing] = await Promise.all([
        store.getOrder('o1'),
        store.getOrder('o2'),
        store.getOrder('o1'),
        store.getOrder('o3'),
      ])
      assert.equal(a?.total, 1)
      assert.equal(again?.total, 1)
      assert.equal(b, undefined)
      assert.equal(missing, undefined)
      const turn = reads()
      assert.equal(turn.length, 1, JSON.stringify(turn))
      assert.equal(keysOf(turn[0]!), 3, 'a key asked twice in the turn is read once')
      if (engine === 'postgres') assert.match(turn[0]!.sql, /= ANY\(\$1::varchar\[\]\)$/, 'the engine array lookup')
      else assert.match(turn[0]!.sql, / in \(\?, \?, \?\)/)
      // Nothing is remembered: a row written after the first read is seen by the next turn's.
      await store.applyBatch(sourced(orderPlaced({ orderId: 'o2', userId: 'u1', total: 2 })))
      assert.equal((await store.getOrder('o2'))?.total, 2)
      assert.equal(reads().length, 1)
    })

    it('splits a turn of more than 500 keys into queries of at most 500', async t => {
      const { store, reads } = await logged(t, engine, true)
      const found = await Promise.all(Array.from({ length: 1201 }, (_, i) => store.getOrder(`o${i}`)))
      assert.ok(found.every(o => o === undefined))
      assert.deepEqual(
        reads()
          .map(keysOf)
          .sort((x, y) => y - x),
        [500, 500, 201],
      )
    })

    it('reads each key with its own query when the engine does not batch lookups', async t => {
      const { store, reads } = await logged(t, engine, false)
      await store.applyBatch(
        sourced(userCreated({ userId: 'u1' }), orderPlaced({ orderId: 'o1', userId: 'u1', total: 1 })),
      )
      reads()
      const found = await Promise.all(['o1', 'o2', 'o3'].map(id => store.getOrder(id)))
      assert.deepEqual(
        found.map(o => o?.orderId),
        ['o1', undefined, undefined],
      )
      const turn = reads()
      assert.deepEqual(turn.map(keysOf), [1, 1, 1])
      if (engine === 'sqlite') for (const read of turn) assert.match(read.sql, / = \?$/)
    })

    it('rejects a closed store as retryable DB_UNAVAILABLE', async t => {
      const { store } = await logged(t, engine, true)
      await store.close()
      await assert.rejects(
        store.getOrder('o1'),
        (e: unknown) => e instanceof PipelineError && e.code === 'DB_UNAVAILABLE' && e.retryable,
      )
    })
  })
}

describe('SqlStore key lookups, failures', () => {
  // PostgreSQL refuses a NUL character in text, so a key holding one makes its own query fail.
  const bad = 'o\u0000bad'

  it('rejects only the keys whose query failed', async t => {
    const { store } = await logged(t, 'postgres', false)
    const [good, failed] = await Promise.allSettled([store.getOrder('o1'), store.getOrder(bad)])
    assert.deepEqual(good, { status: 'fulfilled', value: undefined })
    assert.equal(failed.status, 'rejected')
    assert.ok(failed.status === 'rejected' && failed.reason instanceof PipelineError, String(failed))
  })

  it('rejects every key of a shared query that failed, with the taxonomy error', async t => {
    const { store } = await logged(t, 'postgres', true)
    const settled = await Promise.allSettled([store.getOrder('o1'), store.getOrder(bad)])
    for (const s of settled) assert.ok(s.status === 'rejected' && s.reason instanceof PipelineError, String(s))
    // The next turn is not affected.
    assert.equal(await store.getOrder('o1'), undefined)
  })
})
