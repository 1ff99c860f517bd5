// How `npm test` gets each service (dev/service-plan.ts): the order of the places, and the one line per service
// that says what to start or set when none will do.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { missingLine, type ServiceName, type Situation, stepFor } from '../../dev/service-plan.ts'

const nothing = (service: ServiceName): Situation => ({
  service,
  answers: false,
  named: undefined,
  localKafka: false,
  compose: false,
  debianRoot: false,
})

describe('stepFor', () => {
  it('uses what answers, and never starts what the environment names', () => {
    for (const service of ['Kafka', 'PostgreSQL', 'Redis'] as const) {
      const everything = { ...nothing(service), localKafka: true, compose: true, debianRoot: true }
      assert.equal(stepFor({ ...everything, answers: true }), 'ready')
      assert.equal(stepFor({ ...everything, answers: true, named: 'X' }), 'ready')
      assert.equal(stepFor({ ...everything, named: 'X' }), 'missing', service)
    }
  })

  it('starts Kafka as the local broker when Java is there, else with compose; never with Debian commands', () => {
    const kafka = nothing('Kafka')
    assert.equal(stepFor({ ...kafka, localKafka: true, compose: true }), 'local-kafka')
    assert.equal(stepFor({ ...kafka, compose: true, debianRoot: true }), 'compose')
    assert.equal(stepFor({ ...kafka, debianRoot: true }), 'missing')
  })

  it('starts PostgreSQL and Redis with compose first, with Debian commands only as root on Debian', () => {
    for (const service of ['PostgreSQL', 'Redis'] as const) {
      const s = nothing(service)
      assert.equal(stepFor({ ...s, compose: true, debianRoot: true, localKafka: true }), 'compose')
      assert.equal(stepFor({ ...s, debianRoot: true }), 'debian')
      assert.equal(stepFor(s), 'missing')
    }
  })
})

describe('missingLine', () => {
  it('is one line naming the service, the address, the reason and what to start or set', () => {
    const pg = missingLine(nothing('PostgreSQL'), '127.0.0.1:5432 as postgres', 'connect ECONNREFUSED 127.0.0.1:5432')
    assert.equal(
      pg,
      'PostgreSQL: nothing answers at 127.0.0.1:5432 as postgres (connect ECONNREFUSED 127.0.0.1:5432): run npm run ' +
        'dev:services (needs docker compose or podman compose), or set TEST_POSTGRES_URL=postgres://USER:PASSWORD@' +
        'HOST:PORT/postgres (a login with CREATEDB and CREATEROLE)',
    )
    assert.match(
      missingLine(nothing('Kafka'), '127.0.0.1:9092'),
      /^Kafka: nothing answers at 127\.0\.0\.1:9092: .*Java 17\+.*KAFKA_BROKERS/,
    )
    assert.match(
      missingLine(nothing('Redis'), '127.0.0.1:6379'),
      /^Redis: .*redis-server.*REDIS_ADDR=host:port \(and REDIS_PASSWORD\)$/,
    )
    for (const service of ['Kafka', 'PostgreSQL', 'Redis'] as const) {
      assert.ok(!missingLine(nothing(service), 'a', 'b').includes('\n'))
    }
  })

  it('for a service the environment names, says to start that one or correct the variable', () => {
    const line = missingLine({ ...nothing('Redis'), named: 'REDIS_ADDR' }, 'cache:6379', 'no PONG')
    assert.equal(
      line,
      'Redis: nothing usable answers at cache:6379 (no PONG), which REDIS_ADDR names: start it or correct REDIS_ADDR',
    )
  })
})
