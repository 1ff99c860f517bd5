// The pg pool behind Kysely's PostgresDialect, configured so rows need no per-engine fix-ups afterwards:
// NUMERIC arrives as a number and timestamptz as ISO-8601 UTC with milliseconds, like SQLite's TEXT.
import pg from 'pg'

const { builtins } = pg.types

// 'YYYY-MM-DD HH:MM:SS[.ffffff]±HH[:MM[:SS]]', PostgreSQL's text output of timestamptz (DateStyle ISO).
const timestamptz = /^(\d{4,})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)(\.\d+)?([+-])(\d\d)(?::(\d\d))?(?::(\d\d))?$/

/** PostgreSQL timestamptz text → ISO-8601 UTC with milliseconds; anything else (infinity, BC) is left as is. */
export function isoFromTimestamptz(text: string): string {
  const m = timestamptz.exec(text)
  if (m === null) return text
  const [, year, month, day, hour, minute, second, fraction, sign, offH, offM, offS] = m
  const date = new Date(0)
  // setUTCFullYear rather than Date.UTC, which reads years 0–99 as 1900–1999.
  date.setUTCFullYear(Number(year), Number(month) - 1, Number(day))
  date.setUTCHours(Number(hour), Number(minute), Number(second), Math.round(Number(`0${fraction ?? ''}`) * 1000))
  const offset = (Number(offH) * 3600 + Number(offM ?? 0) * 60 + Number(offS ?? 0)) * 1000
  return new Date(date.getTime() - (sign === '-' ? -offset : offset)).toISOString()
}

// Money is NUMERIC(18,2) and limited to |x| < 1e13 by the event schema, where every value with two decimals
// survives the trip through a double, so a number is exact; pg's default would be a string.
const parseNumeric = (text: string) => Number(text)

export const typeParsers: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (oid === builtins.NUMERIC) return parseNumeric
    if (oid === builtins.TIMESTAMPTZ) return isoFromTimestamptz
    return pg.types.getTypeParser(oid, format)
  }) as pg.CustomTypesConfig['getTypeParser'],
}

export interface PoolOptions {
  readonly url: string
  readonly poolSize: number
}

export function createPool({ url, poolSize }: PoolOptions): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max: poolSize,
    types: typeParsers,
    // Without a bound, a connection attempt to a host that drops packets would hang the consumer for minutes.
    connectionTimeoutMillis: 5000,
    // A statement stuck behind a lock or a sick server is cancelled (57014, retried as transient) instead of
    // holding a batch, and with it the partition's offsets, forever.
    statement_timeout: 30_000,
    keepAlive: true,
    application_name: 'event-pipeline',
    options: '-c TimeZone=UTC',
  })
  // pg emits 'error' on the pool when an idle connection dies (server restart, network loss); unhandled, that
  // event would crash the process. The pool drops that connection, and the next query reports the problem.
  pool.on('error', () => {})
  return pool
}
