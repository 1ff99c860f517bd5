// The read API (:8082): what the consumer stored, by id.
import type { FastifyInstance, FastifyReply } from 'fastify'
import type { Registry } from 'prom-client'
import { limits } from '../events/index.ts'
import { buildBaseApp, type HttpLimits, requireBearer, validatedByHandler } from '../http/index.ts'
import type { Logger } from '../observability/index.ts'
import type { Store } from '../store/index.ts'
import { inventoryResponse, orderResponse, readRouteSchema, userResponse } from './schemas.ts'

export interface ApiAppOptions {
  store: Store
  logger: Logger
  registry: Registry
  /** How many of a user's orders GET /users/:id returns. */
  recentOrders?: number
  /** When set, the read routes require it as a bearer token (READ_TOKEN). */
  readToken?: string | undefined
  /** When set, /ready shows its details to callers presenting it as a bearer token (ADMIN_TOKEN). */
  adminToken?: string | undefined
  /** Timeouts and connection limits of the server (the configuration's defaults when absent). */
  limits?: HttpLimits
}

// Ids are what the producer accepts: 1..100 characters, no leading or trailing blanks, no control characters.
// Anything else cannot exist in the store, so it is a malformed request, not a miss.
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what is rejected here
const invalidId = /^\s|\s$|[\u0000-\u001f\u007f]/

function badId(reply: FastifyReply, name: string, id: string): boolean {
  if (id.length === 0 || id.length > limits.idLength || invalidId.test(id)) {
    reply.code(400).send({
      error: {
        code: 'INVALID_ID',
        message: `${name} must be 1 to ${limits.idLength} characters without surrounding blanks`,
      },
    })
    return true
  }
  return false
}

function notFound(reply: FastifyReply, what: string, id: string) {
  return reply.code(404).send({ error: { code: 'NOT_FOUND', message: `${what} ${JSON.stringify(id)} not found` } })
}

export function buildApiApp(options: ApiAppOptions): FastifyInstance {
  const { store } = options
  const recent = options.recentOrders ?? 5
  const app = buildBaseApp({
    role: 'api',
    logger: options.logger,
    registry: options.registry,
    ...(options.limits === undefined ? {} : { limits: options.limits }),
    adminToken: options.adminToken,
    ready: async () => {
      try {
        await store.ping()
        return { database: { ok: true } }
      } catch (error) {
        return { database: { ok: false, error: (error as Error).message } }
      }
    },
  })

  // The read routes, behind READ_TOKEN when it is set; /health, /ready and /metrics stay open.
  app.register(async scope => {
    const token = options.readToken
    if (token !== undefined) scope.addHook('onRequest', requireBearer(token, 'READ_TOKEN'))

    scope.get<{ Params: { id: string } }>(
      '/users/:id',
      { schema: readRouteSchema('user', 'id', userResponse, token), ...validatedByHandler },
      async (request, reply) => {
        const { id } = request.params
        if (badId(reply, 'user id', id)) return reply
        const [user, recentOrders] = await Promise.all([store.getUser(id), store.getRecentOrders(id, recent)])
        if (user === undefined) return notFound(reply, 'user', id)
        return { user, recentOrders }
      },
    )

    scope.get<{ Params: { id: string } }>(
      '/orders/:id',
      { schema: readRouteSchema('order', 'id', orderResponse, token), ...validatedByHandler },
      async (request, reply) => {
        const { id } = request.params
        if (badId(reply, 'order id', id)) return reply
        const [order, payment] = await Promise.all([store.getOrder(id), store.getPayment(id)])
        if (order === undefined) return notFound(reply, 'order', id)
        return { order, payment: payment ?? null }
      },
    )

    scope.get<{ Params: { sku: string } }>(
      '/inventory/:sku',
      { schema: readRouteSchema('inventory', 'sku', inventoryResponse, token), ...validatedByHandler },
      async (request, reply) => {
        const { sku } = request.params
        if (badId(reply, 'sku', sku)) return reply
        const inventory = await store.getInventory(sku)
        if (inventory === undefined) return notFound(reply, 'sku', sku)
        return inventory
      },
    )
  })

  return app
}
