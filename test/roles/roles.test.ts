// The role factories against the real services: what `pipeline` runs is what these build.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { loadConfig } from '../../src/config/index.ts'
import { createConsumerRole, createProducerRole, stopRoles } from '../../src/roles/index.ts'
import { kafkaTopic, redisPrefix, sqliteFile } from '../helpers/resources.ts'
import { testServices } from '../helpers/services.ts'

const env = (topic: string, dlqKey: string, more: Record<string, string> = {}) =>
  loadConfig({
    KAFKA_BROKERS: testServices.kafkaBrokers.join(','),
    KAFKA_TOPIC: topic,
    KAFKA_GROUP_ID: `group-${topic}`,
    REDIS_ADDR: testServices.redisAddr,
    REDIS_PASSWORD: testServices.redisPassword,
    DLQ_KEY: dlqKey,
    LOG_LEVEL: 'ERROR',
    ADMIN_TOKEN: 'admin-token-0123456789',
    ...more,
  })

describe('role factories', () => {
  it('the producer role dead-letters a refused request in the DLQ of the configuration', async t => {
    const topic = await kafkaTopic(t)
    const { prefix } = redisPrefix(t)
    const role = await createProducerRole(env(topic, `${prefix}dlq`))
    t.after(() => stopRoles([role]))
    const response = await role.app.inject({
      method: 'POST',
      url: '/produce',
      headers: { 'content-type': 'application/json' },
      payload: { eventId: 'e-1', type: 'Nope', timestamp: '2025-01-11T12:00:00Z', data: {} },
    })
    assert.equal(response.statusCode, 400)
    const [letter] = await role.dlq.list()
    assert.equal(letter?.source, 'producer')
    assert.match(letter?.payload ?? '', /"Nope"/)
  })

  it('the consumer role opens and migrates its store, joins its group and says so on /ready', async t => {
    const topic = await kafkaTopic(t)
    const { prefix } = redisPrefix(t)
    const role = await createConsumerRole(env(topic, `${prefix}dlq`, { DATABASE_URL: `sqlite:${sqliteFile(t)}` }))
    let stopped = false
    t.after(() => (stopped ? undefined : stopRoles([role])))
    await role.start()
    const deadline = Date.now() + 20_000
    while (!role.service.status().joined && Date.now() < deadline) await new Promise(r => setTimeout(r, 50))
    const ready = await role.app.inject({ url: '/ready', headers: { authorization: 'Bearer admin-token-0123456789' } })
    assert.equal(ready.statusCode, 200, ready.body)
    assert.deepEqual(ready.json(), {
      status: 'ready',
      checks: { kafka: { ok: true }, database: { ok: true }, dlq: { ok: true }, processing: { ok: true } },
    })
    await stopRoles([role])
    stopped = true
    // Closed by the role, which opened it: a query now fails.
    await assert.rejects(role.store.ping())
  })
})
