// The PostgreSQL store: Kysely's PostgresDialect over a pg pool; each applyBatch holds one pooled connection
// for its transaction.
import { Kysely, PostgresDialect } from 'kysely'
import { SqlStore } from '../sql-store.ts'
import type { Tables } from '../tables.ts'
import type { Store } from '../types.ts'
import { createPool } from './driver.ts'
import { toPipelineError } from './errors.ts'
import { migrate } from './migrations.ts'
import { lookups, preparedNames, statements } from './statements.ts'

export const defaultPoolSize = 10

export interface PostgresStoreOptions {
  readonly url: string
  readonly poolSize?: number
}

export function createPostgresStore({ url, poolSize = defaultPoolSize }: PostgresStoreOptions): Store {
  const db = new Kysely<Tables>({
    dialect: new PostgresDialect({ pool: createPool({ url, poolSize, prepared: preparedNames }) }),
  })
  return new SqlStore({
    engine: 'postgres',
    db,
    statements,
    lookups,
    migrate,
    toPipelineError,
    write: work => db.transaction().execute(work),
  })
}
