// The admin API's contract, request and answer alike, as TypeBox schemas: Fastify validates requests with them
// before a handler runs, and serialises answers through them, so no field leaks that is not listed here. A
// browser console builds on these shapes; change them only together with it.
import Type, { type Static } from 'typebox'
import { eventPageMax } from '../dlq/index.ts'
import { filterValueMaxBytes } from '../dlq-ops/filter.ts'
import { jobMaxEntries } from '../dlq-ops/job-store.ts'
import { pageLimitMax } from '../dlq-ops/paging.ts'
import { type ErrorCode, errorCodes } from '../errors.ts'

const Text = (description: string) => Type.String({ maxLength: filterValueMaxBytes, description })
const Nullable = <T extends Type.TSchema>(schema: T) => Type.Union([schema, Type.Null()])

/** The filter fields, as query parameters (GET /admin/dlq) and as the `filter` object of POST bodies. */
const filterFields = {
  type: Type.Optional(Text('event type named by the payload (UserCreated, …)')),
  code: Type.Optional(
    // The cast names the static type only: a union built from a list's map is typed as no value at all.
    Type.Union(
      errorCodes.map(c => Type.Literal(c)),
      { description: 'error code' },
    ) as unknown as Type.TUnsafe<ErrorCode>,
  ),
  key: Type.Optional(Text('Kafka record key')),
  eventId: Type.Optional(Text('eventId (read from the index, no scan)')),
  source: Type.Optional(Type.Union([Type.Literal('consumer'), Type.Literal('producer')])),
  since: Type.Optional(
    Type.String({ maxLength: 40, description: 'failedAt at or after: ISO-8601 or an age (2h, 7d)' }),
  ),
  until: Type.Optional(Type.String({ maxLength: 40, description: 'failedAt before: ISO-8601 or an age' })),
}

export const Filter = Type.Object(filterFields, { additionalProperties: false })

export const ListQuery = Type.Object(
  {
    ...filterFields,
    limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,4}$', description: `1 to ${pageLimitMax}, default 50` })),
    cursor: Type.Optional(Type.String({ maxLength: 32, description: '`next` of the previous page' })),
  },
  { additionalProperties: false },
)

export const DeadLetter = Type.Object({
  eventId: Nullable(Type.String()),
  topic: Nullable(Type.String()),
  partition: Nullable(Type.Integer()),
  offset: Nullable(Type.String()),
  key: Nullable(Type.String()),
  payload: Nullable(Type.String()),
  payloadEncoding: Type.Union([Type.Literal('utf8'), Type.Literal('base64')]),
  error: Type.Object({ code: Type.String(), message: Type.String() }),
  attempts: Type.Integer(),
  failedAt: Type.String(),
  source: Type.Union([Type.Literal('consumer'), Type.Literal('producer')]),
  payloadTruncated: Type.Optional(Type.Boolean()),
  payloadBytes: Type.Optional(Type.Integer()),
  payloadSha256: Type.Optional(Type.String()),
})

export const ListResponse = Type.Object(
  {
    entries: Type.Array(DeadLetter),
    next: Nullable(Type.String()),
    total: Type.Integer({ description: 'entries in the DLQ, whatever the filter' }),
  },
  { description: 'A page of dead letters, newest first' },
)

export const StatsResponse = Type.Object(
  {
    total: Type.Integer(),
    byCode: Type.Record(Type.String(), Type.Integer()),
    byType: Type.Record(Type.String(), Type.Integer()),
    oldest: Nullable(Type.String()),
    newest: Nullable(Type.String()),
  },
  { description: 'Counts by code and by type, oldest and newest failedAt' },
)

export const EventIdParams = Type.Object({ eventId: Type.String({ minLength: 1, maxLength: filterValueMaxBytes }) })
export const ShowQuery = Type.Object(
  {
    limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,4}$', description: `1 to ${eventPageMax}, default 50` })),
    cursor: Type.Optional(Type.String({ maxLength: 32, description: '`next` of the previous page' })),
  },
  { additionalProperties: false },
)
export type ShowQueryType = Static<typeof ShowQuery>

export const ShowResponse = Type.Object(
  {
    entries: Type.Array(DeadLetter),
    total: Type.Integer({ description: 'Dead letters of this eventId in all' }),
    next: Type.Union([Type.String(), Type.Null()], { description: 'Cursor of the next (older) page; null at the end' }),
  },
  { description: 'A page of the dead letters of this eventId, newest first' },
)

export const RedriveBody = Type.Object(
  {
    filter: Type.Optional(Filter),
    dryRun: Type.Optional(Type.Boolean()),
    rate: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 100_000, description: 'records per second' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: jobMaxEntries })),
    to: Type.Optional(Type.String({ pattern: '^[a-zA-Z0-9._-]{1,249}$', description: 'target topic' })),
    eventId: Type.Optional(Type.String({ minLength: 1, maxLength: filterValueMaxBytes })),
    payload: Type.Optional(
      Type.Object({}, { additionalProperties: true, description: 'replacement event for eventId (fix then redrive)' }),
    ),
  },
  { additionalProperties: false },
)

export const NotRedrivable = Type.Object({ eventId: Nullable(Type.String()), reason: Type.String() })

export const RedriveDryRunResponse = Type.Object(
  {
    dryRun: Type.Literal(true),
    entries: Type.Array(DeadLetter, { description: `the first ${pageLimitMax} of what would be sent` }),
    count: Type.Integer(),
    notRedrivable: Type.Array(NotRedrivable),
  },
  { description: 'Dry run: what would be sent; nothing changed' },
)

export const RedriveAccepted = Type.Object(
  {
    redriveId: Type.String(),
    count: Type.Integer(),
    notRedrivable: Type.Array(NotRedrivable),
  },
  { description: 'The redrive started; follow it at /admin/dlq/redrives/{id}' },
)

export const RedriveIdParams = Type.Object({ id: Type.String({ pattern: '^rd-[a-z0-9]{1,16}-[a-f0-9]{8}$' }) })

export const RedriveStatus = Type.Object(
  {
    id: Type.String(),
    state: Type.Union([
      Type.Literal('running'),
      Type.Literal('done'),
      Type.Literal('failed'),
      Type.Literal('cancelled'),
    ]),
    total: Type.Integer(),
    sent: Type.Integer(),
    failed: Type.Integer(),
    startedAt: Type.String(),
    finishedAt: Nullable(Type.String()),
    error: Type.Optional(Type.String()),
  },
  { description: 'The state of the redrive' },
)

export const PurgeBody = Type.Object(
  {
    filter: Type.Optional(Filter),
    dryRun: Type.Optional(Type.Boolean()),
    confirm: Type.Optional(Type.Boolean({ description: 'true to remove; without it the purge is a dry run' })),
  },
  { additionalProperties: false },
)

export const PurgeResponse = Type.Object(
  {
    dryRun: Type.Boolean(),
    count: Type.Integer(),
    eventIds: Type.Array(Type.String(), { description: 'the first 1000' }),
    heldByRedrive: Type.Integer(),
  },
  { description: 'What was removed, or would be on a dry run' },
)

export const AuditQuery = Type.Object(
  { limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,4}$', description: `1 to ${pageLimitMax}, default 50` })) },
  { additionalProperties: false },
)

export const AuditEntry = Type.Object({
  at: Type.String(),
  who: Type.String(),
  action: Type.String(),
  redriveId: Type.Optional(Type.String()),
  filter: Type.Record(Type.String(), Type.String()),
  count: Type.Integer(),
  eventIds: Type.Array(Type.String()),
  moreEventIds: Type.Integer(),
  to: Type.Optional(Type.String()),
  fixed: Type.Optional(Type.Boolean()),
  outcome: Type.Optional(
    Type.Object({ sent: Type.Integer(), failed: Type.Integer(), gone: Type.Integer(), pending: Type.Integer() }),
  ),
  error: Type.Optional(Type.String()),
  rebuild: Type.Optional(Type.String()),
  partitions: Type.Optional(
    Type.Union([Type.Array(Type.Integer()), Type.Literal('all')], { description: 'consumer-pause, consumer-resume' }),
  ),
  reason: Type.Optional(Type.String({ description: 'consumer-pause: why' })),
})

export const AuditResponse = Type.Object(
  { entries: Type.Array(AuditEntry) },
  { description: 'Redrives and purges, newest first' },
)

export type RedriveBodyType = Static<typeof RedriveBody>
export type PurgeBodyType = Static<typeof PurgeBody>
export type ListQueryType = Static<typeof ListQuery>
