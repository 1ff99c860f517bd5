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

// Conditions of the server, not of the records: deadlock victim, lock timeout, out of memory or lock resources
// (701, 1204), snapshot conflict (3960), database not open yet (4060), log full (9002), session killed or server
// shutting down (596, 6005, 17142), Azure SQL's transient list (40197, 40501, 40613, 49918–49920, 10928, 10929)
// and network failures reported by the server (64, 233, 10053, 10054, 10060).
const transient: ReadonlySet<number> = new Set([
  errorNumbers.deadlock,
  errorNumbers.lockTimeout,
  errorNumbers.migrationLock,
  701,
  1204,
  3960,
  4060,
  9002,
  596,
  6005,
  17142,
  40197,
  40501,
  40613,
  49918,
  49919,
  49920,
  10928,
  10929,
  64,
  233,
  10053,
  10054,
  10060,
])

// tedious's codes for a request that never got an answer: timeout, connection closed or broken, cancelled.
const unavailableCodes: ReadonlySet<string> = new Set(['ETIMEOUT', 'ECLOSE', 'ESOCKET', 'EINVALIDSTATE', 'ECANCEL'])

// The schema's only foreign key: the message says which user is missing only through the constraint's name.
export const foreignKeyName = 'FK_Orders_Users'

function constraintError(error: RequestError): PipelineError {
  const name = /constraint "([^"]+)"/i.exec(error.message)?.[1]
  const hint = name === foreignKeyName ? ` (${foreignKeyName}: orders.user_id names a user that does not exist)` : ''
  return new PipelineError('CONSTRAINT_VIOLATION', `${error.message}${hint}`, { cause: error, constraint: name })
}

function fromNumber(error: RequestError, number: number): PipelineError | undefined {
  const tag = `[SQL Server error ${number}]`
  if (number === errorNumbers.constraint) return constraintError(error)
  if (number === errorNumbers.notNull) {
    return new PipelineError('CONSTRAINT_VIOLATION', `${error.message} ${tag}`, { cause: error })
  }
  // MERGE … WITH (HOLDLOCK) serialises writers of one key, so a duplicate key means a writer that does not take
  // that lock (or a bug) got there first; the retried batch sees its row and updates it.
  if (number === errorNumbers.duplicateKey || number === errorNumbers.duplicateIndexKey) {
    return new PipelineError(
      'DB_UNAVAILABLE',
      `duplicate key from a concurrent insert, retrying: ${error.message} ${tag}`,
      {
        cause: error,
      },
    )
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
  if (transient.has(number)) {
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
