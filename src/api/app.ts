// The read API (:8082): what the consumer stored, by id, and what became of an event. Every read answer
// carries X-Applied-Offsets, and a read may wait for the offsets its writes got (?after=, read-after.ts).
import type { FastifyInstance, FastifyReply } from 'fastify'
import type { Registry } from 'prom-client'
import type { RowsRead } from '../dlq/index.ts'
import { PipelineError } from '../errors.ts'
import { type DeadLetterSample, eventStatus } from '../event-status/index.ts'
import { limits } from '../events/index.ts'
import { buildBaseApp, type HttpLimits, requireBearer, validatedByHandler } from '../http/index.ts'
import type { Logger } from '../observability/index.ts'
import type { Store } from '../store/index.ts'
import { readSourceOf } from '../store/index.ts'
import { AppliedOffsets } from './applied-offsets.ts'
import { DeadLetteredKeys, deadLetteredHeader, type KeyCheck, type KeySummaries } from './dead-lettered.ts'
import { LogEnds } from './log-ends.ts'
import { readAfter } from './read-after.ts'
import { eventStatusSchema, inventoryResponse, orderResponse, readRouteSchema, userResponse } from './schemas.ts'
import { WaitSlots } from './wait-slots.ts'

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
  /** The topic whose applied offsets reads report and wait for (KAFKA_TOPIC; default `events`). */
  topic?: string
  /** Longest a read with ?after= waits for its offsets (READ_WAIT_MS; default 2000). */
  readWaitMs?: number
  /** Most reads waiting at once (READ_WAITERS_MAX; default 1000). */
  readWaitersMax?: number
  /** Most reads waiting at once from one client address (READ_WAITERS_PER_ADDRESS; default 32). */
  readWaitersPerAddress?: number
  /**
   * The topic's log end offsets per partition, from Kafka (OffsetsReader.ends). With it, an after= past a
   * partition's end or naming a partition the topic lacks is refused (400 AFTER_BEYOND_LOG); without it, or
   * while it fails, such a read waits READ_WAIT_MS like any other.
   */
  endOffsets?: () => Promise<ReadonlyMap<number, bigint>>
  /**
   * The newest DLQ entries of an eventId and their count (deadLettersOf), for GET /events/{eventId}. Without
   * it, an event the store does not know is answered 503 DLQ_UNAVAILABLE.
   */
  deadLetters?: (eventId: string) => Promise<DeadLetterSample>
  /**
   * The DLQ's key summary (DeadLetterQueue.keySummaries): with it, the three row routes tell dead letters of their
   * key that the row does not reflect (deadLettered, X-Dead-Lettered); without it they tell nothing of the DLQ.
   */
  keySummaries?: KeySummaries
  /** Longest a read waits for the key summary before it answers `X-Dead-Lettered: unchecked` (default 250 ms). */
  deadLetteredWaitMs?: number
}

const noDeadLetterQueue = () => Promise.reject(new PipelineError('DLQ_UNAVAILABLE', 'no dead-letter queue configured'))

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

function notFound(reply: FastifyReply, what: string, id: string, check?: KeyCheck) {
  const dead = check?.checked ? check.deadLettered : undefined
  const message =
    `${what} ${JSON.stringify(id)} not found` +
    (dead === undefined ? '' : `; the dead-letter queue holds ${dead.count} record(s) of it`)
  return reply
    .code(404)
    .send({ error: { code: 'NOT_FOUND', message, ...(dead === undefined ? {} : { deadLettered: dead }) } })
}

/** The offset of the record the row behind a read's object came from. */
const offsetOf = (row: object | null | undefined) => (row ? readSourceOf(row)?.offset : undefined)

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

  const applied = new AppliedOffsets({
    read: () => store.appliedOffsets(options.topic ?? 'events'),
    onPollError: error => options.logger.debug({ err: error }, 'reading the applied offsets failed; polling on'),
  })
  const slots = new WaitSlots({
    max: options.readWaitersMax ?? 1000,
    perAddress: options.readWaitersPerAddress ?? 32,
  })
  const ends = logEndsOf(options)
  // Waiting reads are answered (503, not applied yet) as the server starts closing, so they do not hold it open.
  app.addHook('preClose', async () => {
    ends?.close()
    applied.close()
  })
  const reads: Reads = {
    store,
    recent,
    deadLetters: options.deadLetters ?? noDeadLetterQueue,
    summaries: options.keySummaries,
    ...keyChecks(options),
  }
  // The read routes, behind READ_TOKEN when it is set; /health, /ready and /metrics stay open.
  app.register(async scope => {
    const token = options.readToken
    if (token !== undefined) scope.addHook('onRequest', requireBearer(token, 'READ_TOKEN'))
    scope.addHook('preHandler', readAfter(applied, { waitMs: options.readWaitMs ?? 2000, slots, ends }))
    registerReads(scope, reads, token)
  })

  return app
}

/**
 * The log's end offsets for ?after=. A Kafka that is down fails every read of them (up to ten a second under
 * load): warn when that starts and say when it ends, rather than once per read.
 */
function logEndsOf(options: ApiAppOptions): LogEnds | undefined {
  const endOffsets = options.endOffsets
  if (endOffsets === undefined) return undefined
  let failing = false
  return new LogEnds({
    read: async () => {
      const value = await endOffsets()
      if (failing) options.logger.info({}, 'reading the end offsets works again; after= is checked')
      failing = false
      return value
    },
    onError: error => {
      if (!failing) options.logger.warn({ err: error }, 'reading the end offsets failed; after= waits unchecked')
      failing = true
    },
  })
}

/** How a read tells its key's newer dead letters: the check (its header set) and the body with them. */
function keyChecks(options: ApiAppOptions) {
  const summaries = options.keySummaries
  const keys =
    summaries === undefined
      ? undefined
      : new DeadLetteredKeys({
          ask: summaries,
          ...(options.deadLetteredWaitMs === undefined ? {} : { waitMs: options.deadLetteredWaitMs }),
          onFailing: error =>
            options.logger.warn({ err: error }, 'the dead-letter queue cannot be asked; reads answer unchecked'),
          onRecovered: () => options.logger.info({}, 'the dead-letter queue answers again; reads are checked'),
        })
  /** The key's check, its header set; undefined without a DLQ. */
  const checkKey = async (reply: FastifyReply, key: string, rows: RowsRead): Promise<KeyCheck | undefined> => {
    if (keys === undefined) return undefined
    const check = await keys.check(key, rows)
    reply.header('x-dead-lettered', deadLetteredHeader(check))
    return check
  }
  const withDead = <T extends object>(body: T, check: KeyCheck | undefined) =>
    check?.checked && check.deadLettered !== undefined ? { ...body, deadLettered: check.deadLettered } : body
  return { checkKey, withDead }
}

/** What the read routes use. */
interface Reads extends ReturnType<typeof keyChecks> {
  readonly store: ApiAppOptions['store']
  readonly recent: number
  readonly deadLetters: NonNullable<ApiAppOptions['deadLetters']>
  readonly summaries: ApiAppOptions['keySummaries']
}

/** GET /users/:id, /orders/:id, /inventory/:sku and /events/:eventId. */
function registerReads(scope: FastifyInstance, reads: Reads, token: string | undefined): void {
  const { store, recent, deadLetters, summaries, checkKey, withDead } = reads
  scope.get<{ Params: { id: string } }>(
    '/users/:id',
    { schema: readRouteSchema('user', 'id', userResponse, token), ...validatedByHandler },
    async (request, reply) => {
      const { id } = request.params
      if (badId(reply, 'user id', id)) return reply
      const [user, recentOrders] = await Promise.all([store.getUser(id), store.getRecentOrders(id, recent)])
      const check = await checkKey(reply, id, { reader: 'user', user: offsetOf(user) })
      if (user === undefined) return notFound(reply, 'user', id, check)
      return withDead({ user, recentOrders }, check)
    },
  )

  scope.get<{ Params: { id: string } }>(
    '/orders/:id',
    { schema: readRouteSchema('order', 'id', orderResponse, token), ...validatedByHandler },
    async (request, reply) => {
      const { id } = request.params
      if (badId(reply, 'order id', id)) return reply
      const found = await store.getOrderWithPayment(id)
      const rows = { reader: 'order', order: offsetOf(found?.order), payment: offsetOf(found?.payment) } as const
      const check = await checkKey(reply, id, rows)
      return found === undefined ? notFound(reply, 'order', id, check) : withDead(found, check)
    },
  )

  scope.get<{ Params: { sku: string } }>(
    '/inventory/:sku',
    { schema: readRouteSchema('inventory', 'sku', inventoryResponse, token), ...validatedByHandler },
    async (request, reply) => {
      const { sku } = request.params
      if (badId(reply, 'sku', sku)) return reply
      // An inventory row is compared with no offset (every delta counts): the DLQ is asked beside the row.
      const [inventory, check] = await Promise.all([
        store.getInventory(sku),
        checkKey(reply, sku, { reader: 'inventory' }),
      ])
      if (inventory === undefined) return notFound(reply, 'sku', sku, check)
      return withDead(inventory, check)
    },
  )

  // Always 200 with a status word, `unknown` included: the answer is about the event, not a resource.
  scope.get<{ Params: { eventId: string } }>(
    '/events/:eventId',
    { schema: eventStatusSchema(token), ...validatedByHandler },
    async (request, reply) => {
      const { eventId } = request.params
      if (badId(reply, 'eventId', eventId)) return reply
      return eventStatus(eventId, {
        store,
        deadLetters,
        ...(summaries === undefined ? {} : { keySummaries: summaries }),
      })
    },
  )
}
