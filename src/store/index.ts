// The store stage's only public door: the Store interface and createStore, which picks the engine from the
// configuration. createStore connects lazily and never migrates: each role decides whether and when to call
// store.migrate(), and a database that is down does not fail construction, only the first call.
import type { Database } from '../config/index.ts'
import { createMssqlStore } from './mssql/store.ts'
import { createPostgresStore } from './postgres/store.ts'
import { createSqliteStore } from './sqlite/store.ts'
import type { Store } from './types.ts'

export type {
  ApplyResult,
  Engine,
  Inventory,
  Order,
  Payment,
  Source,
  SourcedEvent,
  Store,
  User,
} from './types.ts'

export interface StoreOptions {
  /** Most connections the PostgreSQL or SQL Server pool opens (default 10); SQLite always uses one. */
  readonly poolSize?: number
}

export async function createStore(database: Database, options: StoreOptions = {}): Promise<Store> {
  switch (database.engine) {
    case 'sqlite':
      return createSqliteStore({ path: database.path })
    case 'postgres':
      return createPostgresStore({ url: database.url, poolSize: options.poolSize })
    case 'mssql':
      // A connection string or URL that does not parse throws a ConfigError naming the bad key, at start.
      return createMssqlStore({
        url: database.url,
        connectionString: database.connectionString,
        poolSize: options.poolSize,
      })
  }
}
