// The rebuild over HTTP on the consumer role built by its own factory, against the real Kafka, Redis and SQLite:
// the bearer token on every route, 404 without ADMIN_TOKEN, 400 on bad bodies, 409 on a second start or a
// command the state refuses, a whole rebuild run in the background of the process (start, verify, swap,
// drop-old), and each command in the audit under the caller's address.
import assert from 'node:assert/strict'
import { DatabaseSync } from 'node:sqlite'
import { describe, it } from 'node:test'
import { loadConfig } from '../../src/config/index.ts'
import { createLogger } from '../../src/observability/index.ts'
import { createConsumerRole, stopRoles } from '../../src/roles/index.ts'
import { keyOfTest, orderPlaced, type TestEvent, userCreated } from '../helpers/events.ts'
import { eventually, produceRaw } from '../helpers/kafka.ts'
import { type Cleanup, kafkaTopic, redisPrefix, sqliteFile } from '../helpers/resources.ts'
import { testServices } from '../helpers/services.ts'
import { noPending } from './settled.ts'

const token = 'admin-token-for-the-rebuild-tests-0123456789'
const auth = { authorization: `Bearer ${token}` }

const records = (events: TestEvent[]) => events.map(e => ({ key: keyOfTest(e), value: JSON.stringify(e) }))

async function consumer(t: Cleanup, topic: string, adminToken: string | undefined) {
  const { prefix } = redisPrefix(t)
  const path = sqliteFile(t)
  const config = loadConfig({
    KAFKA_BROKERS: testServices.kafkaBrokers.join(','),
    KAFKA_TOPIC: topic,
    KAFKA_GROUP_ID: `group-${topic}`,
    KAFKA_PARTITIONS: '3',
    CONSUMER_BATCH_WAIT_MS: '20',
    REDIS_ADDR: testServices.redisAddr,
    REDIS_PASSWORD: testServices.redisPassword,
    DLQ_KEY: `${prefix}dlq`,
    DATABASE_URL: `sqlite:${path}`,
    ...(adminToken ? { ADMIN_TOKEN: adminToken } : {}),
  })
  const role = await createConsumerRole(config, {
    logger: createLogger((process.env['TEST_LOG_LEVEL'] as 'info' | undefined) ?? 'silent', 'consumer'),
  })
  t.after(() => stopRoles([role]))
  return { role, path }
}

const routes = [
  ['GET', '/admin/rebuild'],
  ['POST', '/admin/rebuild/start'],
  ['POST', '/admin/rebuild/resume'],
  ['POST', '/admin/rebuild/verify'],
  ['POST', '/admin/rebuild/swap'],
  ['POST', '/admin/rebuild/rollback'],
  ['POST', '/admin/rebuild/abort'],
  ['POST', '/admin/rebuild/drop-old'],
] as const

describe('admin API: rebuild', () => {
  it('answers 401 without the token or with a wrong one, and 404 when ADMIN_TOKEN is not set', async t => {
    const { role } = await consumer(t, 'unused-topic', token)
    const { role: closed } = await consumer(t, 'unused-topic', undefined)
    for (const [method, url] of routes) {
      for (const headers of [{}, { authorization: 'Bearer wrong-token-0123456789' }]) {
        const r = await role.app.inject({ method, url, headers, ...(method === 'POST' ? { payload: {} } : {}) })
        assert.equal(r.statusCode, 401, `${method} ${url}`)
        assert.equal(r.json().error.code, 'UNAUTHORIZED')
      }
      const r = await closed.app.inject({ method, url, headers: auth, ...(method === 'POST' ? { payload: {} } : {}) })
      assert.equal(r.statusCode, 404, `${method} ${url} without ADMIN_TOKEN`)
    }
    const none = await role.app.inject({ url: '/admin/rebuild', headers: auth })
    assert.equal(none.statusCode, 404)
    assert.match(none.json().error.message, /no rebuild of this store/)
    const swap = await role.app.inject({ method: 'POST', url: '/admin/rebuild/swap', headers: auth, payload: {} })
    assert.equal(swap.statusCode, 404)
  })

  it('runs a rebuild in the background: start, 409 on a second, verify, swap, drop-old, audited', async t => {
    const topic = await kafkaTopic(t, 3)
    const { role, path } = await consumer(t, topic, token)
    await role.start()
    const events = Array.from({ length: 60 }, (_, i) => [userCreated(`u${i}`), orderPlaced(`o${i}`, `u${i}`)]).flat()
    await produceRaw(topic, records(events))
    const count = (table: string) => {
      const db = new DatabaseSync(path, { readOnly: true })
      try {
        return Number((db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n)
      } finally {
        db.close()
      }
    }
    // Orders are keyed by orderId, users by userId: an order may come before its user and wait as pending.
    await eventually(
      'the live consumer to store the events',
      () => count('users') === 60 && count('orders') === 60,
      30_000,
    )

    const post = (url: string, payload: unknown = {}) =>
      role.app.inject({ method: 'POST', url: `/admin/rebuild/${url}`, headers: auth, payload: payload as object })
    for (const [url, body] of [
      ['start', { from: 'yesterday' }],
      ['verify', { limit: 5000 }],
    ] as const) {
      const r = await post(url, body)
      assert.equal(r.statusCode, 400, `${url} ${JSON.stringify(body)}: ${r.body}`)
    }
    const started = await post('start')
    assert.equal(started.statusCode, 202, started.body)
    assert.equal(started.json().generation, 'rebuild_1')
    const second = await post('start')
    assert.equal(second.statusCode, 409)
    assert.equal(second.json().error.code, 'CONFLICT')
    assert.match(second.json().error.message, /one rebuild at a time/)

    const status = async () => (await role.app.inject({ url: '/admin/rebuild', headers: auth })).json()
    await eventually('the rebuild to catch up', async () => (await status()).state === 'caught-up', 30_000)
    const caught = await status()
    assert.equal(caught.worker.active, true)
    assert.equal(caught.progress.caughtUp, true)
    assert.equal(caught.progress.partitions.length, 3)
    assert.equal(caught.badRecords.count, 0)

    const rollback = await post('rollback')
    assert.equal(rollback.statusCode, 409)
    assert.match(rollback.json().error.message, /rebuild 1 is caught-up: cannot rollback/)

    const db = new DatabaseSync(path)
    db.exec("PRAGMA busy_timeout = 10000; UPDATE orders SET status = 'lost' WHERE order_id = 'o5'")
    db.close()
    await noPending({ engine: 'sqlite', path }, 'rebuild_1')
    const verify = await post('verify', { limit: 5 })
    assert.equal(verify.statusCode, 200, verify.body)
    const orders = verify.json().tables.find((x: { table: string }) => x.table === 'orders')
    assert.deepEqual(
      orders.differing.map((d: { key: string; live: { status: string } }) => [d.key, d.live.status]),
      [['o5', 'lost']],
    )
    assert.equal(verify.json().summary.matches, false)

    // A pause an operator set is not the swap's to lift: refused until it is resumed.
    await role.pause.pause([0], 'operator', 'maintenance')
    const held = await post('swap')
    assert.equal(held.statusCode, 409)
    assert.match(held.json().error.message, /paused already .* resume them first/)
    await role.pause.resume('all', 'operator')

    const swap = await post('swap')
    assert.equal(swap.statusCode, 202, swap.body)
    // Swapped first, then the gap closed: the lease is held until then, and drop-old waits for it.
    await eventually(
      'the swap to end',
      async () => {
        const now = await status()
        return now.state === 'swapped' && !now.worker.active
      },
      30_000,
    )
    assert.equal((await role.store.getOrder('o5'))?.status, 'placed')
    const dropped = await post('drop-old')
    assert.equal(dropped.statusCode, 200, dropped.body)
    assert.equal(dropped.json().state, 'done')

    const audit = (await role.app.inject({ url: '/admin/audit', headers: auth })).json()
    // The swap paused the live group (this process's consumer obeyed) while it swapped, and resumed it.
    assert.deepEqual(
      audit.entries
        .slice(0, 7)
        .map((e: { action: string; who: string; rebuild?: string; reason?: string }) => [
          e.action,
          e.who,
          e.rebuild ?? e.reason,
        ]),
      [
        ['rebuild-drop-old', 'admin-api 127.0.0.1', '1 rebuild_1'],
        ['consumer-resume', 'admin-api 127.0.0.1', undefined],
        ['rebuild-swap', 'admin-api 127.0.0.1', '1 rebuild_1'],
        ['consumer-pause', 'admin-api 127.0.0.1', 'rebuild 1 swap'],
        ['consumer-resume', 'operator', undefined],
        ['consumer-pause', 'operator', 'maintenance'],
        ['rebuild-start', 'admin-api 127.0.0.1', '1 rebuild_1'],
      ],
    )
  })
})
