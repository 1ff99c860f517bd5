import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import type { DeadLetter } from '../../src/dlq/index.ts'
import { keyOf, parseEvent } from '../../src/events/index.ts'
import { partitionOf } from '../../src/kafka/index.ts'
import { createLogger, createRegistry } from '../../src/observability/index.ts'
import { buildProducerApp, createPublisher, type Publisher } from '../../src/producer/index.ts'
import { pipelineVersion } from '../../src/version.ts'
import { orderPlaced, userCreated } from '../helpers/events.ts'
import { type Cleanup, kafkaTopic } from '../helpers/resources.ts'
import { capturingLogger, consumeBack, type LogLine, place, testPublisher } from './helpers.ts'

interface Setup {
  app: FastifyInstance
  lines: LogLine[]
  dead: DeadLetter[][]
  topic: string
}

const config = { bodyLimitBytes: 64 * 1024, produceBatchMax: 5, adminToken: 'admin-token-0123456789' }
const asAdmin = { authorization: `Bearer ${config.adminToken}` }

async function setup(
  t: Cleanup,
  over: {
    publisher?: Publisher
    sinkFails?: boolean
    bodyLimitBytes?: number
    produceToken?: string
    maxEventSkewMs?: number
  } = {},
): Promise<Setup> {
  const topic = over.publisher ? over.publisher.topic : await kafkaTopic(t)
  const publisher = over.publisher ?? (await testPublisher(t, topic))
  const { logger, lines } = capturingLogger()
  const dead: DeadLetter[][] = []
  const app = buildProducerApp({
    config: {
      ...config,
      bodyLimitBytes: over.bodyLimitBytes ?? config.bodyLimitBytes,
      ...(over.produceToken === undefined ? {} : { produceToken: over.produceToken }),
      ...(over.maxEventSkewMs === undefined ? {} : { maxEventSkewMs: over.maxEventSkewMs }),
    },
    logger,
    registry: createRegistry('producer', false),
    publisher,
    rejected: async records => {
      if (over.sinkFails) throw new Error('redis is down')
      dead.push(records)
    },
  })
  t.after(() => app.close())
  return { app, lines, dead, topic }
}

async function deadPublisher(t: Cleanup): Promise<Publisher> {
  const publisher = await createPublisher({
    connection: { clientId: 'test-dead', bootstrapBrokers: ['127.0.0.1:1'] },
    topic: 'unreachable',
    partitions: 1,
    logger: createLogger('silent', 'producer'),
    timeoutMs: 600,
    readyCacheMs: 0,
  })
  t.after(() => publisher.close())
  return publisher
}

function produce(app: FastifyInstance, payload: unknown, headers: Record<string, string> = {}) {
  return app.inject({
    method: 'POST',
    url: '/produce',
    payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
    headers: { 'content-type': 'application/json', ...headers },
  })
}

/** Every error body is JSON {error:{code,message}} and never shows a stack frame. */
function errorOf(res: LightMyRequestResponse): { code: string; message: string; paths?: string[] } {
  assert.doesNotMatch(res.body, /\n\s+at |"stack"|\.ts:\d+/)
  return (res.json() as { error: { code: string; message: string; paths?: string[] } }).error
}

describe('POST /produce', () => {
  it('publishes one event and answers with where Kafka put it', async t => {
    const { app, lines, topic } = await setup(t)
    const raw = userCreated('user-1')
    const res = await produce(app, raw, { 'x-request-id': 'req-one' })
    assert.equal(res.statusCode, 200)
    assert.equal(res.headers['x-request-id'], 'req-one')
    const body = res.json() as { eventId: string; topic: string; partition: number; offset: string }
    assert.equal(body.eventId, raw.eventId)
    assert.equal(body.topic, topic)
    assert.equal(body.partition, partitionOf('user-1', 3))
    assert.match(body.offset, /^\d+$/)

    const [record] = await consumeBack(topic, 1)
    assert.equal(place(record!), place(body))
    assert.equal(record!.key, 'user-1')
    assert.equal(record!.eventId, raw.eventId)
    assert.deepEqual(JSON.parse(record!.value), parseEvent(raw))

    const logged = lines.find(l => l.msg === 'event published')
    assert.ok(logged)
    assert.equal(logged['reqId'], 'req-one')
    for (const field of ['eventId', 'type', 'key', 'topic', 'partition', 'offset', 'latencyMs']) {
      assert.ok(logged[field] !== undefined, field)
    }
  })

  it('answers a batch entry by entry, publishes the valid ones and dead-letters the others', async t => {
    const { app, dead, topic } = await setup(t)
    const good1 = userCreated('user-b1')
    const good2 = orderPlaced('order-b1', 'user-b1')
    const bad = { ...userCreated('user-b2'), data: { userId: 7 } }
    const unknown = { eventId: 'e-unknown', type: 'UserDeleted', timestamp: good1.timestamp, data: {} }
    const res = await produce(app, [good1, bad, good2, unknown])
    assert.equal(res.statusCode, 200)
    const { offsets } = res.json() as { offsets: Record<string, unknown>[] }
    assert.equal(offsets.length, 4)
    assert.equal(offsets[0]!['eventId'], good1.eventId)
    assert.equal(offsets[2]!['eventId'], good2.eventId)
    const rejected = offsets[1] as { eventId: string; error: { code: string; message: string; paths: string[] } }
    assert.deepEqual(Object.keys(rejected).sort(), ['error', 'eventId'])
    assert.equal(rejected.eventId, bad.eventId)
    assert.equal(rejected.error.code, 'SCHEMA_VIOLATION')
    assert.deepEqual(rejected.error.paths.sort(), ['/data/createdAt', '/data/email', '/data/name', '/data/userId'])
    assert.equal((offsets[3]!['error'] as { code: string }).code, 'UNKNOWN_TYPE')
    // The answer's bytes are those of the 200 schema: its fields only, in its order, as JSON.
    assert.equal(res.headers['content-type'], 'application/json; charset=utf-8')
    assert.equal(res.body, JSON.stringify(res.json()))
    assert.deepEqual(Object.keys(offsets[0]!), ['eventId', 'topic', 'partition', 'offset'])
    assert.deepEqual(Object.keys(rejected), ['eventId', 'error'])
    assert.deepEqual(Object.keys(rejected.error), ['code', 'message', 'paths'])

    const records = await consumeBack(topic, 2)
    const byPlace = new Map(records.map(r => [place(r), r]))
    for (const [i, raw] of [
      [0, good1],
      [2, good2],
    ] as const) {
      const at = offsets[i] as { topic: string; partition: number; offset: string }
      assert.equal(at.topic, topic)
      const record = byPlace.get(place(at))
      assert.ok(record)
      assert.equal(record.key, keyOf(parseEvent(raw)))
      assert.equal(record.eventId, raw.eventId)
    }

    // One summary dead letter for the request, naming its refused entries, with the body as sent.
    assert.equal(dead.length, 1)
    assert.equal(dead[0]!.length, 1)
    const letter = dead[0]![0]!
    assert.deepEqual([letter.eventId, letter.error.code], [bad.eventId, 'SCHEMA_VIOLATION'])
    assert.match(letter.error.message, /^2 of 4 events refused: #1 SCHEMA_VIOLATION: .*; #3 UNKNOWN_TYPE: /)
    assert.equal(letter.source, 'producer')
    assert.equal(letter.attempts, 1)
    assert.deepEqual([letter.topic, letter.partition, letter.offset], [null, null, null])
    assert.deepEqual(JSON.parse(letter.payload!), [good1, bad, good2, unknown])
  })

  it('refuses invalid JSON with 400 INVALID_JSON and dead-letters the text', async t => {
    const { app, dead } = await setup(t)
    const res = await produce(app, '{"eventId": "x",')
    assert.equal(res.statusCode, 400)
    assert.equal(errorOf(res).code, 'INVALID_JSON')
    assert.equal(dead[0]?.[0]?.payload, '{"eventId": "x",')
    const empty = await produce(app, '')
    assert.equal(empty.statusCode, 400)
    assert.equal(errorOf(empty).code, 'INVALID_JSON')
    assert.equal(dead.length, 1, 'an empty body is not dead-lettered')
  })

  it('lists every failing path of an invalid event', async t => {
    const { app, dead } = await setup(t)
    const { data: _data, ...noData } = userCreated('user-x')
    let error = errorOf(await produce(app, noData))
    assert.deepEqual([error.code, error.paths], ['SCHEMA_VIOLATION', ['/data']])

    const wrong = orderPlaced('order-x', 'user-x')
    error = errorOf(
      await produce(app, { ...wrong, data: { ...wrong.data, orderId: 5, total: 'abc', createdAt: 'no' } }),
    )
    assert.deepEqual(
      [error.code, error.paths],
      ['SCHEMA_VIOLATION', ['/data/orderId', '/data/total', '/data/createdAt']],
    )

    const res = await produce(app, { ...wrong, type: 'OrderCancelled' })
    assert.equal(res.statusCode, 400)
    error = errorOf(res)
    assert.deepEqual([error.code, error.paths], ['UNKNOWN_TYPE', ['/type']])
    assert.equal(dead.length, 3)
  })

  it('refuses an event dated more than MAX_EVENT_SKEW ahead of its clock, naming the field and the limit', async t => {
    const { app, dead, topic } = await setup(t)
    const far = userCreated('user-far', { timestamp: '9999-12-31T00:00:00Z' })
    const res = await produce(app, far)
    assert.equal(res.statusCode, 400)
    assert.deepEqual(errorOf(res), {
      code: 'EVENT_TIME_SKEW',
      message:
        "invalid event: /timestamp: 9999-12-31T00:00:00.000Z is more than 1h ahead of this server's clock (MAX_EVENT_SKEW)",
      paths: ['/timestamp'],
    })
    // Refused like any invalid event: one summary dead letter for the request.
    assert.equal(dead.length, 1)
    const letter = dead[0]![0]!
    assert.deepEqual([letter.eventId, letter.error.code, letter.source], [far.eventId, 'EVENT_TIME_SKEW', 'producer'])
    assert.match(letter.error.message, /^1 of 1 events refused: EVENT_TIME_SKEW: invalid event: \/timestamp: /)

    // Ahead of the clock, but within the skew: published.
    const soon = userCreated('user-soon', { timestamp: new Date(Date.now() + 30 * 60_000).toISOString() })
    assert.equal((await produce(app, soon)).statusCode, 200)

    // In a batch the entry is refused as every refused entry is, and the others are published.
    const late = userCreated('user-late', { timestamp: new Date(Date.now() + 2 * 3_600_000).toISOString() })
    const now = userCreated('user-now', { timestamp: new Date().toISOString() })
    const batch = await produce(app, [late, now])
    assert.equal(batch.statusCode, 200)
    const { offsets } = batch.json() as { offsets: Record<string, unknown>[] }
    const refused = offsets[0] as { eventId: string; error: { code: string; message: string; paths: string[] } }
    assert.deepEqual(Object.keys(refused), ['eventId', 'error'])
    assert.deepEqual(Object.keys(refused.error), ['code', 'message', 'paths'])
    assert.deepEqual(
      [refused.eventId, refused.error.code, refused.error.paths],
      [late.eventId, 'EVENT_TIME_SKEW', ['/timestamp']],
    )
    assert.match(refused.error.message, /is more than 1h ahead of this server's clock \(MAX_EVENT_SKEW\)$/)
    assert.match(String(offsets[1]!['offset']), /^\d+$/)
    assert.equal(dead.length, 2)
    assert.match(dead[1]![0]!.error.message, /^1 of 2 events refused: #0 EVENT_TIME_SKEW: /)

    const published = await consumeBack(topic, 2)
    assert.deepEqual(published.map(r => r.eventId).sort(), [soon.eventId, now.eventId].sort())
  })

  it('takes MAX_EVENT_SKEW from its configuration', async t => {
    const { app } = await setup(t, { maxEventSkewMs: 60_000 })
    const inFiveMinutes = userCreated('user-5m', { timestamp: new Date(Date.now() + 5 * 60_000).toISOString() })
    const res = await produce(app, inFiveMinutes)
    assert.equal(res.statusCode, 400)
    assert.match(errorOf(res).message, /is more than 1m ahead of this server's clock \(MAX_EVENT_SKEW\)$/)
    const inTwentySeconds = userCreated('user-20s', { timestamp: new Date(Date.now() + 20_000).toISOString() })
    assert.equal((await produce(app, inTwentySeconds)).statusCode, 200)
  })

  it('refuses empty and oversized batches, naming the limit', async t => {
    const { app } = await setup(t)
    const empty = await produce(app, [])
    assert.equal(empty.statusCode, 400)
    assert.equal(errorOf(empty).code, 'EMPTY_BATCH')
    const big = await produce(
      app,
      Array.from({ length: 6 }, (_, i) => userCreated(`u${i}`)),
    )
    assert.equal(big.statusCode, 400)
    assert.equal(errorOf(big).code, 'BATCH_TOO_LARGE')
    assert.match(errorOf(big).message, /at most 5 events/)
  })

  it('answers 413 past the body limit and 415 to anything but JSON', async t => {
    const { app } = await setup(t, { bodyLimitBytes: 300 })
    const large = await produce(app, { ...userCreated('u'), pad: 'x'.repeat(400) })
    assert.equal(large.statusCode, 413)
    assert.deepEqual(errorOf(large), {
      code: 'PAYLOAD_TOO_LARGE',
      message: 'body larger than 300 bytes (PRODUCE_BODY_LIMIT)',
    })

    const body = JSON.stringify(userCreated('u'))
    for (const contentType of ['text/plain', 'application/x-www-form-urlencoded', 'application/jsonx']) {
      const res = await app.inject({
        method: 'POST',
        url: '/produce',
        payload: body,
        headers: { 'content-type': contentType },
      })
      assert.equal(res.statusCode, 415, contentType)
      assert.equal(errorOf(res).code, 'UNSUPPORTED_MEDIA_TYPE')
    }
    const none = await app.inject({ method: 'POST', url: '/produce' })
    assert.equal(none.statusCode, 415)
    const charset = await produce(app, body, { 'content-type': 'application/json; charset=utf-8' })
    assert.equal(charset.statusCode, 200)
  })

  it('keeps answering 400 when the rejected sink fails, and logs a warning', async t => {
    const { app, lines } = await setup(t, { sinkFails: true })
    const res = await produce(app, { type: 'UserCreated' })
    assert.equal(res.statusCode, 400)
    assert.equal(errorOf(res).code, 'SCHEMA_VIOLATION')
    assert.ok(lines.some(l => l.msg === 'could not dead-letter rejected events' && l.level === 'warn'))
    assert.ok(lines.some(l => l.msg === 'event rejected' && l.level === 'warn'))
  })

  it('answers JSON 404s and serves /health, /ready and /metrics', async t => {
    const { app } = await setup(t)
    const notFound = await app.inject('/nope')
    assert.equal(notFound.statusCode, 404)
    assert.equal(errorOf(notFound).code, 'NOT_FOUND')
    assert.deepEqual((await app.inject('/health')).json(), { status: 'ok', version: pipelineVersion() })
    const ready = await app.inject({ url: '/ready', headers: asAdmin })
    assert.equal(ready.statusCode, 200)
    assert.deepEqual(ready.json(), { status: 'ready', checks: { kafka: { ok: true } } })
    assert.deepEqual((await app.inject('/ready')).json(), { status: 'ready' })

    assert.equal((await produce(app, userCreated('user-m'))).statusCode, 200)
    assert.equal((await produce(app, { type: 'Nope' })).statusCode, 400)
    const metrics = (await app.inject('/metrics')).body
    assert.match(metrics, /events_produced_total\{type="UserCreated",role="producer"\} 1/)
    assert.match(metrics, /events_rejected_total\{code="UNKNOWN_TYPE",role="producer"\} 1/)
    assert.match(metrics, /http_requests_total\{method="POST",route="\/produce",status="200",role="producer"\} 1/)
    assert.match(metrics, /http_latency_seconds_count\{role="producer",method="POST",route="\/produce"\} 2/)
  })

  it('answers 503 with Retry-After, and is not ready, when Kafka is unreachable', async t => {
    const publisher = await deadPublisher(t)
    const { app } = await setup(t, { publisher })
    const started = Date.now()
    const res = await produce(app, userCreated('user-down'))
    assert.equal(res.statusCode, 503)
    assert.equal(errorOf(res).code, 'KAFKA_UNAVAILABLE')
    assert.ok(Number(res.headers['retry-after']) > 0)
    assert.ok(Date.now() - started < 3000)
    const ready = await app.inject({ url: '/ready', headers: asAdmin })
    assert.equal(ready.statusCode, 503)
    assert.equal((ready.json() as { checks: { kafka: { ok: boolean } } }).checks.kafka.ok, false)
    const bare = await app.inject('/ready')
    assert.equal(bare.body, '{"status":"not ready"}')
  })

  it('answers 503 SHUTTING_DOWN once closing', async t => {
    const { app } = await setup(t)
    app.markClosing()
    const res = await produce(app, userCreated('user-late'))
    assert.equal(res.statusCode, 503)
    assert.equal(errorOf(res).code, 'SHUTTING_DOWN')
    assert.ok(res.headers['retry-after'])
    assert.equal((await app.inject('/ready')).statusCode, 503)
  })

  it('asks for PRODUCE_TOKEN before reading the body, when it is set', async t => {
    const token = 'produce-token-0123456789'
    const { app, dead, lines } = await setup(t, { produceToken: token })
    const body = JSON.stringify(userCreated('user-token'))
    for (const authorization of [undefined, 'Bearer', 'Bearer nope', `Bearer ${token}0`, `Token ${token}`, token]) {
      const res = await produce(app, body, authorization === undefined ? {} : { authorization })
      assert.equal(res.statusCode, 401, String(authorization))
      assert.equal(res.headers['www-authenticate'], 'Bearer')
      assert.deepEqual(errorOf(res), { code: 'UNAUTHORIZED', message: 'send Authorization: Bearer <PRODUCE_TOKEN>' })
    }
    // Refused before parsing: neither invalid JSON nor a body past the limit gets further than the 401.
    assert.equal((await produce(app, '{not json')).statusCode, 401)
    assert.equal((await produce(app, `"${'x'.repeat(100_000)}"`)).statusCode, 401)
    assert.equal(dead.length, 0)
    assert.equal((await produce(app, body, { authorization: `Bearer ${token}` })).statusCode, 200)
    assert.equal((await produce(app, body, { authorization: `bearer  ${token} ` })).statusCode, 200)
    assert.ok(!JSON.stringify(lines).includes(token), 'the token was logged')
    for (const url of ['/health', '/ready', '/metrics']) assert.equal((await app.inject(url)).statusCode, 200, url)
  })

  it('refuses bodies with objects too wide or too deep before parsing them, and dead-letters the text', async t => {
    const { app, dead } = await setup(t)
    const event = userCreated('user-wide')
    const data: Record<string, unknown> = { ...event.data }
    for (let i = 0; i < 65; i++) data[`k${i}`] = i
    const wide = JSON.stringify({ ...event, data })
    let res = await produce(app, wide)
    assert.equal(res.statusCode, 400)
    assert.deepEqual(errorOf(res).paths, ['/'])
    assert.match(errorOf(res).message, /more than 64 fields/)
    assert.equal(dead.at(-1)?.[0]?.payload, wide)
    res = await produce(app, `[${wide}]`)
    assert.equal(res.statusCode, 400)
    assert.equal(errorOf(res).code, 'SCHEMA_VIOLATION')
    res = await produce(app, `${'['.repeat(65)}${']'.repeat(65)}`)
    assert.equal(res.statusCode, 400)
    assert.deepEqual(errorOf(res), { code: 'INVALID_JSON', message: 'JSON nested deeper than 64 levels' })
  })

  it('answers unknown fields with a bounded report, in a single event and in a batch', async t => {
    const { app, lines } = await setup(t, { bodyLimitBytes: 1024 * 1024 })
    const event = userCreated('user-long')
    const name = 'f'.repeat(500_000)
    const res = await produce(app, { ...event, data: { ...event.data, [name]: 1 } })
    assert.equal(res.statusCode, 400)
    assert.ok(res.body.length < 1000, `${res.body.length} bytes`)
    assert.deepEqual(errorOf(res).paths, [`/data/${'f'.repeat(100)}…`])
    const many: Record<string, unknown> = { ...event.data }
    for (let i = 0; i < 40; i++) many[`${'g'.repeat(300)}${i}`] = i
    const batch = await produce(app, [
      { ...event, data: many },
      { ...event, [name]: 1 },
    ])
    assert.equal(batch.statusCode, 200)
    assert.ok(batch.body.length < 6000, `${batch.body.length} bytes`)
    for (const line of lines)
      assert.ok(JSON.stringify(line).length < 6000, `a ${JSON.stringify(line).length}-byte line`)
  })
})
