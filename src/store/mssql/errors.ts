// tedious errors → the pipeline's taxonomy, by SQL Server error number (RequestError.number), by tedious's own
// codes (ETIMEOUT, ESOCKET, …) and by class for connection failures. Kysely hands over an array when one request
// raised several errors (547 is followed by 3621 "The statement has been terminated"); every one is looked at.
import { TimeoutError } from 'tarn'
import { ConnectionError, RequestError } from 'tedious'
import { asPipelineError, PipelineError } from '../../errors.ts'
import { socketErrorCodes } from '../network-errors.ts'

export const errorNumbers = {
  /** FOREIGN KEY or CHECK constraint conflict. */
  constraint: 547,
  /** Cannot insert NULL into a NOT NULL column. */
  notNull: 515,
  duplicateKey: 2627,
  duplicateIndexKey: 2601,
  deadlock: 1205,
  lockTimeout: 1222,
  truncated: 8152,
  /** 8152 with the table and column named (SQL Server 2019 and later). */
  truncatedNamed: 2628,
  arithmeticOverflow: 8115,
  /** Raised by migrations.ts and driver.ts when the schema or database-creation lock is not granted in time. */
  migrationLock: 50001,
} as const

// Values that do not fit their column: retrying cannot help, the record is the problem. 220/232: overflow of
// small integer types; 8114/241/242: conversions that failed or fell out of range; 8023: a parameter SQL Server
// refused as an invalid value of its declared type.
const outOfRange: ReadonlySet<number> = new Set([
  errorNumbers.truncated,
  errorNumbers.truncatedNamed,
  errorNumbers.arithmeticOverflow,
  220,
  232,
  8114,
  241,
  242,
  8023,
])

// Conditions of the server, not of the records, so the batch is retried until the server recovers:
// - locking: deadlock victim (1205), lock timeout (1222), lock resources (1204), snapshot conflicts (3960, 3961);
// - resources: out of memory (701, 8651), memory grant timeout (8645), query optimisation timeout (8628),
//   filegroup or disk full (1105, 1101), log full (9002), Azure's size quota (40544);
// - availability: database not open yet (4060), offline (942), read-only during a failover (3906), an
//   availability-group replica changing role (976, 983), session killed or server shutting down (596, 6005,
//   17142), the pipeline's own lock timeout (50001);
// - Azure SQL's documented transient list: 4221, 615, 926, 10928, 10929, 10936, 40143, 40197, 40501, 40540,
//   40549, 40613, 42108, 42109, 49918, 49919, 49920, and the In-Memory OLTP commit conflicts 41301, 41302,
//   41305, 41325, 41839;
// - network failures the server reports: 64, 121, 233, 10053, 10054, 10060.
export const transientNumbers: ReadonlySet<number> = new Set([
  errorNumbers.deadlock,
  errorNumbers.lockTimeout,
  errorNumbers.migrationLock,
  1204,
  3960,
  3961,
  701,
  8651,
  8645,
  8628,
  1105,
  1101,
  9002,
  40544,
  4060,
  942,
  3906,
  976,
  983,
  596,
  6005,
  17142,
  4221,
  615,
  926,
  10928,
  10929,
  10936,
  40143,
  40197,
  40501,
  40540,
  40549,
  40613,
  42108,
  42109,
  49918,
  49919,
  49920,
  41301,
  41302,
  41305,
  41325,
  41839,
  64,
  121,
  233,
  10053,
  10054,
  10060,
])

// tedious's codes for a request that never got an answer: timeout, connection closed or broken, cancelled.
const unavailableCodes: ReadonlySet<string> = new Set(['ETIMEOUT', 'ECLOSE', 'ESOCKET', 'EINVALIDSTATE', 'ECANCEL'])

// The schema's only foreign key: the message says which user is missing only through the constraint's name.
export const foreignKeyName = 'FK_Orders_Users'

// Named by migrations.ts (CK_<table>_<column>_len): the CHECK that holds a text column to the reference system's length in
// characters. SQL Server's message names the table and column.
const isLengthCheck = (name: string) => /^CK_\w+_len$/.test(name)
const conflictColumn = /table "(?:[^".]+\.)?([^"]+)", column '([^']+)'/

function constraintError(error: RequestError): PipelineError {
  const name = /constraint "([^"]+)"/i.exec(error.message)?.[1]
  if (name !== undefined && isLengthCheck(name)) {
    const where = conflictColumn.exec(error.message)
    const column = where ? `${where[1]}.${where[2]}` : name
    return new PipelineError(
      'DATA_OUT_OF_RANGE',
      `${column} is longer than its column allows: ${error.message} [SQL Server error ${error.number}]`,
      { cause: error, constraint: name },
    )
  }
  const hint = name === foreignKeyName ? ` (${foreignKeyName}: orders.user_id names a user that does not exist)` : ''
  return new PipelineError('CONSTRAINT_VIOLATION', `${error.message}${hint}`, { cause: error, constraint: name })
}

// 2627 names the constraint ("Violation of PRIMARY KEY constraint 'PK_users'."), 2601 the unique index ("… with
// unique index 'IX_x'.").
const duplicateName = /(?:constraint|unique index) '([^']+)'/i

/**
 * A duplicate key is the record's doing, not the server's: MERGE … WITH (HOLDLOCK) serialises the pipeline's own
 * writers of one key, so what is left is a row that collides with another unique key, and it collides again on
 * every retry. It is dead-lettered instead of blocking its partition.
 */
function duplicateKeyError(error: RequestError, number: number): PipelineError {
  const name = duplicateName.exec(error.message)?.[1]
  return new PipelineError('CONSTRAINT_VIOLATION', `duplicate key: ${error.message} [SQL Server error ${number}]`, {
    cause: error,
    constraint: name,
  })
}

function fromNumber(error: RequestError, number: number): PipelineError | undefined {
  const tag = `[SQL Server error ${number}]`
  if (number === errorNumbers.constraint) return constraintError(error)
  if (number === errorNumbers.notNull) {
    return new PipelineError('CONSTRAINT_VIOLATION', `${error.message} ${tag}`, { cause: error })
  }
  if (number === errorNumbers.duplicateKey || number === errorNumbers.duplicateIndexKey) {
    return duplicateKeyError(error, number)
  }
  if (number === errorNumbers.truncated || number === errorNumbers.truncatedNamed) {
    return new PipelineError('DATA_OUT_OF_RANGE', `value too long for its column: ${error.message} ${tag}`, {
      cause: error,
    })
  }
  if (outOfRange.has(number)) {
    return new PipelineError('DATA_OUT_OF_RANGE', `value out of range for its column: ${error.message} ${tag}`, {
      cause: error,
    })
  }
  if (transientNumbers.has(number)) {
    return new PipelineError('DB_UNAVAILABLE', `SQL Server unavailable: ${error.message} ${tag}`, { cause: error })
  }
  return undefined
}

function fromOne(error: unknown): PipelineError | undefined {
  if (error instanceof PipelineError) return error
  if (error instanceof RequestError) {
    if (typeof error.number === 'number') return fromNumber(error, error.number)
    if (error.code !== undefined && unavailableCodes.has(error.code)) {
      return new PipelineError('DB_UNAVAILABLE', `SQL Server unavailable: ${error.message} [${error.code}]`, {
        cause: error,
      })
    }
    // EPARAM: tedious refused a parameter before sending it (a number or date its type cannot hold).
    if (error.code === 'EPARAM') return new PipelineError('DATA_OUT_OF_RANGE', error.message, { cause: error })
    return undefined
  }
  // Every failure to connect or to log in, including a wrong password or a database that is still being created:
  // valid events must never be dead-lettered because the database cannot be reached; /ready says why.
  if (error instanceof ConnectionError) {
    return new PipelineError('DB_UNAVAILABLE', `SQL Server unreachable: ${error.message} [${error.code ?? 'ECONN'}]`, {
      cause: error,
    })
  }
  if (error instanceof TimeoutError) {
    return new PipelineError('DB_UNAVAILABLE', `SQL Server: no pooled connection in time (${error.message})`, {
      cause: error,
    })
  }
  const code = (error as { code?: unknown } | null)?.code
  if (typeof code === 'string' && socketErrorCodes.has(code)) {
    return new PipelineError('DB_UNAVAILABLE', `SQL Server unreachable: ${code}`, { cause: error })
  }
  // Kysely's words for a connection that closed during its login.
  if (error instanceof Error && /connection ended without ever completing the connection/i.test(error.message)) {
    return new PipelineError('DB_UNAVAILABLE', `SQL Server unavailable: ${error.message}`, { cause: error })
  }
  return undefined
}

function leaves(error: unknown): unknown[] {
  if (Array.isArray(error)) return error.flatMap(leaves)
  if (error instanceof AggregateError) return error.errors.flatMap(leaves)
  return [error]
}

/** True when SQL Server chose this request's transaction as a deadlock victim (and rolled it back). */
export function isDeadlock(error: unknown): boolean {
  return leaves(error).some(e => e instanceof RequestError && e.number === errorNumbers.deadlock)
}

/** A transient error anywhere wins (the batch may succeed when retried); else the first one understood. */
export function toPipelineError(error: unknown): PipelineError {
  const all = leaves(error)
  const known = all.map(fromOne).filter(e => e !== undefined)
  return known.find(e => e.retryable) ?? known[0] ?? asPipelineError(all[0] ?? error)
}
