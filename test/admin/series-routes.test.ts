// GET /admin/series: the admin token, the ring answered as it is (the schema lets every field through), the answer's
// bound with a full ring, and a real consumer (Kafka, SQLite, Redis) whose samples add up to what it applied and
// dead-lettered, with every partition's lag back at 0 once it caught up.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { Registry } from 'prom-client'
import { registerSeriesRoutes } from '../../src/admin/index.ts'
import { loadConfig } from '../../src/config/index.ts'
import { SeriesRing, seriesCapacity, seriesMaxPartitions } from '../../src/consumer/series.ts'
import { buildBaseApp } from '../../src/http/index.ts'
import { createLogger } from '../../src/observability/index.ts'
import { createConsumerRole, stopRoles } from '../../src/roles/index.ts'
import { userCreated } from '../helpers/events.ts'
import { eventually, produceRaw } from '../helpers/kafka.ts'
import { type Cleanup, kafkaTopic, redisPrefix, sqliteFile } from '../helpers/resources.ts'
import { testServices } from '../helpers/services.ts'

const token = 'series-routes-test-token-0123456789'
const auth = { authorization: `Bearer ${token}` }

function appOf(ring: SeriesRing) {
  const app = buildBaseApp({
    role: 'consumer',
    logger: createLogger('silent', 'consumer'),
    registry: new Registry(),
    ready: async () => ({}),
    adminToken: token,
  })
  registerSeriesRoutes(app, token, { memory: () => ring.snapshot() })
  return app
}

describe('GET /admin/series', () => {
  it('answers only the admin token', async () => {
    const app = appOf(new SeriesRing())
    for (const headers of [{}, { authorization: 'Bearer not-the-token-0123456789' }]) {
      const r = await app.inject({ url: '/admin/series', headers })
      assert.equal(r.statusCode, 401)
      assert.equal(r.json().error.code, 'UNAUTHORIZED')
    }
  })

  it('answers the ring as it holds it', async () => {
    const ring = new SeriesRing({ capacity: 4, intervalMs: 1000 })
    ring.record({ at: 1000, applied: undefined, deadLetters: undefined, pending: 0, partitions: new Map() })
    ring.record({
      at: 2000,
      applied: 12.5,
      deadLetters: 0,
      pending: 3,
      partitions: new Map([[1, { lagRecords: 40, lagSeconds: 1.25 }]]),
    })
    const r = await appOf(ring).inject({ url: '/admin/series', headers: auth })
    assert.equal(r.statusCode, 200)
    assert.deepEqual(r.json(), { source: 'memory', ...ring.snapshot() })
    assert.deepEqual(r.json().partitions, [{ partition: 1, lagRecords: [null, 40], lagSeconds: [null, 1.25] }])
  })

  it('stays bounded with a full ring of the most partitions', async () => {
    const ring = new SeriesRing({ intervalMs: 10_000 })
    const partitions = new Map<number, { lagRecords: number; lagSeconds: number }>()
    for (let p = 0; p < seriesMaxPartitions + 50; p++)
      partitions.set(p, { lagRecords: 123_456_789, lagSeconds: 3599.999 })
    for (let k = 0; k < seriesCapacity * 2; k++) {
      ring.record({ at: 1.7e12 + k * 10_000, applied: 12_345.67, deadLetters: 1.5, pending: 99_999, partitions })
    }
    const r = await appOf(ring).inject({ url: '/admin/series', headers: auth })
    const body = r.json()
    assert.equal(body.at.length, seriesCapacity)
    assert.equal(body.partitions.length, seriesMaxPartitions)
    assert.equal(body.partitionsOmitted, 50)
    assert.equal(body.bytes, seriesCapacity * 8 * (4 + 2 * seriesMaxPartitions))
    // 360 samples × (4 + 2 × 128) numbers of at most 14 characters each, and their commas.
    assert.ok(r.payload.length < 1_500_000, `${r.payload.length} bytes`)
  })
})

async function consumer(t: Cleanup, topic: string, dlqKey: string) {
  const config = loadConfig({
    KAFKA_BROKERS: testServices.kafkaBrokers.join(','),
    KAFKA_TOPIC: topic,
    KAFKA_GROUP_ID: `${topic}-group`,
    REDIS_ADDR: testServices.redisAddr,
    REDIS_PASSWORD: testServices.redisPassword,
    DLQ_KEY: dlqKey,
    DATABASE_URL: `sqlite:${sqliteFile(t)}`,
    ADMIN_TOKEN: token,
    CONSOLE_CHART_INTERVAL: '1s',
    LOG_LEVEL: 'warn',
  })
  const role = await createConsumerRole(config, { logger: createLogger('silent', 'consumer') })
  t.after(() => stopRoles([role]))
  await role.start()
  return role
}

interface Answer {
  intervalMs: number
  at: number[]
  applied: (number | null)[]
  deadLetters: (number | null)[]
  pending: (number | null)[]
  partitions: { partition: number; lagRecords: (number | null)[]; lagSeconds: (number | null)[] }[]
}

/** What the rates add up to: Σ rate × the time since the sample before. */
function total(answer: Answer, column: (number | null)[]): number {
  let sum = 0
  for (let k = 1; k < answer.at.length; k++) sum += ((column[k] ?? 0) * (answer.at[k]! - answer.at[k - 1]!)) / 1000
  return sum
}

describe('the samples of a running consumer', () => {
  it('add up to what it applied and dead-lettered, and show each partition caught up', async t => {
    const topic = await kafkaTopic(t, 3)
    const { prefix } = redisPrefix(t)
    const role = await consumer(t, topic, `${prefix}dlq`)
    const read = async (): Promise<Answer> => {
      const r = await role.app.inject({ url: '/admin/series', headers: auth })
      assert.equal(r.statusCode, 200)
      return r.json()
    }
    assert.equal((await read()).intervalMs, 1000)

    const users = Array.from({ length: 300 }, (_, k) => userCreated(`series-user-${k}`))
    await produceRaw(topic, [
      ...users.map(u => ({ key: u.data.userId, value: JSON.stringify(u) })),
      { key: 'bad-1', value: '{not json' },
      { key: 'bad-2', value: '{"eventId":"x","type":"Nope"}' },
    ])
    await eventually(
      'the samples to add up to 300 applied and 2 dead letters, every partition caught up',
      async () => {
        const answer = await read()
        const last = answer.at.length - 1
        const caughtUp =
          answer.partitions.length === 3 &&
          answer.partitions.every(p => p.lagRecords[last] === 0 && p.lagSeconds[last] === 0)
        return (
          caughtUp &&
          Math.abs(total(answer, answer.applied) - 300) < 1 &&
          Math.abs(total(answer, answer.deadLetters) - 2) < 0.1
        )
      },
      30_000,
      async () => JSON.stringify(await read()),
    )
    const answer = await read()
    assert.deepEqual(
      answer.partitions.map(p => p.partition),
      [0, 1, 2],
    )
    assert.ok(
      answer.applied.some(rate => rate !== null && rate > 0),
      'a sample saw records applied',
    )
    assert.equal(answer.pending.at(-1), 0)
  })
})
