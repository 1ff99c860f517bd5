// POST /produce: one event or a batch (a JSON array, as in Confluent REST Proxy v2) in, validated, published,
// answered only once Kafka acknowledged. Invalid events are answered at once with what is wrong with them and
// summed up, one dead letter per request, to the `rejected` sink (the DLQ; see refused.ts), so a rejection is
// never silent.
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { Registry } from 'prom-client'
import type { Config } from '../config/index.ts'
import { asPipelineError, PipelineError } from '../errors.ts'
import { type Event, eventIdOf, keyOf, parseEvent } from '../events/index.ts'
import { buildBaseApp, describePipelineError, type ErrorBody, HttpError } from '../http/index.ts'
import { type Logger, producerMetrics } from '../observability/index.ts'
import type { PublishedOffset, Publisher } from './publisher.ts'
import { createRefused, keepBody, type RefusedLimits, type RejectedSink, type Rejection } from './refused.ts'

export type { RejectedSink } from './refused.ts'

export interface ProducerAppOptions {
  config: Pick<Config, 'bodyLimitBytes' | 'produceBatchMax'> & Partial<RefusedLimits>
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

/** A body that is not JSON: kept (rather than failed in the parser) so the handler can dead-letter its text. */
/** A batch of events is 3 levels deep; anything far deeper is an attack or a mistake, refused before parsing. */
const maxJsonDepth = 64

/** Deepest nesting of arrays and objects in JSON text, ignoring brackets inside strings. */
export function jsonDepth(text: string): number {
  let depth = 0
  let deepest = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === 92 /* \\ */) i++
      else if (c === 34 /* " */) inString = false
    } else if (c === 34) inString = true
    else if (c === 123 /* { */ || c === 91 /* [ */) {
      if (++depth > deepest) deepest = depth
    } else if (c === 125 /* } */ || c === 93 /* ] */) depth--
  }
  return deepest
}

class UnparsedBody {
  readonly text: string
  readonly reason: string
  constructor(text: string, reason: string) {
    this.text = text
    this.reason = reason
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
    ready: async () => ({ kafka: await publisher.ready() }),
  })

  function published(request: FastifyRequest, event: Event, at: PublishedOffset, started: number): ProduceResult {
    const { topic, partition, offset } = at
    request.log.info(
      {
        eventId: event.eventId,
        type: event.type,
        key: keyOf(event),
        topic,
        partition,
        offset,
        latencyMs: Math.round((performance.now() - started) * 1000) / 1000,
      },
      'event published',
    )
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

  async function produceOne(request: FastifyRequest, value: unknown, started: number): Promise<ProduceResult> {
    let event: Event
    try {
      event = parseEvent(value)
    } catch (error) {
      const failure = asPipelineError(error)
      // A bug in validation is ours, not the client's: it surfaces as a 500, never as a rejected event.
      if (failure.code !== 'INTERNAL') await reject(request, [{ value, error: failure }])
      throw failure
    }
    const [at] = await publisher.publish([event])
    metrics.produced.inc({ type: event.type })
    return published(request, event, at!, started)
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
    values.forEach((value, index) => {
      try {
        events.push(parseEvent(value))
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
      events.forEach((event, j) => {
        results[positions[j]!] = published(request, event, offsets[j]!, started)
        byType.set(event.type, (byType.get(event.type) ?? 0) + 1)
      })
      for (const [type, n] of byType) metrics.produced.inc({ type }, n)
    }
    await reject(request, rejections, values.length)
    return { offsets: results }
  }

  app.register(async scope => {
    // Only JSON is parsed here (Fastify answers 415 to anything else), and it is parsed by us so that a body
    // that is not JSON can still be dead-lettered as the text it was. JSON.parse never assigns prototypes, and
    // the event schemas refuse unknown fields such as __proto__, so no prototype can be polluted downstream.
    scope.removeAllContentTypeParsers()
    scope.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
      const text = body as string
      keepBody(request, text)
      // Deep nesting makes recursive code downstream (serialisers, validators) overflow its stack: refuse it
      // here, as a 400 with the text kept for the DLQ, before anything recursive sees it.
      if (jsonDepth(text) > maxJsonDepth) {
        done(null, new UnparsedBody(text, `JSON nested deeper than ${maxJsonDepth} levels`))
        return
      }
      try {
        done(null, JSON.parse(text))
      } catch (error) {
        const reason = text.trim() === '' ? 'the body is empty' : (error as Error).message
        done(null, new UnparsedBody(text, reason))
      }
    })

    scope.post('/produce', async request => {
      const started = performance.now()
      if (app.closing) throw new PipelineError('SHUTTING_DOWN', 'the producer is shutting down')
      if (!isJsonMediaType(request.headers['content-type'])) {
        throw new HttpError(415, 'UNSUPPORTED_MEDIA_TYPE', 'Content-Type must be application/json')
      }
      const body = request.body
      if (body instanceof UnparsedBody) {
        const error = new PipelineError('INVALID_JSON', `request body is not valid JSON: ${body.reason}`)
        await reject(request, [{ value: undefined, text: body.text, error }])
        throw error
      }
      return Array.isArray(body) ? produceBatch(request, body, started) : produceOne(request, body, started)
    })
  })

  return app
}
