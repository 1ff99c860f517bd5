// The admin API on the consumer's port, built by the consumer role's own factory: the bearer token on every
// route, 404 without ADMIN_TOKEN, and each route's answers checked against what Redis and Kafka hold.
import assert from 'node:assert/strict'
import { Writable } from 'node:stream'
import { describe, it } from 'node:test'
import pino from 'pino'
import { loadConfig } from '../../src/config/index.ts'
import { createRedisDlq, type DeadLetter } from '../../src/dlq/index.ts'
import { endOffsets } from '../../src/kafka/index.ts'
import { createConsumerRole, stopRoles } from '../../src/roles/index.ts'
import { eventually, readTopic } from '../helpers/kafka.ts'
import { letter } from '../helpers/letters.ts'
import { type Cleanup, kafkaTopic, redisPrefix, sqliteFile } from '../helpers/resources.ts'
import { testServices } from '../helpers/services.ts'

const token = 'admin-token-for-the-tests-0123456789'
const auth = { authorization: `Bearer ${token}` }

async function consumer(t: Cleanup, topic: string, dlqKey: string, adminToken: string | undefined) {
  const lines: string[] = []
  const logger = pino(
    { level: 'debug' },
    new Writable({
      write(chunk, _enc, done) {
        lines.push(chunk.toString())
        done()
      },
    }),
  )
  const config = loadConfig({
    KAFKA_BROKERS: testServices.kafkaBrokers.join(','),
    KAFKA_TOPIC: topic,
    REDIS_ADDR: testServices.redisAddr,
    REDIS_PASSWORD: testServices.redisPassword,
    DLQ_KEY: dlqKey,
    DATABASE_URL: `sqlite:${sqliteFile(t)}`,
    ...(adminToken ? { ADMIN_TOKEN: adminToken } : {}),
  })
  const role = await createConsumerRole(config, { logger })
  t.after(() => stopRoles([role]))
  return { role, lines }
}

const routes = [
  ['GET', '/admin/dlq'],
  ['GET', '/admin/dlq/stats'],
  ['GET', '/admin/dlq/e-1'],
  ['POST', '/admin/dlq/redrive'],
  ['GET', '/admin/dlq/redrives/rd-abc-0123abcd'],
  ['POST', '/admin/dlq/redrives/rd-abc-0123abcd/cancel'],
  ['POST', '/admin/dlq/purge'],
  ['GET', '/admin/audit'],
] as const

describe('admin API', () => {
  it('answers 401 on every route without the token or with a wrong one, and never logs it', async t => {
    const { prefix } = redisPrefix(t)
    const { role, lines } = await consumer(t, 'unused-topic', `${prefix}dlq`, token)
    for (const [method, url] of routes) {
      for (const headers of [{}, { authorization: 'Bearer wrong-token-0123456789' }, { authorization: token }]) {
        const r = await role.app.inject({ method, url, headers, ...(method === 'POST' ? { payload: {} } : {}) })
        assert.equal(r.statusCode, 401, `${method} ${url} ${JSON.stringify(headers)}`)
        assert.equal(r.json().error.code, 'UNAUTHORIZED')
      }
    }
    const r = await role.app.inject({ url: '/admin/dlq/stats', headers: auth })
    assert.equal(r.statusCode, 200)
    assert.ok(!lines.join('').includes(token), 'the token is not in any log line')
  })

  it('does not exist without ADMIN_TOKEN', async t => {
    const { prefix } = redisPrefix(t)
    const { role } = await consumer(t, 'unused-topic', `${prefix}dlq`, undefined)
    for (const [method, url] of routes) {
      const r = await role.app.inject({ method, url, headers: auth, ...(method === 'POST' ? { payload: {} } : {}) })
      assert.equal(r.statusCode, 404, `${method} ${url}`)
    }
  })

  it('lists with filters and a cursor that holds while entries arrive; shows, counts, dry-runs, purges', async t => {
    const topic = await kafkaTopic(t, 2)
    const { prefix } = redisPrefix(t)
    const key = `${prefix}dlq`
    const { role } = await consumer(t, topic, key, token)
    const dlq = createRedisDlq({ addr: testServices.redisAddr, password: testServices.redisPassword, key })
    t.after(() => dlq.close())
    const letters: DeadLetter[] = [
      ...Array.from({ length: 6 }, (_, n) => letter(n, { topic })),
      letter(6, { topic, error: { code: 'INVALID_JSON', message: 'x' }, payload: '{oops' }),
      letter(7, { topic, payload: JSON.stringify({ type: 'OrderPlaced' }) }),
      letter(8, { source: 'producer', topic: null, partition: null, offset: null }),
    ]
    await dlq.push(letters)
    const get = async (url: string) => {
      const r = await role.app.inject({ url, headers: auth })
      return { status: r.statusCode, body: r.json() }
    }

    const stats = await get('/admin/dlq/stats')
    assert.deepEqual(stats.body, {
      total: 9,
      byCode: { SCHEMA_VIOLATION: 8, INVALID_JSON: 1 },
      byType: { UserCreated: 7, OrderPlaced: 1, '(none)': 1 },
      oldest: letters[0]?.failedAt,
      newest: letters[8]?.failedAt,
    })

    const first = await get('/admin/dlq?code=SCHEMA_VIOLATION&source=consumer&limit=3')
    assert.deepEqual(
      first.body.entries.map((l: DeadLetter) => l.eventId),
      ['e-7', 'e-5', 'e-4'],
    )
    assert.equal(first.body.total, 9)
    await dlq.push([letter(50, { topic })]) // arrives at the head between two pages
    const second = await get(`/admin/dlq?code=SCHEMA_VIOLATION&source=consumer&limit=3&cursor=${first.body.next}`)
    assert.deepEqual(
      second.body.entries.map((l: DeadLetter) => l.eventId),
      ['e-3', 'e-2', 'e-1'],
    )
    const last = await get(`/admin/dlq?code=SCHEMA_VIOLATION&source=consumer&limit=3&cursor=${second.body.next}`)
    assert.deepEqual([last.body.entries.map((l: DeadLetter) => l.eventId), last.body.next], [['e-0'], null])
    assert.deepEqual(
      (await get('/admin/dlq?type=OrderPlaced')).body.entries.map((l: DeadLetter) => l.eventId),
      ['e-7'],
    )
    assert.equal((await get('/admin/dlq?limit=1001')).status, 400)
    assert.match((await get('/admin/dlq?since=tomorrow')).body.error.message, /since: expected ISO-8601/)
    assert.match((await get('/admin/dlq?cursor=zzz')).body.error.message, /cursor/)

    const shown = await get('/admin/dlq/e-3')
    assert.deepEqual(shown.body.entries, [letters[3]])
    assert.equal((await get('/admin/dlq/nope')).status, 404)

    // A dry run changes nothing: the list and the topic's end offsets are the same before and after.
    const listBefore = await dlq.list()
    const endsBefore = await endOffsets(
      { clientId: 't', bootstrapBrokers: [...testServices.kafkaBrokers] },
      topic,
      5000,
    )
    const dry = await role.app.inject({
      method: 'POST',
      url: '/admin/dlq/redrive',
      headers: auth,
      payload: { filter: { code: 'SCHEMA_VIOLATION' }, dryRun: true },
    })
    assert.equal(dry.statusCode, 200, dry.body)
    assert.equal(dry.json().count, 8)
    assert.deepEqual(dry.json().notRedrivable, [{ eventId: 'e-8', reason: dry.json().notRedrivable[0].reason }])
    const purgeDry = await role.app.inject({
      method: 'POST',
      url: '/admin/dlq/purge',
      headers: auth,
      payload: { filter: { code: 'INVALID_JSON' } },
    })
    assert.deepEqual(purgeDry.json(), { dryRun: true, count: 1, eventIds: ['e-6'], heldByRedrive: 0 })
    assert.deepEqual(await dlq.list(), listBefore)
    assert.deepEqual(
      await endOffsets({ clientId: 't', bootstrapBrokers: [...testServices.kafkaBrokers] }, topic, 5000),
      endsBefore,
    )
    assert.deepEqual((await get('/admin/audit')).body, { entries: [] }, 'dry runs are not audited')

    const purged = await role.app.inject({
      method: 'POST',
      url: '/admin/dlq/purge',
      headers: auth,
      payload: { filter: { code: 'INVALID_JSON' }, confirm: true },
    })
    assert.deepEqual(purged.json(), { dryRun: false, count: 1, eventIds: ['e-6'], heldByRedrive: 0 })
    assert.equal(await dlq.length(), 9)
    assert.equal((await dlq.eventPage('e-6', 10)).total, 0)

    // A real redrive runs in the background; its status is polled.
    const started = await role.app.inject({
      method: 'POST',
      url: '/admin/dlq/redrive',
      headers: auth,
      payload: { filter: { type: 'OrderPlaced' } },
    })
    assert.equal(started.statusCode, 202, started.body)
    const { redriveId, count } = started.json()
    assert.equal(count, 1)
    await eventually(
      'the redrive is done',
      async () => (await get(`/admin/dlq/redrives/${redriveId}`)).body.state === 'done',
    )
    const status = (await get(`/admin/dlq/redrives/${redriveId}`)).body
    assert.deepEqual([status.total, status.sent, status.failed], [1, 1, 0])
    const records = await readTopic(topic)
    assert.deepEqual(
      records.map(r => r.headers.get('eventId')),
      ['e-7'],
    )
    const audit = (await get('/admin/audit')).body.entries
    assert.deepEqual(
      audit.map((a: { action: string; who: string }) => [a.action, a.who]),
      [
        ['redrive-finish', 'admin-api 127.0.0.1'],
        ['redrive', 'admin-api 127.0.0.1'],
        ['purge', 'admin-api 127.0.0.1'],
      ],
    )
  })

  it('fixes then redrives one eventId over HTTP, and refuses a bad payload with what is wrong', async t => {
    const topic = await kafkaTopic(t, 1)
    const { prefix } = redisPrefix(t)
    const key = `${prefix}dlq`
    const { role } = await consumer(t, topic, key, token)
    const dlq = createRedisDlq({ addr: testServices.redisAddr, password: testServices.redisPassword, key })
    t.after(() => dlq.close())
    await dlq.push([letter(1, { topic })])
    const post = (payload: object) =>
      role.app.inject({ method: 'POST', url: '/admin/dlq/redrive', headers: auth, payload })
    const event = { eventId: 'e-1', type: 'UserCreated', timestamp: '2026-01-01T00:00:00Z', data: { userId: 'u-1' } }
    const bad = await post({ eventId: 'e-1', payload: event })
    assert.equal(bad.statusCode, 400)
    assert.match(bad.json().error.message, /not a valid event, nothing was sent: SCHEMA_VIOLATION/)
    assert.equal((await post({ payload: event })).statusCode, 400, 'a payload without its eventId')
    const fixed = {
      ...event,
      data: { userId: 'u-1', email: 'a@example.com', name: 'A', createdAt: '2026-01-01T00:00:00Z' },
    }
    const started = await post({ eventId: 'e-1', payload: fixed })
    assert.equal(started.statusCode, 202, started.body)
    await eventually('the fixed event is sent', async () => (await dlq.length()) === 0)
    const [record] = await readTopic(topic)
    assert.equal(record?.key?.toString(), 'u-1')
    assert.equal(JSON.parse(record?.value?.toString() ?? '{}').timestamp, '2026-01-01T00:00:00.000Z')
  })

  it('cancels a running redrive: what was not sent stays in the DLQ, free for another', async t => {
    const topic = await kafkaTopic(t, 1)
    const { prefix } = redisPrefix(t)
    const key = `${prefix}dlq`
    const { role } = await consumer(t, topic, key, token)
    const dlq = createRedisDlq({ addr: testServices.redisAddr, password: testServices.redisPassword, key })
    t.after(() => dlq.close())
    await dlq.push(Array.from({ length: 20 }, (_, n) => letter(n, { topic })))
    const started = await role.app.inject({
      method: 'POST',
      url: '/admin/dlq/redrive',
      headers: auth,
      payload: { rate: 4 },
    })
    assert.equal(started.statusCode, 202, started.body)
    const { redriveId } = started.json()
    await eventually('something is sent', async () => (await dlq.length()) < 20)
    const cancel = await role.app.inject({
      method: 'POST',
      url: `/admin/dlq/redrives/${redriveId}/cancel`,
      headers: auth,
    })
    assert.equal(cancel.statusCode, 200, cancel.body)
    const status = async () =>
      (await role.app.inject({ url: `/admin/dlq/redrives/${redriveId}`, headers: auth })).json()
    await eventually('the redrive is cancelled', async () => (await status()).state === 'cancelled')
    const sent = (await readTopic(topic)).length
    assert.equal((await status()).sent, sent)
    assert.equal(await dlq.length(), 20 - sent)
    assert.ok(sent < 20)
    const dry = await role.app.inject({
      method: 'POST',
      url: '/admin/dlq/redrive',
      headers: auth,
      payload: { dryRun: true },
    })
    assert.equal(dry.json().count, 20 - sent)
    const again = await role.app.inject({ method: 'POST', url: '/admin/dlq/redrive', headers: auth, payload: {} })
    assert.equal(again.json().count, 20 - sent, 'the cancelled job let go of its entries')
    // The second job runs in the background: it ends before the test's keys are removed.
    const second = again.json().redriveId
    await eventually('the second redrive is done', async () => {
      const res = await role.app.inject({ url: `/admin/dlq/redrives/${second}`, headers: auth })
      return res.json().state === 'done'
    })
  })
})
