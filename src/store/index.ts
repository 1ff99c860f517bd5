// The store stage's only public door: the Store interface and createStore, which picks the engine from the
// configuration. createStore connects lazily and never migrates: each role decides whether and when to call
// store.migrate(), and a database that is down does not fail construction, only the first call.
//
// Each engine is imported when it is chosen: a process pays only for its own driver's code (the SQL Server
// driver, tedious with its Azure identity libraries, costs resident memory that a PostgreSQL or SQLite
// deployment never needs; docs/performance.md has the figure).
import type { Database } from '../config/index.ts'
import type { Store } from './types.ts'

export { newer } from './batch.ts'
export { type ReadSource, readSourceOf } from './tables.ts'
export type {
  ApplyResult,
  Engine,
  EventFacts,
  Inventory,
  Mark,
  Order,
  OrderWithPayment,
  Payment,
  PendingEvent,
  PendingScope,
  PendingStats,
  RowStamp,
  Source,
  SourcedEvent,
  StateTable,
  Store,
  User,
} from './types.ts'
export { pendingCountCap } from './types.ts'

export interface StoreOptions {
  /** Most connections the PostgreSQL or SQL Server pool opens (default 10); SQLite always uses one. */
  readonly poolSize?: number
  /**
   * Longest one database call may take (DB_TIMEOUT_MS): PostgreSQL's query and connection timeouts, SQLite's
   * busy timeout. Each engine keeps its own default when it is not given.
   */
  readonly timeoutMs?: number
}

export async function createStore(database: Database, options: StoreOptions = {}): Promise<Store> {
  switch (database.engine) {
    case 'sqlite': {
      const { createSqliteStore } = await import('./sqlite/store.ts')
      return createSqliteStore({ path: database.path, busyTimeoutMs: options.timeoutMs })
    }
    case 'postgres': {
      const { createPostgresStore } = await import('./postgres/store.ts')
      return createPostgresStore({ url: database.url, poolSize: options.poolSize, timeoutMs: options.timeoutMs })
    }
    case 'mssql': {
      const { createMssqlStore } = await import('./mssql/store.ts')
      // A connection string or URL that does not parse throws a ConfigError naming the bad key, at start.
      return createMssqlStore({
        url: database.url,
        connectionString: database.connectionString,
        poolSize: options.poolSize,
        timeoutMs: options.timeoutMs,
      })
    }
  }
}
