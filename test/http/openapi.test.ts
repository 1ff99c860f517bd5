// GET /openapi.json on each role's port: a valid OpenAPI 3.1 document (checked by a maintained validator, not by
// us) that describes every route the role registered, with every method, and whose answers are the ones the
// roles give. The roles are built by their factories, so a route another module adds to a role later (the admin
// API, a new read route) fails here until it is described.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { Validator } from '@seriousme/openapi-schema-validator'
import type { FastifyInstance } from 'fastify'
import { loadConfig } from '../../src/config/index.ts'
import { buildBaseApp } from '../../src/http/index.ts'
import { createLogger, createRegistry } from '../../src/observability/index.ts'
import {
  createApiRole,
  createConsumerRole,
  createProducerRole,
  type RoleInstance,
  stopRoles,
} from '../../src/roles/index.ts'
import { type Cleanup, kafkaTopic, redisPrefix, sqliteFile } from '../helpers/resources.ts'
import { testServices } from '../helpers/services.ts'
import {
  answerChecker,
  collectRoutes,
  type OpenApiDocument,
  openApiPath,
  type Route,
  undescribed,
} from './openapi-check.ts'

const tokens = {
  ADMIN_TOKEN: 'admin-token-0123456789',
  PRODUCE_TOKEN: 'produce-token-0123456789',
  READ_TOKEN: 'read-token-0123456789',
}

async function roles(t: Cleanup, withTokens: boolean): Promise<RoleInstance[]> {
  const topic = await kafkaTopic(t, 1)
  const { prefix } = redisPrefix(t)
  const config = loadConfig({
    KAFKA_BROKERS: testServices.kafkaBrokers.join(','),
    KAFKA_TOPIC: topic,
    KAFKA_GROUP_ID: `group-${topic}`,
    REDIS_ADDR: testServices.redisAddr,
    REDIS_PASSWORD: testServices.redisPassword,
    DLQ_KEY: `${prefix}dlq`,
    DATABASE_URL: `sqlite:${sqliteFile(t)}`,
    LOG_LEVEL: 'ERROR',
    ...(withTokens ? tokens : {}),
  })
  const built = [await createProducerRole(config), await createConsumerRole(config), await createApiRole(config)]
  t.after(() => stopRoles(built))
  return built
}

async function documentOf(app: FastifyInstance): Promise<OpenApiDocument> {
  const res = await app.inject('/openapi.json')
  assert.equal(res.statusCode, 200, res.body)
  return res.json() as OpenApiDocument
}

async function assertValid(doc: OpenApiDocument, what: string): Promise<void> {
  const result = await new Validator().validate(doc as unknown as Record<string, unknown>)
  assert.ok(result.valid, `${what}: ${JSON.stringify(result.errors, null, 1)?.slice(0, 3000)}`)
  assert.equal(doc.openapi, '3.1.0')
}

/** A request for a route, its path parameters filled in; POST bodies are an empty JSON object. */
function request(route: Route, headers: Record<string, string>) {
  const url = route.url.replace(/:\w+/g, 'no-such-id')
  const post = route.method === 'POST'
  return {
    method: route.method as 'GET',
    url,
    headers: post ? { ...headers, 'content-type': 'application/json' } : headers,
    ...(post ? { payload: '{}' } : {}),
  }
}

describe('OpenAPI documents', () => {
  it('each role serves a valid OpenAPI 3.1 document describing every route it registered', async t => {
    for (const role of await roles(t, true)) {
      const registered = collectRoutes(role.app)
      const doc = await documentOf(role.app)
      await assertValid(doc, role.role)
      assert.ok(registered.length >= 10, `${role.role}: the routes were seen (${registered.length})`)
      // GET / lists what its own onRoute hook saw from the start: a route added before ours would show here.
      const index = (await role.app.inject('/')).json() as { routes: string[] }
      for (const entry of index.routes) {
        assert.ok(
          registered.some(r => `${r.method} ${r.url}` === entry),
          `${role.role}: ${entry} was added before the test could see it`,
        )
      }
      assert.deepEqual(undescribed(doc, registered), [], role.role)
      // Nothing in the document that the app does not serve.
      const served = new Set(registered.map(r => `${r.method.toLowerCase()} ${openApiPath(r.url)}`))
      for (const [path, item] of Object.entries(doc.paths)) {
        for (const method of Object.keys(item)) assert.ok(served.has(`${method} ${path}`), `${method} ${path}`)
      }
    }
  })

  it('every answer the roles give, with and without tokens, is one their document lists, in its shape', async t => {
    for (const withTokens of [true, false]) {
      for (const role of await roles(t, withTokens)) {
        const registered = collectRoutes(role.app)
        const doc = await documentOf(role.app)
        const check = answerChecker(doc)
        const secured = (route: Route) => doc.paths[openApiPath(route.url)]?.[route.method.toLowerCase()]?.security
        for (const route of registered) {
          const attempts: Record<string, string>[] = [{}]
          // With a token only for reads: a POST with the token could change state.
          if (withTokens && (route.method === 'GET' || route.method === 'HEAD')) {
            attempts.push({ authorization: `Bearer ${tokens.ADMIN_TOKEN}` })
            attempts.push({ authorization: `Bearer ${tokens.READ_TOKEN}` })
          }
          for (const headers of attempts) {
            const res = await role.app.inject(request(route, headers))
            const problem = check(route, res.statusCode, String(res.headers['content-type'] ?? ''), res.body)
            assert.equal(problem, undefined, `${role.role} ${JSON.stringify(headers)}: ${problem}`)
            if (res.statusCode === 401) {
              const security = secured(route)
              assert.ok(security?.length === 1, `${role.role} ${route.method} ${route.url} requires its bearer`)
            }
          }
        }
        if (!withTokens) {
          for (const [path, item] of Object.entries(doc.paths)) {
            for (const [method, operation] of Object.entries(item)) {
              assert.equal(operation.security, undefined, `${method} ${path}: no token is set`)
              assert.equal(operation.responses?.['401'], undefined, `${method} ${path}: no token is set`)
            }
          }
        }
      }
    }
  })

  it('the check fails for a route without a schema, and for a hidden one', async () => {
    const app = buildBaseApp({
      role: 'api',
      logger: createLogger('silent', 'api'),
      registry: createRegistry('api', false),
      ready: async () => ({}),
    })
    const registered = collectRoutes(app)
    app.register(async scope => {
      scope.get('/bare/:id', async () => ({ ok: true }))
      scope.post('/hidden', { schema: { hide: true } }, async () => ({ ok: true }))
    })
    const doc = await documentOf(app)
    await assertValid(doc, 'base app')
    assert.deepEqual(undescribed(doc, registered), [
      'GET /bare/:id: no summary',
      'GET /bare/:id: no 500 answer',
      'GET /bare/:id: answer 200 has no description of its own',
      'HEAD /bare/:id: no summary',
      'HEAD /bare/:id: no 500 answer',
      'HEAD /bare/:id: answer 200 has no description of its own',
      'POST /hidden: not in the document',
    ])
    const check = answerChecker(doc)
    const route = { method: 'GET', url: '/ready' }
    assert.match(String(check(route, 404, 'application/json', '{}')), /does not list/)
    assert.match(String(check(route, 200, 'application/json', '{"status":"fine"}')), /does not describe/)
    await app.close()
  })

  it('/openapi.json needs no token, and is the same bytes every time, with an ETag and a 304', async t => {
    const [producer] = await roles(t, true)
    const app = (producer as RoleInstance).app
    const first = await app.inject('/openapi.json')
    const second = await app.inject('/openapi.json')
    assert.equal(first.statusCode, 200)
    assert.equal(first.body, second.body)
    assert.match(String(first.headers['content-type']), /^application\/json/)
    assert.match(String(first.headers['cache-control']), /max-age=\d+/)
    const etag = String(first.headers['etag'])
    assert.match(etag, /^"[\w-]+"$/)
    const again = await app.inject({ url: '/openapi.json', headers: { 'if-none-match': `"other", ${etag}` } })
    assert.equal(again.statusCode, 304)
    assert.equal(again.body, '')
    const stale = await app.inject({ url: '/openapi.json', headers: { 'if-none-match': '"other"' } })
    assert.equal(stale.statusCode, 200)
    const doc = first.json() as OpenApiDocument
    assert.equal(doc.paths['/produce']?.['post']?.security?.[0]?.['bearer']?.length, 0)
    assert.ok(doc.paths['/produce']?.['post']?.responses?.['401'])
    assert.equal(doc.paths['/openapi.json']?.['get']?.security, undefined)
  })
})
