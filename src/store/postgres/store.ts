// The PostgreSQL store: Kysely's PostgresDialect over a pg pool; each applyBatch holds one pooled connection
// for its transaction.
import { Kysely, PostgresDialect } from 'kysely'
import { type EngineParts, SqlStore } from '../sql-store.ts'
import type { Tables } from '../tables.ts'
import type { Store } from '../types.ts'
import { ensureDatabase } from './database.ts'
import { createPool, defaultTimeoutMs } from './driver.ts'
import { toPipelineError } from './errors.ts'
import { migrate } from './migrations.ts'
import { lookups, preparedNames, statements } from './statements.ts'

export const defaultPoolSize = 10

export interface PostgresStoreOptions {
  readonly url: string
  readonly poolSize?: number
  /** Longest one query or connection attempt may take before it fails as DB_UNAVAILABLE (default 15000). */
  readonly timeoutMs?: number
  /** The schema of a generation (generations.ts): the store's unqualified SQL, migrations included, lands there. */
  readonly searchPath?: string
}

/**
 * Closing ends every connection at once, checked out or not, instead of waiting for the statements in flight:
 * a statement on a connection that gets no answer would otherwise hold close() for the whole query timeout.
 * Those statements fail as DB_UNAVAILABLE and their transactions roll back on the server, so nothing they did
 * is kept, and whatever was waiting on them learns it at once.
 */
class PostgresStore extends SqlStore {
  readonly #terminate: () => void

  constructor(parts: EngineParts, terminate: () => void) {
    super(parts)
    this.#terminate = terminate
  }

  override async close(): Promise<void> {
    const closing = super.close()
    this.#terminate()
    await closing
  }
}

export function createPostgresStore({
  url,
  poolSize = defaultPoolSize,
  timeoutMs = defaultTimeoutMs,
  searchPath,
}: PostgresStoreOptions): Store {
  const { pool, terminate } = createPool({ url, poolSize, timeoutMs, prepared: preparedNames, searchPath })
  const db = new Kysely<Tables>({ dialect: new PostgresDialect({ pool }) })
  return new PostgresStore(
    {
      engine: 'postgres',
      db,
      statements,
      lookups,
      batchedLookups: true,
      migrate,
      beforeMigrate: () => ensureDatabase(url, timeoutMs),
      toPipelineError,
      write: work => db.transaction().execute(work),
    },
    terminate,
  )
}
