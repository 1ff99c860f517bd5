// The schema of POST /produce: the events it takes (the same TypeBox schemas parseEvent checks them with) and its
// answers. The handler validates bodies itself, with the pipeline's error codes, so the body schema describes
// and never validates (validatedByHandler).
import Type, { type TSchema } from 'typebox'
import { dataSchemas, Envelope, eventTypes } from '../events/index.ts'
import { bearerSecurity, ErrorDetail, errorResponses } from '../http/index.ts'

/** One event of each type: the envelope with its type fixed and its data schema. */
const Event = Type.Unsafe({
  description: 'One event: {eventId, type, timestamp, data}, with the data fields of its type',
  oneOf: eventTypes.map(type =>
    Type.Object(
      {
        eventId: Envelope.properties.eventId,
        type: Type.Literal(type),
        timestamp: Envelope.properties.timestamp,
        data: dataSchemas[type],
      },
      { additionalProperties: false, title: type },
    ),
  ),
})

const Published = Type.Object(
  {
    eventId: Type.String(),
    topic: Type.String(),
    partition: Type.Integer({ minimum: 0 }),
    offset: Type.String({ pattern: '^[0-9]+$', description: 'The Kafka offset, a 64-bit integer in decimal' }),
  },
  { description: 'Where Kafka stored the event (answered once it acknowledged)' },
)

const Refused = Type.Object(
  {
    eventId: Type.Union([Type.String(), Type.Null()], { description: 'The entry’s eventId when it has a usable one' }),
    error: ErrorDetail,
  },
  { description: 'A batch entry that was refused; the other entries are published all the same' },
)

export function produceSchema(options: { produceBatchMax: number; produceToken: string | undefined }): {
  [key: string]: unknown
  response: Record<number, TSchema>
} {
  return {
    summary: 'Publish one event, or a batch (a JSON array), to Kafka',
    description: [
      'Answered once Kafka acknowledged. A body that is one event answers its place in Kafka, or an error.',
      'A batch answers one result per entry, in order: valid entries are published even when others are refused.',
      'Refused events are also summed up in one dead letter per request (Redis list dlq:events).',
    ].join(' '),
    tags: ['produce'],
    ...bearerSecurity(options.produceToken),
    body: Type.Unsafe({
      oneOf: [
        Event,
        Type.Array(Event, {
          minItems: 1,
          maxItems: options.produceBatchMax,
          description: `A batch of at most ${options.produceBatchMax} events (PRODUCE_BATCH_MAX)`,
        }),
      ],
    }),
    response: {
      200: Type.Unsafe({
        description: 'Published (one event), or the result of each entry (a batch)',
        anyOf: [
          Published,
          Type.Object({ offsets: Type.Array(Type.Union([Published, Refused])) }, { description: 'A batch' }),
        ],
      }),
      ...errorResponses({
        400: 'The body is not JSON (INVALID_JSON), not an event (SCHEMA_VIOLATION, with the failing paths), of an unknown type (UNKNOWN_TYPE), dated more than MAX_EVENT_SKEW ahead of the producer clock (EVENT_TIME_SKEW, path /timestamp), or an empty (EMPTY_BATCH) or too large (BATCH_TOO_LARGE) batch',
        ...(options.produceToken === undefined ? {} : { 401: 'Send Authorization: Bearer <PRODUCE_TOKEN>' }),
        413: 'The body is larger than PRODUCE_BODY_LIMIT',
        415: 'Content-Type is not application/json',
        503: 'Kafka is unreachable (KAFKA_UNAVAILABLE) or the producer is shutting down (SHUTTING_DOWN): send the same request again after Retry-After seconds',
      }),
    },
  }
}
