// The store stage's only public door: the Store interface and createStore, which picks the engine from the
// configuration. createStore connects lazily and never migrates: each role decides whether and when to call
// store.migrate(), and a database that is down does not fail construction, only the first call.
//
// Each engine is imported when it is chosen: a process pays only for its own driver's code (the SQL Server
// driver, tedious with its Azure identity libraries, costs resident memory that a PostgreSQL or SQLite
// deployment never needs; docs/performance.md has the figure).
import type { Database } from '../config/index.ts'
import type { Store, StoreOptions } from './types.ts'

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
  StoreOptions,
  User,
} from './types.ts'
export { pendingCountCap } from './types.ts'

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

export {
  checkGenerationName,
  createGenerations,
  GenerationError,
  type GenerationInfo,
  type Generations,
  maxCompareLimit,
  type RowDiff,
  type TableCheck,
} from './generations.ts'
