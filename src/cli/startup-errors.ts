// Start-up failures as one line a person can act on: the dependency, its address (host:port and database name,
// never credentials), a code of its own and the next step. Pure functions of the error and the configuration,
// so every case is unit-testable; the stack goes to stderr only at LOG_LEVEL=DEBUG or TRACE.
import { type Config, type Database, type Role, spec } from '../config/index.ts'
import { asPipelineError, type ErrorCode, PipelineError } from '../errors.ts'

/** A failure to start, already worded for stderr. */
export class StartupFailure extends Error {
  readonly code: ErrorCode
  /** The cause's stack, secrets redacted, printed under the line at LOG_LEVEL=DEBUG or TRACE only. */
  readonly detail: string | undefined

  constructor(code: ErrorCode, message: string, options: { cause?: unknown; detail?: string } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'StartupFailure'
    this.code = code
    this.detail = options.detail
  }

  /** The one line printed on stderr. */
  get line(): string {
    return `pipeline: could not start: ${this.code}: ${this.message}`
  }

  /** What stderr shows: the line, and the detail when there is one. */
  get report(): string {
    return this.detail === undefined ? `${this.line}\n` : `${this.line}\n${this.detail}\n`
  }
}

/** What a start-up failure is worded against: the configuration and the roles the command runs. */
export interface StartContext {
  readonly config: Config
  readonly roles: readonly Role[]
  /** A role runs alone, so SERVICE_PORT picks its port when set. */
  readonly alone: boolean
}

export const kafkaNextStep = 'start one with `npm run kafka:start` or set KAFKA_BROKERS'
export const redisNextStep = 'start Redis or set REDIS_ADDR'

export const kafkaLabel = (config: Pick<Config, 'kafkaBrokers'>) => `Kafka (${config.kafkaBrokers.join(', ')})`
export const redisLabel = (config: Pick<Config, 'redisAddr'>) => `Redis (${config.redisAddr})`

/** host:port of a URL with the engine's default port, and its database name: nothing of the credentials. */
function addressOf(raw: string, defaultPort: number): { address: string; name: string } | undefined {
  try {
    const url = new URL(raw)
    return {
      address: `${url.hostname || 'localhost'}:${url.port || defaultPort}`,
      name: decodeURIComponent(url.pathname.replace(/^\//, '')),
    }
  } catch {
    return undefined
  }
}

/** The database and where it is, e.g. `PostgreSQL (127.0.0.1:5432, database events)`. */
export function databaseLabel(database: Database): string {
  switch (database.engine) {
    case 'sqlite':
      return `SQLite (${database.path})`
    case 'postgres': {
      const at = addressOf(database.url, 5432)
      return at === undefined ? 'PostgreSQL (DATABASE_URL)' : `PostgreSQL (${at.address}, database ${at.name})`
    }
    case 'mssql': {
      const at = database.url === undefined ? undefined : addressOf(database.url, 1433)
      if (at !== undefined) return `SQL Server (${at.address}, database ${at.name})`
      return database.url === undefined ? 'SQL Server (MSSQL_CONN)' : 'SQL Server (DATABASE_URL)'
    }
  }
}

/** The variable that names the database. */
export function databaseVariable(database: Database): string {
  if (database.engine === 'sqlite') return 'DATABASE_URL or SQLITE_PATH'
  if (database.engine === 'mssql' && database.url === undefined) return 'MSSQL_CONN'
  return 'DATABASE_URL'
}

const portVariables: Readonly<Record<Role, string>> = {
  producer: 'PRODUCER_PORT',
  consumer: 'CONSUMER_PORT',
  api: 'API_PORT',
}

/** The variable that set `port` for one of the roles, or undefined when none of them listens there. */
export function portVariable(context: StartContext, port: number): string | undefined {
  const role = context.roles.find(r => context.config.portOf(r, context.alone) === port)
  if (role === undefined) return undefined
  return context.alone && context.config.servicePort !== undefined ? 'SERVICE_PORT' : portVariables[role]
}

/** The first socket-level code (ECONNREFUSED, ETIMEDOUT, ENOTFOUND, …) in an error's causes and aggregates. */
export function socketReason(error: unknown, depth = 0): string | undefined {
  if (typeof error !== 'object' || error === null || depth > 8) return undefined
  const code = (error as { code?: unknown }).code
  if (typeof code === 'string' && /^E[A-Z_]+$/.test(code) && code !== 'EADDRINUSE') return code
  const inner = (error as { errors?: unknown }).errors
  for (const e of Array.isArray(inner) ? inner : []) {
    const found = socketReason(e, depth + 1)
    if (found !== undefined) return found
  }
  return socketReason((error as { cause?: unknown }).cause, depth + 1)
}

/** Every secret value of the configuration, with the password of each URL, decoded and as written. */
function secretsOf(config: Config): string[] {
  const values: string[] = []
  for (const [key, v] of Object.entries(spec)) {
    const value = (config as unknown as Record<string, unknown>)[key]
    if (!('secret' in v && v.secret) || typeof value !== 'string' || value === '') continue
    values.push(value)
    try {
      const password = new URL(value).password
      if (password !== '') values.push(password, decodeURIComponent(password))
    } catch {
      // Not a URL: the whole value is already listed.
    }
  }
  // Longest first, so a URL is replaced whole before the password inside it.
  return values.sort((a, b) => b.length - a.length)
}

/**
 * The text with every secret of the configuration replaced. Driver messages do not quote credentials, but
 * nothing printed at start relies on that.
 */
export function redact(text: string, config: Config): string {
  let out = text
  for (const secret of secretsOf(config)) out = out.replaceAll(secret, '[redacted]')
  return out
}

/** One line: a driver's multi-line message must not spill over several. */
const oneLine = (text: string) => text.replace(/\s*\n\s*/g, ' ').trim()

/** Words a failure at start in the taxonomy, naming the dependency, its address and the next step. */
export function startupFailure(error: unknown, context: StartContext): StartupFailure {
  if (error instanceof StartupFailure) return error
  const { config } = context
  const verbose = config.logLevel === 'debug' || config.logLevel === 'trace'
  const stack = error instanceof Error ? (error.stack ?? error.message) : String(error)
  const fail = (code: ErrorCode, message: string) =>
    new StartupFailure(code, redact(oneLine(message), config), {
      cause: error,
      ...(verbose ? { detail: redact(stack, config) } : {}),
    })

  const errno = error as { code?: unknown; syscall?: unknown; port?: unknown }
  if (errno?.code === 'EADDRINUSE') {
    const port = typeof errno.port === 'number' ? errno.port : undefined
    const variable = port === undefined ? undefined : portVariable(context, port)
    const which = variable === undefined ? `port ${port ?? '?'}` : `port ${port} (${variable})`
    return fail('PORT_IN_USE', `${which} is in use; stop the other process or set ${variable ?? 'the port variable'}`)
  }

  if (errno?.code === 'EADDRNOTAVAIL' || (errno?.code === 'EACCES' && errno.syscall === 'listen')) {
    const port = typeof errno.port === 'number' ? errno.port : undefined
    const variable = port === undefined ? undefined : portVariable(context, port)
    const why =
      errno.code === 'EACCES'
        ? `port ${port ?? '?'}${variable === undefined ? '' : ` (${variable})`} needs privileges this process lacks; use a port above 1023`
        : `HOST ${config.host} is not an address of this machine; set HOST (127.0.0.1, or 0.0.0.0 for every interface)`
    return fail('ADDRESS_UNAVAILABLE', `cannot listen: ${why}`)
  }

  // The Kafka client's own errors (PLT_KFK_…) carry no PipelineError code: at start they mean Kafka.
  const kafkaClientError = typeof errno?.code === 'string' && errno.code.startsWith('PLT_KFK_')
  if (kafkaClientError || (error instanceof PipelineError && error.code === 'KAFKA_UNAVAILABLE')) {
    const reason = socketReason(error)
    const what = reason === undefined ? `failed: ${(error as Error).message}` : `does not answer (${reason})`
    return fail('KAFKA_UNAVAILABLE', `${kafkaLabel(config)} ${what}; ${kafkaNextStep}`)
  }
  const e = asPipelineError(error)
  const database = databaseLabel(config.database)
  const variable = databaseVariable(config.database)
  switch (e.code) {
    case 'DB_NOT_FOUND':
      return fail('DB_NOT_FOUND', `${database}: ${e.message}`)
    case 'DB_UNAVAILABLE': {
      const reason = socketReason(e)
      const what = reason === undefined ? `is unavailable: ${e.message}` : `does not answer (${reason})`
      return fail('DB_UNAVAILABLE', `${database} ${what}; start it or set ${variable}`)
    }
    case 'DLQ_UNAVAILABLE':
      return fail('DLQ_UNAVAILABLE', `${redisLabel(config)}: ${e.message}; ${redisNextStep}`)
    default:
      return fail(e.code, e.message)
  }
}
