import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ConfigError, describeConfig, loadConfig } from '../../src/config/index.ts'

describe('loadConfig', () => {
  it('keeps the seed system defaults', () => {
    const config = loadConfig({})
    assert.deepEqual(config.kafkaBrokers, ['localhost:9092'])
    assert.equal(config.kafkaTopic, 'events')
    assert.equal(config.kafkaGroupId, 'consumer-group')
    assert.equal(config.redisAddr, 'localhost:6379')
    assert.equal(config.redisPassword, '')
    assert.equal(config.logLevel, 'info')
    assert.equal(config.dlqKey, 'dlq:events')
    assert.equal(config.portOf('producer', false), 8080)
    assert.equal(config.portOf('consumer', false), 8081)
    assert.equal(config.portOf('api', false), 8082)
    assert.deepEqual(config.database, { engine: 'sqlite', path: './data/pipeline.sqlite' })
    assert.ok(Object.isFrozen(config))
  })

  it('reads every seed variable', () => {
    const config = loadConfig({
      KAFKA_BROKERS: 'k1:9092, k2:9093',
      KAFKA_TOPIC: 'orders.v1',
      KAFKA_GROUP_ID: 'g',
      REDIS_ADDR: 'redis:6380',
      REDIS_PASSWORD: 'pw',
      SERVICE_PORT: '9000',
      LOG_LEVEL: 'DEBUG',
      MSSQL_CONN: 'server=mssql;user id=sa;password=x;database=events;encrypt=disable',
    })
    assert.deepEqual(config.kafkaBrokers, ['k1:9092', 'k2:9093'])
    assert.equal(config.kafkaTopic, 'orders.v1')
    assert.equal(config.kafkaGroupId, 'g')
    assert.equal(config.redisAddr, 'redis:6380')
    assert.equal(config.logLevel, 'debug')
    // SERVICE_PORT applies to a role started alone, not to `pipeline all`.
    assert.equal(config.portOf('api', true), 9000)
    assert.equal(config.portOf('api', false), 8082)
    assert.equal(config.database.engine, 'mssql')
  })

  it('picks the store from DATABASE_URL before MSSQL_CONN', () => {
    assert.deepEqual(loadConfig({ DATABASE_URL: 'postgres://u@h/db', MSSQL_CONN: 'server=x' }).database, {
      engine: 'postgres',
      url: 'postgres://u@h/db',
    })
    assert.deepEqual(loadConfig({ DATABASE_URL: 'sqlite:/tmp/x.db' }).database, { engine: 'sqlite', path: '/tmp/x.db' })
    assert.deepEqual(loadConfig({ DATABASE_URL: 'sqlite::memory:' }).database, { engine: 'sqlite', path: ':memory:' })
  })

  it('rejects invalid values, naming each variable and what it expects', () => {
    assert.throws(
      () =>
        loadConfig({
          KAFKA_BROKERS: 'no-port',
          SERVICE_PORT: '70000',
          LOG_LEVEL: 'LOUD',
          REDIS_ADDR: 'a:1,b:2',
          CONSUMER_BATCH_MAX: '0',
          KAFKA_TOPIC: 'bad topic',
        }),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError)
        const text = error.message
        for (const name of [
          'KAFKA_BROKERS',
          'SERVICE_PORT',
          'LOG_LEVEL',
          'REDIS_ADDR',
          'CONSUMER_BATCH_MAX',
          'KAFKA_TOPIC',
        ]) {
          assert.match(text, new RegExp(`${name}: .*expected`), `${name} is reported`)
        }
        assert.equal(error.problems.length, 6)
        assert.match(text, /LOG_LEVEL: "LOUD" is not one of DEBUG, INFO, WARN, ERROR/)
        return true
      },
    )
  })

  it('never echoes a secret, in errors or in the printed configuration', () => {
    assert.throws(
      () => loadConfig({ DATABASE_URL: 'mysql://root:hunter2@db/x' }),
      (error: unknown) =>
        error instanceof ConfigError && !error.message.includes('hunter2') && /DATABASE_URL/.test(error.message),
    )
    const shown = JSON.stringify(
      describeConfig(loadConfig({ DATABASE_URL: 'postgres://u:hunter2@h/db', REDIS_PASSWORD: 'pw' })),
    )
    assert.ok(!shown.includes('hunter2'))
    assert.ok(!shown.includes('"pw"'))
  })
})
