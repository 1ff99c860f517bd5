// Bad input against POST /produce: whatever arrives, the answer is a 2xx or a 4xx with a clear JSON body,
// never a 5xx, never a stack trace.
import assert from 'node:assert/strict'
import { it } from 'node:test'
import fc from 'fast-check'
import { createLogger, createRegistry } from '../../src/observability/index.ts'
import { buildProducerApp } from '../../src/producer/index.ts'
import { createStore } from '../../src/store/index.ts'
import { startConsumer } from '../consumer/harness.ts'
import { readTopic } from '../helpers/kafka.ts'
import { kafkaTopic, postgresDatabase, uniqueName } from '../helpers/resources.ts'
import { testPublisher } from '../producer/helpers.ts'
import { Bytes, hostileBytes, validUser } from './arbitraries.ts'
import { assertClean, checkOutcome } from './checker.ts'
import { full, waitCommitted } from './workload.ts'

it('POST /produce answers hostile bodies with 2xx/4xx and a clear body, never 5xx', async t => {
  const topic = await kafkaTopic(t, 1)
  const publisher = await testPublisher(t, topic)
  const app = buildProducerApp({
    config: { bodyLimitBytes: 1024 * 1024, produceBatchMax: 1000 },
    logger: createLogger('silent', 'producer'),
    registry: createRegistry('producer', false),
    publisher,
  })
  t.after(() => app.close())
  const statuses = new Map<number, number>()
  const acked: string[] = []
  const body = fc.oneof(
    hostileBytes,
    fc
      .array(
        fc.oneof(
          validUser.map(e => JSON.parse(JSON.stringify(e))),
          fc.jsonValue(),
        ),
        { maxLength: 20 },
      )
      .map(a => new Bytes(Buffer.from(JSON.stringify(a)))),
  )
  const contentType = fc.constantFrom(
    'application/json',
    'application/json; charset=utf-8',
    'text/plain',
    'application/x-www-form-urlencoded',
  )
  await fc.assert(
    fc.asyncProperty(body, contentType, async (payload, type) => {
      const r = await app.inject({
        method: 'POST',
        url: '/produce',
        payload: payload.buffer,
        headers: { 'content-type': type },
      })
      statuses.set(r.statusCode, (statuses.get(r.statusCode) ?? 0) + 1)
      assert.ok(r.statusCode < 500, `status ${r.statusCode}: ${r.body.slice(0, 300)}`)
      const json = r.json() as { error?: { code: string; message: string } }
      // What the producer acknowledged (an eventId with an offset, alone or per batch entry) must reach SQL.
      const answers = (json as { offsets?: unknown[] }).offsets ?? [json]
      if (r.statusCode === 200) {
        for (const a of answers as { eventId?: string; offset?: unknown }[]) {
          if (typeof a?.eventId === 'string' && a.offset !== undefined && a.offset !== null) acked.push(a.eventId)
        }
      }
      if (r.statusCode >= 400) {
        assert.equal(typeof json.error?.code, 'string')
        assert.ok((json.error?.message.length ?? 0) > 0)
      }
      assert.ok(!r.body.includes('    at '), 'no stack trace')
    }),
    { numRuns: full ? 2000 : 300 },
  )
  console.log(`bad-input-http: statuses ${JSON.stringify(Object.fromEntries(statuses))}`)

  // A consumer drains what was published into a fresh database: everything acknowledged is applied, and the
  // producer published nothing the checker's own rules refuse.
  const databaseUrl = await postgresDatabase(t)
  const store = await createStore({ engine: 'postgres', url: databaseUrl })
  await store.migrate()
  t.after(() => store.close())
  const dlqKey = uniqueName('dlq')
  const { groupId } = await startConsumer(t, { topic, store, dlqKey })
  const { complete } = await waitCommitted(groupId, topic, BigInt((await readTopic(topic)).length), 60_000)
  const result = await checkOutcome({ eventIds: acked }, { topic, databaseUrl, dlqKey })
  assert.equal(result.stats.invalid, 0, 'the producer published only valid events')
  assertClean('bad-input-http', 1, complete ? 1 : 0, result)
})
