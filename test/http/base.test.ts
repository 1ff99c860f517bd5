import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { type ErrorCode, PipelineError } from '../../src/errors.ts'
import { buildBaseApp, type Checks, HttpError, markClosing } from '../../src/http/index.ts'
import { createLogger, createRegistry } from '../../src/observability/index.ts'
import { pipelineVersion } from '../../src/version.ts'

type Line = Record<string, unknown>

const adminToken = 'admin-token-0123456789'
const asAdmin = { authorization: `Bearer ${adminToken}` }

function testApp(ready: () => Promise<Checks> = async () => ({ thing: { ok: true } }), bodyLimit?: number) {
  const lines: Line[] = []
  const logger = createLogger('debug', 'api', { write: (s: string) => void lines.push(JSON.parse(s) as Line) })
  const registry = createRegistry('api', false)
  const app = buildBaseApp({ role: 'api', logger, registry, ready, readyTimeoutMs: 300, bodyLimit, adminToken })
  app.get('/items/:id', async request => ({ id: (request.params as { id: string }).id }))
  app.get('/fail/:code', async request => {
    const code = (request.params as { code: ErrorCode }).code
    throw new PipelineError(code, `secret detail of ${code}`, { cause: new Error('deeper') })
  })
  app.get('/crash', async () => {
    throw new Error('database password is hunter2')
  })
  app.get('/teapot', async () => {
    throw new HttpError(418, 'BAD_REQUEST', 'short and stout')
  })
  app.post(
    '/things',
    { schema: { body: { type: 'object', required: ['a', 'b'], properties: { a: { type: 'number' } } } } },
    async () => ({ ok: true }),
  )
  return { app, lines }
}

/** No error body ever shows a stack frame or an internal error's message. */
function assertNoStack(body: string) {
  assert.doesNotMatch(body, /\n\s+at |stack|\.ts:\d+/)
}

async function json(app: FastifyInstance, url: string, headers: Record<string, string> = {}) {
  const res = await app.inject({ method: 'GET', url, headers })
  assertNoStack(res.body)
  return { res, body: res.json() as Record<string, unknown> }
}

describe('base app', () => {
  it('answers GET / with the routes this port serves', async () => {
    const { app } = testApp()
    const { res, body } = await json(app, '/')
    assert.equal(res.statusCode, 200)
    assert.equal(body['role'], 'api')
    const routes = body['routes'] as string[]
    for (const route of ['GET /health', 'GET /ready', 'GET /metrics', 'GET /items/:id', 'POST /things']) {
      assert.ok(routes.includes(route), `${route} in ${routes.join(', ')}`)
    }
    assert.ok(!routes.some(r => r.startsWith('HEAD ')))
  })

  it('logs probe requests at DEBUG and the rest at INFO', async () => {
    const { app, lines } = testApp()
    for (const url of ['/health', '/ready', '/metrics?x=1', '/items/a']) await app.inject(url)
    const levels = (path: string) =>
      lines
        .filter(l => l['msg'] === 'incoming request' && String((l['req'] as { url: string }).url).startsWith(path))
        .map(l => l['level'])
    // The logger writes level labels.
    const debug = 'debug'
    const info = 'info'
    for (const probe of ['/health', '/ready', '/metrics']) assert.deepEqual(levels(probe), [debug], probe)
    assert.deepEqual(levels('/items/a'), [info])
    assert.ok(lines.some(l => l['msg'] === 'request completed' && l['level'] === debug))
  })

  it('answers /health', async () => {
    const { app } = testApp()
    const { res, body } = await json(app, '/health')
    assert.equal(res.statusCode, 200)
    assert.deepEqual(body, { status: 'ok', version: pipelineVersion() })
  })

  it('answers /ready from the checks: 200 when all pass, 503 when one fails, throws or hangs', async () => {
    let checks: () => Promise<Checks> = async () => ({ kafka: { ok: true }, db: { ok: true } })
    const { app } = testApp(() => checks())
    let r = await json(app, '/ready', asAdmin)
    assert.equal(r.res.statusCode, 200)
    assert.deepEqual(r.body, { status: 'ready', checks: { kafka: { ok: true }, db: { ok: true } } })

    checks = async () => ({ kafka: { ok: true }, db: { ok: false, error: 'connection refused to 10.0.0.7:5432' } })
    r = await json(app, '/ready', asAdmin)
    assert.equal(r.res.statusCode, 503)
    assert.deepEqual(r.body, {
      status: 'not ready',
      checks: { kafka: { ok: true }, db: { ok: false, error: 'connection refused to 10.0.0.7:5432' } },
    })

    checks = async () => {
      throw new Error('probe exploded')
    }
    r = await json(app, '/ready', asAdmin)
    assert.equal(r.res.statusCode, 503)
    assert.equal(r.body['status'], 'not ready')

    checks = () => new Promise(() => {})
    r = await json(app, '/ready', asAdmin)
    assert.equal(r.res.statusCode, 503)
    assert.match(JSON.stringify(r.body), /did not answer within 300 ms/)
  })

  it('answers /ready with a bare status to anyone without the admin token', async () => {
    let checks: () => Promise<Checks> = async () => ({ db: { ok: true } })
    const { app } = testApp(() => checks())
    const anonymous: Record<string, string>[] = [
      {},
      { authorization: 'Bearer wrong' },
      { authorization: adminToken },
      { authorization: 'Basic x' },
    ]
    for (const headers of anonymous) {
      const r = await json(app, '/ready', headers)
      assert.equal(r.res.statusCode, 200)
      assert.deepEqual(r.body, { status: 'ready' })
    }
    checks = async () => ({ db: { ok: false, error: 'password authentication failed for user "sa" at 10.0.0.7' } })
    for (const headers of anonymous) {
      const r = await json(app, '/ready', headers)
      assert.equal(r.res.statusCode, 503)
      assert.equal(r.res.body, '{"status":"not ready"}')
    }
    // The scheme is case-insensitive (RFC 6750).
    const r = await json(app, '/ready', { authorization: `bearer ${adminToken}` })
    assert.match(r.res.body, /password authentication failed/)
  })

  it('never shows /ready details when no admin token is configured', async () => {
    const logger = createLogger('silent', 'api')
    const ready = async () => ({ db: { ok: false, error: 'secret address 10.0.0.7' } })
    const app = buildBaseApp({ role: 'api', logger, registry: createRegistry('api', false), ready })
    const attempts: Record<string, string>[] = [{}, { authorization: 'Bearer ' }, { authorization: 'Bearer undefined' }]
    for (const headers of attempts) {
      const r = await json(app, '/ready', headers)
      assert.equal(r.res.statusCode, 503)
      assert.equal(r.res.body, '{"status":"not ready"}')
    }
  })

  it('answers /ready 503 once closing, whatever the checks say', async () => {
    const { app } = testApp()
    assert.equal(app.closing, false)
    markClosing(app)
    assert.equal(app.closing, true)
    const { res, body } = await json(app, '/ready', asAdmin)
    assert.equal(res.statusCode, 503)
    assert.deepEqual(body, { status: 'not ready', checks: { shutdown: { ok: false, error: 'shutting down' } } })
    assert.deepEqual((await json(app, '/ready')).body, { status: 'not ready' })
    assert.equal((await app.inject('/health')).statusCode, 200)
  })

  it('answers unknown routes with a JSON 404', async () => {
    const { app } = testApp()
    const { res, body } = await json(app, '/nowhere?x=1')
    assert.equal(res.statusCode, 404)
    assert.match(res.headers['content-type'] as string, /^application\/json/)
    assert.deepEqual(body, { error: { code: 'NOT_FOUND', message: 'no route for GET /nowhere' } })
  })

  it('maps PipelineError codes to statuses, with Retry-After on 503s', async () => {
    const { app } = testApp()
    const expected: [ErrorCode, number][] = [
      ['SCHEMA_VIOLATION', 400],
      ['UNKNOWN_TYPE', 400],
      ['INVALID_JSON', 400],
      ['KAFKA_UNAVAILABLE', 503],
      ['DB_UNAVAILABLE', 503],
      ['SHUTTING_DOWN', 503],
      ['INTERNAL', 500],
    ]
    for (const [code, status] of expected) {
      const { res, body } = await json(app, `/fail/${code}`)
      assert.equal(res.statusCode, status, code)
      const error = body['error'] as Record<string, unknown>
      assert.equal(error['code'], code)
      assert.equal(res.headers['retry-after'] !== undefined, status === 503, `${code} Retry-After`)
      if (status === 500) assert.equal(error['message'], 'internal error')
      else assert.equal(error['message'], `secret detail of ${code}`)
      if (status === 400 && code !== 'INVALID_JSON') assert.deepEqual(error['paths'], [])
    }
  })

  it('turns anything unexpected into a generic 500 and logs the real error', async () => {
    const { app, lines } = testApp()
    const { res, body } = await json(app, '/crash')
    assert.equal(res.statusCode, 500)
    assert.deepEqual(body, { error: { code: 'INTERNAL', message: 'internal error' } })
    assert.doesNotMatch(res.body, /hunter2/)
    const logged = lines.find(l => l['msg'] === 'request failed')
    assert.ok(logged)
    assert.match(JSON.stringify(logged), /hunter2/)
    assert.equal(logged['reqId'], res.headers['x-request-id'])
  })

  it('keeps the status of HTTP errors and of Fastify’s own 4xx', async () => {
    const { app } = testApp(undefined, 64)
    const teapot = await app.inject('/teapot')
    assert.equal(teapot.statusCode, 418)
    assert.deepEqual(teapot.json(), { error: { code: 'BAD_REQUEST', message: 'short and stout' } })

    const post = (payload: string, contentType = 'application/json') =>
      app.inject({ method: 'POST', url: '/things', payload, headers: { 'content-type': contentType } })
    const cases: [Awaited<ReturnType<typeof post>>, number, string][] = [
      [await post('{"a":'), 400, 'INVALID_JSON'],
      [await post(''), 400, 'INVALID_JSON'],
      [await post(JSON.stringify({ a: 1, b: 'x'.repeat(100) })), 413, 'PAYLOAD_TOO_LARGE'],
      [await post('<a/>', 'application/xml'), 415, 'UNSUPPORTED_MEDIA_TYPE'],
      [await post('{"a":"x"}'), 400, 'SCHEMA_VIOLATION'],
    ]
    for (const [res, status, code] of cases) {
      assertNoStack(res.body)
      assert.equal(res.statusCode, status, code)
      assert.equal((res.json() as { error: { code: string } }).error.code, code)
    }
    // The 413 names the limit.
    assert.equal((cases[2]![0].json() as { error: { message: string } }).error.message, 'body larger than 64 bytes')
    const validation = (cases[4]![0].json() as { error: { paths: string[] } }).error
    assert.ok(validation.paths.length > 0)
  })

  it('honours x-request-id, generates one otherwise, and logs it with every request line', async () => {
    const { app, lines } = testApp()
    const given = await app.inject({ url: '/items/1', headers: { 'x-request-id': 'client-id-42' } })
    assert.equal(given.headers['x-request-id'], 'client-id-42')
    const requestLines = lines.filter(l => l['reqId'] !== undefined)
    assert.ok(requestLines.length >= 2)
    assert.ok(requestLines.every(l => l['reqId'] === 'client-id-42'))

    const generated = await app.inject('/items/2')
    assert.match(generated.headers['x-request-id'] as string, /^[0-9a-f-]{36}$/)
    const forged = await app.inject({ url: '/items/3', headers: { 'x-request-id': 'a b\n{"level":"fatal"}' } })
    assert.match(forged.headers['x-request-id'] as string, /^[0-9a-f-]{36}$/)
    const notFound = await app.inject({ url: '/nope', headers: { 'x-request-id': 'nf-1' } })
    assert.equal(notFound.headers['x-request-id'], 'nf-1')
  })

  it('serves HTTP metrics by route pattern on /metrics', async () => {
    const { app } = testApp()
    await app.inject('/items/1')
    await app.inject('/items/2')
    await app.inject('/nope/123')
    const res = await app.inject('/metrics')
    assert.equal(res.statusCode, 200)
    assert.match(res.headers['content-type'] as string, /^text\/plain; version=0\.0\.4/)
    assert.match(res.body, /http_requests_total\{method="GET",route="\/items\/:id",status="200",role="api"\} 2/)
    assert.match(res.body, /http_requests_total\{method="GET",route="unknown",status="404",role="api"\} 1/)
    assert.match(res.body, /http_latency_seconds_bucket\{le="[\d.]+",role="api",method="GET",route="\/items\/:id"\} 2/)
    assert.doesNotMatch(res.body, /route="\/items\/1"/)
  })
})
