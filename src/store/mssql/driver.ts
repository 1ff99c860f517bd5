// Kysely's MssqlDialect over tedious connections in a tarn pool, adjusted where T-SQL or tedious differ from what
// the shared SqlStore expects: typed parameters (params.ts), LIMIT written as OFFSET … FETCH, DATETIME2 values
// returned as ISO-8601 strings like the other engines, and the database checked (created when missing) before the
// pool first connects.
import {
  type KyselyPlugin,
  type LimitNode,
  MssqlDialect,
  MssqlQueryCompiler,
  type QueryCompiler,
  type QueryResult,
  type TediousConnection,
  type UnknownRow,
} from 'kysely'
import { Pool } from 'tarn'
import { Connection, type ConnectionConfiguration, ISOLATION_LEVEL, Request, TYPES } from 'tedious'
import { PipelineError } from '../../errors.ts'
import type { MssqlConnectionOptions } from './connection.ts'
import { errorNumbers } from './errors.ts'
import { TypedRequest } from './params.ts'

/** The tedious configuration for `options`, connected to `database` (master when the database is created). */
export function tediousConfig(options: MssqlConnectionOptions, database = options.database): ConnectionConfiguration {
  return {
    server: options.server,
    authentication: { type: 'default', options: { userName: options.user, password: options.password } },
    options: {
      ...(options.port === undefined ? {} : { port: options.port }),
      ...(options.instanceName === undefined ? {} : { instanceName: options.instanceName }),
      database,
      encrypt: options.encrypt,
      trustServerCertificate: options.trustServerCertificate,
      connectTimeout: options.connectTimeoutMs,
      // Bounds a statement stuck behind a lock or a sick server (DB_TIMEOUT_MS): it fails with ETIMEOUT (retried
      // as transient) instead of holding a batch, and with it the partition's offsets, forever.
      requestTimeout: options.requestTimeoutMs ?? 30_000,
      appName: options.appName,
      // XACT_ABORT ON: any error rolls the whole transaction back on the server, so a batch is all or nothing even
      // when the client's own ROLLBACK never arrives.
      abortTransactionOnError: true,
      // ANSI_WARNINGS and ARITHABORT ON (tedious's defaults, pinned here): a string too long for its column or a
      // numeric overflow is an error, never a silent truncation or a NULL.
      enableAnsiWarnings: true,
      enableArithAbort: true,
      useUTC: true,
    },
  }
}

/** Opens tedious connections to `database`; tests substitute one that records what it is sent. */
export type ConnectionFactory = (database: string) => TediousConnection

export function tediousFactory(options: MssqlConnectionOptions): ConnectionFactory {
  return database => new Connection(tediousConfig(options, database))
}

// T-SQL has no LIMIT. OFFSET … FETCH keeps the row count a parameter (TOP would need a literal here); it needs an
// ORDER BY, which the only limited query of the store (recent orders) has.
class PipelineQueryCompiler extends MssqlQueryCompiler {
  protected override visitLimit(node: LimitNode): void {
    this.append('offset 0 rows fetch next ')
    this.visitNode(node.limit)
    this.append(' rows only')
  }
}

class PipelineMssqlDialect extends MssqlDialect {
  override createQueryCompiler(): QueryCompiler {
    return new PipelineQueryCompiler()
  }
}

export interface DialectOptions {
  readonly database: string
  readonly poolSize: number
  readonly factory: ConnectionFactory
}

export function createDialect({ database, poolSize, factory }: DialectOptions): MssqlDialect {
  return new PipelineMssqlDialect({
    tarn: {
      Pool,
      // propagateCreateError: a server that refuses connections fails the waiting query at once (retried as
      // transient) instead of after the acquire timeout.
      options: {
        min: 0,
        max: poolSize,
        acquireTimeoutMillis: 15_000,
        idleTimeoutMillis: 30_000,
        propagateCreateError: true,
      },
    },
    tedious: { connectionFactory: () => factory(database), ISOLATION_LEVEL, Request: TypedRequest, TYPES },
    // Kysely's default: a pooled connection answers `select 1` before it is handed out, so a connection the
    // server dropped is replaced instead of failing every batch that draws it.
    validateConnections: true,
  })
}

function isoRow(row: UnknownRow): UnknownRow {
  let out: Record<string, unknown> | undefined
  for (const [key, value] of Object.entries(row)) {
    if (value instanceof Date) {
      out ??= { ...row }
      out[key] = value.toISOString()
    }
  }
  return out ?? row
}

/** tedious reads DATETIME2 as a Date (UTC, useUTC); tables.ts expects ISO-8601 text with milliseconds. */
export const isoDates: KyselyPlugin = {
  transformQuery: ({ node }) => node,
  transformResult: async ({ result }): Promise<QueryResult<UnknownRow>> => ({
    ...result,
    rows: result.rows.map(isoRow),
  }),
}

// A UTF-8 default collation makes tedious send VARCHAR parameters as UTF-8 (see params.ts); case-insensitive
// like SQL Server's usual default, so object names resolve as users expect. The columns name their own collation.
export const databaseCollation = 'Latin1_General_100_CI_AS_SC_UTF8'

// Processes that start together (the consumer and the API) take turns on a lock in master, so the second one
// finds the database created and online rather than half made; the lock belongs to the session, which ends
// right after. 1801 (the database exists after all, made by something that does not take the lock) is success.
export const createDatabaseText = `DECLARE @status INT;
EXEC @status = sp_getapplock @Resource = N'event-pipeline:create-database', @LockMode = N'Exclusive', @LockOwner = N'Session', @LockTimeout = 20000;
IF @status < 0
BEGIN
  THROW ${errorNumbers.migrationLock}, N'database creation lock not granted', 1;
END
IF DB_ID(@name) IS NULL
BEGIN
  BEGIN TRY
    DECLARE @create NVARCHAR(400) = N'CREATE DATABASE ' + QUOTENAME(@name) + N' COLLATE ${databaseCollation}';
    EXEC (@create);
  END TRY
  BEGIN CATCH
    IF ERROR_NUMBER() <> 1801
    BEGIN
      THROW;
    END
  END CATCH
END`

/**
 * A failed login. tedious keeps only the last error message the server sent (18456 "Login failed for user …"),
 * so the numbers of all of them are collected here: 4060 among them means the database cannot be opened.
 */
export class LoginFailure extends Error {
  readonly numbers: readonly number[]
  constructor(cause: unknown, numbers: readonly number[]) {
    super(cause instanceof Error ? cause.message : String(cause), { cause })
    this.name = 'LoginFailure'
    this.numbers = numbers
  }
}

function connect(connection: TediousConnection): Promise<void> {
  const numbers: number[] = []
  const note = (token: { number?: unknown }) => {
    if (typeof token.number === 'number') numbers.push(token.number)
  }
  connection.on('errorMessage', note)
  return new Promise<void>((resolve, reject) => {
    const fail = (error: unknown) => reject(new LoginFailure(error, numbers))
    connection.on('error', fail)
    connection.connect(error => (error ? fail(error) : resolve()))
  }).finally(() => connection.off('errorMessage', note))
}

function run(connection: TediousConnection, text: string, name: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const request = new Request(text, error => (error ? reject(error) : resolve()))
    request.addParameter('name', TYPES.NVarChar, name, { length: 128 })
    connection.execSql(request)
  })
}

/** A LoginFailure stands for the tedious error it wraps, which errors.ts classifies. */
export function unwrapLogin(error: unknown): unknown {
  return error instanceof LoginFailure ? error.cause : error
}

/**
 * Runs `text`, with `name` bound as @name NVARCHAR(128) (sysname), on a connection of its own to `database`,
 * outside the pool and any transaction (CREATE DATABASE refuses to run inside one).
 */
export async function execWithName(
  factory: ConnectionFactory,
  database: string,
  text: string,
  name: string,
): Promise<void> {
  const connection = factory(database)
  try {
    await connect(connection).catch(error => Promise.reject(unwrapLogin(error)))
    await run(connection, text, name)
  } finally {
    connection.close()
  }
}

/** SQL Server's "Cannot open database requested by the login": missing, or not open to this login. */
export const cannotOpenDatabase = 4060

/**
 * Makes sure `database` can be opened, creating it when it does not exist. The database itself is tried first,
 * so a login without access to master starts whenever the database exists; master is used only when the
 * database cannot be opened (4060), to create it, since a login to a database that does not exist fails.
 */
export async function ensureDatabase(factory: ConnectionFactory, database: string): Promise<void> {
  const target = factory(database)
  try {
    await connect(target)
    return
  } catch (error) {
    if (!(error instanceof LoginFailure) || !error.numbers.includes(cannotOpenDatabase)) throw unwrapLogin(error)
    const refused = error
    try {
      await execWithName(factory, 'master', createDatabaseText, database)
    } catch (masterError) {
      throw new PipelineError(
        'DB_UNAVAILABLE',
        `cannot open database "${database}" (${refused.message} [SQL Server error ${cannotOpenDatabase}]) and ` +
          `cannot create it through master (${masterError instanceof Error ? masterError.message : String(masterError)}): ` +
          'create the database, or give the login access to it, or the right to create databases',
        { cause: new AggregateError([refused.cause, masterError]) },
      )
    }
  } finally {
    target.close()
  }
  // The database exists now; if the login still cannot open it, it lacks a user there, which retrying alone
  // never fixes, so the error says so.
  const again = factory(database)
  try {
    await connect(again)
  } catch (error) {
    if (!(error instanceof LoginFailure) || !error.numbers.includes(cannotOpenDatabase)) throw unwrapLogin(error)
    throw new PipelineError(
      'DB_UNAVAILABLE',
      `database "${database}" exists but this login cannot open it (${error.message} ` +
        `[SQL Server error ${cannotOpenDatabase}]): create a user for the login in that database`,
      { cause: error.cause },
    )
  } finally {
    again.close()
  }
}
