import { accessSync, constants } from 'node:fs'

// Every environment variable the pipeline reads, with its default, what it expects and what it means.
// This table is the documentation: `pipeline --help` prints it and the README's table is checked against it.
// Names and defaults of the reference system (KAFKA_BROKERS … LOG_LEVEL) are a compatibility contract: keep them.

export type Role = 'producer' | 'consumer' | 'api'

export interface VarSpec<T> {
  readonly name: string
  readonly description: string
  /** The default as it would be written in the environment; undefined means "not set". */
  readonly default: string | undefined
  /** What a valid value looks like, for error messages. */
  readonly expects: string
  /** Roles that read it; all roles when absent. */
  readonly roles?: readonly Role[]
  /** Hides the value in logs and `pipeline config`. */
  readonly secret?: boolean
  /** Read only by a role started alone (`pipeline producer|consumer|api`), not by `pipeline all`. */
  readonly aloneOnly?: boolean
  readonly parse: (raw: string) => T
}

export class InvalidValue extends Error {
  /** The message quotes nothing of the value, so it may be shown even for a secret variable. */
  readonly quotesNothing: boolean
  constructor(message: string, quotesNothing = false) {
    super(message)
    this.quotesNothing = quotesNothing
  }
}

const fail = (why: string): never => {
  throw new InvalidValue(why)
}

/** A failure whose message says what is wrong without any text of the value (safe for secrets). */
const failPlainly = (why: string): never => {
  throw new InvalidValue(why, true)
}

/** The sslmode values node-postgres understands; libpq's `allow` is not one (pg would read it as verify-full). */
export const postgresSslModes = ['disable', 'prefer', 'require', 'verify-ca', 'verify-full', 'no-verify'] as const

/**
 * A postgres:// URL's TLS parameters, checked at start: pg reads the sslrootcert, sslcert and sslkey files only
 * when it first connects, and takes an sslmode it does not know as verify-full, so a typo would otherwise show
 * as a connection failure later, or not at all. Nothing of the value is quoted (the URL may hold a password).
 */
function postgresTls(url: URL): void {
  const mode = url.searchParams.get('sslmode')
  if (mode !== null && !(postgresSslModes as readonly string[]).includes(mode)) {
    failPlainly(`its sslmode is not one of ${postgresSslModes.join(', ')}`)
  }
  for (const key of ['sslrootcert', 'sslcert', 'sslkey']) {
    const path = url.searchParams.get(key)
    if (path === null) continue
    try {
      accessSync(path, constants.R_OK)
    } catch {
      failPlainly(`its ${key} names no readable file`)
    }
  }
  // Under libpq's semantics pg refuses verify-ca without a CA at the first connect (a public CA would vouch for any
  // server it signed); say so at start instead.
  if (
    url.searchParams.get('uselibpqcompat') === 'true' &&
    mode === 'verify-ca' &&
    !url.searchParams.has('sslrootcert')
  ) {
    failPlainly('its sslmode=verify-ca needs sslrootcert (the CA file) with uselibpqcompat=true')
  }
}

/**
 * DATABASE_URL, parsed whole at start: a scheme the store knows, and for a server a host, a port in range (when
 * given) and a database name, so a malformed URL stops the process naming the variable instead of failing later
 * inside a driver.
 */
function databaseUrl(raw: string): string {
  const value = raw.trim()
  if (/^sqlite:/.test(value)) {
    return value.length > 'sqlite:'.length ? value : failPlainly('sqlite: names no file (sqlite:./data/x.sqlite)')
  }
  const scheme = /^(postgres(?:ql)?|mssql):\/\//.exec(value)?.[1]
  if (scheme === undefined) return failPlainly('it does not start with sqlite:, postgres:// or mssql://')
  let url: URL
  try {
    url = new URL(value)
  } catch {
    return failPlainly(`it is not a valid ${scheme}:// URL (percent-encode @ / : # ? in the password)`)
  }
  if (url.hostname === '') failPlainly('it names no host')
  if (url.port !== '' && !(Number(url.port) >= 1 && Number(url.port) <= 65535)) {
    failPlainly('its port is not a number between 1 and 65535')
  }
  if (url.pathname.replace(/^\//, '') === '') failPlainly('it names no database (…/dbname)')
  if (scheme !== 'mssql') postgresTls(url)
  return value
}

export const parsers = {
  string: (raw: string) => raw,
  nonEmpty: (raw: string) => (raw.trim() === '' ? fail('it is empty') : raw.trim()),
  port: (raw: string) => {
    const n = Number(raw)
    return Number.isInteger(n) && n >= 0 && n <= 65535 && raw.trim() !== '' ? n : fail(`"${raw}" is not a port`)
  },
  positiveInt:
    (max = Number.MAX_SAFE_INTEGER) =>
    (raw: string) => {
      const n = Number(raw)
      return Number.isInteger(n) && n > 0 && n <= max && /^\d+$/.test(raw.trim())
        ? n
        : fail(`"${raw}" ${/^\s*\d+\s*$/.test(raw) ? 'is out of range' : 'is not a whole number'}`)
    },
  intBetween: (min: number, max: number) => (raw: string) => {
    const n = Number(raw)
    return Number.isInteger(n) && n >= min && n <= max && /^\d+$/.test(raw.trim())
      ? n
      : fail(`"${raw}" ${/^\s*\d+\s*$/.test(raw) ? 'is out of range' : 'is not a whole number'}`)
  },
  /** A duration in milliseconds from `<number><unit>` (ms, s, m, h, d); a bare number is milliseconds. */
  duration: (maxMs: number) => (raw: string) => {
    const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?$/.exec(raw.trim())
    const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m?.[2] ?? 'ms'] ?? 1
    const ms = m ? Math.round(Number(m[1]) * unit) : Number.NaN
    return ms >= 1 && ms <= maxMs ? ms : fail(`"${raw}" ${m ? 'is out of range' : 'is not a duration'}`)
  },
  hostPorts: (raw: string) => {
    const list = raw
      .split(',')
      .map(s => s.trim())
      .filter(s => s !== '')
    if (list.length === 0) fail('it is empty')
    for (const item of list) {
      const m = /^(\[[0-9a-fA-F:]+\]|[^:\s]+):(\d+)$/.exec(item)
      if (!m || parsers.port(m[2] ?? '') === 0) fail(`"${item}" is not host:port`)
    }
    return list
  },
  hostPort: (raw: string) => {
    const list = parsers.hostPorts(raw)
    return list.length === 1 ? (list[0] as string) : fail(`"${raw}" is more than one host:port`)
  },
  readableFile: (raw: string) => {
    const path = raw.trim()
    try {
      accessSync(path, constants.R_OK)
      return path
    } catch {
      return fail(`"${raw}" is not a readable file`)
    }
  },
  /** A bearer token: long enough not to be guessed, without blanks (which no Authorization header could carry). */
  httpUrl: (raw: string) => {
    let url: URL
    try {
      url = new URL(raw.trim())
    } catch {
      return fail(`"${raw}" is not a URL`)
    }
    return url.protocol === 'http:' || url.protocol === 'https:'
      ? url.origin
      : fail(`"${raw}" is not an http:// or https:// URL`)
  },
  token: (raw: string) => (/^\S{16,}$/.test(raw) ? raw : fail('it is shorter than 16 characters or has blanks')),
  bool: (raw: string) => {
    const v = raw.trim().toLowerCase()
    if (['1', 'true', 'yes', 'on'].includes(v)) return true
    if (['0', 'false', 'no', 'off'].includes(v)) return false
    return fail(`"${raw}" is not true or false`)
  },
  logLevel: (raw: string) => {
    const v = raw.trim().toLowerCase()
    const map: Record<string, LogLevel> = {
      debug: 'debug',
      info: 'info',
      warn: 'warn',
      warning: 'warn',
      error: 'error',
      trace: 'trace',
      fatal: 'fatal',
      silent: 'silent',
    }
    return map[v] ?? fail(`"${raw}" is not a log level`)
  },
} as const

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent'

export const spec = {
  kafkaBrokers: {
    name: 'KAFKA_BROKERS',
    description:
      'Comma-separated Kafka bootstrap brokers (the read API asks them only for the end offsets that ?after= is checked against)',
    default: 'localhost:9092',
    expects: 'host:port[,host:port…]',
    roles: ['producer', 'consumer', 'api'],
    parse: parsers.hostPorts,
  },
  kafkaTopic: {
    name: 'KAFKA_TOPIC',
    description: 'Topic the producer writes and the consumer reads (the read API reports the offsets applied from it)',
    default: 'events',
    expects: 'a Kafka topic name (letters, digits, . _ -; at most 249)',
    roles: ['producer', 'consumer', 'api'],
    parse: (raw: string) => (/^[a-zA-Z0-9._-]{1,249}$/.test(raw) ? raw : fail(`"${raw}" is not a valid topic name`)),
  },
  kafkaGroupId: {
    name: 'KAFKA_GROUP_ID',
    description: 'Consumer group of the consumer',
    default: 'consumer-group',
    expects: 'a non-empty string',
    roles: ['consumer'],
    parse: parsers.nonEmpty,
  },
  kafkaGroupProtocol: {
    name: 'KAFKA_GROUP_PROTOCOL',
    description:
      'Consumer group protocol: consumer (KIP-848, rebalanced by the broker; Kafka 4.0+) or classic (JoinGroup/SyncGroup, any Kafka)',
    default: 'consumer',
    expects: 'consumer or classic',
    roles: ['consumer'],
    parse: (raw: string) => {
      const v = raw.trim().toLowerCase()
      return v === 'consumer' || v === 'classic' ? v : fail(`"${raw}" is not consumer or classic`)
    },
  },
  kafkaClientId: {
    name: 'KAFKA_CLIENT_ID',
    description: 'Client id sent to Kafka (shows in broker logs and quotas)',
    default: 'event-pipeline',
    expects: 'a non-empty string',
    roles: ['producer', 'consumer', 'api'],
    parse: parsers.nonEmpty,
  },
  kafkaPartitions: {
    name: 'KAFKA_PARTITIONS',
    description: 'Partitions of the topic when the pipeline has to create it',
    default: '3',
    expects: 'a whole number between 1 and 10000',
    roles: ['producer', 'consumer'],
    parse: parsers.positiveInt(10_000),
  },
  kafkaAutostart: {
    name: 'KAFKA_AUTOSTART',
    description:
      'With npm start or npm run pipeline: start the local Kafka broker when KAFKA_BROKERS is the default localhost:9092 and nothing answers there (never in the container image)',
    default: 'true',
    expects: 'true or false',
    parse: parsers.bool,
  },
  kafkaSaslMechanism: {
    name: 'KAFKA_SASL_MECHANISM',
    description: 'SASL mechanism for Kafka: PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512 (unset: no SASL)',
    default: undefined,
    expects: 'PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512',
    roles: ['producer', 'consumer', 'api'],
    parse: (raw: string) => {
      const v = raw.trim().toUpperCase()
      return v === 'PLAIN' || v === 'SCRAM-SHA-256' || v === 'SCRAM-SHA-512'
        ? v
        : fail(`"${raw}" is not PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512`)
    },
  },
  kafkaSaslUsername: {
    name: 'KAFKA_SASL_USERNAME',
    description: 'SASL user name for Kafka',
    default: undefined,
    expects: 'a non-empty string',
    roles: ['producer', 'consumer', 'api'],
    parse: parsers.nonEmpty,
  },
  kafkaSaslPassword: {
    name: 'KAFKA_SASL_PASSWORD',
    description: 'SASL password for Kafka',
    default: undefined,
    expects: 'a string',
    roles: ['producer', 'consumer', 'api'],
    secret: true,
    parse: parsers.string,
  },
  kafkaTls: {
    name: 'KAFKA_TLS',
    description: 'Connect to Kafka over TLS',
    default: 'false',
    expects: 'true or false',
    roles: ['producer', 'consumer', 'api'],
    parse: parsers.bool,
  },
  kafkaTlsCaFile: {
    name: 'KAFKA_TLS_CA_FILE',
    description: "PEM file of the CA that signed the brokers' certificates (default: the system CAs)",
    default: undefined,
    expects: 'a readable file path',
    roles: ['producer', 'consumer', 'api'],
    parse: parsers.readableFile,
  },
  kafkaTlsCertFile: {
    name: 'KAFKA_TLS_CERT_FILE',
    description: 'PEM client certificate for mutual TLS with Kafka',
    default: undefined,
    expects: 'a readable file path',
    roles: ['producer', 'consumer', 'api'],
    parse: parsers.readableFile,
  },
  kafkaTlsKeyFile: {
    name: 'KAFKA_TLS_KEY_FILE',
    description: 'PEM private key of KAFKA_TLS_CERT_FILE',
    default: undefined,
    expects: 'a readable file path',
    roles: ['producer', 'consumer', 'api'],
    parse: parsers.readableFile,
  },
  kafkaTlsRejectUnauthorized: {
    name: 'KAFKA_TLS_REJECT_UNAUTHORIZED',
    description: 'Refuse brokers whose certificate does not verify (turn off only for testing)',
    default: 'true',
    expects: 'true or false',
    roles: ['producer', 'consumer', 'api'],
    parse: parsers.bool,
  },
  databaseUrl: {
    name: 'DATABASE_URL',
    description:
      'Store: sqlite:<file> (or sqlite::memory:), postgres://user:pass@host:port/db (TLS: ?sslmode=verify-full&sslrootcert=/path/ca.pem), or mssql://user:pass@host:port/db. When unset, MSSQL_CONN is used if set, else the SQLite file',
    default: undefined,
    expects: 'a sqlite:, postgres:// or mssql:// URL',
    roles: ['consumer', 'api'],
    secret: true,
    parse: databaseUrl,
  },
  mssqlConn: {
    name: 'MSSQL_CONN',
    description:
      'MS SQL Server connection string in the reference system format (server=host,port;user id=…;password=…;database=…;encrypt=disable)',
    default: undefined,
    expects: 'key=value pairs separated by ;',
    roles: ['consumer', 'api'],
    secret: true,
    parse: (raw: string) => (/=/.test(raw) ? raw.trim() : fail('it has no key=value pair')),
  },
  sqlitePath: {
    name: 'SQLITE_PATH',
    description: 'SQLite file used when neither DATABASE_URL nor MSSQL_CONN is set',
    default: './data/pipeline.sqlite',
    expects: 'a file path',
    roles: ['consumer', 'api'],
    parse: parsers.nonEmpty,
  },
  redisAddr: {
    name: 'REDIS_ADDR',
    description:
      'Redis address of the dead-letter queue (the read API looks dead letters up by eventId); several, comma-separated, are the seed nodes of a Redis Cluster',
    default: 'localhost:6379',
    expects: 'host:port, or host:port,host:port,… for a cluster',
    roles: ['producer', 'consumer', 'api'],
    parse: (raw: string) => parsers.hostPorts(raw).join(','),
  },
  redisCluster: {
    name: 'REDIS_CLUSTER',
    description: 'Connect to REDIS_ADDR as a Redis Cluster (implied when REDIS_ADDR names several nodes)',
    default: 'false',
    expects: 'true or false',
    roles: ['producer', 'consumer', 'api'],
    parse: parsers.bool,
  },
  redisPassword: {
    name: 'REDIS_PASSWORD',
    description: 'Redis password (optional)',
    default: '',
    expects: 'a string',
    roles: ['producer', 'consumer', 'api'],
    secret: true,
    parse: parsers.string,
  },
  redisTls: {
    name: 'REDIS_TLS',
    description: 'Connect to Redis over TLS',
    default: 'false',
    expects: 'true or false',
    roles: ['producer', 'consumer', 'api'],
    parse: parsers.bool,
  },
  redisTlsCaFile: {
    name: 'REDIS_TLS_CA_FILE',
    description: 'PEM file of the CA that signed the Redis server certificate (default: the system CAs)',
    default: undefined,
    expects: 'a readable file path',
    roles: ['producer', 'consumer', 'api'],
    parse: parsers.readableFile,
  },
  dlqKey: {
    name: 'DLQ_KEY',
    description: 'Redis list that holds dead-lettered records (LPUSH, newest first)',
    default: 'dlq:events',
    expects: 'a non-empty string',
    roles: ['producer', 'consumer', 'api'],
    parse: parsers.nonEmpty,
  },
  dlqEntryMaxBytes: {
    name: 'DLQ_ENTRY_MAX_BYTES',
    description:
      'Largest DLQ entry in bytes: a longer payload keeps a prefix, its length and SHA-256 (payloadTruncated)',
    default: '65536',
    expects: 'a whole number of bytes between 8192 and 16777216',
    roles: ['producer', 'consumer'],
    parse: parsers.intBetween(8192, 16 * 1024 * 1024),
  },
  producerDlqPerSecond: {
    name: 'PRODUCER_DLQ_PER_SECOND',
    description: 'Refused requests the producer dead-letters per second (one entry each); 0 dead-letters none',
    default: '20',
    expects: 'a whole number between 0 and 100000',
    roles: ['producer'],
    parse: parsers.intBetween(0, 100_000),
  },
  producerDlqBurst: {
    name: 'PRODUCER_DLQ_BURST',
    description: 'Refused requests the producer may dead-letter at once above PRODUCER_DLQ_PER_SECOND',
    default: '100',
    expects: 'a whole number between 1 and 100000',
    roles: ['producer'],
    parse: parsers.positiveInt(100_000),
  },
  producerDlqMaxEntries: {
    name: 'PRODUCER_DLQ_MAX_ENTRIES',
    description: 'Most producer entries in the DLQ list; further refused requests are counted, not stored',
    default: '10000',
    expects: 'a whole number between 1 and 100000000',
    roles: ['producer'],
    parse: parsers.positiveInt(100_000_000),
  },
  producerDlqMaxBytes: {
    name: 'PRODUCER_DLQ_MAX_BYTES',
    description: 'Most bytes of producer entries in the DLQ list; further refused requests are counted, not stored',
    default: '67108864',
    expects: 'a whole number of bytes between 1 and 17179869184',
    roles: ['producer'],
    parse: parsers.positiveInt(16 * 1024 * 1024 * 1024),
  },
  consumerDlqMaxEntries: {
    name: 'CONSUMER_DLQ_MAX_ENTRIES',
    description:
      'Most consumer entries in the DLQ list; past it the consumer holds the failed record uncommitted (DLQ_FULL) and retries',
    default: '1000000',
    expects: 'a whole number between 1 and 100000000',
    roles: ['consumer'],
    parse: parsers.positiveInt(100_000_000),
  },
  consumerDlqMaxBytes: {
    name: 'CONSUMER_DLQ_MAX_BYTES',
    description:
      'Most bytes of consumer entries in the DLQ list; past it the consumer holds the failed record uncommitted (DLQ_FULL) and retries',
    default: '1073741824',
    expects: 'a whole number of bytes between 1 and 17179869184',
    roles: ['consumer'],
    parse: parsers.positiveInt(16 * 1024 * 1024 * 1024),
  },
  servicePort: {
    name: 'SERVICE_PORT',
    description: 'HTTP port of a role started alone (pipeline producer|consumer|api); ignored by `pipeline all`',
    default: undefined,
    expects: 'a port number (0-65535)',
    aloneOnly: true,
    parse: parsers.port,
  },
  producerPort: {
    name: 'PRODUCER_PORT',
    description: 'HTTP port of the producer (POST /produce)',
    default: '8080',
    expects: 'a port number (0-65535)',
    roles: ['producer'],
    parse: parsers.port,
  },
  consumerPort: {
    name: 'CONSUMER_PORT',
    description: 'HTTP port of the consumer (/health, /ready, /metrics)',
    default: '8081',
    expects: 'a port number (0-65535)',
    roles: ['consumer'],
    parse: parsers.port,
  },
  apiPort: {
    name: 'API_PORT',
    description: 'HTTP port of the read API',
    default: '8082',
    expects: 'a port number (0-65535)',
    roles: ['api'],
    parse: parsers.port,
  },
  host: {
    name: 'HOST',
    description:
      'Address the HTTP servers listen on, loopback only by default: set HOST=0.0.0.0 to listen on every interface (the container image does)',
    default: '127.0.0.1',
    expects: 'an IP address or host name',
    parse: parsers.nonEmpty,
  },
  httpRequestTimeoutMs: {
    name: 'HTTP_REQUEST_TIMEOUT_MS',
    description:
      'Longest a client may take to send a whole request, headers and body; past it the server answers 408 and closes the connection',
    default: '30000',
    expects: 'a whole number of milliseconds between 100 and 3600000',
    parse: parsers.intBetween(100, 3_600_000),
  },
  httpHeadersTimeoutMs: {
    name: 'HTTP_HEADERS_TIMEOUT_MS',
    description:
      "Longest a client may take to send a request's headers (408 and close past it); lowered to HTTP_REQUEST_TIMEOUT_MS when larger",
    default: '10000',
    expects: 'a whole number of milliseconds between 100 and 3600000',
    parse: parsers.intBetween(100, 3_600_000),
  },
  httpKeepAliveTimeoutMs: {
    name: 'HTTP_KEEP_ALIVE_TIMEOUT_MS',
    description: 'How long an idle keep-alive connection waits for its next request before the server closes it',
    default: '5000',
    expects: 'a whole number of milliseconds between 100 and 600000',
    parse: parsers.intBetween(100, 600_000),
  },
  httpConnectionTimeoutMs: {
    name: 'HTTP_CONNECTION_TIMEOUT_MS',
    description:
      'Longest a connection may stay silent (nothing received or sent, also while its answer is awaited) before the server closes it',
    default: '60000',
    expects: 'a whole number of milliseconds between 100 and 3600000',
    parse: parsers.intBetween(100, 3_600_000),
  },
  httpMaxConnections: {
    name: 'HTTP_MAX_CONNECTIONS',
    description: 'Most connections each HTTP server holds open; one past it is closed at once, unanswered',
    default: '1024',
    expects: 'a whole number between 1 and 1000000',
    parse: parsers.positiveInt(1_000_000),
  },
  httpMaxRequestsPerSocket: {
    name: 'HTTP_MAX_REQUESTS_PER_SOCKET',
    description: 'Most requests one keep-alive connection carries before the server closes it',
    default: '1000',
    expects: 'a whole number between 1 and 1000000',
    parse: parsers.positiveInt(1_000_000),
  },
  produceToken: {
    name: 'PRODUCE_TOKEN',
    description: 'When set, POST /produce requires `Authorization: Bearer <token>` (401 otherwise)',
    default: undefined,
    expects: 'at least 16 characters without blanks',
    roles: ['producer'],
    secret: true,
    parse: parsers.token,
  },
  readToken: {
    name: 'READ_TOKEN',
    description: 'When set, the read API routes require `Authorization: Bearer <token>` (401 otherwise)',
    default: undefined,
    expects: 'at least 16 characters without blanks',
    roles: ['api'],
    secret: true,
    parse: parsers.token,
  },
  adminToken: {
    name: 'ADMIN_TOKEN',
    description:
      'When set, /ready shows its per-check details to callers sending `Authorization: Bearer <token>` (everyone else gets a bare status), and the consumer serves the DLQ admin API (/admin/…) to them; unset, /admin/… does not exist (404)',
    default: undefined,
    expects: 'at least 16 characters without blanks',
    secret: true,
    parse: parsers.token,
  },
  consoleProducerUrl: {
    name: 'CONSOLE_PRODUCER_URL',
    description:
      "Where the consumer's console asks the producer for /health and /ready (default: http://127.0.0.1:<PRODUCER_PORT>)",
    default: undefined,
    expects: 'an http:// or https:// URL',
    roles: ['consumer'],
    parse: parsers.httpUrl,
  },
  consoleApiUrl: {
    name: 'CONSOLE_API_URL',
    description:
      "Where the consumer's console asks the read API for /health, /ready and the applied offsets (default: http://127.0.0.1:<API_PORT>)",
    default: undefined,
    expects: 'an http:// or https:// URL',
    roles: ['consumer'],
    parse: parsers.httpUrl,
  },
  consoleChartInterval: {
    name: 'CONSOLE_CHART_INTERVAL',
    description:
      "How often the consumer samples the console's charts (GET /admin/series); it keeps the last 360 samples in memory, so the default 10s charts the last hour. A number with ms, s or m",
    default: '10s',
    expects: 'a duration between 1s and 60s, such as 10s',
    roles: ['consumer'],
    parse: (raw: string) => {
      const ms = parsers.duration(60_000)(raw)
      return ms >= 1000 ? ms : fail(`"${raw}" is shorter than 1s`)
    },
  },
  prometheusUrl: {
    name: 'PROMETHEUS_URL',
    description:
      "When set, the console's charts (GET /admin/series) come from this Prometheus server's query_range API (the whole group's rates, pending events and lag per partition; the lag in seconds stays this member's own), and from the consumer's own samples when it does not answer within 2 s",
    default: undefined,
    expects: 'an http:// or https:// URL without a user or password (a path prefix is kept)',
    roles: ['consumer'],
    parse: (raw: string) => {
      let url: URL
      try {
        url = new URL(raw.trim())
      } catch {
        return fail(`"${raw}" is not a URL`)
      }
      if (url.protocol !== 'http:' && url.protocol !== 'https:') fail(`"${raw}" is not an http:// or https:// URL`)
      // fetch refuses a URL with credentials, and the console shows the URL in its notes: none may be in it.
      if (url.username !== '' || url.password !== '') failPlainly('it holds a user or password, which is not sent')
      return `${url.origin}${url.pathname.replace(/\/+$/, '')}`
    },
  },
  logLevel: {
    name: 'LOG_LEVEL',
    description: 'Log level: DEBUG, INFO, WARN or ERROR',
    default: 'INFO',
    expects: 'DEBUG, INFO, WARN or ERROR',
    parse: parsers.logLevel,
  },
  logFormat: {
    name: 'LOG_FORMAT',
    description:
      'Log lines: json (one JSON object per line), pretty (for a person), or auto: pretty when stdout is a terminal, json otherwise',
    default: 'auto',
    expects: 'auto, json or pretty',
    parse: (raw: string) => {
      const v = raw.trim().toLowerCase()
      return v === 'auto' || v === 'json' || v === 'pretty' ? v : fail(`"${raw}" is not a log format`)
    },
  },
  bodyLimitBytes: {
    name: 'PRODUCE_BODY_LIMIT',
    description:
      'Largest POST /produce body in bytes (413 past it); also the largest replacement payload of a DLQ redrive (`dlq redrive --payload`, POST /admin/dlq/redrive)',
    default: '1048576',
    expects: 'a whole number of bytes between 1 and 104857600',
    roles: ['producer', 'consumer'],
    parse: parsers.positiveInt(100 * 1024 * 1024),
  },
  produceBatchMax: {
    name: 'PRODUCE_BATCH_MAX',
    description: 'Most events in one POST /produce array',
    default: '1000',
    expects: 'a whole number between 1 and 100000',
    roles: ['producer'],
    parse: parsers.positiveInt(100_000),
  },
  maxEventSkewMs: {
    name: 'MAX_EVENT_SKEW',
    description:
      "How far an event's timestamp may be ahead of the clock it is measured against, so that no client clock can freeze a key under last-writer-wins: POST /produce refuses an event further ahead of the producer's clock (400 EVENT_TIME_SKEW), the consumer dead-letters one further ahead of its Kafka record's timestamp. A number with ms, s, m, h or d",
    default: '1h',
    expects: 'a duration such as 30s, 5m, 1h or 1d (at least 1s, at most 365d)',
    roles: ['producer', 'consumer'],
    parse: (raw: string) => {
      const ms = parsers.duration(365 * 24 * 3600 * 1000)(raw)
      return ms >= 1000 ? ms : fail(`"${raw}" is out of range`)
    },
  },
  consumerBatchMax: {
    name: 'CONSUMER_BATCH_MAX',
    description: 'Most records the consumer applies in one SQL transaction',
    default: '1000',
    expects: 'a whole number between 1 and 100000',
    roles: ['consumer'],
    parse: parsers.positiveInt(100_000),
  },
  consumerBatchWaitMs: {
    name: 'CONSUMER_BATCH_WAIT_MS',
    description: 'Longest the consumer waits to fill a batch before applying what it has',
    default: '20',
    expects: 'a whole number of milliseconds between 1 and 60000',
    roles: ['consumer'],
    parse: parsers.positiveInt(60_000),
  },
  consumerBufferMaxBytes: {
    name: 'CONSUMER_BUFFER_MAX_BYTES',
    description:
      'Most bytes of fetched records the consumer holds before it pauses fetching (with CONSUMER_BATCH_MAX, whichever comes first)',
    default: '33554432',
    expects: 'a whole number of bytes between 1048576 and 1073741824',
    roles: ['consumer'],
    parse: parsers.intBetween(1024 * 1024, 1024 * 1024 * 1024),
  },
  consumerBatchMaxBytes: {
    name: 'CONSUMER_BATCH_MAX_BYTES',
    description: 'Most bytes of records in one batch (one SQL transaction); a batch always takes at least one record',
    default: '8388608',
    expects: 'a whole number of bytes between 1024 and 268435456',
    roles: ['consumer'],
    parse: parsers.intBetween(1024, 256 * 1024 * 1024),
  },
  consumerRecordMaxBytes: {
    name: 'CONSUMER_RECORD_MAX_BYTES',
    description:
      'Largest Kafka record (key and value) the consumer parses; a larger one is dead-lettered as RECORD_TOO_LARGE',
    default: '1048576',
    expects: 'a whole number of bytes between 1024 and 268435456',
    roles: ['consumer'],
    parse: parsers.intBetween(1024, 256 * 1024 * 1024),
  },
  pendingMaxAgeMs: {
    name: 'PENDING_MAX_AGE',
    description:
      'How long an event whose parent is missing (an order whose user is not stored) waits as pending before it is dead-lettered: a number with ms, s, m, h or d',
    default: '24h',
    expects: 'a duration such as 500ms, 30s, 15m, 24h or 7d (at least 1ms, at most 365d)',
    roles: ['consumer'],
    parse: parsers.duration(365 * 24 * 3600 * 1000),
  },
  eventLogRetentionMs: {
    name: 'EVENT_LOG_RETENTION',
    description:
      'How long the consumer keeps the event log that GET /events/{eventId} reads for state events (deltas are told from the inventory ledger, kept for ever): a number with ms, s, m, h or d',
    default: '7d',
    expects: 'a duration such as 12h, 7d or 30d (at least 1m, at most 365d)',
    roles: ['consumer'],
    parse: (raw: string) => {
      const ms = parsers.duration(365 * 24 * 3600 * 1000)(raw)
      return ms >= 60_000 ? ms : fail(`"${raw}" is out of range`)
    },
  },
  readWaitMs: {
    name: 'READ_WAIT_MS',
    description:
      'Longest a read with ?after=<partition>:<offset> waits for the consumer to apply those offsets before it answers 503 with Retry-After',
    default: '2000',
    expects: 'a whole number of milliseconds between 0 and 30000',
    roles: ['api'],
    parse: parsers.intBetween(0, 30_000),
  },
  readWaitersMax: {
    name: 'READ_WAITERS_MAX',
    description: 'Most reads with ?after= waiting at once in the read API; one more is answered 503 with Retry-After',
    default: '1000',
    expects: 'a whole number between 1 and 100000',
    roles: ['api'],
    parse: parsers.intBetween(1, 100_000),
  },
  readWaitersPerAddress: {
    name: 'READ_WAITERS_PER_ADDRESS',
    description:
      'Most reads with ?after= waiting at once from one client address (the TCP peer; behind a proxy, the proxy); one more is answered 429 with Retry-After',
    default: '32',
    expects: 'a whole number between 1 and 100000',
    roles: ['api'],
    parse: parsers.intBetween(1, 100_000),
  },
  dbTimeoutMs: {
    name: 'DB_TIMEOUT_MS',
    description:
      'Longest one database call may take before it counts as a transient failure (a black-holed connection is retried, never waited on forever)',
    default: '15000',
    expects: 'a whole number of milliseconds between 100 and 600000',
    roles: ['consumer', 'api'],
    parse: parsers.intBetween(100, 600_000),
  },
  redisTimeoutMs: {
    name: 'REDIS_TIMEOUT_MS',
    description: 'Longest one Redis command may take before it counts as a transient failure',
    default: '2000',
    expects: 'a whole number of milliseconds between 100 and 600000',
    roles: ['producer', 'consumer', 'api'],
    parse: parsers.intBetween(100, 600_000),
  },
  shutdownTimeoutMs: {
    name: 'SHUTDOWN_TIMEOUT_MS',
    description: 'Longest a role takes to drain and exit after SIGTERM before it exits anyway',
    default: '9000',
    expects: 'a whole number of milliseconds between 1 and 600000',
    parse: parsers.positiveInt(600_000),
  },
} as const satisfies Record<string, VarSpec<unknown>>

export type Spec = typeof spec
