// A row whose key has a newer dead letter is told to readers: through the whole pipeline (Kafka, the consumer,
// PostgreSQL, Redis, the read API as `pipeline all` runs it), and with the DLQ's Redis cut or hung in front of a
// read API on SQLite, which still answers its rows.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { buildApiApp } from '../../src/api/index.ts'
import { createRedisDlq, type DeadLetter, type DeadLetterQueue } from '../../src/dlq/index.ts'
import { parseEvent } from '../../src/events/index.ts'
import { createLogger, createRegistry } from '../../src/observability/index.ts'
import { createStore } from '../../src/store/index.ts'
import { inventoryAdjusted, orderPlaced, paymentSettled, userCreated } from '../helpers/events.ts'
import { eventually, produceRaw } from '../helpers/kafka.ts'
import { startPipeline } from '../helpers/pipeline.ts'
import { tcpProxy } from '../helpers/proxy.ts'
import {
  type Cleanup,
  kafkaTopic,
  postgresDatabase,
  redisPrefix,
  sqliteFile,
  standaloneOnly,
  uniqueName,
} from '../helpers/resources.ts'
import { redisHostPort, testServices } from '../helpers/services.ts'

/** A record of `event` the consumer dead-letters (SCHEMA_VIOLATION: its data lacks a required field). */
function broken<E extends { data: Record<string, unknown> }>(event: E, field: string) {
  const { [field]: _, ...data } = event.data
  return JSON.stringify({ ...event, data })
}

interface Told {
  count: number
  newestEventId: string | null
  partition: number
  offset: string
}

/** The fields of the answers this test reads. */
interface Answer {
  user?: { email: string }
  payment?: unknown
  quantity?: number
  status?: string
  deadLettered?: Told
  error?: { code: string; message: string; deadLettered?: Told }
}

async function get(base: string, path: string) {
  const response = await fetch(`${base}${path}`)
  const body = (await response.json()) as Answer
  return { status: response.status, header: response.headers.get('x-dead-lettered'), body }
}

function dlqOf(t: Cleanup, key: string): DeadLetterQueue {
  const dlq = createRedisDlq({ addr: testServices.redisAddr, password: testServices.redisPassword, key })
  t.after(() => dlq.close())
  return dlq
}

/** The entry of `eventId` in the DLQ, with its exact text (what a removal names). */
async function entryOf(dlq: DeadLetterQueue, eventId: string): Promise<{ entry: string; letter: DeadLetter }> {
  const page = await dlq.eventPage(eventId, 10)
  const [found] = page.entries
  assert.ok(found, `a dead letter of ${eventId}`)
  return found
}

describe('reads tell dead letters of their key newer than their row', () => {
  it('through the pipeline: users, orders, inventory, a 404, an older dead letter, the entry removed', async t => {
    const topic = await kafkaTopic(t, 3)
    const database = await postgresDatabase(t)
    const { prefix } = redisPrefix(t)
    const key = `${prefix}dlq`
    const env = { KAFKA_TOPIC: topic, KAFKA_GROUP_ID: uniqueName('group'), DATABASE_URL: database, DLQ_KEY: key }
    const { urls } = await startPipeline(t, 'all', env)
    const dlq = dlqOf(t, key)
    const api = urls.api

    // An older dead letter of u2 (before its row) and a user stored after it: not stale.
    const oldU2 = userCreated('u2')
    await produceRaw(topic, [{ key: 'u2', value: broken(oldU2, 'email') }])
    await eventually('the old u2 record is dead-lettered', async () => (await dlq.length()) === 1)
    const u1 = userCreated('u1')
    const u2 = userCreated('u2')
    const o1 = orderPlaced('o1', 'u2')
    const adjust = inventoryAdjusted('sku-1', 5)
    await produceRaw(topic, [
      { key: 'u1', value: JSON.stringify(u1) },
      { key: 'u2', value: JSON.stringify(u2) },
      { key: 'o1', value: JSON.stringify(o1) },
      { key: 'sku-1', value: JSON.stringify(adjust) },
    ])
    await eventually('the rows are stored', async () => (await get(api, '/inventory/sku-1')).status === 200)
    await eventually('the order is stored', async () => (await get(api, '/orders/o1')).status === 200)

    const clean = await get(api, '/users/u1')
    assert.equal(clean.status, 200)
    assert.equal(clean.header, '0')
    assert.equal(clean.body.deadLettered, undefined)
    const older = await get(api, '/users/u2')
    assert.equal(older.status, 200)
    assert.equal(older.header, '0', 'a dead letter older than the row does not count')
    assert.equal(older.body.deadLettered, undefined)

    // Later records of each key, dead-lettered: a user, a payment of the stored order, a delta, and u3, never stored.
    const newU1 = userCreated('u1')
    const pay = paymentSettled('o1')
    const delta = inventoryAdjusted('sku-1', 2)
    const u3 = userCreated('u3')
    await produceRaw(topic, [
      { key: 'u1', value: broken(newU1, 'email') },
      { key: 'o1', value: broken(pay, 'amount') },
      { key: 'sku-1', value: broken(delta, 'delta') },
      { key: 'u3', value: broken(u3, 'name') },
    ])
    await eventually('the later records are dead-lettered', async () => (await dlq.length()) === 5)

    const stale = await get(api, '/users/u1')
    const { entry, letter } = await entryOf(dlq, newU1.eventId)
    assert.equal(stale.status, 200)
    assert.equal(stale.header, '1')
    assert.deepEqual(stale.body.deadLettered, {
      count: 1,
      newestEventId: newU1.eventId,
      partition: letter.partition,
      offset: letter.offset,
    })
    assert.equal(stale.body.user?.email, 'u1@example.com', 'the row is served as it is')

    const order = await get(api, '/orders/o1')
    assert.equal(order.header, '1')
    assert.equal(order.body.payment, null)
    assert.equal(order.body.deadLettered?.newestEventId, pay.eventId)
    const stock = await get(api, '/inventory/sku-1')
    assert.deepEqual(
      [stock.header, stock.body.quantity, stock.body.deadLettered?.newestEventId],
      ['1', 5, delta.eventId],
    )

    const missing = await get(api, '/users/u3')
    assert.equal(missing.status, 404)
    assert.equal(missing.header, '1')
    assert.equal(missing.body.error?.code, 'NOT_FOUND')
    assert.equal(missing.body.error?.deadLettered?.newestEventId, u3.eventId)
    assert.match(missing.body.error?.message, /dead-letter queue holds 1 record/)
    const nobody = await get(api, '/users/nobody')
    assert.deepEqual([nobody.status, nobody.header, nobody.body.error?.deadLettered], [404, '0', undefined])

    // The status of the event the row holds tells the same of its key.
    const status = await get(api, `/events/${u1.eventId}`)
    assert.equal(status.body.status, 'applied')
    assert.equal(status.body.deadLettered?.newestEventId, newU1.eventId)

    // Removing the entry (what a purge or a redrive does) ends it.
    assert.deepEqual(await dlq.remove([entry]), [true])
    const current = await get(api, '/users/u1')
    assert.equal(current.header, '0')
    assert.equal(current.body.deadLettered, undefined)
  })

  it('with the DLQ cut or hung, a read still answers its row, X-Dead-Lettered: unchecked', async t => {
    if (standaloneOnly(t, 'a proxy stands in front of one Redis server')) return
    const { host, port } = redisHostPort()
    const proxy = await tcpProxy(t, host, port)
    const { prefix } = redisPrefix(t)
    const key = `${prefix}dlq`
    const store = await createStore({ engine: 'sqlite', path: sqliteFile(t) })
    await store.migrate()
    const dlq = createRedisDlq({
      addr: `127.0.0.1:${proxy.port}`,
      password: testServices.redisPassword,
      key,
      commandTimeoutMs: 1000,
    })
    const app = buildApiApp({
      store,
      logger: createLogger('silent', 'api'),
      registry: createRegistry('api', false),
      keySummaries: questions => dlq.keySummaries(questions),
      deadLetteredWaitMs: 200,
    })
    t.after(async () => {
      await app.close()
      await dlq.close()
      await store.close()
    })
    const user = userCreated('u1')
    await store.applyBatch([{ event: parseEvent(user), source: { topic: 'events', partition: 0, offset: 4n } }])
    const later = userCreated('u1')
    await dlq.push([
      {
        eventId: later.eventId,
        topic: 'events',
        partition: 0,
        offset: '9',
        key: 'u1',
        payload: broken(later, 'email'),
        payloadEncoding: 'utf8',
        error: { code: 'SCHEMA_VIOLATION', message: '/data/email: required' },
        attempts: 1,
        failedAt: new Date().toISOString(),
        source: 'consumer',
      },
    ])
    const read = async () => {
      const started = Date.now()
      const response = await app.inject('/users/u1')
      return { ms: Date.now() - started, status: response.statusCode, header: response.headers['x-dead-lettered'] }
    }
    assert.deepEqual((({ status, header }) => ({ status, header }))(await read()), { status: 200, header: '1' })

    await proxy.cut()
    const cut = await read()
    assert.deepEqual([cut.status, cut.header], [200, 'unchecked'])
    await proxy.restore()
    await eventually('the DLQ answers again', async () => (await read()).header === '1')

    proxy.blackhole()
    const hung = await read()
    assert.deepEqual([hung.status, hung.header], [200, 'unchecked'])
    assert.ok(hung.ms < 900, `a hung Redis holds a read ${hung.ms} ms, not its command timeout`)
  })
})
