// node:sqlite errors → the pipeline's taxonomy, from SQLite's (extended) result codes.
import { asPipelineError, PipelineError } from '../../errors.ts'

interface SqliteError extends Error {
  code: 'ERR_SQLITE_ERROR'
  /** SQLite's extended result code; its low byte is the primary code. */
  errcode: number
}

function isSqliteError(error: unknown): error is SqliteError {
  return (
    error instanceof Error &&
    (error as { code?: unknown }).code === 'ERR_SQLITE_ERROR' &&
    typeof (error as { errcode?: unknown }).errcode === 'number'
  )
}

const primary = {
  BUSY: 5,
  LOCKED: 6,
  IOERR: 10,
  FULL: 13,
  CANTOPEN: 14,
  PROTOCOL: 15,
  TOOBIG: 18,
  CONSTRAINT: 19,
  MISMATCH: 20,
} as const

const extended = {
  CONSTRAINT_CHECK: 275,
  CONSTRAINT_FOREIGNKEY: 787,
  CONSTRAINT_DATATYPE: 3091,
} as const

// The schema's only foreign key. SQLite reports "FOREIGN KEY constraint failed" without naming it.
export const foreignKeyName = 'FK_Orders_Users'

// Busy and locked mean another connection holds the lock past busy_timeout; I/O errors, a full disk and a file
// that cannot be opened are conditions of the machine, not of the records. Retrying is right for all of them:
// dead-lettering valid events because the disk was full would lose them.
const unavailable: ReadonlySet<number> = new Set([
  primary.BUSY,
  primary.LOCKED,
  primary.IOERR,
  primary.FULL,
  primary.CANTOPEN,
  primary.PROTOCOL,
])

/** The name SQLite puts after "CHECK constraint failed: ", the only place it gives the name. */
function checkName(message: string): string | undefined {
  return /CHECK constraint failed: (\w+)/.exec(message)?.[1]
}

function constraintError(error: SqliteError): PipelineError {
  if (error.errcode === extended.CONSTRAINT_FOREIGNKEY) {
    return new PipelineError(
      'CONSTRAINT_VIOLATION',
      `${error.message}: ${foreignKeyName} (orders.user_id names a user that does not exist)`,
      {
        cause: error,
        constraint: foreignKeyName,
      },
    )
  }
  if (error.errcode === extended.CONSTRAINT_DATATYPE) {
    return new PipelineError('DATA_OUT_OF_RANGE', error.message, { cause: error })
  }
  const name = error.errcode === extended.CONSTRAINT_CHECK ? checkName(error.message) : undefined
  // len_ and range_ checks stand in for the VARCHAR(n), DECIMAL(18,2) and INT limits SQLite does not enforce.
  if (name !== undefined && /^(len|range)_/.test(name)) {
    return new PipelineError('DATA_OUT_OF_RANGE', `value out of range for ${name}: ${error.message}`, {
      cause: error,
      constraint: name,
    })
  }
  return new PipelineError('CONSTRAINT_VIOLATION', error.message, { cause: error, constraint: name })
}

export function toPipelineError(error: unknown): PipelineError {
  if (error instanceof PipelineError || !isSqliteError(error)) return asPipelineError(error)
  const code = error.errcode & 0xff
  if (code === primary.CONSTRAINT) return constraintError(error)
  if (code === primary.TOOBIG || code === primary.MISMATCH) {
    return new PipelineError('DATA_OUT_OF_RANGE', error.message, { cause: error })
  }
  if (unavailable.has(code)) {
    return new PipelineError('DB_UNAVAILABLE', `SQLite unavailable: ${error.message}`, { cause: error })
  }
  return asPipelineError(error)
}
