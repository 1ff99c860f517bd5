import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { buildApiApp } from '../../src/api/index.ts'
import { parseEvent } from '../../src/events/index.ts'
import { createLogger, createRegistry } from '../../src/observability/index.ts'
import { createStore } from '../../src/store/index.ts'
import { inventoryAdjusted, orderPlaced, paymentSettled, userCreated } from '../helpers/events.ts'
import { type Cleanup, sqliteFile } from '../helpers/resources.ts'

const adminToken = 'admin-token-0123456789'

async function setup(t: Cleanup, readToken?: string, readWaitMs?: number) {
  const store = await createStore({ engine: 'sqlite', path: sqliteFile(t) })
  await store.migrate()
  const app = buildApiApp({
    store,
    logger: createLogger('silent', 'api'),
    registry: createRegistry('api', false),
    adminToken,
    readToken,
    readWaitMs,
  })
  t.after(async () => {
    await app.close()
    await store.close()
  })
  let offset = 0n
  const apply = (...events: unknown[]) => {
    const batch = events.map(e => ({
      event: parseEvent(e),
      source: { topic: 'events', partition: 0, offset: offset++ },
    }))
    return store.applyBatch(
      batch,
      batch.map(e => e.source),
    )
  }
  return { app, store, apply }
}

describe('read API, read-your-own-writes', () => {
  it('carries X-Applied-Offsets on every read answer, 404 and 400 included', async t => {
    const { app, apply } = await setup(t)
    assert.equal((await app.inject('/users/nobody')).headers['x-applied-offsets'], '')
    await apply(userCreated('user-1'), userCreated('user-2'))
    // A value in memory older than 100 ms is not served: the next read sees the new offsets.
    await new Promise(resolve => setTimeout(resolve, 120))
    for (const [url, status] of [
      ['/users/user-2', 200],
      ['/orders/none', 404],
      ['/inventory/none', 404],
      // No DLQ in this app: an eventId the store does not know cannot be decided (503 DLQ_UNAVAILABLE).
      ['/events/none', 503],
      ['/users/%20x', 400],
    ] as const) {
      const response = await app.inject(url)
      assert.equal(response.statusCode, status, url)
      assert.equal(response.headers['x-applied-offsets'], '0:1', url)
    }
    const health = await app.inject('/health')
    assert.equal(health.headers['x-applied-offsets'], undefined, 'probes are not reads')
  })

  it('answers at once when after= is covered, 400 when it is malformed, 503 with Retry-After past the wait', async t => {
    const { app, apply } = await setup(t, undefined, 150)
    await apply(userCreated('user-1'))
    const covered = await app.inject('/users/user-1?after=0:0')
    assert.equal(covered.statusCode, 200)
    assert.equal(covered.json().user.userId, 'user-1')
    const malformed = await app.inject('/users/user-1?after=0:x')
    assert.equal(malformed.statusCode, 400)
    assert.equal(malformed.json().error.code, 'INVALID_AFTER')
    const started = Date.now()
    const late = await app.inject('/users/user-1?after=0:1,2:7')
    assert.ok(Date.now() - started >= 140, 'waited READ_WAIT_MS')
    assert.equal(late.statusCode, 503)
    assert.equal(late.headers['retry-after'], '1')
    assert.equal(late.headers['x-applied-offsets'], '0:0')
    assert.equal(late.json().error.code, 'NOT_APPLIED_YET')
    assert.match(late.json().error.message, /0:1,2:7/)
    // A write that lands while the read waits is seen by it.
    const waiting = app.inject('/users/user-2?after=0:1')
    await new Promise(resolve => setTimeout(resolve, 30))
    await apply(userCreated('user-2'))
    const seen = await waiting
    assert.equal(seen.statusCode, 200)
    assert.equal(seen.json().user.userId, 'user-2')
    assert.equal(seen.headers['x-applied-offsets'], '0:1')
  })
})

describe('read API', () => {
  it('GET /users/:id returns the user and its 5 newest orders, newest first', async t => {
    const { app, apply } = await setup(t)
    await apply(userCreated('user-123', { name: 'Alice Example' }))
    const orders = Array.from({ length: 7 }, (_, i) =>
      orderPlaced(`order-${i}`, 'user-123', { createdAt: `2025-01-1${i}T12:00:00Z`, total: 10 + i }),
    )
    await apply(...orders.reverse())
    const response = await app.inject('/users/user-123')
    assert.equal(response.statusCode, 200)
    const body = response.json()
    assert.equal(body.user.userId, 'user-123')
    assert.equal(body.user.name, 'Alice Example')
    assert.deepEqual(
      body.recentOrders.map((o: { orderId: string }) => o.orderId),
      ['order-6', 'order-5', 'order-4', 'order-3', 'order-2'],
    )
    assert.equal(body.recentOrders[0].total, 16)
  })

  it('GET /orders/:id returns the order, with payment null until it is settled', async t => {
    const { app, apply } = await setup(t)
    await apply(userCreated('u'), orderPlaced('order-456', 'u', { total: 123.45 }))
    let body = (await app.inject('/orders/order-456')).json()
    assert.equal(body.order.total, 123.45)
    assert.equal(body.order.status, 'placed')
    assert.equal(body.payment, null)
    await apply(paymentSettled('order-456', { amount: 123.45 }))
    body = (await app.inject('/orders/order-456')).json()
    assert.equal(body.payment.status, 'settled')
    assert.equal(body.payment.amount, 123.45)
  })

  it('GET /inventory/:sku returns the quantity and the last adjustment time', async t => {
    const { app, apply } = await setup(t)
    await apply(
      inventoryAdjusted('sku-789', 5, { timestamp: '2025-01-11T12:00:00Z' }),
      inventoryAdjusted('sku-789', -2, { timestamp: '2025-01-11T13:00:00Z' }),
    )
    assert.deepEqual((await app.inject('/inventory/sku-789')).json(), {
      sku: 'sku-789',
      quantity: 3,
      lastAdjustedAt: '2025-01-11T13:00:00.000Z',
    })
  })

  it('answers exactly what the store holds, every field, whatever characters the values hold', async t => {
    const { app, store, apply } = await setup(t)
    const name = `Zoë "quoted" \\ back\nline \u2028 🎉 </script>`
    await apply(
      userCreated('u"1', { name, email: name }),
      orderPlaced('o\\1', 'u"1', { total: 0.1 }),
      paymentSettled('o\\1', { amount: 0.1, status: name }),
      inventoryAdjusted('s/1', -7),
    )
    const read = async (path: string) => {
      const r = await app.inject(path)
      assert.equal(r.statusCode, 200, path)
      return JSON.parse(r.body) as unknown
    }
    assert.deepEqual(await read(`/users/${encodeURIComponent('u"1')}`), {
      user: await store.getUser('u"1'),
      recentOrders: await store.getRecentOrders('u"1', 5),
    })
    assert.deepEqual(await read(`/orders/${encodeURIComponent('o\\1')}`), {
      order: await store.getOrder('o\\1'),
      payment: await store.getPayment('o\\1'),
    })
    assert.deepEqual(await read(`/inventory/${encodeURIComponent('s/1')}`), await store.getInventory('s/1'))
  })

  it('answers JSON 404 for unknown ids and 400 for malformed ones', async t => {
    const { app } = await setup(t)
    for (const path of ['/users/nobody', '/orders/nothing', '/inventory/none']) {
      const r = await app.inject(path)
      assert.equal(r.statusCode, 404, path)
      assert.equal(r.json().error.code, 'NOT_FOUND')
    }
    for (const path of [`/users/${'x'.repeat(101)}`, '/orders/%20padded', '/inventory/a%00b']) {
      const r = await app.inject(path)
      assert.equal(r.statusCode, 400, path)
      assert.equal(r.json().error.code, 'INVALID_ID')
    }
    assert.equal((await app.inject('/nowhere')).json().error.code, 'NOT_FOUND')
  })

  it('is ready while the database answers, and says so when it does not', async t => {
    const { app, store } = await setup(t)
    assert.equal((await app.inject('/ready')).statusCode, 200)
    await store.close()
    const r = await app.inject({ url: '/ready', headers: { authorization: `Bearer ${adminToken}` } })
    assert.equal(r.statusCode, 503)
    assert.equal(r.json().checks.database.ok, false)
    const anonymous = await app.inject('/ready')
    assert.equal(anonymous.statusCode, 503)
    assert.deepEqual(anonymous.json(), { status: 'not ready' })
  })

  it('asks for READ_TOKEN on the read routes when it is set, and only there', async t => {
    const readToken = 'read-token-0123456789'
    const { app, apply } = await setup(t, readToken)
    await apply(userCreated('u-1'), inventoryAdjusted('sku-1', 3))
    for (const url of ['/users/u-1', '/orders/o-1', '/inventory/sku-1']) {
      for (const authorization of [undefined, 'Bearer nope', `Bearer ${readToken}x`, `Basic ${readToken}`, readToken]) {
        const r = await app.inject({ url, headers: authorization === undefined ? {} : { authorization } })
        assert.equal(r.statusCode, 401, `${url} with ${authorization}`)
        assert.equal(r.headers['www-authenticate'], 'Bearer')
        assert.deepEqual(r.json(), {
          error: { code: 'UNAUTHORIZED', message: 'send Authorization: Bearer <READ_TOKEN>' },
        })
      }
    }
    const ok = (url: string) => app.inject({ url, headers: { authorization: `Bearer ${readToken}` } })
    assert.equal((await ok('/users/u-1')).statusCode, 200)
    assert.equal((await ok('/inventory/sku-1')).json().quantity, 3)
    assert.equal((await ok('/orders/o-1')).statusCode, 404)
    for (const url of ['/health', '/ready', '/metrics']) assert.equal((await app.inject(url)).statusCode, 200, url)
  })

  it('counts requests by route pattern in /metrics', async t => {
    const { app } = await setup(t)
    await app.inject('/users/u-1')
    const text = (await app.inject('/metrics')).body
    assert.match(text, /http_requests_total\{[^}]*route="\/users\/:id"[^}]*\} 1/)
    assert.match(text, /http_latency_seconds_bucket\{/)
  })
})
