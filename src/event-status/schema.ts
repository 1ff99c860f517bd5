// The answer of GET /events/{eventId} (read API) and GET /admin/events/{eventId} (the console), as a TypeBox
// schema: the status word and the fields each word brings (event-status.ts). Open to more fields, so describing
// it never strips what decideStatus adds.
import Type from 'typebox'

const statusWords = ['applied', 'superseded', 'pending', 'dead-lettered', 'unknown'] as const

const Position = Type.Object({ topic: Type.String(), partition: Type.Integer(), offset: Type.String() })

/**
 * Dead letters of a key that its row does not reflect (src/dlq/key-summary.ts): present in an answer only when
 * there is at least one. Read answers and event statuses carry it alike.
 */
export const DeadLetteredBody = Type.Object(
  {
    count: Type.Integer({
      minimum: 1,
      description:
        'DLQ entries of this key the row does not reflect: for users, orders and payments those later in the log than the record the row came from; for inventory every one (a quantity misses each delta)',
    }),
    newestEventId: Type.Union([Type.String(), Type.Null()], {
      description: 'eventId of the newest of them (the greatest offset); null when its record had none',
    }),
    partition: Type.Integer({ description: 'Its Kafka partition' }),
    offset: Type.String({ description: 'Its Kafka offset, as a decimal string' }),
  },
  {
    description:
      'The row may not be current: newer events of its key wait in the dead-letter queue (absent when none, or when the queue could not be asked: see X-Dead-Lettered)',
  },
)

export const EventStatusBody = Type.Object(
  {
    eventId: Type.String(),
    // The cast names the static type only: a union built from a list's map is typed as no value at all.
    status: Type.Union(
      statusWords.map(w => Type.Literal(w)),
      { description: 'What became of the event' },
    ) as unknown as Type.TUnsafe<(typeof statusWords)[number]>,
    type: Type.Optional(Type.String()),
    table: Type.Optional(Type.String()),
    key: Type.Optional(Type.String()),
    position: Type.Optional(Position),
    at: Type.Optional(Type.String({ description: 'applied: when its row was written' })),
    by: Type.Optional(
      Type.Object(
        { eventId: Type.String(), timestamp: Type.String(), position: Position },
        { description: 'superseded: the event that holds the row now' },
      ),
    ),
    waitingFor: Type.Optional(
      Type.Object(
        { table: Type.String(), key: Type.String(), constraint: Type.String() },
        { description: 'pending: the missing parent' },
      ),
    ),
    since: Type.Optional(Type.String({ description: 'pending: since when' })),
    records: Type.Optional(Type.Integer({ description: 'pending: Kafka records of it waiting' })),
    deadLetters: Type.Optional(
      Type.Array(
        Type.Object({
          code: Type.String(),
          message: Type.String(),
          failedAt: Type.String(),
          source: Type.Union([Type.Literal('consumer'), Type.Literal('producer')]),
          position: Type.Union([Position, Type.Null()]),
        }),
        { description: 'dead-lettered (or also held by the DLQ): its newest entries (at most 10)' },
      ),
    ),
    deadLetterTotal: Type.Optional(
      Type.Integer({ description: 'How many DLQ entries the eventId has, when more than `deadLetters` shows' }),
    ),
    deadLettered: Type.Optional(DeadLetteredBody),
    lastSeen: Type.Optional(
      Type.Object(
        { type: Type.String(), table: Type.String(), key: Type.String(), position: Position },
        { description: 'unknown: where it was last seen, when its row was removed' },
      ),
    ),
  },
  { additionalProperties: true, description: 'What became of an event; the fields beside `status` depend on it' },
)
