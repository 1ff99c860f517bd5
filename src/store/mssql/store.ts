// The MS SQL Server store: Kysely's MssqlDialect over a tarn pool of tedious connections; each applyBatch holds
// one pooled connection for its transaction. migrate() first creates the database when it does not exist.
import { Kysely, type Transaction } from 'kysely'
import { ConfigError } from '../../config/index.ts'
import { SqlStore } from '../sql-store.ts'
import type { Tables } from '../tables.ts'
import type { Store } from '../types.ts'
import { type MssqlConnectionOptions, parseMssqlUrl } from './connection.ts'
import { parseConnectionString } from './connection-string.ts'
import { type ConnectionFactory, createDialect, ensureDatabase, isoDates, tediousFactory } from './driver.ts'
import { isDeadlock, toPipelineError } from './errors.ts'
import { migrate } from './migrations.ts'
import { statements } from './statements.ts'

export const defaultPoolSize = 10

export interface MssqlStoreOptions {
  /** DATABASE_URL=mssql://… */
  readonly url?: string
  /** MSSQL_CONN in the reference system's format; used when `url` is absent. */
  readonly connectionString?: string
  readonly poolSize?: number
  /** Replaces the tedious connections (tests record the statements with it). */
  readonly connectionFactory?: ConnectionFactory
  /** Longest one request may take before it fails as transient (DB_TIMEOUT_MS). */
  readonly timeoutMs?: number
  /** The database to use instead of the one the connection names: a generation's (generations.ts). */
  readonly database?: string
}

export function connectionOptions({ url, connectionString }: MssqlStoreOptions): MssqlConnectionOptions {
  if (url !== undefined) return parseMssqlUrl(url)
  if (connectionString !== undefined) return parseConnectionString(connectionString)
  throw new ConfigError(['MSSQL_CONN: not set (or DATABASE_URL=mssql://…)'])
}

/**
 * Kysely rolls back after a failed batch, and that rollback can fail too: SQL Server has already rolled back the
 * transaction of a deadlock victim or, with XACT_ABORT ON, of any failed statement. The batch's own error says
 * what happened and whether to retry, so it is the one thrown.
 */
export async function once<T>(db: Kysely<Tables>, work: (trx: Transaction<Tables>) => Promise<T>): Promise<T> {
  let failure: { error: unknown } | undefined
  try {
    return await db.transaction().execute(async trx => {
      try {
        return await work(trx)
      } catch (error) {
        failure = { error }
        throw error
      }
    })
  } catch (error) {
    throw failure === undefined ? error : failure.error
  }
}

export const deadlockAttempts = 3

/**
 * Rows go to SQL Server sorted by key, but the plan of a MERGE, not the VALUES order, decides the order its locks
 * are taken in, so two batches over the same keys can still deadlock. The victim's transaction is already rolled
 * back and the batch is idempotent, so it is run again here a few times before the consumer's slower retry.
 */
async function transaction<T>(db: Kysely<Tables>, work: (trx: Transaction<Tables>) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await once(db, work)
    } catch (error) {
      if (attempt >= deadlockAttempts || !isDeadlock(error)) throw error
      await new Promise(resolve => setTimeout(resolve, 5 + Math.random() * 20 * attempt))
    }
  }
}

/**
 * The connection a store opens: the configured one, in `options.database` when given, with the request timeout.
 * The password is not enumerable (so that logs and inspection leave it out), so it is copied by name: a spread
 * of the options alone would drop it and log in without one.
 */
export function storeConnection(options: MssqlStoreOptions): MssqlConnectionOptions {
  const named = connectionOptions(options)
  const connection = { ...named, database: options.database ?? named.database, requestTimeoutMs: options.timeoutMs }
  Object.defineProperty(connection, 'password', { value: named.password, enumerable: false })
  return Object.freeze(connection)
}

/** Throws a ConfigError naming the variable and key when the connection string or URL is not valid. */
export function createMssqlStore(options: MssqlStoreOptions): Store {
  const connection = storeConnection(options)
  const factory = options.connectionFactory ?? tediousFactory(connection)
  const dialect = createDialect({
    database: connection.database,
    poolSize: options.poolSize ?? defaultPoolSize,
    factory,
  })
  const db = new Kysely<Tables>({ dialect, plugins: [isoDates] })
  return new SqlStore({
    engine: 'mssql',
    db,
    statements,
    // One query per key: the statements are checked text for text (test/store/mssql), and a case-insensitive
    // collation would let a shared IN (…) match a row under a key other than the one asked for.
    batchedLookups: false,
    migrate,
    beforeMigrate: () => ensureDatabase(factory, connection.database),
    toPipelineError,
    write: work => transaction(db, work),
  })
}
