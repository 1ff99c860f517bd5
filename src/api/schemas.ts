// Response schemas of the read API's 200 answers. Fastify compiles them into serializers (fast-json-stringify),
// which write these shapes several times faster than JSON.stringify; they also pin the contract: a field the
// store adds does not leak into answers until it is listed here.
import Type, { type TSchema } from 'typebox'
import { DeadLetteredBody, EventStatusBody } from '../event-status/index.ts'
import { limits } from '../events/index.ts'
import { bearerSecurity, errorResponses } from '../http/index.ts'

const Order = Type.Object({
  orderId: Type.String(),
  userId: Type.String(),
  total: Type.Number(),
  status: Type.String(),
  createdAt: Type.String(),
  updatedAt: Type.String(),
})

const Payment = Type.Object({
  orderId: Type.String(),
  status: Type.String(),
  amount: Type.Number(),
  settledAt: Type.String(),
  updatedAt: Type.String(),
})

const User = Type.Object({
  userId: Type.String(),
  name: Type.String(),
  email: Type.String(),
  createdAt: Type.String(),
  updatedAt: Type.String(),
})

const deadLettered = Type.Optional(DeadLetteredBody)

export const userResponse = Type.Object({ user: User, recentOrders: Type.Array(Order), deadLettered })
export const orderResponse = Type.Object({ order: Order, payment: Type.Union([Payment, Type.Null()]), deadLettered })
export const inventoryResponse = Type.Object({
  sku: Type.String(),
  quantity: Type.Number(),
  lastAdjustedAt: Type.String(),
  deadLettered,
})

/**
 * The schema of a read route: its id parameter, its 200 answer and its errors. Ids are checked by the handler
 * (badId, INVALID_ID), so Fastify's validator is off for these routes (validatedByHandler) and the parameter's
 * schema only describes what is accepted.
 */
/** X-Applied-Offsets, as every read answer carries it. */
const appliedOffsetsHeaders = {
  'x-applied-offsets': Type.String({
    description:
      'partition:offset,… of KAFKA_TOPIC: every record up to and including these offsets was processed (applied, pending or dead-lettered) before this answer read its data',
  }),
}

/** X-Dead-Lettered, as the three read routes' answers carry it (404 included) when a DLQ is configured. */
const deadLetteredHeaders = {
  'x-dead-lettered': Type.String({
    description:
      "How many dead letters of this key the row does not reflect (0 when none; the body's deadLettered tells the newest), or `unchecked` when the dead-letter queue could not be asked: the row is served either way",
  }),
}

/** `?after=`, accepted by every read route. */
const afterQuery = Type.Object({
  after: Type.Optional(
    Type.String({
      maxLength: 4096,
      pattern: '^[0-9]+:[0-9]+(,[0-9]+:[0-9]+)*$',
      description:
        'partition:offset,… from produce answers: wait up to READ_WAIT_MS until these records are processed (400 INVALID_AFTER when malformed, 400 AFTER_BEYOND_LOG when the log holds no such record)',
    }),
  ),
})

/** A response with its description and the X-Applied-Offsets header (and X-Dead-Lettered for a row's). */
const withHeader = (schema: TSchema, description: string, rowHeaders = false) => ({
  ...schema,
  description,
  headers: rowHeaders ? { ...appliedOffsetsHeaders, ...deadLetteredHeaders } : appliedOffsetsHeaders,
})

const readErrors = (param: string, what: string, readToken: string | undefined, notFound: boolean) =>
  errorResponses({
    400: `The ${param} is empty, too long, has blanks around or control characters (INVALID_ID), after= is malformed (INVALID_AFTER), or after= names an offset at or past its partition's log end or a partition the topic does not have (AFTER_BEYOND_LOG, with partition and endOffset or partitions)`,
    ...(readToken === undefined ? {} : { 401: 'Send Authorization: Bearer <READ_TOKEN>' }),
    ...(notFound
      ? {
          404: `No ${what} is stored under this ${param} (NOT_FOUND); error.deadLettered tells dead letters of the ${param} the DLQ holds, as X-Dead-Lettered does`,
        }
      : {}),
    429: 'READ_WAITERS_PER_ADDRESS reads from this client address wait already (TOO_MANY_WAITERS): retry after Retry-After seconds',
    503: 'The database is unavailable (DB_UNAVAILABLE), the after= offsets were not processed within READ_WAIT_MS (NOT_APPLIED_YET, X-Applied-Offsets says how far it got), or READ_WAITERS_MAX reads wait (TOO_MANY_WAITERS): retry after Retry-After seconds',
  })

const idParam = (param: string) =>
  Type.Object({
    [param]: Type.String({
      minLength: 1,
      maxLength: limits.idLength,
      pattern: '^\\S(.*\\S)?$',
      description: `1 to ${limits.idLength} characters, no blanks around, no control characters`,
    }),
  })

export function readRouteSchema(what: string, param: string, ok: TSchema, readToken: string | undefined) {
  return {
    summary: `The ${what} stored under this ${param}`,
    tags: ['read'],
    ...bearerSecurity(readToken),
    params: idParam(param),
    querystring: afterQuery,
    response: { 200: withHeader(ok, `The ${what}`, true), ...readErrors(param, what, readToken, true) },
  }
}

/** GET /events/{eventId}: always 200 with a status word; the fields beside it depend on the word. */
export function eventStatusSchema(readToken: string | undefined) {
  return {
    summary: 'What became of an event: applied, superseded, pending, dead-lettered or unknown',
    tags: ['read'],
    ...bearerSecurity(readToken),
    params: idParam('eventId'),
    querystring: afterQuery,
    response: {
      200: withHeader(EventStatusBody, 'The status of the event (unknown included: the answer is about the event)'),
      ...readErrors('eventId', 'event', readToken, false),
    },
  }
}
