// Schemas shared by every role's routes: the error shape, the error answers each status stands for, the bearer
// token, and the routes of buildBaseApp. Fastify compiles response schemas into serializers, so each lists its
// fields in the order the handlers write them (the answer stays byte for byte what JSON.stringify wrote) and
// leaves room for fields a handler adds (additionalProperties), so that describing never strips anything.
import Type, { type TSchema } from 'typebox'
import { errorCodes } from '../errors.ts'
import { httpOnlyCodes } from './errors.ts'

/** Id of the shared error schema (Fastify addSchema; #/components/schemas/ErrorBody in the document). */
export const errorBodyId = 'ErrorBody'

/** The `error` member of an error answer; a refused entry of a produce batch carries one as well. */
export const ErrorDetail = Type.Object(
  {
    code: Type.Unsafe<string>({
      type: 'string',
      enum: [...errorCodes, ...httpOnlyCodes],
      description: 'What went wrong, for programs: one of a fixed list',
    }),
    message: Type.String({ description: 'What went wrong, for people; never a stack trace' }),
    paths: Type.Optional(
      Type.Array(Type.String(), {
        description:
          'JSON pointers of the fields that failed validation (SCHEMA_VIOLATION, UNKNOWN_TYPE, EVENT_TIME_SKEW)',
      }),
    ),
    partition: Type.Optional(
      Type.Integer({ description: 'The partition an after= names that the log does not hold (AFTER_BEYOND_LOG)' }),
    ),
    endOffset: Type.Optional(
      Type.String({
        description:
          "That partition's log end offset, the offset its next record gets, as a decimal string (AFTER_BEYOND_LOG)",
      }),
    ),
    partitions: Type.Optional(
      Type.Integer({
        description: "The topic's partition count, when after= names a partition it does not have (AFTER_BEYOND_LOG)",
      }),
    ),
  },
  { additionalProperties: true },
)

/** `{ error: { code, message, paths? } }`: every error answer of every role (mapError and the route handlers). */
export const ErrorBodySchema = Type.Object(
  { error: ErrorDetail },
  { $id: errorBodyId, additionalProperties: true, description: 'An error answer' },
)

/**
 * What Fastify itself answers to a request that arrives while the server is closing (after the drain, on a
 * connection kept alive): it is written before any route runs, so it has Fastify's shape, not ours.
 */
export const ClosingBody = Type.Object(
  { error: Type.String(), message: Type.String(), statusCode: Type.Integer() },
  { description: "Fastify's answer while the server closes" },
)

const errorRef = { $ref: `${errorBodyId}#` }

/** The statuses routes answer with an ErrorBody, and what each means unless a route says better. */
export const errorStatuses = {
  400: 'The request is malformed (error.code says how)',
  401: 'A bearer token is required and was missing or wrong (WWW-Authenticate: Bearer)',
  404: 'Nothing stored under this id',
  409: 'Conflicts with what is stored or running now (error.code says what)',
  413: 'The body is larger than the limit',
  415: 'The body is not application/json',
  429: 'Too many requests: wait for Retry-After seconds',
  500: 'An internal error; the details are in the log under the request id',
  503: 'A dependency is unavailable or the process is shutting down: retry after Retry-After seconds',
} as const

export type ErrorStatus = keyof typeof errorStatuses

/** The response schema of one error status; 503 also admits what Fastify answers while the server closes. */
export function errorResponse(status: ErrorStatus, description: string = errorStatuses[status]): TSchema {
  if (status === 503) return Type.Unsafe({ description, anyOf: [errorRef, ClosingBody] })
  return Type.Unsafe({ description, ...errorRef })
}

/**
 * Error responses of a route: the statuses listed (with a route's own wording where it gives one), plus 500,
 * which any route can answer.
 */
export function errorResponses(
  statuses: readonly ErrorStatus[] | Partial<Record<ErrorStatus, string>>,
): Record<number, TSchema> {
  const wording: Partial<Record<ErrorStatus, string>> = Array.isArray(statuses)
    ? Object.fromEntries(statuses.map(s => [s, errorStatuses[s as ErrorStatus]]))
    : (statuses as Partial<Record<ErrorStatus, string>>)
  const responses: Record<number, TSchema> = {}
  for (const [status, description] of Object.entries({ ...wording, 500: errorStatuses[500] })) {
    responses[Number(status)] = errorResponse(Number(status) as ErrorStatus, description)
  }
  return responses
}

/** Name of the bearer security scheme in the document. */
export const bearerScheme = 'bearer'

/**
 * The `security` of a route behind a token: required when `token` is set, absent when not (the route is open,
 * and the document says so). `optional` for routes that answer everyone and show more to the token's holder.
 */
export function bearerSecurity(
  token: string | undefined,
  optional = false,
): { security: Record<string, string[]>[] } | Record<string, never> {
  if (token === undefined) return {}
  return { security: optional ? [{}, { [bearerScheme]: [] }] : [{ [bearerScheme]: [] }] }
}

/**
 * Route option for routes that validate their request themselves, with the error codes and messages of the
 * pipeline (parseEvent, badId): Fastify's validator is switched off there, so their request schemas describe
 * the request in the document without changing a single answer.
 */
export const validatedByHandler = { validatorCompiler: () => () => true } as const

const Check = Type.Object(
  { ok: Type.Boolean(), error: Type.Optional(Type.String()) },
  { additionalProperties: true, description: 'One readiness check; error says why it failed' },
)

const Readiness = Type.Object(
  {
    status: Type.Unsafe<string>({ type: 'string', enum: ['ready', 'not ready'] }),
    checks: Type.Optional(
      Type.Object(
        {},
        {
          additionalProperties: Check,
          description: 'Each check by name (kafka, database, dlq, …); only with the admin token (ADMIN_TOKEN)',
        },
      ),
    ),
  },
  { additionalProperties: true },
)

/** Schemas of buildBaseApp's routes. */
export const baseRouteSchemas = {
  /** With `page`, browsers (Accept: text/html first) get an HTML page instead of the JSON. */
  index: (page: boolean) => {
    const json = Type.Object(
      {
        role: Type.Unsafe<string>({ type: 'string', enum: ['producer', 'consumer', 'api'] }),
        routes: Type.Array(Type.String(), { description: '"METHOD /path", sorted; HEAD routes left out' }),
      },
      { description: 'The role of this port and its routes' },
    )
    return {
      summary: page ? 'The console (to browsers) or the routes this port serves' : 'The routes this port serves',
      tags: ['service'],
      response: {
        200: page
          ? {
              description: 'The web console to a client that asks for text/html first; else the role and its routes',
              content: {
                'application/json': { schema: json },
                'text/html': { schema: Type.String({ description: 'The console page' }) },
              },
            }
          : json,
        ...errorResponses([]),
      },
    }
  },
  health: (adminToken: string | undefined) => ({
    summary: 'Liveness: 200 while the process lives, whatever its dependencies do',
    description:
      'Roles add the state of what they watch (the consumer: `dlq`, whether Redis answers); with the admin token a state also names its address.',
    tags: ['service'],
    ...bearerSecurity(adminToken, true),
    response: {
      200: Type.Object(
        {
          status: Type.Unsafe<string>({ type: 'string', const: 'ok' }),
          version: Type.String({ description: 'The pipeline version (semantic versioning)' }),
        },
        { additionalProperties: Type.String(), description: 'Alive' },
      ),
      ...errorResponses([]),
    },
  }),
  ready: (adminToken: string | undefined) => ({
    summary: 'Readiness: 200 when every dependency of the role answers, else 503',
    description: 'The per-check details name hosts and database messages: they are shown only with ADMIN_TOKEN.',
    tags: ['service'],
    ...bearerSecurity(adminToken, true),
    response: {
      200: { ...Readiness, description: 'Ready' },
      503: Type.Unsafe({
        description: 'Not ready (a check failed or timed out, or the process is shutting down)',
        anyOf: [Readiness, ClosingBody],
      }),
      ...errorResponses([]),
    },
  }),
  metrics: {
    summary: 'Prometheus metrics of this role (text exposition format 0.0.4)',
    tags: ['service'],
    produces: ['text/plain'],
    response: {
      200: Type.String({ description: 'Metrics in the Prometheus text format' }),
      ...errorResponses([]),
    },
  },
  openapi: {
    summary: 'This document: OpenAPI 3.1 of the routes this port serves',
    description: 'The same bytes for the life of the process; ETag and Cache-Control let clients keep it.',
    tags: ['service'],
    response: {
      200: Type.Object({}, { additionalProperties: true, description: 'The OpenAPI document' }),
      304: Type.Unsafe({ description: 'Not modified (If-None-Match matched the ETag)', type: 'null' }),
      ...errorResponses([]),
    },
  },
} as const
