// POST /produce: one event or a batch (a JSON array, as in Confluent REST Proxy v2) in, validated, published,
// answered only once Kafka acknowledged. Invalid events are answered at once with what is wrong with them and
// summed up, one dead letter per request, to the `rejected` sink (the DLQ; see refused.ts), so a rejection is
// never silent. An event more than MAX_EVENT_SKEW ahead of this server's clock is refused like an invalid one:
// last-writer-wins compares event timestamps, and no client clock may hold a key against later updates.
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { Registry } from 'prom-client'
import type { Config } from '../config/index.ts'
import { asPipelineError, PipelineError } from '../errors.ts'
import {
  clip,
  defaultMaxEventSkewMs,
  type Event,
  eventIdOf,
  eventTimeSkew,
  latestEventTime,
  parseEvent,
} from '../events/index.ts'
import {
  buildBaseApp,
  describePipelineError,
  type ErrorBody,
  HttpError,
  type HttpLimits,
  requireBearer,
  validatedByHandler,
} from '../http/index.ts'
import { eventFields, type Logger, producerMetrics } from '../observability/index.ts'
import { type JsonShapeLimits, jsonShapeExcess } from './json-shape.ts'
import type { PublishedOffset, Publisher } from './publisher.ts'
import { createRefused, keepBody, type RefusedLimits, type RejectedSink, type Rejection } from './refused.ts'
import { produceSchema } from './schemas.ts'

export type { RejectedSink } from './refused.ts'

export interface ProducerAppOptions {
  config: Pick<Config, 'bodyLimitBytes' | 'produceBatchMax'> &
    Partial<RefusedLimits> &
    Partial<Pick<Config, 'produceToken' | 'adminToken' | 'maxEventSkewMs'>>
  /** Timeouts and connection limits of the server (the configuration's defaults when absent). */
  limits?: HttpLimits
  logger: Logger
  registry: Registry
  publisher: Pick<Publisher, 'publish' | 'ready'>
  /** Receives one dead letter per request with rejected events (the DLQ in production). */
  rejected?: RejectedSink
  /** Longest the answer to a request with rejected events waits for the sink. */
  rejectedTimeoutMs?: number
}

export type ProduceResult = { eventId: string } & PublishedOffset
export type BatchEntryResult = ProduceResult | { eventId: string | null; error: ErrorBody['error'] }

/**
 * The shape limits of a request body. A batch is 3 levels deep and an event has at most 9 members in one object;
 * the margins leave room for mistakes to be reported by the schema, with the fields they name.
 */
const bodyShape: JsonShapeLimits = { depth: 64, members: 64 }

/** A body refused before it became a JSON value: kept so the handler can dead-letter its text. */
class UnparsedBody {
  readonly text: string
  readonly error: PipelineError
  constructor(text: string, error: PipelineError) {
    this.text = text
    this.error = error
  }
}

function isJsonMediaType(contentType: string | undefined): boolean {
  return contentType?.split(';', 1)[0]?.trim().toLowerCase() === 'application/json'
}

export function buildProducerApp(options: ProducerAppOptions): FastifyInstance {
  const { config, publisher } = options
  const metrics = producerMetrics(options.registry)
  const app = buildBaseApp({
    role: 'producer',
    logger: options.logger,
    registry: options.registry,
    bodyLimit: config.bodyLimitBytes,
    bodyLimitVariable: 'PRODUCE_BODY_LIMIT',
    ...(options.limits === undefined ? {} : { limits: options.limits }),
    adminToken: config.adminToken,
    ready: async () => ({ kafka: await publisher.ready() }),
  })

  // pino's level values: a request's logger writes INFO lines when its level's value is at most INFO's.
  const levelValues = options.logger.levels.values
  const infoValue = levelValues['info'] ?? 30
  const logsInfo = (request: FastifyRequest) => (levelValues[request.log.level] ?? 0) <= infoValue

  function published(
    request: FastifyRequest,
    logs: boolean,
    event: Event,
    at: PublishedOffset,
    started: number,
  ): ProduceResult {
    const { topic, partition, offset } = at
    // The line's fields are built only when it is written (`logs`, logsInfo of the request, asked once per
    // request): below INFO, a 100-event batch would otherwise make 100 objects (and derive 100 keys) for nothing.
    if (logs) {
      request.log.info(
        {
          ...eventFields(event, at),
          latencyMs: Math.round((performance.now() - started) * 1000) / 1000,
        },
        'event published',
      )
    }
    return { eventId: event.eventId, topic, partition, offset }
  }

  const refused = createRefused({
    sink: options.rejected,
    limits: config,
    logger: options.logger,
    metrics,
    timeoutMs: options.rejectedTimeoutMs ?? 3000,
  })
  app.addHook('onClose', async () => refused.close())
  const reject = (request: FastifyRequest, rejections: readonly Rejection[], events = 1) =>
    refused.refuse(request, rejections, events)

  // The latest event timestamp accepted now, read once per request: events are compared with it as strings
  // (canonical timestamps sort as they are dated). Requests within the same millisecond share it.
  const maxEventSkewMs = config.maxEventSkewMs ?? defaultMaxEventSkewMs
  let latestAt = Number.NaN
  let latest = ''
  function latestAccepted(): string {
    const now = Date.now()
    if (now !== latestAt) {
      latestAt = now
      latest = latestEventTime(now, maxEventSkewMs)
    }
    return latest
  }

  /** parseEvent, refusing an event dated after `latestTime` (this server's clock plus MAX_EVENT_SKEW). */
  function accepted(value: unknown, latestTime: string): Event {
    const event = parseEvent(value)
    if (event.timestamp > latestTime) throw eventTimeSkew(event.timestamp, maxEventSkewMs, "this server's clock")
    return event
  }

  async function produceOne(request: FastifyRequest, value: unknown, started: number): Promise<ProduceResult> {
    let event: Event
    try {
      event = accepted(value, latestAccepted())
    } catch (error) {
      const failure = asPipelineError(error)
      // A bug in validation is ours, not the client's: it surfaces as a 500, never as a rejected event.
      if (failure.code !== 'INTERNAL') await reject(request, [{ value, error: failure }])
      throw failure
    }
    const [at] = await publisher.publish([event])
    metrics.produced.inc({ type: event.type })
    return published(request, logsInfo(request), event, at!, started)
  }

  async function produceBatch(
    request: FastifyRequest,
    values: unknown[],
    started: number,
  ): Promise<{ offsets: BatchEntryResult[] }> {
    if (values.length === 0) throw new HttpError(400, 'EMPTY_BATCH', 'the batch is empty: send at least one event')
    if (values.length > config.produceBatchMax) {
      throw new HttpError(
        400,
        'BATCH_TOO_LARGE',
        `a batch holds at most ${config.produceBatchMax} events (PRODUCE_BATCH_MAX); this one has ${values.length}`,
      )
    }
    const results: BatchEntryResult[] = new Array(values.length)
    const events: Event[] = []
    const positions: number[] = []
    const rejections: Rejection[] = []
    const latestTime = latestAccepted()
    values.forEach((value, index) => {
      try {
        events.push(accepted(value, latestTime))
        positions.push(index)
      } catch (error) {
        const failure = asPipelineError(error)
        if (failure.code === 'INTERNAL') throw failure
        results[index] = { eventId: eventIdOf(value), error: describePipelineError(failure) }
        rejections.push({ index, value, error: failure })
      }
    })
    // Publish first: when Kafka fails the whole request is a 503 and the client sends it again, so rejecting
    // (and dead-lettering) only after a success keeps a retried batch from dead-lettering its entries twice.
    if (events.length > 0) {
      const offsets = await publisher.publish(events)
      const byType = new Map<string, number>()
      const logs = logsInfo(request)
      events.forEach((event, j) => {
        results[positions[j]!] = published(request, logs, event, offsets[j]!, started)
        byType.set(event.type, (byType.get(event.type) ?? 0) + 1)
      })
      for (const [type, n] of byType) metrics.produced.inc({ type }, n)
    }
    await reject(request, rejections, values.length)
    return { offsets: results }
  }

  app.register(async scope => {
    const token = config.produceToken
    if (token !== undefined) scope.addHook('onRequest', requireBearer(token, 'PRODUCE_TOKEN'))
    // Only JSON is parsed here (Fastify answers 415 to anything else), and it is parsed by us so that a body
    // that is not JSON can still be dead-lettered as the text it was. JSON.parse never assigns prototypes, and
    // the event schemas refuse unknown fields such as __proto__, so no prototype can be polluted downstream.
    scope.removeAllContentTypeParsers()
    scope.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
      const text = body as string
      keepBody(request, text)
      // Deep nesting makes recursive code downstream (serialisers, validators) overflow its stack, and objects
      // with thousands of members make parsing and validation slow: refuse both here, as a 400 with the text kept
      // for the DLQ, before anything parses them.
      const excess = jsonShapeExcess(text, bodyShape)
      if (excess?.kind === 'depth') {
        const error = new PipelineError('INVALID_JSON', `JSON nested deeper than ${excess.limit} levels`)
        done(null, new UnparsedBody(text, error))
        return
      }
      if (excess?.kind === 'members') {
        const error = new PipelineError(
          'SCHEMA_VIOLATION',
          `invalid event: an object in the body has more than ${excess.limit} fields; an event has 4 and its data at most 5`,
          { paths: ['/'] },
        )
        done(null, new UnparsedBody(text, error))
        return
      }
      try {
        done(null, JSON.parse(text))
      } catch (error) {
        const reason = text.trim() === '' ? 'the body is empty' : clip((error as Error).message, 200)
        done(
          null,
          new UnparsedBody(text, new PipelineError('INVALID_JSON', `request body is not valid JSON: ${reason}`)),
        )
      }
    })

    const schema = produceSchema({ produceBatchMax: config.produceBatchMax, produceToken: token })
    scope.post('/produce', { schema, ...validatedByHandler }, async (request, reply) => {
      const started = performance.now()
      if (app.closing) throw new PipelineError('SHUTTING_DOWN', 'the producer is shutting down')
      if (!isJsonMediaType(request.headers['content-type'])) {
        throw new HttpError(415, 'UNSUPPORTED_MEDIA_TYPE', 'Content-Type must be application/json')
      }
      const body = request.body
      if (body instanceof UnparsedBody) {
        await reject(request, [{ value: undefined, text: body.text, error: body.error }])
        throw body.error
      }
      if (!Array.isArray(body)) return produceOne(request, body, started)
      const answer = await produceBatch(request, body, started)
      // The answer is built here with exactly the fields and order of the 200 schema (Published or Refused per
      // entry), so JSON.stringify writes the bytes the schema's serializer would, without it testing each of the
      // entries against both branches of its anyOf. A reply serializer leaves the content type to the route.
      reply.type('application/json; charset=utf-8').serializer(JSON.stringify)
      return answer
    })
  })

  return app
}
