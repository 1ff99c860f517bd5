// The pg pool behind Kysely's PostgresDialect, configured so rows need no per-engine fix-ups afterwards:
// NUMERIC arrives as a number and timestamptz as ISO-8601 UTC with milliseconds, like SQLite's TEXT.
import pg from 'pg'

const { builtins } = pg.types

// 'YYYY-MM-DD HH:MM:SS[.ffffff]±HH[:MM[:SS]]', PostgreSQL's text output of timestamptz (DateStyle ISO).
const timestamptz = /^(\d{4,})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)(\.\d+)?([+-])(\d\d)(?::(\d\d))?(?::(\d\d))?$/

/** PostgreSQL timestamptz text → ISO-8601 UTC with milliseconds; anything else (infinity, BC) is left as is. */
export function isoFromTimestamptz(text: string): string {
  // The pool's sessions run in UTC and the columns hold milliseconds, so nearly every value reads
  // 'YYYY-MM-DD HH:MM:SS[.f{1,3}]+00' and only needs rearranging; the read API parses several per request.
  const n = text.length
  if (n >= 22 && n <= 26 && text.endsWith('+00') && text[4] === '-' && text[10] === ' ' && text[19] !== ':') {
    const fraction = text[19] === '.' ? text.slice(20, n - 3) : ''
    if (fraction.length <= 3 && /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/.test(text.slice(0, 19))) {
      return `${text.slice(0, 10)}T${text.slice(11, 19)}.${fraction.padEnd(3, '0')}Z`
    }
  }
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
  /** Statement texts to run as named prepared statements, with their names (see statements.ts). */
  readonly prepared?: ReadonlyMap<string, string>
}

/**
 * The array literal of an array of strings, numbers and nulls. pg builds it itself from a JS array, but it
 * inspects and escapes every element with two regular expressions, and at a thousand rows by ten columns a batch
 * that cost about as much as the rest of the statement's preparation. Elements are always quoted, so only
 * backslash and double quote need escaping.
 */
export function arrayLiteral(values: readonly unknown[]): string {
  let text = '{'
  for (let i = 0; i < values.length; i++) {
    if (i > 0) text += ','
    const v = values[i]
    if (v === null || v === undefined) {
      text += 'NULL'
      continue
    }
    const s = typeof v === 'string' ? v : String(v)
    text += s.includes('\\') || s.includes('"') ? `"${s.replace(/[\\"]/g, '\\$&')}"` : `"${s}"`
  }
  return `${text}}`
}

/**
 * A pg client that runs the given texts as named prepared statements, their array parameters encoded by
 * arrayLiteral. Kysely hands pg the text and its parameters; pg only prepares a statement once per connection
 * when the query carries a name, so the write statements of every batch would otherwise be parsed and planned
 * anew each time. The texts are the store's own write statements and key lookups (statements.ts), whose arrays
 * hold only strings, numbers and nulls.
 */
function preparingClient(prepared: ReadonlyMap<string, string>): typeof pg.Client {
  class PreparingClient extends pg.Client {}
  // pg.Client#query is a set of overloads; this wrapper forwards every call unchanged except the prepared texts.
  const query = pg.Client.prototype.query as (this: pg.Client, ...args: unknown[]) => unknown
  Object.defineProperty(PreparingClient.prototype, 'query', {
    value(this: pg.Client, ...args: unknown[]): unknown {
      const [text, values] = args
      const name = typeof text === 'string' && Array.isArray(values) ? prepared.get(text) : undefined
      if (name === undefined) return query.apply(this, args)
      const encoded = (values as unknown[]).map(v => (Array.isArray(v) ? arrayLiteral(v) : v))
      return query.call(this, { name, text, values: encoded })
    },
  })
  return PreparingClient
}

export function createPool({ url, poolSize, prepared }: PoolOptions): pg.Pool {
  const pool = new pg.Pool({
    ...(prepared === undefined || prepared.size === 0 ? {} : { Client: preparingClient(prepared) }),
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
