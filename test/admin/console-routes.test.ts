// The console's page and assets on the consumer's app: served to browsers with a strict CSP, JSON for others,
// the overview behind the admin token.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { Registry } from 'prom-client'
import { consolePage, registerConsoleRoutes } from '../../src/admin/index.ts'
import { buildBaseApp, prefersHtml } from '../../src/http/index.ts'
import { createLogger } from '../../src/observability/index.ts'

const token = 'console-routes-test-token'

function app() {
  const built = buildBaseApp({
    role: 'consumer',
    logger: createLogger('silent', 'consumer'),
    registry: new Registry(),
    ready: async () => ({ kafka: { ok: true } }),
    adminToken: token,
    page: consolePage(),
  })
  registerConsoleRoutes(built, token, {
    topic: 'events',
    group: 'g',
    producerUrl: 'http://127.0.0.1:9',
    apiUrl: 'http://127.0.0.1:9',
    selfUrl: '(this process)',
    offsets: {
      ends: async () => new Map([[0, 5n]]),
      committed: async () => new Map([[0, 3n]]),
      close: async () => {},
    },
    pendingStats: async () => ({ count: 2, capped: false, oldestSince: new Date(Date.now() - 5000).toISOString() }),
    timeoutMs: 500,
    events: {
      store: {
        eventFacts: async () => ({
          logged: undefined,
          row: undefined,
          pending: [],
          ledger: {
            sku: 'sku-1',
            delta: -2,
            source: { topic: 'events', partition: 1, offset: 7n },
            appliedAt: '2026-01-01T00:00:00.000Z',
          },
        }),
      },
      deadLetters: async () => ({ letters: [], total: 0 }),
    },
  })
  return built
}

describe('console routes', () => {
  it('serves the page to a browser with a CSP of this origin only, and JSON to everyone else', async () => {
    const a = app()
    const html = await a.inject({ url: '/', headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' } })
    assert.equal(html.statusCode, 200)
    assert.match(html.headers['content-type'] as string, /^text\/html/)
    assert.match(html.headers['content-security-policy'] as string, /default-src 'none'; script-src 'self'/)
    assert.match(html.body, /<title>event-pipeline console<\/title>/)
    const json = await a.inject({ url: '/', headers: { accept: '*/*' } })
    assert.equal(json.json().role, 'consumer')
    const script = await a.inject({ url: '/console/console.js' })
    assert.match(script.headers['content-type'] as string, /^text\/javascript/)
    assert.equal(script.headers['x-content-type-options'], 'nosniff')
  })

  it('answers the overview to the admin token only', async () => {
    const a = app()
    assert.equal((await a.inject({ url: '/admin/overview' })).statusCode, 401)
    assert.equal(
      (await a.inject({ url: '/admin/overview', headers: { authorization: 'Bearer wrong' } })).statusCode,
      401,
    )
    const ok = await a.inject({ url: '/admin/overview', headers: { authorization: `Bearer ${token}` } })
    assert.equal(ok.statusCode, 200)
    const body = ok.json()
    assert.deepEqual(body.partitions, [{ partition: 0, end: 5, committed: 3, lag: 2 }])
    assert.equal(body.pending.count, 2)
    assert.equal(body.pending.capped, false)
    assert.equal(body.roles.producer.health, 'unreachable')
    assert.equal(body.roles.consumer.ready, 'ready')
  })

  it("answers an event's status to the admin token only, as the read API does", async () => {
    const a = app()
    assert.equal((await a.inject({ url: '/admin/events/e-1' })).statusCode, 401)
    const ok = await a.inject({ url: '/admin/events/e-1', headers: { authorization: `Bearer ${token}` } })
    assert.equal(ok.statusCode, 200)
    assert.equal(ok.json().status, 'applied')
    assert.equal(ok.json().table, 'inventory')
    assert.equal(ok.json().key, 'sku-1')
  })
})

describe('prefersHtml', () => {
  it('is true only when text/html comes before JSON', () => {
    assert.equal(prefersHtml('text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8'), true)
    assert.equal(prefersHtml('*/*'), false)
    assert.equal(prefersHtml(undefined), false)
    assert.equal(prefersHtml('application/json, text/html'), false)
  })
})
