// The pending sweep's reads, compiled for one engine without a connection, to be explained on a table of a few
// tens of thousands of rows: enough that a planner prefers an index it can use over reading the whole table.
import {
  DummyDriver,
  Kysely,
  type Kysely as KyselyType,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
} from 'kysely'
import {
  candidates,
  cappedCount,
  claimedParent,
  expiredRows,
  heldClaims,
  ofParents,
  oldestUnder,
  storedSince,
  waitingParents,
} from '../../src/store/pending-queries.ts'
import type { Tables } from '../../src/store/tables.ts'

/** Rows the plan tests fill pending_events with. */
export const planRows = 20_000

export interface SweepQuery {
  readonly name: string
  readonly sql: string
  readonly parameters: readonly unknown[]
  /** The index the query must read pending_events through. */
  readonly index: string
}

export function compilerFor(engine: 'postgres' | 'sqlite'): KyselyType<Tables> {
  return new Kysely<Tables>({
    dialect: {
      createAdapter: () => (engine === 'postgres' ? new PostgresAdapter() : new SqliteAdapter()),
      createDriver: () => new DummyDriver(),
      createIntrospector: db => (engine === 'postgres' ? new PostgresIntrospector(db) : new SqliteIntrospector(db)),
      createQueryCompiler: () => (engine === 'postgres' ? new PostgresQueryCompiler() : new SqliteQueryCompiler()),
    },
  })
}

/** Every read a sweep tick makes of pending_events, with the timestamps of a table filled over the last hour. */
export function sweepQueries(db: KyselyType<Tables>, now: Date): SweepQuery[] {
  const limit = <Q extends { limit(n: number): Q }>(q: Q, n: number) => q.limit(n)
  const ago = (ms: number) => new Date(now.getTime() - ms).toISOString()
  const expiry = 'IX_pending_events_expiry'
  const parent = 'IX_pending_events_parent'
  const of = (name: string, index: string, query: { compile(): { sql: string; parameters: readonly unknown[] } }) => {
    const { sql, parameters } = query.compile()
    return { name, sql, parameters, index }
  }
  return [
    of('expired rows, none expired', expiry, expiredRows(db, limit, ago(24 * 3600_000), 500)),
    of('held claims', expiry, heldClaims(db, limit, 500)),
    of('oldest waiting row', expiry, oldestUnder(db, limit, 'users')),
    of('oldest claimed row', expiry, oldestUnder(db, limit, claimedParent)),
    of('rows stored lately', expiry, candidates(db, limit, storedSince(ago(30_000)), 500)),
    of('rows of given parents', parent, candidates(db, limit, ofParents(['p-1', 'p-2', 'p-3']), 500)),
    of('the walk', parent, waitingParents(db, limit, 'p-100', 1000)),
    of('the capped count', '', cappedCount(db, limit)),
  ]
}
