// The processor on its own: records handed to process() as the consumer hands them (no Kafka), a real SQLite
// store and the Redis DLQ.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createProcessor, type InboundRecord } from '../../src/consumer/index.ts'
import { createRedisDlq } from '../../src/dlq/index.ts'
import { consumerMetrics, createLogger, createRegistry } from '../../src/observability/index.ts'
import { createStore } from '../../src/store/index.ts'
import { keyOfTest, orderPlaced, type TestEvent, userCreated } from '../helpers/events.ts'
import { type Cleanup, redisPrefix, sqliteFile, uniqueName } from '../helpers/resources.ts'
import { testServices } from '../helpers/services.ts'

const hour = 3_600_000
const iso = (ms: number) => new Date(ms).toISOString()

async function setup(t: Cleanup, maxEventSkewMs?: number, onPendingMayResolve?: (parents: readonly string[]) => void) {
  const store = await createStore({ engine: 'sqlite', path: sqliteFile(t) })
  await store.migrate()
  t.after(() => store.close())
  const { redis, prefix } = redisPrefix(t)
  const key = `${prefix}dlq:events`
  const dlq = createRedisDlq({ addr: testServices.redisAddr, password: testServices.redisPassword, key })
  t.after(() => dlq.close())
  const processor = createProcessor({
    store,
    dlq,
    logger: createLogger('silent', 'consumer'),
    metrics: consumerMetrics(createRegistry('consumer', false)),
    ...(maxEventSkewMs === undefined ? {} : { maxEventSkewMs }),
    ...(onPendingMayResolve === undefined ? {} : { onPendingMayResolve }),
  })
  const topic = uniqueName('topic')
  let offset = 0n
  const record = (event: TestEvent, timestamp: bigint | undefined): InboundRecord => ({
    topic,
    partition: 0,
    offset: offset++,
    key: Buffer.from(keyOfTest(event)),
    value: Buffer.from(JSON.stringify(event)),
    timestamp,
  })
  const letters = async () =>
    (await redis.lrange(key, 0, -1))
      .map(e => JSON.parse(e) as { eventId: string; offset: string; error: { code: string; message: string } })
      .reverse()
  return { store, processor, record, letters }
}

describe('processor', () => {
  it('asks for a look by the users its pending orders wait for, and not after a batch with nothing pending', async t => {
    const looks: (readonly string[])[] = []
    const { processor, record } = await setup(t, undefined, parents => looks.push(parents))
    const signal = new AbortController().signal
    const here = uniqueName('u')
    await processor.process([record(userCreated(here), undefined)], signal)
    assert.deepEqual(looks, [])
    const ghost = uniqueName('ghost')
    const outcome = await processor.process(
      [record(orderPlaced(uniqueName('o'), ghost), undefined), record(orderPlaced(uniqueName('o'), here), undefined)],
      signal,
    )
    assert.equal(outcome.pending, 1)
    assert.deepEqual(looks, [[ghost]])
  })

  it('dead-letters an event dated more than MAX_EVENT_SKEW after its Kafka record, and applies the rest', async t => {
    const { store, processor, record, letters } = await setup(t)
    // Records written long before the consumer reads them (a replay): only their own timestamp counts.
    const written = Date.parse('2025-06-01T12:00:00.000Z')
    const at = BigInt(written)
    const before = userCreated(uniqueName('u'), { timestamp: iso(written - 60_000) })
    const atLimit = userCreated(uniqueName('u'), { timestamp: iso(written + hour) })
    const pastLimit = userCreated(uniqueName('u'), { timestamp: iso(written + hour + 1) })
    const frozen = uniqueName('u')
    const far = userCreated(frozen, { name: 'from the future', timestamp: '9999-12-31T00:00:00Z' })
    const honest = userCreated(frozen, { name: 'honest update', timestamp: iso(written) })

    const outcome = await processor.process(
      [record(before, at), record(atLimit, at), record(pastLimit, at), record(far, at), record(honest, at)],
      new AbortController().signal,
    )

    assert.deepEqual(outcome, { applied: 3, pending: 0, deadLettered: 2, skipped: 0 })
    assert.equal((await store.getUser(before.data.userId))?.name, before.data.name)
    assert.equal((await store.getUser(atLimit.data.userId))?.name, atLimit.data.name, 'exactly the skew is accepted')
    assert.equal(await store.getUser(pastLimit.data.userId), undefined)
    // The far-future event holds nothing: the later honest update of its key is what the row shows.
    assert.equal((await store.getUser(frozen))?.name, 'honest update')

    const dead = await letters()
    assert.deepEqual(
      dead.map(l => [l.offset, l.eventId, l.error.code]),
      [
        ['2', pastLimit.eventId, 'EVENT_TIME_SKEW'],
        ['3', far.eventId, 'EVENT_TIME_SKEW'],
      ],
    )
    assert.equal(
      dead[1]?.error.message,
      "invalid event: /timestamp: 9999-12-31T00:00:00.000Z is more than 1h ahead of its Kafka record's timestamp 2025-06-01T12:00:00.000Z (MAX_EVENT_SKEW)",
    )
  })

  it("measures a record without a timestamp against the consumer's clock, with the configured skew", async t => {
    const { store, processor, record, letters } = await setup(t, 10 * 60_000)
    const soon = userCreated(uniqueName('u'), { timestamp: iso(Date.now() + 60_000) })
    const late = userCreated(uniqueName('u'), { timestamp: iso(Date.now() + hour) })
    const outcome = await processor.process([record(soon, -1n), record(late, undefined)], new AbortController().signal)
    assert.deepEqual(outcome, { applied: 1, pending: 0, deadLettered: 1, skipped: 0 })
    assert.equal((await store.getUser(soon.data.userId))?.name, soon.data.name)
    const [letter] = await letters()
    assert.equal(letter?.eventId, late.eventId)
    assert.equal(letter?.error.code, 'EVENT_TIME_SKEW')
    assert.match(
      letter?.error.message ?? '',
      /more than 10m ahead of the consumer's clock, .* \(the record has no timestamp\)/,
    )
  })
})
