// The rebuild over HTTP (/admin/rebuild…, behind ADMIN_TOKEN like /admin/dlq): the same operations as
// `pipeline rebuild`, each audited under `admin-api <address>`. What lasts (the fill, a swap, a rollback) runs in
// the background of this process, one at a time, after the rebuild's state was checked, and the route answers
// 202 with the status; GET /admin/rebuild follows it. The operations come from the consumer role (src/rebuild/,
// the floor below), as the RebuildControl this file describes.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import Type, { type Static } from 'typebox'
import { bearerSecurity, errorResponses, HttpError, requireBearer } from '../http/index.ts'
import type { Logger } from '../observability/index.ts'
import { rebuildStates } from '../rebuild/index.ts'

/** What the rebuild's errors carry (src/rebuild/errors.ts): the kind decides the status. */
interface RebuildFailure extends Error {
  readonly name: 'RebuildError'
  readonly kind: 'busy' | 'state' | 'refused' | 'absent' | 'usage'
}

const isRebuildFailure = (error: unknown): error is RebuildFailure =>
  error instanceof Error && error.name === 'RebuildError' && 'kind' in error

/** The operations these routes run (Rebuilds, src/rebuild/rebuild.ts). Answers are shaped by the schemas below. */
export interface RebuildControl {
  status(): Promise<object | undefined>
  check(command: 'resume' | 'verify' | 'swap' | 'rollback' | 'abort' | 'drop-old'): Promise<void>
  start(options: { by: string; from?: number }): Promise<object>
  fill(signal: AbortSignal): Promise<object>
  verify(options: { by: string; limit: number }): Promise<object>
  swap(options: { by: string; signal?: AbortSignal }): Promise<object>
  rollback(options: { by: string; signal?: AbortSignal }): Promise<object>
  abort(options: { by: string }): Promise<object>
  dropOld(options: { by: string }): Promise<object>
}

const Nullable = <T extends Type.TSchema>(schema: T) => Type.Union([schema, Type.Null()])

const PartitionProgress = Type.Object({
  partition: Type.Integer(),
  reached: Type.String({ description: 'the next offset the shadow processes' }),
  end: Type.String({ description: 'the log end when looked at' }),
  lag: Type.Integer(),
  perSecond: Type.Number({ description: 'records processed per second lately' }),
  etaSeconds: Nullable(Type.Integer()),
})

const TableSummary = Type.Object({
  table: Type.String(),
  liveRows: Type.Integer(),
  shadowRows: Type.Integer(),
  liveChecksum: Type.String(),
  shadowChecksum: Type.String(),
  differing: Type.Integer({ description: 'differing keys found, up to the limit asked' }),
})

const VerifySummary = Type.Object({
  at: Type.String(),
  by: Type.String(),
  matches: Type.Boolean(),
  tables: Type.Array(TableSummary),
})

export const RebuildStatus = Type.Object(
  {
    id: Type.Integer(),
    state: Type.Union([...rebuildStates, 'verifying'].map(s => Type.Literal(s))),
    generation: Nullable(Type.String()),
    group: Nullable(Type.String()),
    topic: Nullable(Type.String()),
    by: Nullable(Type.String()),
    startedAt: Nullable(Type.String()),
    from: Nullable(Type.String({ description: 'the time the fill started from; null: the earliest record' })),
    updatedAt: Type.String(),
    worker: Type.Object({ active: Type.Boolean(), leaseLeftMs: Type.Integer() }),
    progress: Nullable(
      Type.Object({
        at: Type.String(),
        partitions: Type.Array(PartitionProgress),
        lag: Type.Integer(),
        perSecond: Type.Number(),
        etaSeconds: Nullable(Type.Integer()),
        caughtUp: Type.Boolean(),
        rated: Type.Boolean(),
      }),
    ),
    badRecords: Type.Object({
      count: Type.Integer(),
      first: Type.Array(
        Type.Object({
          code: Type.String(),
          message: Type.String(),
          partition: Nullable(Type.Integer()),
          offset: Nullable(Type.String()),
          eventId: Nullable(Type.String()),
        }),
        { description: 'the first bad records (at most 100); the live consumer dead-lettered them' },
      ),
    }),
    verify: Nullable(VerifySummary),
    error: Nullable(Type.String()),
  },
  { description: "The store's rebuild" },
)

const Row = Nullable(Type.Record(Type.String(), Type.Unknown()))

export const VerifyResponse = Type.Object(
  {
    summary: VerifySummary,
    tables: Type.Array(
      Type.Object({
        table: Type.String(),
        liveRows: Type.Integer(),
        shadowRows: Type.Integer(),
        liveChecksum: Type.String(),
        shadowChecksum: Type.String(),
        differing: Type.Array(Type.Object({ key: Type.String(), live: Row, shadow: Row })),
      }),
    ),
  },
  { description: 'Per table: counts, checksums, and the first differing keys with both rows' },
)

export const StartBody = Type.Object(
  {
    from: Type.Optional(
      Type.String({
        maxLength: 40,
        pattern: '^\\d{4}-\\d{2}-\\d{2}T',
        description: 'ISO-8601: fill from the first record at or after this time (default: the earliest record)',
      }),
    ),
  },
  { additionalProperties: false },
)
export const VerifyBody = Type.Object(
  { limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, description: 'differing keys per table (20)' })) },
  { additionalProperties: false },
)
const EmptyBody = Type.Optional(Type.Object({}, { additionalProperties: false }))

/** The operations this process runs in the background (a fill, and the swap that stops it), stopped by close(). */
class Background {
  readonly #logger: Logger
  readonly #running = new Set<{ controller: AbortController; done: Promise<void> }>()

  constructor(logger: Logger) {
    this.#logger = logger
  }

  launch(name: string, work: (signal: AbortSignal) => Promise<unknown>): void {
    const controller = new AbortController()
    const entry = { controller, done: Promise.resolve() }
    entry.done = Promise.resolve()
      .then(() => work(controller.signal))
      .then(
        () => this.#logger.info({ operation: name }, 'rebuild operation finished'),
        error => this.#logger.error({ err: error, operation: name }, 'rebuild operation failed'),
      )
      .finally(() => this.#running.delete(entry))
    this.#running.add(entry)
  }

  /** Waits for what runs in the background (a fill stopping because an abort asked it, for one). */
  async idle(): Promise<void> {
    await Promise.allSettled([...this.#running].map(r => r.done))
  }

  async close(): Promise<void> {
    for (const r of this.#running) r.controller.abort()
    await this.idle()
  }
}

export interface RebuildRoutes {
  /** Stops what runs in the background (a fill stops, resumable) and waits for it. */
  close(): Promise<void>
}

const who = (ip: string) => `admin-api ${ip}`

function mapped(error: unknown): never {
  // The store refusing an operation on a generation (GenerationError: one left over that exists, one missing):
  // the state of the database, not of the request.
  if (error instanceof Error && error.name === 'GenerationError') throw new HttpError(409, 'CONFLICT', error.message)
  if (!isRebuildFailure(error)) throw error
  if (error.kind === 'usage') throw new HttpError(400, 'BAD_REQUEST', error.message)
  if (error.kind === 'absent') throw new HttpError(404, 'NOT_FOUND', error.message)
  throw new HttpError(409, 'CONFLICT', error.message)
}

/** What the route groups share: the control, the background runs, the shapes of a route and its answers. */
interface Kit {
  readonly rebuilds: RebuildControl
  readonly background: Background
  readonly tags: string[]
  readonly security: ReturnType<typeof bearerSecurity>
  readonly errors: ReturnType<typeof errorResponses>
  /** The status, or 404 when there is no rebuild. */
  current(): Promise<unknown>
  /** A POST route answering the status with `status`. */
  route(summary: string, status?: number, body?: Type.TSchema): object
  /** Checks a command now, runs it in the background, and answers 202 with the status. */
  later(
    name: string,
    check: () => Promise<void>,
    work: (signal: AbortSignal, by: string) => Promise<unknown>,
  ): (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>
}

export function registerRebuildRoutes(
  app: FastifyInstance,
  options: { rebuilds: RebuildControl; token: string; logger: Logger },
): RebuildRoutes {
  const { rebuilds } = options
  const background = new Background(options.logger)
  const security = bearerSecurity(options.token)
  const tags = ['admin']
  const errors = errorResponses({
    400: 'The body is malformed (error.message says how)',
    401: 'ADMIN_TOKEN is required: Authorization: Bearer <ADMIN_TOKEN>',
    404: 'There is no rebuild of this store',
    409: "Another rebuild is under way, the rebuild's state does not allow it now, or the topic lost records",
    503: 'Redis, Kafka or the database did not answer: retry later',
  })
  const current = async () => {
    const status = await rebuilds.status()
    if (status === undefined) throw new HttpError(404, 'NOT_FOUND', 'there is no rebuild of this store')
    return status
  }
  const kit: Kit = {
    rebuilds,
    background,
    tags,
    security,
    errors,
    current,
    route: (summary, status = 200, body = EmptyBody) => ({
      bodyLimit: 1024,
      schema: { summary, tags, ...security, body, response: { [status]: RebuildStatus, ...errors } },
    }),
    later: (name, check, work) => async (request, reply) => {
      try {
        await check()
      } catch (error) {
        mapped(error)
      }
      const by = who(request.ip)
      background.launch(name, signal => work(signal, by))
      return reply.code(202).send(await current())
    },
  }
  app.register(
    async scope => {
      scope.addHook('onRequest', requireBearer(options.token, 'ADMIN_TOKEN'))
      registerReads(scope, kit)
      registerFills(scope, kit)
      registerChanges(scope, kit)
    },
    { prefix: '/admin' },
  )
  return { close: () => background.close() }
}

/** GET /admin/rebuild and POST /admin/rebuild/verify: they change nothing. */
function registerReads(scope: FastifyInstance, { rebuilds, tags, security, errors, current }: Kit): void {
  scope.get(
    '/rebuild',
    {
      schema: {
        summary: "The store's rebuild and its progress",
        tags,
        ...security,
        response: { 200: RebuildStatus, ...errors },
      },
    },
    current,
  )
  scope.post<{ Body: Static<typeof VerifyBody> | undefined }>(
    '/rebuild/verify',
    {
      bodyLimit: 1024,
      schema: {
        summary: 'Compare the shadow with the live tables: counts, checksums, the first differing keys',
        tags,
        ...security,
        body: Type.Optional(VerifyBody),
        response: { 200: VerifyResponse, ...errors },
      },
    },
    async request => {
      try {
        return await rebuilds.verify({ by: who(request.ip), limit: request.body?.limit ?? 20 })
      } catch (error) {
        mapped(error)
      }
    },
  )
}

/** POST /admin/rebuild/start and /resume: the fill, in the background of this process. */
function registerFills(scope: FastifyInstance, { rebuilds, background, current, route, later }: Kit): void {
  scope.post<{ Body: Static<typeof StartBody> | undefined }>(
    '/rebuild/start',
    route('Start a rebuild: a shadow generation filled from the log in the background', 202, Type.Optional(StartBody)),
    async (request, reply) => {
      const from = request.body?.from === undefined ? undefined : Date.parse(request.body.from)
      if (from !== undefined && (!Number.isFinite(from) || from > Date.now())) {
        throw new HttpError(400, 'BAD_REQUEST', 'from: not a time in the past (ISO-8601)')
      }
      try {
        await rebuilds.start({ by: who(request.ip), ...(from === undefined ? {} : { from }) })
      } catch (error) {
        mapped(error)
      }
      background.launch('fill', signal => rebuilds.fill(signal))
      return reply.code(202).send(await current())
    },
  )
  scope.post(
    '/rebuild/resume',
    route('Resume filling a stopped, failed or rolled-back rebuild in the background', 202),
    later(
      'fill',
      async () => {
        const status = (await current()) as { state: string; worker: { active: boolean } }
        if (status.worker.active) throw new HttpError(409, 'CONFLICT', 'another process works on the rebuild now')
        if (status.state !== 'filling' && status.state !== 'caught-up') await rebuilds.check('resume')
      },
      signal => rebuilds.fill(signal),
    ),
  )
}

/** POST /admin/rebuild/swap, /rollback, /abort and /drop-old: they change which tables are live, or drop some. */
function registerChanges(scope: FastifyInstance, { rebuilds, background, route, later }: Kit): void {
  scope.post(
    '/rebuild/swap',
    route('Swap the shadow in (in the background): stop the fill, catch up, swap, close the gap', 202),
    later(
      'swap',
      () => rebuilds.check('swap'),
      // A fill running here stops when the swap asks; the swap then takes the rebuild over.
      (signal, by) => rebuilds.swap({ by, signal }),
    ),
  )
  scope.post(
    '/rebuild/rollback',
    route('Switch back to the tables the swap replaced (in the background)', 202),
    later(
      'rollback',
      () => rebuilds.check('rollback'),
      (signal, by) => rebuilds.rollback({ by, signal }),
    ),
  )
  scope.post('/rebuild/abort', route('Stop the fill and drop the shadow generation'), async request => {
    try {
      const status = await rebuilds.abort({ by: who(request.ip) })
      await background.idle()
      return status
    } catch (error) {
      mapped(error)
    }
  })
  scope.post('/rebuild/drop-old', route('After a swap: drop the old tables'), async request => {
    try {
      return await rebuilds.dropOld({ by: who(request.ip) })
    } catch (error) {
      mapped(error)
    }
  })
}
