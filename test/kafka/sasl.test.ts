// Kafka SASL against a real broker that requires it: PLAIN and SCRAM-SHA-256 through the pipeline's own
// configuration (KAFKA_SASL_*), and a wrong password refused without the password showing anywhere.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { brokerToolsMissing } from '../../dev/kafka/local-broker.ts'
import { loadConfig } from '../../src/config/index.ts'
import { kafkaAnswers } from '../../src/kafka/cluster-admin.ts'
import { connectionOf } from '../../src/kafka/options.ts'
import { privateBroker, saslUsers } from '../helpers/broker.ts'
import { userCreated } from '../helpers/events.ts'
import { eventually } from '../helpers/kafka.ts'
import { startPipeline } from '../helpers/pipeline.ts'
import { sqliteFile, uniqueName } from '../helpers/resources.ts'

describe('Kafka SASL', () => {
  it('runs the pipeline over PLAIN and SCRAM-SHA-256, and refuses a wrong password', {
    skip: brokerToolsMissing(),
  }, async t => {
    const broker = await privateBroker(t, { sasl: true })
    await broker.start()
    const settings = (mechanism: string, username: string, password: string) => ({
      KAFKA_BROKERS: broker.address,
      KAFKA_SASL_MECHANISM: mechanism,
      KAFKA_SASL_USERNAME: username,
      KAFKA_SASL_PASSWORD: password,
    })

    const wrong = connectionOf(loadConfig(settings('PLAIN', saslUsers.plain.username, 'not-the-password')), 'test')
    assert.equal(await kafkaAnswers(wrong, 3000), false, 'a wrong password is refused')
    const noSasl = connectionOf(loadConfig({ KAFKA_BROKERS: broker.address }), 'test')
    assert.equal(await kafkaAnswers(noSasl, 3000), false, 'no SASL, no access')

    for (const [mechanism, user] of [
      ['PLAIN', saslUsers.plain],
      ['SCRAM-SHA-256', saslUsers.scram],
    ] as const) {
      const p = await startPipeline(t, 'all', {
        ...settings(mechanism, user.username, user.password),
        KAFKA_TOPIC: uniqueName('sasl'),
        KAFKA_GROUP_ID: uniqueName('g'),
        DATABASE_URL: `sqlite:${sqliteFile(t)}`,
        DLQ_KEY: uniqueName('dlq'),
      })
      const e = userCreated(uniqueName('u'))
      const r = await fetch(`${p.urls.producer}/produce`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(e),
      })
      assert.equal(r.status, 200, `${mechanism}: ${await r.text()}`)
      await eventually(
        `${mechanism}: consumed and stored`,
        async () => (await fetch(`${p.urls.api}/users/${e.data.userId}`)).status === 200,
      )
      const logs = JSON.stringify(p.logs)
      assert.ok(!logs.includes(user.password), 'the SASL password is never logged')
      const { code } = await p.stop()
      assert.equal(code, 0)
    }
  })

  it('requires a user name with a mechanism, and both a certificate and its key for mutual TLS', () => {
    assert.throws(() => loadConfig({ KAFKA_SASL_MECHANISM: 'PLAIN' }), /KAFKA_SASL_USERNAME: required/)
    assert.throws(
      () => loadConfig({ KAFKA_SASL_MECHANISM: 'GSSAPI', KAFKA_SASL_USERNAME: 'u' }),
      /KAFKA_SASL_MECHANISM/,
    )
    assert.throws(
      () => loadConfig({ KAFKA_TLS_CERT_FILE: '/etc/hostname' }),
      /KAFKA_TLS_CERT_FILE and KAFKA_TLS_KEY_FILE/,
    )
    assert.throws(
      () => loadConfig({ KAFKA_TLS_CA_FILE: '/nonexistent/ca.pem' }),
      /KAFKA_TLS_CA_FILE: .* not a readable file/,
    )
    const tls = connectionOf(loadConfig({ KAFKA_TLS: 'true', KAFKA_TLS_CA_FILE: '/etc/hostname' }), 'x')
    assert.equal(tls.tls?.rejectUnauthorized, true)
    assert.ok(Buffer.isBuffer(tls.tls?.ca))
  })
})
