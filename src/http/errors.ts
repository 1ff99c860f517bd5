// The one error handler of every role's HTTP server. A response never carries a stack trace or an internal
// message: PipelineError codes map to statuses, Fastify's own 4xx keep theirs, anything else is a generic 500
// whose details go to the log only.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { type ErrorCode, PipelineError } from '../errors.ts'

/** Codes that exist only at the HTTP edge (they describe a request, not an event or a record). */
export const httpOnlyCodes = [
  'NOT_FOUND',
  'PAYLOAD_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
  'BAD_REQUEST',
  'BATCH_TOO_LARGE',
  'EMPTY_BATCH',
  'UNAUTHORIZED',
  'INVALID_AFTER',
  'AFTER_BEYOND_LOG',
  'NOT_APPLIED_YET',
  'TOO_MANY_WAITERS',
  'INVALID_ID',
] as const

export type HttpOnlyCode = (typeof httpOnlyCodes)[number]
export type HttpErrorCode = ErrorCode | HttpOnlyCode

/** An error about the request itself, thrown by route handlers; its message is shown to the client. */
export class HttpError extends Error {
  readonly statusCode: number
  readonly code: HttpOnlyCode
  /** Headers the answer carries (WWW-Authenticate with a 401). */
  readonly headers: Readonly<Record<string, string>>

  constructor(statusCode: number, code: HttpOnlyCode, message: string, headers: Record<string, string> = {}) {
    super(message)
    this.name = 'HttpError'
    this.statusCode = statusCode
    this.code = code
    this.headers = headers
  }
}

export interface ErrorBody {
  error: { code: HttpErrorCode; message: string; paths?: readonly string[] }
}

const statusOfCode: Readonly<Record<ErrorCode, number>> = {
  INVALID_JSON: 400,
  SCHEMA_VIOLATION: 400,
  UNKNOWN_TYPE: 400,
  CONSTRAINT_VIOLATION: 422,
  EVENT_ID_CONFLICT: 409,
  EVENT_TIME_SKEW: 400,
  RECORD_TOO_LARGE: 413,
  DATA_OUT_OF_RANGE: 422,
  DB_UNAVAILABLE: 503,
  DLQ_UNAVAILABLE: 503,
  DLQ_FULL: 503,
  KAFKA_UNAVAILABLE: 503,
  SHUTTING_DOWN: 503,
  INTERNAL: 500,
  PORT_IN_USE: 500,
  ADDRESS_UNAVAILABLE: 500,
  DB_NOT_FOUND: 503,
}

/** The status an HTTP answer carrying a PipelineError of `code` has (the error reference lists it). */
export function statusOfPipelineCode(code: ErrorCode): number {
  return statusOfCode[code]
}

/** Seconds a client should wait before retrying a 503: long enough to not hammer, short enough to recover fast. */
const retryAfterSeconds: Partial<Record<ErrorCode, string>> = {
  DB_UNAVAILABLE: '1',
  DLQ_UNAVAILABLE: '1',
  DLQ_FULL: '5',
  KAFKA_UNAVAILABLE: '1',
  SHUTTING_DOWN: '5',
}

const fastifyCodes: Readonly<Record<string, HttpErrorCode>> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_JSON_BODY: 'INVALID_JSON',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'INVALID_JSON',
}

// Fastify's own wording for these ("Unsupported Media Type") does not say what to send instead.
const clearerMessages: Partial<Record<HttpErrorCode, string>> = {
  UNSUPPORTED_MEDIA_TYPE: 'Content-Type must be application/json',
}

const withPaths: ReadonlySet<ErrorCode> = new Set(['SCHEMA_VIOLATION', 'UNKNOWN_TYPE', 'EVENT_TIME_SKEW'])

export interface Mapped {
  status: number
  body: ErrorBody
  retryAfter?: string
  headers?: Readonly<Record<string, string>>
}

/** Messages of an app for codes whose wording depends on its configuration (the body limit and its variable). */
export type Messages = Partial<Record<HttpErrorCode, string>>

/** What the client sees for a PipelineError (also used for per-entry results of a batch). */
export function describePipelineError(error: PipelineError): ErrorBody['error'] {
  const message = error.code === 'INTERNAL' ? 'internal error' : error.message
  return withPaths.has(error.code) || error.paths.length > 0
    ? { code: error.code, message, paths: error.paths }
    : { code: error.code, message }
}

export function mapError(error: unknown, messages: Messages = {}): Mapped {
  if (error instanceof PipelineError) {
    const retryAfter = retryAfterSeconds[error.code]
    const mapped: Mapped = { status: statusOfCode[error.code], body: { error: describePipelineError(error) } }
    if (retryAfter !== undefined) mapped.retryAfter = retryAfter
    return mapped
  }
  if (error instanceof HttpError) {
    return {
      status: error.statusCode,
      body: { error: { code: error.code, message: error.message } },
      headers: error.headers,
    }
  }
  const fastifyError = error as Partial<FastifyError>
  if (Array.isArray(fastifyError.validation)) {
    const paths = fastifyError.validation.map(v => v.instancePath || '/')
    return {
      status: 400,
      body: { error: { code: 'SCHEMA_VIOLATION', message: fastifyError.message ?? 'invalid request', paths } },
    }
  }
  const status = fastifyError.statusCode
  if (typeof status === 'number' && status >= 400 && status < 500) {
    // Fastify's own 4xx messages describe the request (size, media type, syntax), never our internals.
    const code = fastifyCodes[fastifyError.code ?? ''] ?? (status === 404 ? 'NOT_FOUND' : 'BAD_REQUEST')
    const message = messages[code] ?? clearerMessages[code] ?? fastifyError.message ?? 'bad request'
    return { status, body: { error: { code, message } } }
  }
  return { status: 500, body: { error: { code: 'INTERNAL', message: 'internal error' } } }
}

/** The error handler of an app, with its own wording for some codes. */
export function errorHandlerWith(
  messages: Messages,
): (error: unknown, request: FastifyRequest, reply: FastifyReply) => FastifyReply {
  return (error, request, reply) => handleError(mapError(error, messages), error, request, reply)
}

export function errorHandler(error: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  return handleError(mapError(error), error, request, reply)
}

function handleError(mapped: Mapped, error: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const { code, message } = mapped.body.error
  if (mapped.status >= 500) {
    // The full error (with stack and cause) goes to the log, where the request id ties it to the response.
    request.log.error({ err: error, code, status: mapped.status }, 'request failed')
  } else {
    request.log.warn({ code, status: mapped.status, error: message }, 'request rejected')
  }
  if (mapped.retryAfter !== undefined) reply.header('retry-after', mapped.retryAfter)
  if (mapped.headers !== undefined) reply.headers(mapped.headers)
  return reply.code(mapped.status).type('application/json; charset=utf-8').send(mapped.body)
}

export function notFoundHandler(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const path = request.url.split('?')[0]?.slice(0, 200) ?? ''
  const body: ErrorBody = { error: { code: 'NOT_FOUND', message: `no route for ${request.method} ${path}` } }
  return reply.code(404).send(body)
}
