// Pausing the consumer group from the admin API: POST /admin/consumer/pause and /resume change the group's pause
// record (src/consumer/pause-board.ts), GET /admin/consumer/pause shows it with every member's acknowledgement.
// Registered with the other admin routes, only when ADMIN_TOKEN is set; the bearer token is checked before any
// body is read. Each accepted request is audited (GET /admin/audit), by `admin-api <remote address>`.
import type { FastifyInstance, FastifyRequest } from 'fastify'
import Type, { type Static } from 'typebox'
import {
  type MemberReport,
  type PauseBoard,
  PauseRequestError,
  type PauseScope,
  type PauseState,
  pausePartitionsMax,
  pauseReasonMax,
} from '../consumer/index.ts'
import { bearerSecurity, errorResponses, HttpError, requireBearer } from '../http/index.ts'

const Partitions = Type.Array(Type.Integer({ minimum: 0, maximum: 1_000_000 }), {
  minItems: 1,
  maxItems: pausePartitionsMax,
  description: `partitions of the topic (at most ${pausePartitionsMax}); absent: every partition`,
})

// Unknown fields are refused, not stripped (Fastify's validator strips those of `additionalProperties: false`):
// a body that misspells `partitions` must not become a pause of every partition.
const noOtherFields = { additionalProperties: Type.Never() }

export const PauseBody = Type.Object(
  {
    partitions: Type.Optional(Partitions),
    reason: Type.Optional(Type.String({ maxLength: pauseReasonMax, description: 'why, shown to other operators' })),
  },
  noOtherFields,
)
export const ResumeBody = Type.Object({ partitions: Type.Optional(Partitions) }, noOtherFields)

const Entry = { by: Type.String(), at: Type.String(), reason: Type.String() }

const Report = Type.Object({
  member: Type.String(),
  revision: Type.Integer({ description: 'the revision of the record this member obeys' }),
  owned: Type.Array(Type.Integer()),
  paused: Type.Array(Type.Integer()),
  busy: Type.Array(Type.Integer(), { description: 'paused partitions with a batch still in flight' }),
  sweeping: Type.Boolean(),
  at: Type.String(),
})

export const PauseStateResponse = Type.Object(
  {
    groupId: Type.String(),
    topic: Type.String(),
    revision: Type.Integer({ description: 'grows with every change of the record' }),
    all: Type.Union([Type.Object(Entry), Type.Null()], { description: 'every partition is paused: by, at, reason' }),
    partitions: Type.Array(Type.Object({ partition: Type.Integer(), ...Entry }), {
      description: 'partitions paused one by one',
    }),
    members: Type.Array(Report, { description: "the live members' acknowledgements" }),
    silent: Type.Array(Type.Object({ report: Report, silentSeconds: Type.Integer() }), {
      description:
        'members whose last report is no longer fresh: until another member owns their paused partitions, the group is not idle',
    }),
    idle: Type.Boolean({ description: 'every live member obeys this revision and has nothing paused in flight' }),
    waitingFor: Type.Array(Type.String()),
  },
  { description: 'What is paused, by whom, and what each member of the group acknowledged' },
)

export type PauseBodyType = Static<typeof PauseBody>
export type ResumeBodyType = Static<typeof ResumeBody>
export type PauseStateBody = Static<typeof PauseStateResponse>

const reportBody = (m: MemberReport) => ({ ...m, owned: [...m.owned], paused: [...m.paused], busy: [...m.busy] })

/** The board's state as the routes answer it. */
export function pauseStateBody(board: Pick<PauseBoard, 'groupId' | 'topic'>, state: PauseState): PauseStateBody {
  const { record } = state
  return {
    groupId: board.groupId,
    topic: board.topic,
    revision: record.revision,
    all: record.all,
    partitions: Object.entries(record.partitions)
      .map(([p, entry]) => ({ partition: Number(p), ...entry }))
      .sort((a, b) => a.partition - b.partition),
    members: state.members.map(reportBody),
    silent: state.silent.map(s => ({ report: reportBody(s.report), silentSeconds: Math.round(s.silentMs / 1000) })),
    idle: state.idle,
    waitingFor: [...state.waitingFor],
  }
}

export interface PauseRoutesOptions {
  readonly board: PauseBoard
  readonly token: string
}

const errors = errorResponses({
  400: 'The body is malformed, names a partition the topic does not have, or resumes part of a pause of all',
  401: 'ADMIN_TOKEN is required: Authorization: Bearer <ADMIN_TOKEN>',
  503: 'Redis or Kafka did not answer: retry later',
})

const scopeOf = (partitions: readonly number[] | undefined): PauseScope => partitions ?? 'all'

/**
 * Refuses a body field the route does not take, naming it, before the schema does (whose word for it is "must
 * NOT be valid"). Runs as the route's preValidation hook.
 */
export function onlyFields(...fields: string[]) {
  return async (request: FastifyRequest): Promise<void> => {
    const body = request.body
    if (typeof body !== 'object' || body === null || Array.isArray(body)) return
    const unknown = Object.keys(body).find(key => !fields.includes(key))
    if (unknown !== undefined) {
      throw new HttpError(
        400,
        'BAD_REQUEST',
        `unknown field "${unknown.slice(0, 40)}": the body takes ${fields.join(', ')}`,
      )
    }
  }
}

async function refusedAs400<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work()
  } catch (error) {
    if (error instanceof PauseRequestError) throw new HttpError(400, 'BAD_REQUEST', error.message)
    throw error
  }
}

export function registerPauseRoutes(app: FastifyInstance, { board, token }: PauseRoutesOptions): void {
  app.register(
    async scope => {
      scope.addHook('onRequest', requireBearer(token, 'ADMIN_TOKEN'))
      const common = { tags: ['admin'], ...bearerSecurity(token) }
      const who = (ip: string) => `admin-api ${ip}`

      scope.get(
        '/consumer/pause',
        {
          schema: {
            summary: "What is paused, and every live member's acknowledgement",
            ...common,
            response: { 200: PauseStateResponse, ...errors },
          },
        },
        async () => pauseStateBody(board, await board.state()),
      )

      scope.post<{ Body: PauseBodyType }>(
        '/consumer/pause',
        {
          bodyLimit: 16 * 1024,
          preValidation: onlyFields('partitions', 'reason'),
          schema: {
            summary: 'Pause every partition of the consumer group, or the ones listed (batches in flight finish)',
            ...common,
            body: PauseBody,
            response: { 200: PauseStateResponse, ...errors },
          },
        },
        async request => {
          const { partitions, reason } = request.body
          const state = await refusedAs400(() => board.pause(scopeOf(partitions), who(request.ip), reason))
          return pauseStateBody(board, state)
        },
      )

      scope.post<{ Body: ResumeBodyType }>(
        '/consumer/resume',
        {
          bodyLimit: 16 * 1024,
          preValidation: onlyFields('partitions'),
          schema: {
            summary: 'Resume every partition, or the ones listed: processing goes on where it stopped',
            ...common,
            body: ResumeBody,
            response: { 200: PauseStateResponse, ...errors },
          },
        },
        async request => {
          const state = await refusedAs400(() => board.resume(scopeOf(request.body?.partitions), who(request.ip)))
          return pauseStateBody(board, state)
        },
      )
    },
    { prefix: '/admin' },
  )
}
