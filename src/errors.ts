// The one error taxonomy of the pipeline. The consumer decides between retry and dead-letter from `retryable`
// alone, never from message text; HTTP handlers map `code` to a status.

export const errorCodes = [
  /** The record or request body is not JSON (or not UTF-8). */
  'INVALID_JSON',
  /** JSON that does not match the event schema: missing or wrong-typed fields, bad dates, out-of-range numbers. */
  'SCHEMA_VIOLATION',
  /** An event type the pipeline does not know. */
  'UNKNOWN_TYPE',
  /** The database refused the row: foreign key, check or uniqueness constraint. */
  'CONSTRAINT_VIOLATION',
  /**
   * An eventId seen before with a different payload where that cannot be a correction: a delta
   * (InventoryAdjusted) re-sent with other fields. Both payloads' digests are in the message.
   */
  'EVENT_ID_CONFLICT',
  /**
   * An event whose timestamp is more than MAX_EVENT_SKEW ahead of the time it is measured against: the
   * producer's clock at POST /produce, the Kafka record's timestamp in the consumer. Last-writer-wins compares
   * event timestamps, so such an event would hold its key against every later honest update.
   */
  'EVENT_TIME_SKEW',
  /** A single record larger than the consumer may buffer or dead-letter whole. */
  'RECORD_TOO_LARGE',
  /** A value does not fit its column (truncation, numeric overflow). */
  'DATA_OUT_OF_RANGE',
  /** The database cannot be reached, timed out, or the transaction lost a deadlock. */
  'DB_UNAVAILABLE',
  /** The dead-letter queue (Redis) cannot be reached. */
  'DLQ_UNAVAILABLE',
  /**
   * The dead-letter queue holds as many of this writer's entries (or bytes) as its caps allow: the consumer keeps
   * the record's offset uncommitted and retries until entries are redriven or purged.
   */
  'DLQ_FULL',
  /** Kafka cannot be reached or did not acknowledge. */
  'KAFKA_UNAVAILABLE',
  /** The process is shutting down and takes no new work. */
  'SHUTTING_DOWN',
  /** Anything else: a bug. */
  'INTERNAL',
  /** The port a server should listen on is taken by another process (at start). */
  'PORT_IN_USE',
  /** A server cannot listen where it was told: HOST is not an address of this machine, or the port is privileged. */
  'ADDRESS_UNAVAILABLE',
  /** The database named in the configuration does not exist and could not be created (at start). */
  'DB_NOT_FOUND',
] as const

export type ErrorCode = (typeof errorCodes)[number]

const retryableByDefault: ReadonlySet<ErrorCode> = new Set([
  'DB_UNAVAILABLE',
  'DLQ_UNAVAILABLE',
  'DLQ_FULL',
  'KAFKA_UNAVAILABLE',
  'SHUTTING_DOWN',
])

/** Whether a code is retried unless its thrower says otherwise: the consumer retries it instead of dead-lettering. */
export function retryableByDefaultOf(code: ErrorCode): boolean {
  return retryableByDefault.has(code)
}

/** Where a code shows: an HTTP answer, a dead letter, a start-up failure, or only the consumer's log and metrics. */
export type ErrorPlace = 'http' | 'dead letter' | 'start-up' | 'consumer log'

/** What a code means and what to do about it, for the people who meet it: docs/errors.md is made from these. */
export interface ErrorGuide {
  readonly meaning: string
  readonly action: string
  readonly seen: readonly ErrorPlace[]
}

// A Record over every code, so a new code fails the type check until it says what it means and what to do.
export const errorGuide: Readonly<Record<ErrorCode, ErrorGuide>> = {
  INVALID_JSON: {
    meaning: 'The request body or the Kafka record is not JSON, or not UTF-8.',
    action:
      'Send one JSON object (or an array of them) encoded as UTF-8; the dead letter keeps what was received (up to DLQ_ENTRY_MAX_BYTES).',
    seen: ['http', 'dead letter'],
  },
  SCHEMA_VIOLATION: {
    meaning:
      'JSON that is not a valid event: a missing or wrong-typed field, a bad date, a number out of range. `paths` names the fields.',
    action:
      'Fix the fields named in `paths` (JSON pointers) and send the event again; `GET /openapi.json` has the schemas.',
    seen: ['http', 'dead letter'],
  },
  UNKNOWN_TYPE: {
    meaning: 'An event type the pipeline does not know.',
    action:
      'Use one of the types of the event schema (UserCreated, OrderPlaced, …); a dead-lettered one can be fixed and redriven once its producer is.',
    seen: ['http', 'dead letter'],
  },
  CONSTRAINT_VIOLATION: {
    meaning: 'The database refused the row: a foreign key, check or uniqueness constraint (named in the dead letter).',
    action:
      'Read the constraint in the dead letter; fix the event or the data it depends on, then redrive it (`pipeline dlq redrive`).',
    seen: ['dead letter'],
  },
  EVENT_ID_CONFLICT: {
    meaning:
      'An eventId seen before with a different payload where that cannot be a correction (an InventoryAdjusted re-sent with other fields); both digests are in the message.',
    action:
      'Give every distinct event its own eventId; a delta that was meant as a new adjustment needs a new eventId before it is redriven.',
    seen: ['dead letter'],
  },
  EVENT_TIME_SKEW: {
    meaning:
      "The event's timestamp is more than MAX_EVENT_SKEW ahead of the producer's clock (POST /produce) or of its Kafka record's timestamp (consumer).",
    action:
      "Fix the sender's clock or the timestamp it writes (UTC, ISO-8601); raise MAX_EVENT_SKEW only if the clocks are known to drift that far.",
    seen: ['http', 'dead letter'],
  },
  RECORD_TOO_LARGE: {
    meaning: 'A Kafka record larger than the consumer may buffer or dead-letter whole.',
    action:
      'Find its producer (the dead letter names topic, partition and offset) and keep events small; raise CONSUMER_RECORD_MAX_BYTES only if such records are meant.',
    seen: ['dead letter'],
  },
  DATA_OUT_OF_RANGE: {
    meaning:
      'A value does not fit its column: text too long, a number overflowing, a character the database cannot hold.',
    action: 'Fix the value in the event (the message names the column when the database does) and redrive it.',
    seen: ['dead letter'],
  },
  DB_UNAVAILABLE: {
    meaning:
      'The database cannot be reached, timed out, refused the login or the TLS handshake, or the transaction lost a deadlock.',
    action:
      'Retry after Retry-After; operators: check that the database is up and DATABASE_URL (host, login, sslmode, CA) is right. The consumer retries on its own and /ready says why.',
    seen: ['http', 'start-up', 'consumer log'],
  },
  DLQ_UNAVAILABLE: {
    meaning: 'The dead-letter queue (Redis) cannot be reached, refused the login, or is out of memory.',
    action:
      'Retry after Retry-After; operators: check Redis (REDIS_ADDR, REDIS_PASSWORD, maxmemory). The consumer keeps the offset and retries.',
    seen: ['http', 'start-up', 'consumer log'],
  },
  DLQ_FULL: {
    meaning: "The dead-letter queue holds as many of the consumer's entries (or bytes) as its caps allow.",
    action:
      'Redrive or purge dead letters (`pipeline dlq stats`, `redrive`, `purge`) or raise CONSUMER_DLQ_MAX_ENTRIES / CONSUMER_DLQ_MAX_BYTES; the consumer holds the offset and goes on by itself once there is room.',
    seen: ['consumer log'],
  },
  KAFKA_UNAVAILABLE: {
    meaning: 'Kafka cannot be reached or did not acknowledge the write.',
    action:
      'Retry after Retry-After (the event was not acknowledged, so sending it again is safe: eventIds make it idempotent); operators: check KAFKA_BROKERS and the brokers.',
    seen: ['http', 'start-up', 'consumer log'],
  },
  SHUTTING_DOWN: {
    meaning: 'The process is shutting down and takes no new work.',
    action: 'Retry after Retry-After, against another instance or this one once it is back.',
    seen: ['http'],
  },
  INTERNAL: {
    meaning:
      'Anything else: a bug. The answer says only "internal error"; the log has the details under the request id.',
    action:
      'Report it with the X-Request-Id of the answer (or the dead letter); a dead-lettered record can be redriven once the bug is fixed.',
    seen: ['http', 'dead letter', 'start-up'],
  },
  PORT_IN_USE: {
    meaning: 'The port a server should listen on is taken by another process.',
    action:
      'Stop the other process, or set the port variable the message names (PRODUCER_PORT, CONSUMER_PORT, API_PORT).',
    seen: ['start-up'],
  },
  ADDRESS_UNAVAILABLE: {
    meaning:
      'A server cannot listen where it was told: HOST is not an address of this machine, or the port is privileged.',
    action: 'Set HOST to an address of this machine (0.0.0.0 for all) or use a port above 1023.',
    seen: ['start-up'],
  },
  DB_NOT_FOUND: {
    meaning: 'The database named in the configuration does not exist and could not be created.',
    action: 'Create it (`createdb NAME`) or grant the login the right to create databases (CREATEDB).',
    seen: ['start-up'],
  },
}

export interface PipelineErrorOptions {
  cause?: unknown
  retryable?: boolean
  /** Field paths that failed validation (JSON pointers such as /data/userId). */
  paths?: readonly string[]
  /** Database constraint that was violated, when known. */
  constraint?: string
}

export class PipelineError extends Error {
  readonly code: ErrorCode
  readonly retryable: boolean
  readonly paths: readonly string[]
  readonly constraint: string | undefined

  constructor(code: ErrorCode, message: string, options: PipelineErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'PipelineError'
    this.code = code
    this.retryable = options.retryable ?? retryableByDefault.has(code)
    this.paths = options.paths ?? []
    this.constraint = options.constraint
  }

  toJSON(): { code: ErrorCode; message: string } {
    return { code: this.code, message: this.message }
  }
}

/** Wraps anything thrown into a PipelineError; unknown errors become INTERNAL and are not retried. */
export function asPipelineError(error: unknown): PipelineError {
  if (error instanceof PipelineError) return error
  const message = error instanceof Error ? error.message : String(error)
  return new PipelineError('INTERNAL', message, { cause: error })
}
