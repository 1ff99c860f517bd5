// Fault 4: the Kafka broker stops and comes back (a private broker, so other tests keep theirs).
import assert from 'node:assert/strict'
import { it } from 'node:test'
import pg from 'pg'
import { brokerToolsMissing } from '../../dev/kafka/local-broker.ts'
import { privateBroker } from '../helpers/broker.ts'
import { orderPlaced, userCreated } from '../helpers/events.ts'
import { eventually } from '../helpers/kafka.ts'
import { startPipeline } from '../helpers/pipeline.ts'
import { postgresDatabase, uniqueName } from '../helpers/resources.ts'
import { assertClean, checkOutcome } from './checker.ts'
import { full } from './workload.ts'

it('fault 4: broker stopped and restarted: 503 while down, nothing acknowledged is lost, the consumer resumes', {
  skip: brokerToolsMissing(),
}, async t => {
  const broker = await privateBroker(t)
  await broker.start()
  const url = await postgresDatabase(t)
  const run = uniqueName('kd')
  const env = {
    KAFKA_BROKERS: broker.address,
    KAFKA_TOPIC: 'events',
    KAFKA_GROUP_ID: 'consumer-group',
    DLQ_KEY: uniqueName('dlq'),
    DATABASE_URL: url,
    LOG_LEVEL: 'ERROR',
    PENDING_MAX_AGE: '1h',
  }
  const p = await startPipeline(t, 'all', env)
  const acked = new Set<string>()
  const ackedEvents = new Set<string>()
  const statuses = new Map<number, number>()
  let n = 0
  // Each request is a user and an order for the previous user (whose key lands on its own partition; when the
  // previous user was refused, its order must wait as pending).
  const send = async () => {
    const e = userCreated(`${run}-${n}`)
    const order = orderPlaced(`${run}-o-${n}`, `${run}-${n - 1}`)
    n++
    const r = await fetch(`${p.urls.producer}/produce`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([e, order]),
    }).catch(() => undefined)
    const status = r?.status ?? 0
    statuses.set(status, (statuses.get(status) ?? 0) + 1)
    if (status === 200) {
      acked.add(e.data.userId)
      ackedEvents.add(e.eventId)
      ackedEvents.add(order.eventId)
    }
    if (status === 503) assert.ok(r?.headers.get('retry-after'), '503 carries Retry-After')
    await r?.body?.cancel()
    return status
  }
  for (let i = 0; i < 50; i++) await send()

  await broker.stop()
  // While the broker is down the producer answers 503, never 200, and never hangs for long.
  let unavailable = 0
  const deadline = Date.now() + (full ? 20_000 : 8000)
  while (Date.now() < deadline) {
    const started = Date.now()
    const status = await send()
    assert.notEqual(status, 200, 'no acknowledgement without a broker')
    assert.ok(Date.now() - started < 10_000, 'answers within the publish timeout')
    if (status === 503) unavailable++
  }
  assert.ok(unavailable > 0, `503 while the broker is down (statuses: ${JSON.stringify([...statuses])})`)

  await broker.start()
  await eventually('the producer publishes again', async () => (await send()) === 200, 60_000)
  for (let i = 0; i < 50; i++) await send()

  const db = new pg.Client({ connectionString: url })
  db.on('error', () => {})
  await db.connect()
  t.after(() => db.end())
  const stored = async () =>
    new Set(
      (
        (await db.query('SELECT user_id FROM users WHERE user_id LIKE $1', [`${run}-%`])).rows as { user_id: string }[]
      ).map(r => r.user_id),
    )
  await eventually(
    'every acknowledged event stored',
    async () => {
      const have = await stored()
      return [...acked].every(id => have.has(id))
    },
    90_000,
  )
  // The consumer has applied every acknowledged user; give it the same bounded time to reach the end of the topic.
  await eventually(
    'the consumer at the end of the topic',
    async () => {
      const r = await fetch(`${p.urls.consumer}/metrics`)
      const lags = (await r.text()).split('\n').filter(l => l.startsWith('consumer_lag{'))
      return lags.length > 0 && lags.every(l => Number(l.split(' ').pop()) === 0)
    },
    60_000,
  ).catch(error => console.log(`kafka-down: ${(error as Error).message}`))
  const result = await checkOutcome(
    { eventIds: [...ackedEvents] },
    { topic: 'events', databaseUrl: url, dlqKey: env.DLQ_KEY, brokers: [broker.address] },
  )
  assertClean('kafka-down', 1, unavailable > 0 ? 1 : 0, result)
})
