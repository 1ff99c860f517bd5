// The admin HTTP API on the consumer's port (/admin/…), registered only when ADMIN_TOKEN is set. The bearer token
// is checked in an onRequest hook, before any body is read; handlers run the same operations as the command line.
// A redrive started here runs in the background of this process (redrive-runner.ts).
import type { FastifyInstance, FastifyReply } from 'fastify'
import { eventPageMax } from '../dlq/index.ts'
import type { DlqAdmin } from '../dlq-ops/dlq-admin.ts'
import { parseFilter, UsageError } from '../dlq-ops/filter.ts'
import { pageLimitMax, parseLimit } from '../dlq-ops/paging.ts'
import { RedriveRunner } from '../dlq-ops/redrive-runner.ts'
import { bearerSecurity, errorResponses, HttpError, requireBearer } from '../http/index.ts'
import type { Logger } from '../observability/index.ts'
import {
  AuditQuery,
  AuditResponse,
  EventIdParams,
  ListQuery,
  type ListQueryType,
  ListResponse,
  PurgeBody,
  type PurgeBodyType,
  PurgeResponse,
  RedriveAccepted,
  RedriveBody,
  type RedriveBodyType,
  RedriveDryRunResponse,
  RedriveIdParams,
  RedriveStatus,
  ShowQuery,
  type ShowQueryType,
  ShowResponse,
  StatsResponse,
} from './schemas.ts'

export interface AdminRoutesOptions {
  readonly admin: DlqAdmin
  readonly token: string
  /** The producer's body limit: a replacement payload may not pass it (the body gets 64 KiB more for the rest). */
  readonly bodyLimitBytes: number
  readonly logger: Logger
}

export interface AdminRoutes {
  /** Stops the redrives running in this process at their next step (their jobs stay resumable) and waits. */
  close(): Promise<void>
}

/** The 401 of every /admin route, as the OpenAPI documents say it. */
export const adminTokenRequired = 'ADMIN_TOKEN is required: Authorization: Bearer <ADMIN_TOKEN>'

/** What every admin route may answer besides its own success: a bad request, no token, Redis or Kafka down. */
const errors = (notFound?: string) =>
  errorResponses({
    400: 'The query or body is malformed (error.message says how)',
    401: adminTokenRequired,
    ...(notFound === undefined ? {} : { 404: notFound }),
    503: 'Redis (the DLQ) or Kafka did not answer: retry later',
  })

function badRequest(error: unknown): never {
  if (error instanceof UsageError) throw new HttpError(400, 'BAD_REQUEST', error.message)
  throw error
}

/** What the route groups share: the service, the runs in the background, and each route's OpenAPI security. */
interface Scope {
  readonly admin: DlqAdmin
  readonly runner: RedriveRunner
  readonly bodyLimitBytes: number
  readonly security: ReturnType<typeof bearerSecurity>
  readonly tags: string[]
}

const who = (ip: string) => `admin-api ${ip}`

export function registerAdminRoutes(app: FastifyInstance, options: AdminRoutesOptions): AdminRoutes {
  const runner = new RedriveRunner(options.admin, options.logger)
  app.register(
    async scope => {
      scope.addHook('onRequest', requireBearer(options.token, 'ADMIN_TOKEN'))
      const shared: Scope = {
        admin: options.admin,
        runner,
        bodyLimitBytes: options.bodyLimitBytes,
        security: bearerSecurity(options.token),
        tags: ['admin'],
      }
      readRoutes(scope, shared)
      redriveRoutes(scope, shared)
      purgeAndAuditRoutes(scope, shared)
    },
    { prefix: '/admin' },
  )
  return { close: () => runner.close() }
}

/** GET /dlq, /dlq/stats, /dlq/:eventId. */
function readRoutes(scope: FastifyInstance, { admin, security, tags }: Scope): void {
  scope.get<{ Querystring: ListQueryType }>(
    '/dlq',
    {
      schema: {
        summary: 'Dead letters matching a filter, newest first, a page at a time',
        tags,
        ...security,
        querystring: ListQuery,
        response: { 200: ListResponse, ...errors() },
      },
    },
    async request => {
      const { limit, cursor, ...fields } = request.query
      try {
        return await admin.list(parseFilter(fields), parseLimit(limit), cursor)
      } catch (error) {
        badRequest(error)
      }
    },
  )

  scope.get(
    '/dlq/stats',
    {
      schema: {
        summary: 'Counts of dead letters by code and by type',
        tags,
        ...security,
        response: { 200: StatsResponse, ...errors() },
      },
    },
    () => admin.stats(),
  )

  scope.get<{ Params: { eventId: string }; Querystring: ShowQueryType }>(
    '/dlq/:eventId',
    {
      schema: {
        summary: 'A page of the dead letters of one eventId (an index lookup, no scan)',
        tags,
        ...security,
        params: EventIdParams,
        querystring: ShowQuery,
        response: { 200: ShowResponse, ...errors('No dead letter has this eventId') },
      },
    },
    async request => {
      let page: Awaited<ReturnType<typeof admin.show>>
      try {
        const { limit, cursor } = request.query
        page = await admin.show(request.params.eventId, parseLimit(limit, eventPageMax), cursor)
      } catch (error) {
        badRequest(error)
      }
      if (page.entries.length === 0 && page.total === 0) {
        throw new HttpError(404, 'NOT_FOUND', 'no dead letter has this eventId')
      }
      return page
    },
  )
}

/** POST /dlq/redrive, GET /dlq/redrives/:id, POST /dlq/redrives/:id/cancel. */
function redriveRoutes(scope: FastifyInstance, { admin, runner, bodyLimitBytes, security, tags }: Scope): void {
  scope.post<{ Body: RedriveBodyType }>(
    '/dlq/redrive',
    {
      bodyLimit: bodyLimitBytes + 64 * 1024,
      schema: {
        summary: 'Redrive dead letters to Kafka (dryRun: list them only); fix one first with eventId + payload',
        tags,
        ...security,
        body: RedriveBody,
        response: { 200: RedriveDryRunResponse, 202: RedriveAccepted, ...errors() },
      },
    },
    async (request, reply: FastifyReply) => {
      const body = request.body
      const by = who(request.ip)
      if ((body.payload === undefined) !== (body.eventId === undefined)) {
        throw new HttpError(400, 'BAD_REQUEST', 'eventId and payload go together (fix then redrive)')
      }
      try {
        const redrive = {
          filter: parseFilter(body.filter ?? {}),
          who: by,
          ...(body.to !== undefined ? { to: body.to } : {}),
          ...(body.rate !== undefined ? { rate: body.rate } : {}),
          ...(body.limit !== undefined ? { limit: body.limit } : {}),
          ...(body.eventId !== undefined && body.payload !== undefined
            ? { fix: { eventId: body.eventId, payload: JSON.stringify(body.payload) } }
            : {}),
        }
        const selection = await admin.select(redrive)
        const notRedrivable = selection.notRedrivable.map(n => ({ eventId: n.letter.eventId, reason: n.reason }))
        if (body.dryRun === true) {
          const entries = selection.entries.slice(0, pageLimitMax).map(e => selection.letters.get(e.n))
          return { dryRun: true, entries, count: selection.entries.length, notRedrivable }
        }
        const created = await admin.create(redrive, selection)
        runner.launch(created.id, by, false)
        return reply.code(202).send({ redriveId: created.id, count: created.count, notRedrivable })
      } catch (error) {
        badRequest(error)
      }
    },
  )

  scope.get<{ Params: { id: string } }>(
    '/dlq/redrives/:id',
    {
      schema: {
        summary: 'The progress of a redrive',
        tags,
        ...security,
        params: RedriveIdParams,
        response: { 200: RedriveStatus, ...errors('No redrive has this id') },
      },
    },
    async request => {
      const status = await admin.status(request.params.id)
      if (status === undefined) throw new HttpError(404, 'NOT_FOUND', 'no redrive has this id')
      return status
    },
  )

  scope.post<{ Params: { id: string } }>(
    '/dlq/redrives/:id/cancel',
    {
      bodyLimit: 1024,
      schema: {
        summary: 'Cancel a redrive at its next step (entries not sent stay in the DLQ)',
        tags,
        ...security,
        params: RedriveIdParams,
        response: { 200: RedriveStatus, ...errors('No redrive has this id') },
      },
    },
    async request => {
      const { id } = request.params
      const status = await admin.status(id)
      if (status === undefined) throw new HttpError(404, 'NOT_FOUND', 'no redrive has this id')
      if (status.state === 'running' || status.state === 'failed') {
        await admin.cancel(id)
        // A run of it in this process, or in another, sees the request at its next step. With no run here, a
        // run started now sees the request, settles the entries in doubt, and stops.
        if (!runner.has(id)) runner.launch(id, who(request.ip), true)
      }
      return (await admin.status(id)) ?? status
    },
  )
}

/** POST /dlq/purge, GET /audit. */
function purgeAndAuditRoutes(scope: FastifyInstance, { admin, security, tags }: Scope): void {
  scope.post<{ Body: PurgeBodyType }>(
    '/dlq/purge',
    {
      bodyLimit: 16 * 1024,
      schema: {
        summary: 'Remove dead letters matching a filter (a dry run unless confirm is true)',
        tags,
        ...security,
        body: PurgeBody,
        response: { 200: PurgeResponse, ...errors() },
      },
    },
    async request => {
      const dryRun = request.body.confirm === true ? request.body.dryRun === true : true
      try {
        return await admin.purge(parseFilter(request.body.filter ?? {}), { dryRun, who: who(request.ip) })
      } catch (error) {
        badRequest(error)
      }
    },
  )

  scope.get<{ Querystring: { limit?: string } }>(
    '/audit',
    {
      schema: {
        summary: 'The audit trail of redrives and purges, newest first',
        tags,
        ...security,
        querystring: AuditQuery,
        response: { 200: AuditResponse, ...errors() },
      },
    },
    async request => {
      try {
        return { entries: await admin.audit(parseLimit(request.query.limit)) }
      } catch (error) {
        badRequest(error)
      }
    },
  )
}
