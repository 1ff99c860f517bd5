// Response schemas of the read API's 200 answers. Fastify compiles them into serializers (fast-json-stringify),
// which write these shapes several times faster than JSON.stringify; they also pin the contract: a field the
// store adds does not leak into answers until it is listed here.
import Type, { type TSchema } from 'typebox'
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

export const userResponse = Type.Object({ user: User, recentOrders: Type.Array(Order) })
export const orderResponse = Type.Object({ order: Order, payment: Type.Union([Payment, Type.Null()]) })
export const inventoryResponse = Type.Object({
  sku: Type.String(),
  quantity: Type.Number(),
  lastAdjustedAt: Type.String(),
})

/**
 * The schema of a read route: its id parameter, its 200 answer and its errors. Ids are checked by the handler
 * (badId, INVALID_ID), so Fastify's validator is off for these routes (validatedByHandler) and the parameter's
 * schema only describes what is accepted.
 */
export function readRouteSchema(what: string, param: string, ok: TSchema, readToken: string | undefined) {
  return {
    summary: `The ${what} stored under this ${param}`,
    tags: ['read'],
    ...bearerSecurity(readToken),
    params: Type.Object({
      [param]: Type.String({
        minLength: 1,
        maxLength: limits.idLength,
        pattern: '^\\S(.*\\S)?$',
        description: `1 to ${limits.idLength} characters, no blanks around, no control characters`,
      }),
    }),
    response: {
      200: { ...ok, description: `The ${what}` },
      ...errorResponses({
        400: `The ${param} is empty, too long, has blanks around or control characters (INVALID_ID)`,
        ...(readToken === undefined ? {} : { 401: 'Send Authorization: Bearer <READ_TOKEN>' }),
        404: `No ${what} is stored under this ${param} (NOT_FOUND)`,
        503: 'The database is unavailable (DB_UNAVAILABLE): retry after Retry-After seconds',
      }),
    },
  }
}
