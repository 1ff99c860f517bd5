// POST /admin/consumer/pause, /resume and GET /admin/consumer/pause on the consumer role built by its own
// factory, started (so the role's own member reports), against the real Kafka and Redis: the bearer token on
// every route, 404 without ADMIN_TOKEN, 400 on bad input with nothing changed, the member's acknowledgement in
// the answer, and each accepted request in the audit trail.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { loadConfig } from '../../src/config/index.ts'
import { createLogger } from '../../src/observability/index.ts'
import { createConsumerRole, stopRoles } from '../../src/roles/index.ts'
import { eventually } from '../helpers/kafka.ts'
import { type Cleanup, dropPauseKeys, kafkaTopic, redisPrefix, sqliteFile, uniqueName } from '../helpers/resources.ts'
import { testServices } from '../helpers/services.ts'

const token = 'admin-token-for-the-pause-routes-0123'
const auth = { authorization: `Bearer ${token}` }

async function consumer(t: Cleanup, topic: string, adminToken: string | undefined, start: boolean) {
  const { prefix } = redisPrefix(t)
  const groupId = uniqueName('group')
  dropPauseKeys(t, groupId, topic)
  const config = loadConfig({
    KAFKA_BROKERS: testServices.kafkaBrokers.join(','),
    KAFKA_TOPIC: topic,
    KAFKA_GROUP_ID: groupId,
    KAFKA_PARTITIONS: '3',
    REDIS_ADDR: testServices.redisAddr,
    REDIS_PASSWORD: testServices.redisPassword,
    DLQ_KEY: `${prefix}dlq`,
    DATABASE_URL: `sqlite:${sqliteFile(t)}`,
    ...(adminToken ? { ADMIN_TOKEN: adminToken } : {}),
  })
  const role = await createConsumerRole(config, { logger: createLogger('silent', 'consumer') })
  t.after(() => stopRoles([role]))
  if (start) await role.start()
  return role
}

const routes = [
  ['GET', '/admin/consumer/pause'],
  ['POST', '/admin/consumer/pause'],
  ['POST', '/admin/consumer/resume'],
] as const

describe('admin API: pausing the consumer', () => {
  it('answers 401 without the token or with a wrong one, 404 without ADMIN_TOKEN; nothing changes', async t => {
    const topic = await kafkaTopic(t, 3)
    const role = await consumer(t, topic, token, false)
    for (const [method, url] of routes) {
      for (const headers of [{}, { authorization: 'Bearer wrong-token-0123456789' }]) {
        const r = await role.app.inject({ method, url, headers, ...(method === 'POST' ? { payload: {} } : {}) })
        assert.equal(r.statusCode, 401, `${method} ${url}`)
      }
    }
    assert.equal((await role.pause.state()).record.revision, 0)
    const without = await consumer(t, topic, undefined, false)
    for (const [method, url] of routes) {
      const r = await without.app.inject({ method, url, headers: auth, ...(method === 'POST' ? { payload: {} } : {}) })
      assert.equal(r.statusCode, 404, `${method} ${url}`)
    }
  })

  it('refuses bad input with 400 and changes nothing', async t => {
    const topic = await kafkaTopic(t, 3)
    const role = await consumer(t, topic, token, false)
    const post = (url: string, payload: unknown) =>
      role.app.inject({ method: 'POST', url: `/admin/consumer/${url}`, headers: auth, payload: payload as object })
    for (const [url, payload, message] of [
      ['pause', { partitions: [3] }, /partition 3 is not a partition of the topic \(it has 3: 0 to 2\)/],
      ['pause', { partitions: [] }, /partitions/],
      ['pause', { partitions: Array.from({ length: 1001 }, (_, i) => i) }, /partitions/],
      ['pause', { partitions: [-1] }, /partitions/],
      ['pause', { partitions: ['a'] }, /partitions/],
      ['pause', { reason: 'x'.repeat(201) }, /reason/],
      ['pause', { all: true }, /unknown field "all": the body takes partitions, reason/],
      ['pause', { partition: [1] }, /unknown field "partition"/],
      ['resume', { partitions: [7] }, /partition 7/],
      ['resume', { reason: 'no' }, /unknown field "reason": the body takes partitions/],
    ] as const) {
      const r = await post(url, payload)
      assert.equal(r.statusCode, 400, `${url} ${JSON.stringify(payload).slice(0, 80)}: ${r.body}`)
      assert.match(r.json().error.message, message)
    }
    assert.equal((await role.pause.state()).record.revision, 0, 'nothing was written')
    assert.equal((await post('pause', {})).statusCode, 200)
    const part = await post('resume', { partitions: [1] })
    assert.equal(part.statusCode, 400)
    assert.match(part.json().error.message, /every partition is paused/)
  })

  it("pauses and resumes, answers with the member's acknowledgement, and audits both", async t => {
    const topic = await kafkaTopic(t, 3)
    const role = await consumer(t, topic, token, true)
    await eventually('the member owns every partition', () => role.service.status().partitions?.length === 3)

    const paused = await role.app.inject({
      method: 'POST',
      url: '/admin/consumer/pause',
      headers: auth,
      payload: { partitions: [2, 0], reason: 'maintenance' },
    })
    assert.equal(paused.statusCode, 200, paused.body)
    const body = paused.json()
    assert.equal(body.topic, topic)
    assert.equal(body.all, null)
    assert.deepEqual(
      body.partitions.map((p: { partition: number; by: string; reason: string }) => [p.partition, p.by, p.reason]),
      [
        [0, 'admin-api 127.0.0.1', 'maintenance'],
        [2, 'admin-api 127.0.0.1', 'maintenance'],
      ],
    )

    await eventually(
      'the member acknowledges',
      async () => {
        const state = (await role.app.inject({ url: '/admin/consumer/pause', headers: auth })).json()
        return state.idle === true && state.members.length === 1 && state.members[0].paused.join() === '0,2'
      },
      10_000,
    )

    const resumed = await role.app.inject({ method: 'POST', url: '/admin/consumer/resume', headers: auth, payload: {} })
    assert.equal(resumed.statusCode, 200)
    assert.deepEqual(resumed.json().partitions, [])

    const audit = (await role.app.inject({ url: '/admin/audit', headers: auth })).json().entries
    assert.deepEqual(
      audit.map((a: { action: string; who: string; partitions: unknown; reason?: string }) => [
        a.action,
        a.who,
        a.partitions,
        a.reason,
      ]),
      [
        ['consumer-resume', 'admin-api 127.0.0.1', 'all', undefined],
        ['consumer-pause', 'admin-api 127.0.0.1', [0, 2], 'maintenance'],
      ],
    )
  })
})
