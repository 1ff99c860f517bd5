import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ConfigError, describeConfig, loadConfig } from '../../src/config/index.ts'
import { defaultMaxEventSkewMs } from '../../src/events/index.ts'

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
          REDIS_ADDR: 'a:1,nowhere',
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
        assert.match(text, /LOG_LEVEL: "LOUD" is not a log level; expected DEBUG, INFO, WARN or ERROR/)
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

describe('MAX_EVENT_SKEW', () => {
  it('is a duration of 1 h by default, the default of what is built without a configuration', () => {
    assert.equal(loadConfig({}).maxEventSkewMs, 3_600_000)
    assert.equal(loadConfig({}).maxEventSkewMs, defaultMaxEventSkewMs)
    assert.equal(loadConfig({ MAX_EVENT_SKEW: '90s' }).maxEventSkewMs, 90_000)
    assert.equal(loadConfig({ MAX_EVENT_SKEW: '2h' }).maxEventSkewMs, 7_200_000)
    assert.equal(loadConfig({ MAX_EVENT_SKEW: '1d' }).maxEventSkewMs, 86_400_000)
    assert.equal(loadConfig({ MAX_EVENT_SKEW: '1500' }).maxEventSkewMs, 1500)
  })

  it('refuses what is not a duration between 1 s and 365 d, and is read by the producer and the consumer only', () => {
    for (const [raw, why] of [
      ['500ms', 'is out of range'],
      ['366d', 'is out of range'],
      ['soon', 'is not a duration'],
      ['-1h', 'is not a duration'],
    ]) {
      assert.throws(
        () => loadConfig({ MAX_EVENT_SKEW: raw }),
        (error: unknown) =>
          error instanceof ConfigError &&
          error.problems.length === 1 &&
          error.problems[0] ===
            `MAX_EVENT_SKEW: "${raw}" ${why}; expected a duration such as 30s, 5m, 1h or 1d (at least 1s, at most 365d)`,
      )
    }
    for (const role of ['producer', 'consumer'] as const) {
      assert.throws(() => loadConfig({ MAX_EVENT_SKEW: 'soon' }, { roles: [role], alone: true }), ConfigError)
    }
    assert.equal(loadConfig({ MAX_EVENT_SKEW: 'soon' }, { roles: ['api'], alone: true }).maxEventSkewMs, 3_600_000)
  })
})

describe('checks at start', () => {
  const problemsOf = (env: Record<string, string>, scope?: Parameters<typeof loadConfig>[1]) => {
    try {
      loadConfig(env, scope)
      return []
    } catch (error) {
      assert.ok(error instanceof ConfigError)
      return [...error.problems]
    }
  }

  it('parses DATABASE_URL whole: scheme, host, port and database, saying what is wrong without the value', () => {
    const secret = 's3cr3t-Pass'
    const cases: [string, RegExp][] = [
      [`postgres://u:${secret}@host:notaport/db`, /not a valid postgres:\/\/ URL/],
      [`postgres://u:${secret}@host:70000/db`, /not a valid postgres:\/\/ URL|port is not a number/],
      [`postgres://u:${secret}@host:5432`, /names no database/],
      [`mssql://u:${secret}@host:0/db`, /port is not a number between 1 and 65535/],
      [`mysql://u:${secret}@host/db`, /does not start with sqlite:, postgres:\/\/ or mssql:\/\//],
      ['sqlite:', /names no file/],
    ]
    for (const [url, expected] of cases) {
      const problems = problemsOf({ DATABASE_URL: url })
      assert.equal(problems.length, 1, url)
      assert.match(problems[0] ?? '', /^DATABASE_URL: /)
      assert.match(problems[0] ?? '', expected, url)
      assert.doesNotMatch(problems[0] ?? '', new RegExp(secret), 'the value is never echoed')
    }
    assert.deepEqual(problemsOf({ DATABASE_URL: 'postgres://u:p%40ss@host:5432/db' }), [])
    assert.deepEqual(problemsOf({ DATABASE_URL: 'postgresql://host/db' }), [])
  })

  it('says once what a log level may be', () => {
    const [problem] = problemsOf({ LOG_LEVEL: 'loud' })
    assert.equal(problem, 'LOG_LEVEL: "loud" is not a log level; expected DEBUG, INFO, WARN or ERROR')
  })

  it('checks only the variables the roles it runs read', () => {
    const all = { roles: ['producer', 'consumer', 'api'] as const, alone: false }
    assert.deepEqual(problemsOf({ SERVICE_PORT: 'abc' }, all), [], 'pipeline all ignores SERVICE_PORT')
    assert.match(problemsOf({ SERVICE_PORT: 'abc' }, { roles: ['api'], alone: true })[0] ?? '', /^SERVICE_PORT: /)
    assert.deepEqual(problemsOf({ PRODUCE_BODY_LIMIT: 'x' }, { roles: ['api'], alone: true }), [])
    assert.match(problemsOf({ PRODUCE_BODY_LIMIT: 'x' }, { roles: ['producer'], alone: true })[0] ?? '', /^PRODUCE_/)
    // Without a scope (pipeline config, tests) everything is checked.
    assert.equal(problemsOf({ SERVICE_PORT: 'abc' }).length, 1)
    // A variable a role ignores keeps its default.
    assert.equal(loadConfig({ PRODUCE_BODY_LIMIT: 'x' }, { roles: ['api'], alone: true }).bodyLimitBytes, 1048576)
  })
})
