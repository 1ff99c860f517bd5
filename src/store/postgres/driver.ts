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

/** The longest one query or connection attempt may take when the caller names no bound (DB_TIMEOUT_MS's default). */
export const defaultTimeoutMs = 15_000

export interface PoolOptions {
  readonly url: string
  readonly poolSize: number
  /** Longest one query or connection attempt may take, client side (default 15000). */
  readonly timeoutMs?: number
  /** Statement texts to run as named prepared statements, with their names (see statements.ts). */
  readonly prepared?: ReadonlyMap<string, string>
  /**
   * The schema every session resolves unqualified names in (a generation of the projection); the server's default
   * search_path when absent. Only a checked generation name (lower-case letters, digits, _) may be given.
   */
  readonly searchPath?: string
}

/** A pg pool plus a way to drop every connection at once, checked out or not. */
export interface Pool {
  readonly pool: pg.Pool
  /**
   * Closes the socket of every connection the pool has opened or is opening. A statement in flight fails at
   * once with "Connection terminated", the transaction it belonged to rolls back on the server when the server
   * sees the socket close, and the pool discards the client when it is released.
   */
  terminate(): void
}
/**
 * The array literal of an array of strings, numbers and nulls. pg builds it itself from a JS array, but it
 * inspects and escapes every element with two regular expressions, and at a thousand rows by ten columns a batch
 * that cost about as much as the rest of the statement's preparation. Elements are always quoted, so only
 * backslash and double quote need escaping.
 */
export function arrayLiteral(values: readonly unknown[]): string {
  return arrayLiteralOf(values, v => v)
}

/**
 * The array literal of `value` over `rows`: what arrayLiteral makes of `rows.map(value)`, without the array in
 * between (the write statements build one per column of every batch, straight from their planned rows).
 *
 * Built by one join of the elements, not by appending element after element: appending makes a chain of partial
 * strings per element that the socket write then flattens, and at a thousand rows by ten columns a batch those
 * chains were the consumer's largest source of garbage (docs/performance.md, "Where the consumer's allocations
 * come from"). A column without nulls, the usual case, is one join with the quotes as the separator.
 */
export function arrayLiteralOf<R>(rows: readonly R[], value: (row: R) => unknown): string {
  const n = rows.length
  if (n === 0) return '{}'
  // An element's text, escaped; undefined stands for NULL.
  const parts: (string | undefined)[] = new Array(n)
  let nulls = false
  for (let i = 0; i < n; i++) {
    const v = value(rows[i] as R)
    if (v === null || v === undefined) {
      nulls = true
      parts[i] = undefined
      continue
    }
    const s = typeof v === 'string' ? v : String(v)
    parts[i] = s.includes('\\') || s.includes('"') ? s.replace(/[\\"]/g, '\\$&') : s
  }
  if (!nulls) {
    parts[0] = `{"${parts[0]}`
    parts[n - 1] = `${parts[n - 1]}"}`
    return parts.join('","')
  }
  for (let i = 0; i < n; i++) {
    const part = parts[i]
    parts[i] = part === undefined ? 'NULL' : `"${part}"`
  }
  parts[0] = `{${parts[0]}`
  parts[n - 1] = `${parts[n - 1]}}`
  return parts.join(',')
}

/**
 * Ends a connected client now: marks it ending (so the pool never hands it out again and pg reports no
 * unexpected disconnection) and closes its socket.
 */
function terminate(client: pg.Client): void {
  client.end().catch(() => {})
  client.connection.stream.destroy()
}

/**
 * The pool's client class. It runs the given texts as named prepared statements, their array parameters encoded
 * by arrayLiteral: Kysely hands pg the text and its parameters, and pg only prepares a statement once per
 * connection when the query carries a name, so the write statements of every batch would otherwise be parsed
 * and planned anew each time. The texts are the store's own write statements and key lookups (statements.ts),
 * whose arrays hold only strings, numbers and nulls; the write statements' arrays arrive as literals already
 * (arrayLiteralOf), and a string parameter passes unchanged.
 *
 * A query that outlives query_timeout leaves the connection waiting for an answer that may never come, and
 * anything sent after it would queue behind it; Kysely releases the client without an error, so pg's pool would
 * hand it out again. The client is therefore ended on that timeout: the caller gets the retryable error at
 * once, the rollback that follows fails fast instead of waiting too, and the pool discards the client.
 *
 * Every client is added to `clients` until it ends, so that terminate() reaches the checked-out ones.
 */
function pipelineClient(prepared: ReadonlyMap<string, string>, clients: Set<pg.Client>): typeof pg.Client {
  class PipelineClient extends pg.Client {
    constructor(config?: string | pg.ClientConfig) {
      super(config)
      clients.add(this)
      this.once('end', () => clients.delete(this))
    }
  }
  // pg.Client#query is a set of overloads; this wrapper forwards every call unchanged except the prepared texts.
  const query = pg.Client.prototype.query as (this: pg.Client, ...args: unknown[]) => unknown
  Object.defineProperty(PipelineClient.prototype, 'query', {
    value(this: pg.Client, ...args: unknown[]): unknown {
      const [text, values] = args
      const name = typeof text === 'string' && Array.isArray(values) ? prepared.get(text) : undefined
      const encoded =
        name === undefined ? undefined : (values as unknown[]).map(v => (Array.isArray(v) ? arrayLiteral(v) : v))
      const result = encoded === undefined ? query.apply(this, args) : query.call(this, { name, text, values: encoded })
      // Kysely calls query(text, values), which returns a promise; callback and submittable forms pass through.
      if (!(result instanceof Promise)) return result
      return result.catch((error: unknown) => {
        if (error instanceof Error && error.message === 'Query read timeout') terminate(this)
        throw error
      })
    },
  })
  return PipelineClient
}

export function createPool({ url, poolSize, timeoutMs = defaultTimeoutMs, prepared, searchPath }: PoolOptions): Pool {
  const clients = new Set<pg.Client>()
  const pool = new pg.Pool({
    Client: pipelineClient(prepared ?? new Map(), clients),
    connectionString: url,
    max: poolSize,
    types: typeParsers,
    // Every call is bounded on this side: a server that stops answering with the connection still open (a
    // network partition, a hung host) costs one timeout and a retryable error, not a consumer stuck for good.
    connectionTimeoutMillis: timeoutMs,
    query_timeout: timeoutMs,
    // The server's own bounds sit a little above the client's, so the client gives up first and reports it,
    // and the server still stops working on a statement, or holding a transaction's locks, for a client that
    // went away without a word.
    statement_timeout: timeoutMs + 1000,
    idle_in_transaction_session_timeout: timeoutMs + 1000,
    keepAlive: true,
    application_name: 'event-pipeline',
    options: searchPath === undefined ? '-c TimeZone=UTC' : `-c TimeZone=UTC -c search_path=${searchPath}`,
  })
  // pg emits 'error' on the pool when an idle connection dies (server restart, network loss); unhandled, that
  // event would crash the process. The pool drops that connection, and the next query reports the problem.
  pool.on('error', () => {})
  const connected = new WeakSet<pg.Client>()
  pool.on('connect', client => {
    connected.add(client)
    // A checked-out connection that dies between two statements (the server restarting, a database dropped)
    // emits 'error' on the client itself, where the pool does not listen: unhandled, that would crash the
    // process. The statement in progress, or the next one, reports the failure as a retryable error.
    client.on('error', () => {})
  })
  return {
    pool,
    terminate() {
      for (const client of clients) {
        // A client still connecting only loses its socket: its connect then fails ("Connection terminated
        // unexpectedly") and the pool drops it. Ending it would leave that connect unanswered.
        if (connected.has(client)) terminate(client)
        else client.connection.stream.destroy()
      }
    },
  }
}
