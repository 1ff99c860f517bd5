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
