// POST /produce: one event or a batch (a JSON array, as in Confluent REST Proxy v2) in, validated, published,
// answered only once Kafka acknowledged (produce.ts). Invalid events are answered at once with what is wrong with
// them and summed up, one dead letter per request, to the `rejected` sink (the DLQ; see refused.ts), so a
// rejection is never silent. This file is the HTTP side: the app, the token, the body parser (body-parser.ts)
// and the route.
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { Registry } from 'prom-client'
import type { Config } from '../config/index.ts'
import { PipelineError } from '../errors.ts'
import { buildBaseApp, HttpError, type HttpLimits, requireBearer, validatedByHandler } from '../http/index.ts'
import { type Logger, producerMetrics } from '../observability/index.ts'
import { isJsonMediaType, jsonBodyParser, UnparsedBody } from './body-parser.ts'
import { ProduceService } from './produce.ts'
import type { Publisher } from './publisher.ts'
import { createRefused, type RefusedLimits, type RejectedSink } from './refused.ts'
import { produceSchema } from './schemas.ts'

export type { BatchEntryResult, ProduceResult } from './produce.ts'
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

  const refused = createRefused({
    sink: options.rejected,
    limits: config,
    logger: options.logger,
    metrics,
    timeoutMs: options.rejectedTimeoutMs ?? 3000,
  })
  app.addHook('onClose', async () => refused.close())

  // pino's level values: a request's logger writes INFO lines when its level's value is at most INFO's.
  const levelValues = options.logger.levels.values
  const infoValue = levelValues['info'] ?? 30
  const produce = new ProduceService<FastifyRequest>({
    produceBatchMax: config.produceBatchMax,
    maxEventSkewMs: config.maxEventSkewMs,
    publisher,
    metrics,
    reject: (request, rejections, events) => refused.refuse(request, rejections, events),
    logsInfo: request => (levelValues[request.log.level] ?? 0) <= infoValue,
  })

  app.register(async scope => {
    const token = config.produceToken
    if (token !== undefined) scope.addHook('onRequest', requireBearer(token, 'PRODUCE_TOKEN'))
    await scope.register(jsonBodyParser)

    const schema = produceSchema({ produceBatchMax: config.produceBatchMax, produceToken: token })
    scope.post('/produce', { schema, ...validatedByHandler }, async (request, reply) => {
      const started = performance.now()
      if (app.closing) throw new PipelineError('SHUTTING_DOWN', 'the producer is shutting down')
      if (!isJsonMediaType(request.headers['content-type'])) {
        throw new HttpError(415, 'UNSUPPORTED_MEDIA_TYPE', 'Content-Type must be application/json')
      }
      const body = request.body
      if (body instanceof UnparsedBody) return produce.unparsed(request, body.text, body.error)
      if (!Array.isArray(body)) return produce.one(request, body, started)
      const answer = await produce.batch(request, body, started)
      // The answer is built here with exactly the fields and order of the 200 schema (Published or Refused per
      // entry), so JSON.stringify writes the bytes the schema's serializer would, without it testing each of the
      // entries against both branches of its anyOf. A reply serializer leaves the content type to the route.
      reply.type('application/json; charset=utf-8').serializer(JSON.stringify)
      return answer
    })
  })

  return app
}
