// Read-your-own-writes and the status of events, end to end: `pipeline all` as a real process on the real broker,
// Redis and PostgreSQL; writes through POST /produce (and one record written raw to Kafka), reads with ?after=,
// GET /events/{eventId} and `pipeline event <eventId> --json`. Each status is checked against an independent
// look: the rows in PostgreSQL, the entries in Redis.
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { Redis } from 'ioredis'
import pg from 'pg'
import { eventually, produceRaw } from '../helpers/kafka.ts'
import { startPipeline } from '../helpers/pipeline.ts'
import { kafkaTopic, postgresDatabase, uniqueName } from '../helpers/resources.ts'
import { redisHostPort, testServices } from '../helpers/services.ts'

const main = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url))
const run = promisify(execFile)

interface Ack {
  eventId: string
  topic: string
  partition: number
  offset: string
}

async function produce(producer: string, event: unknown): Promise<Ack> {
  const response = await fetch(`${producer}/produce`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(event),
  })
  assert.equal(response.status, 200)
  return (await response.json()) as Ack
}

async function read(url: string) {
  const response = await fetch(url)
  // biome-ignore lint/suspicious/noExplicitAny: a test reads JSON bodies by path and asserts on the values
  const body = (await response.json()) as Record<string, any>
  return { status: response.status, headers: response.headers, body }
}

/** X-Applied-Offsets as a map, to check it against a produce answer. */
function appliedOf(headers: Headers): Map<number, bigint> {
  const text = headers.get('x-applied-offsets')
  assert.ok(text !== null, 'X-Applied-Offsets is present')
  return new Map(
    text === ''
      ? []
      : text.split(',').map(pair => {
          const [p, o] = pair.split(':')
          return [Number(p), BigInt(o ?? '')] as [number, bigint]
        }),
  )
}

describe('read your own writes and event status, end to end on PostgreSQL', () => {
  it('sees a write at once with after=, waits out one never written, and tells every status word', async t => {
    const topic = await kafkaTopic(t)
    const url = await postgresDatabase(t)
    const dlqKey = uniqueName('dlq')
    const redis = new Redis({ ...redisHostPort(), password: testServices.redisPassword || undefined })
    t.after(async () => {
      const keys = await redis.keys(`${dlqKey}*`)
      if (keys.length > 0) await redis.del(...keys)
      redis.disconnect()
    })
    const env = { KAFKA_TOPIC: topic, DATABASE_URL: url, DLQ_KEY: dlqKey }
    const p = await startPipeline(t, 'all', {
      ...env,
      KAFKA_GROUP_ID: uniqueName('group'),
      READ_WAIT_MS: '700',
      PENDING_MAX_AGE: '1h',
    })
    const { producer, api } = p.urls
    const sql = new pg.Client({ connectionString: url })
    // The database is dropped with its connections after the test, maybe before this client ends.
    sql.on('error', () => {})
    await sql.connect()
    t.after(() => sql.end())
    const suffix = Math.random().toString(16).slice(2, 10)
    const user = `user-${suffix}`

    // A write, then at once a read naming its offset: it is there, and the header covers it.
    const first = {
      eventId: `first-${suffix}`,
      type: 'UserCreated',
      timestamp: '2025-01-11T12:00:00Z',
      data: { userId: user, name: 'First', email: 'a@example.com', createdAt: '2025-01-11T12:00:00Z' },
    }
    const ack = await produce(producer, first)
    const seen = await read(`${api}/users/${user}?after=${ack.partition}:${ack.offset}`)
    assert.equal(seen.status, 200)
    assert.equal(seen.body.user.name, 'First')
    assert.ok((appliedOf(seen.headers).get(ack.partition) ?? -1n) >= BigInt(ack.offset))

    // An offset never written: refused without waiting READ_WAIT_MS, naming the partition's end, with the offsets.
    const started = Date.now()
    const never = await read(`${api}/users/${user}?after=${ack.partition}:${BigInt(ack.offset) + 1000n}`)
    assert.equal(never.status, 400)
    assert.ok(Date.now() - started < 650, `answered after ${Date.now() - started} ms`)
    assert.equal(never.body.error.code, 'AFTER_BEYOND_LOG')
    assert.equal(never.body.error.partition, ack.partition)
    assert.ok(BigInt(never.body.error.endOffset) > BigInt(ack.offset))
    assert.ok((appliedOf(never.headers).get(ack.partition) ?? -1n) >= BigInt(ack.offset))
    // A 404 carries the header too, and after= with it.
    const missing = await read(`${api}/orders/nothing-${suffix}?after=${ack.partition}:${ack.offset}`)
    assert.equal(missing.status, 404)
    assert.ok(appliedOf(missing.headers).size > 0)

    // superseded: a newer event of the same user.
    const second = {
      ...first,
      eventId: `second-${suffix}`,
      timestamp: '2025-01-11T12:05:00Z',
      data: { ...first.data, name: 'Second' },
    }
    const ack2 = await produce(producer, second)
    assert.equal((await read(`${api}/users/${user}?after=${ack2.partition}:${ack2.offset}`)).body.user.name, 'Second')

    // pending: an order whose user is never sent.
    const orphan = {
      eventId: `orphan-${suffix}`,
      type: 'OrderPlaced',
      timestamp: '2025-01-11T12:06:00Z',
      data: { orderId: `order-${suffix}`, userId: `ghost-${suffix}`, total: 9.99, createdAt: '2025-01-11T12:06:00Z' },
    }
    const ack3 = await produce(producer, orphan)
    const pendingRead = await read(`${api}/orders/order-${suffix}?after=${ack3.partition}:${ack3.offset}`)
    assert.equal(pendingRead.status, 404, 'a pending order is processed, not visible')

    // dead-lettered: a record missing a field, written raw to Kafka (the producer would refuse it).
    const poison = { eventId: `poison-${suffix}`, type: 'UserCreated', timestamp: '2025-01-11T12:07:00Z', data: {} }
    await produceRaw(topic, [{ key: `poison-${suffix}`, value: JSON.stringify(poison) }])
    let entry: { partition: number; offset: string; error: { code: string } } | undefined
    await eventually('the poison record in the DLQ', async () => {
      const entries = (await redis.lrange(dlqKey, 0, -1)).map(e => JSON.parse(e))
      entry = entries.find(e => e.eventId === poison.eventId)
      return entry !== undefined
    })
    // A batch that ended with a dead-lettered record still marks its offset: this read does not wait.
    const afterPoison = await read(`${api}/users/${user}?after=${entry?.partition}:${entry?.offset}`)
    assert.equal(afterPoison.status, 200)

    // The independent look: what the rows and the DLQ say.
    const row = await sql.query('SELECT event_id FROM users WHERE user_id = $1', [user])
    assert.deepEqual(row.rows, [{ event_id: second.eventId }])
    const pendingRow = await sql.query('SELECT parent_key FROM pending_events WHERE event_id = $1', [orphan.eventId])
    assert.deepEqual(pendingRow.rows, [{ parent_key: `ghost-${suffix}` }])
    assert.equal(entry?.error.code, 'SCHEMA_VIOLATION')

    const expected: [string, string, (s: Record<string, unknown>) => void][] = [
      [
        second.eventId,
        'applied',
        s => assert.deepEqual([s['table'], s['key'], s['position']], ['users', user, { ...pick(ack2) }]),
      ],
      [
        first.eventId,
        'superseded',
        s =>
          assert.deepEqual(s['by'], {
            eventId: second.eventId,
            timestamp: '2025-01-11T12:05:00.000Z',
            position: pick(ack2),
          }),
      ],
      [
        orphan.eventId,
        'pending',
        s =>
          assert.deepEqual(s['waitingFor'], { table: 'users', key: `ghost-${suffix}`, constraint: 'FK_Orders_Users' }),
      ],
      [
        poison.eventId,
        'dead-lettered',
        s => {
          const [letter] = s['deadLetters'] as { code: string; position: unknown }[]
          assert.equal(letter?.code, 'SCHEMA_VIOLATION')
          assert.deepEqual(letter?.position, { topic, partition: entry?.partition, offset: entry?.offset })
        },
      ],
      [`never-sent-${suffix}`, 'unknown', () => {}],
    ]
    for (const [eventId, status, check] of expected) {
      const http = await read(`${api}/events/${eventId}`)
      assert.equal(http.status, 200, eventId)
      assert.equal(http.body.status, status, eventId)
      assert.ok(http.headers.get('x-applied-offsets') !== null)
      check(http.body)
      const cli = await run(process.execPath, [main, 'event', eventId, '--json'], {
        env: {
          PATH: process.env['PATH'] ?? '',
          REDIS_ADDR: testServices.redisAddr,
          REDIS_PASSWORD: testServices.redisPassword,
          ...env,
        },
      }).then(
        r => ({ code: 0, stdout: r.stdout }),
        (e: { code: number; stdout: string }) => ({ code: e.code, stdout: e.stdout }),
      )
      assert.equal(cli.code, status === 'unknown' ? 1 : 0, `${eventId}: ${cli.stdout}`)
      assert.deepEqual(JSON.parse(cli.stdout), http.body, eventId)
    }
    const { code } = await p.stop()
    assert.equal(code, 0, p.stderr.join(''))
  })
})

function pick(a: Ack) {
  return { topic: a.topic, partition: a.partition, offset: a.offset }
}
