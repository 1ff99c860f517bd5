// ?after= at the HTTP edge against a real SQLite store and the real broker: offsets the log does not hold are
// refused at once with its end named, waiting places are bounded per client address, and a Kafka that does not
// answer leaves reads waiting as they would without the check.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { buildApiApp } from '../../src/api/index.ts'
import { createOffsetsReader } from '../../src/kafka/index.ts'
import { createLogger, createRegistry } from '../../src/observability/index.ts'
import { createStore } from '../../src/store/index.ts'
import { produceRaw } from '../helpers/kafka.ts'
import { type Cleanup, kafkaTopic, sqliteFile } from '../helpers/resources.ts'
import { testServices } from '../helpers/services.ts'

interface Setup {
  readWaitMs?: number
  readWaitersMax?: number
  readWaitersPerAddress?: number
  /** Ends read from a topic of the real broker, or a read that fails; none: after= is not checked. */
  ends?: 'kafka' | 'down'
}

async function setup(t: Cleanup, options: Setup = {}) {
  const store = await createStore({ engine: 'sqlite', path: sqliteFile(t) })
  await store.migrate()
  const topic = await kafkaTopic(t, 2)
  // Partition 0 holds offsets 0, 1 and 2 (its end is 3); partition 1 holds none (its end is 0).
  await produceRaw(
    topic,
    [0, 1, 2].map(i => ({ value: `record-${i}`, partition: 0 })),
  )
  const reader = createOffsetsReader(
    { clientId: 'test-read-after', bootstrapBrokers: [...testServices.kafkaBrokers] },
    { timeoutMs: 5000 },
  )
  const kafkaReads = { count: 0 }
  const endOffsets =
    options.ends === 'kafka'
      ? () => {
          kafkaReads.count++
          return reader.ends(topic)
        }
      : options.ends === 'down'
        ? async () => {
            kafkaReads.count++
            throw new Error('connect ECONNREFUSED 127.0.0.1:1')
          }
        : undefined
  const app = buildApiApp({
    store,
    logger: createLogger('silent', 'api'),
    registry: createRegistry('api', false),
    topic,
    readWaitMs: options.readWaitMs ?? 5000,
    ...(options.readWaitersMax === undefined ? {} : { readWaitersMax: options.readWaitersMax }),
    ...(options.readWaitersPerAddress === undefined ? {} : { readWaitersPerAddress: options.readWaitersPerAddress }),
    ...(endOffsets === undefined ? {} : { endOffsets }),
  })
  t.after(async () => {
    await app.close()
    await reader.close()
    await store.close()
  })
  return { app, kafkaReads }
}

describe('?after= beyond the log', () => {
  it('refuses an offset at or past its partition end at once, naming that end', async t => {
    const { app } = await setup(t, { ends: 'kafka', readWaitMs: 5000 })
    for (const after of ['0:9223372036854775000', '0:3', '0:1,1:0']) {
      const started = Date.now()
      const r = await app.inject(`/users/u-1?after=${after}`)
      assert.ok(Date.now() - started < 2000, `${after}: answered in ${Date.now() - started} ms, not READ_WAIT_MS`)
      assert.equal(r.statusCode, 400, after)
      const error = r.json().error
      assert.equal(error.code, 'AFTER_BEYOND_LOG', after)
      const [partition, end] = after === '0:1,1:0' ? [1, '0'] : [0, '3']
      assert.equal(error.partition, partition, after)
      assert.equal(error.endOffset, end, after)
      assert.match(error.message, new RegExp(`log ends at ${end}`))
      assert.equal(r.headers['x-applied-offsets'], '', 'the answer still says how far the consumer got')
    }
  })

  it('refuses a partition the topic does not have, naming the partition count', async t => {
    const { app } = await setup(t, { ends: 'kafka' })
    const started = Date.now()
    const r = await app.inject('/orders/o-1?after=0:0,7:0')
    assert.ok(Date.now() - started < 2000)
    assert.equal(r.statusCode, 400)
    assert.equal(r.json().error.code, 'AFTER_BEYOND_LOG')
    assert.equal(r.json().error.partition, 7)
    assert.equal(r.json().error.partitions, 2)
    assert.match(r.json().error.message, /the topic has 2 partitions/)
  })

  it('lets an offset inside the log wait as before, and costs few Kafka reads for many refusals', async t => {
    const { app, kafkaReads } = await setup(t, { ends: 'kafka', readWaitMs: 300, readWaitersPerAddress: 1000 })
    const started = Date.now()
    const honest = await app.inject('/users/u-1?after=0:2')
    assert.ok(Date.now() - started >= 290, 'waited READ_WAIT_MS')
    assert.equal(honest.statusCode, 503)
    assert.equal(honest.json().error.code, 'NOT_APPLIED_YET')
    const before = kafkaReads.count
    const flood = await Promise.all(
      Array.from({ length: 200 }, (_, i) => app.inject(`/users/u-${i}?after=0:${1000 + i}`)),
    )
    assert.ok(flood.every(r => r.statusCode === 400 && r.json().error.code === 'AFTER_BEYOND_LOG'))
    assert.ok(kafkaReads.count - before <= 3, `${kafkaReads.count - before} Kafka reads for 200 refusals`)
  })

  it('waits within READ_WAIT_MS as before when Kafka cannot tell the end', async t => {
    const { app, kafkaReads } = await setup(t, { ends: 'down', readWaitMs: 300 })
    const started = Date.now()
    const r = await app.inject('/users/u-1?after=0:9223372036854775000')
    assert.ok(Date.now() - started >= 290, 'not refused: waited READ_WAIT_MS')
    assert.equal(r.statusCode, 503)
    assert.equal(r.headers['retry-after'], '1')
    assert.equal(r.json().error.code, 'NOT_APPLIED_YET')
    assert.ok(kafkaReads.count >= 1)
  })
})

describe('?after= waiting places', () => {
  it('caps the reads waiting from one address (429), and in total (503)', async t => {
    const { app } = await setup(t, { readWaitMs: 3000, readWaitersMax: 3, readWaitersPerAddress: 2 })
    const wait = (remoteAddress: string) => app.inject({ url: '/users/u-1?after=0:2', remoteAddress })
    const waiting = [wait('10.0.0.1'), wait('10.0.0.1')]
    await sleep(50)
    const mine = await wait('10.0.0.1')
    assert.equal(mine.statusCode, 429)
    assert.equal(mine.headers['retry-after'], '1')
    assert.equal(mine.json().error.code, 'TOO_MANY_WAITERS')
    assert.match(mine.json().error.message, /2 reads from this address/)
    // Another address still gets a place: one client does not take them all.
    waiting.push(wait('10.0.0.2'))
    await sleep(50)
    const full = await wait('10.0.0.3')
    assert.equal(full.statusCode, 503)
    assert.equal(full.headers['retry-after'], '1')
    assert.equal(full.json().error.code, 'TOO_MANY_WAITERS')
    // A read already covered needs no place.
    assert.equal((await app.inject({ url: '/users/u-1', remoteAddress: '10.0.0.1' })).statusCode, 404)
    await app.close()
    for (const r of await Promise.all(waiting)) assert.equal(r.json().error.code, 'NOT_APPLIED_YET')
  })
})
