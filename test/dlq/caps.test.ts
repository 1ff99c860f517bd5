// The DLQ's bounds against a real Redis: the producer's entries within their count and byte caps, checked and
// pushed atomically; and a Redis at maxmemory reported as such, with nothing half-written.
import assert from 'node:assert/strict'
import { Writable } from 'node:stream'
import { describe, it } from 'node:test'
import pino from 'pino'
import {
  createRedisDlq,
  type DeadLetter,
  dlqKeys,
  encodePayload,
  type RedisDlqOptions,
  seenKeyOf,
} from '../../src/dlq/index.ts'
import { PipelineError } from '../../src/errors.ts'
import { createRegistry } from '../../src/observability/index.ts'
import { type Cleanup, redisPrefix } from '../helpers/resources.ts'
import { testServices } from '../helpers/services.ts'
import { noPrivateRedis, privateRedis } from './private-redis.ts'

const refused = (n: number, bytes = 100): DeadLetter => ({
  eventId: `e-${n}`,
  topic: null,
  partition: null,
  offset: null,
  key: null,
  ...encodePayload(Buffer.from('x'.repeat(bytes))),
  error: { code: 'SCHEMA_VIOLATION', message: `1 of 1 events refused: #${n}` },
  attempts: 1,
  failedAt: new Date(0).toISOString(),
  source: 'producer',
})

const record = (offset: number, bytes = 100): DeadLetter => ({
  ...refused(offset, bytes),
  topic: 'events',
  partition: 0,
  offset: String(offset),
  source: 'consumer',
})

function queue(t: Cleanup, options: RedisDlqOptions) {
  const dlq = createRedisDlq({ commandTimeoutMs: 2000, ...options })
  t.after(() => dlq.close())
  return dlq
}

const shared = (key: string) => ({ addr: testServices.redisAddr, password: testServices.redisPassword, key })
const sumOfLengths = (items: string[]) => items.reduce((sum, item) => sum + Buffer.byteLength(item), 0)

describe('producer caps', () => {
  it('stores producer entries up to the count cap and counts the rest as dropped', async t => {
    const { redis, prefix } = redisPrefix(t)
    const key = `${prefix}dlq`
    const maxEntries = 7
    const dlq = queue(t, { ...shared(key), producerCaps: { maxEntries, maxBytes: 1024 * 1024 } })
    let stored = 0
    let dropped = 0
    for (let i = 0; i < 20; i++) {
      const outcome = await dlq.push([refused(i)])
      stored += outcome.pushed
      dropped += outcome.dropped.entries ?? 0
    }
    assert.deepEqual([stored, dropped], [maxEntries, 20 - maxEntries])
    assert.equal(await redis.llen(key), maxEntries)
    // Consumer records are never refused by the producer's caps: a poison record must always be kept.
    assert.equal((await dlq.push([record(1), record(2)])).pushed, 2)
    assert.equal(await redis.llen(key), maxEntries + 2)
  })

  it('stores producer entries up to the byte cap, measured as the entries Redis holds', async t => {
    const { redis, prefix } = redisPrefix(t)
    const key = `${prefix}dlq`
    const maxBytes = 10_000
    const dlq = queue(t, { ...shared(key), producerCaps: { maxEntries: 1000, maxBytes } })
    let dropped = 0
    for (let i = 0; i < 40; i++) dropped += (await dlq.push([refused(i, 900)])).dropped.bytes ?? 0
    const items = await redis.lrange(key, 0, -1)
    const oneEntry = Buffer.byteLength(items[0] as string)
    assert.equal(items.length, Math.floor(maxBytes / oneEntry), 'as many entries as fit in the byte cap')
    assert.ok(sumOfLengths(items) <= maxBytes)
    assert.equal(dropped, 40 - items.length)
    assert.equal(Number(await redis.hget(dlqKeys(key).meta, 'pb')), sumOfLengths(items))
  })

  it('holds the caps when many producers push at once', async t => {
    const { redis, prefix } = redisPrefix(t)
    const key = `${prefix}dlq`
    const maxEntries = 25
    const queues = Array.from({ length: 4 }, () =>
      queue(t, { ...shared(key), producerCaps: { maxEntries, maxBytes: 1024 * 1024 } }),
    )
    const outcomes = await Promise.all(
      Array.from({ length: 200 }, (_, i) => (queues[i % queues.length] as (typeof queues)[0]).push([refused(i)])),
    )
    assert.equal(
      outcomes.reduce((sum, o) => sum + o.pushed, 0),
      maxEntries,
    )
    assert.equal(await redis.llen(key), maxEntries)
  })

  it('starts counting again once the list is emptied by hand', async t => {
    const { redis, prefix } = redisPrefix(t)
    const key = `${prefix}dlq`
    const dlq = queue(t, { ...shared(key), producerCaps: { maxEntries: 3, maxBytes: 1024 * 1024 } })
    for (let i = 0; i < 5; i++) await dlq.push([refused(i)])
    assert.equal(await redis.llen(key), 3)
    await redis.del(key)
    for (let i = 0; i < 5; i++) await dlq.push([refused(i)])
    assert.equal(await redis.llen(key), 3)
  })

  it('keeps every stored entry within the entry cap, producer and consumer alike', async t => {
    const { redis, prefix } = redisPrefix(t)
    const key = `${prefix}dlq`
    const entryMaxBytes = 8192
    const dlq = queue(t, { ...shared(key), entryMaxBytes })
    await dlq.push([refused(1, 50_000), record(2, 300_000), record(3, 10)])
    const items = await redis.lrange(key, 0, -1)
    assert.equal(items.length, 3)
    for (const item of items) assert.ok(Buffer.byteLength(item) <= entryMaxBytes)
    const letters = (await dlq.list()).reverse()
    assert.deepEqual(
      letters.map(l => [l.payloadTruncated ?? false, l.payloadBytes]),
      [
        [true, 50_000],
        [true, 300_000],
        [false, undefined],
      ],
    )
  })
})

describe('a full Redis', { skip: noPrivateRedis }, () => {
  it('fails the push with "Redis is full (maxmemory)", sets the metric, logs once, and writes nothing', async t => {
    const redis = await privateRedis(t, ['--maxmemory', '2mb', '--maxmemory-policy', 'noeviction'])
    const key = 'dlq:events'
    const lines: Record<string, unknown>[] = []
    const logger = pino(
      { level: 'info' },
      new Writable({
        write(chunk, _encoding, done) {
          lines.push(JSON.parse(String(chunk)))
          done()
        },
      }),
    )
    const registry = createRegistry('consumer', false)
    const dlq = queue(t, { addr: redis.addr, key, logger, registry, reportIntervalMs: 60_000 })
    // Fill Redis past maxmemory with small keys of its own: the write that crosses the limit is accepted (Redis
    // checks before a command), the next is refused, and Redis then stays over the limit.
    let ballast = 0
    while (
      await redis.client.set(`ballast:${ballast}`, 'x'.repeat(16 * 1024)).then(
        () => true,
        () => false,
      )
    ) {
      ballast++
      assert.ok(ballast < 1000, 'Redis never refused a write: is maxmemory set?')
    }
    const before = await redis.client.llen(key)

    const failures: unknown[] = []
    for (let i = 0; i < 5; i++) failures.push(await dlq.push([record(i)]).catch((error: unknown) => error))
    for (const failure of failures) {
      assert.ok(failure instanceof PipelineError)
      assert.equal(failure.code, 'DLQ_UNAVAILABLE')
      assert.equal(failure.retryable, true)
      assert.match(failure.message, /Redis is full \(maxmemory\): OOM command not allowed/)
    }
    const producerFailure = await dlq.push([refused(1)]).catch((error: unknown) => error)
    assert.match((producerFailure as Error).message, /Redis is full \(maxmemory\)/)
    const metrics = await registry.metrics()
    assert.match(metrics, /dlq_push_failures_total\{reason="full",role="consumer"\} 6/)
    assert.match(metrics, /dlq_redis_full\{role="consumer"\} 1/)
    const told = lines.filter(l => String(l['msg']).includes('Redis is full'))
    assert.equal(told.length, 1, 'one line per interval, not one per failure')
    assert.equal(told[0]?.['reason'], 'Redis is full (maxmemory)')
    // Nothing half-written: no entry, and no record remembered as seen that the list does not hold.
    assert.equal(await redis.client.llen(key), before)
    assert.equal(await redis.client.zcard(seenKeyOf(key)), 0)
    assert.equal(await redis.client.exists(dlqKeys(key).meta), 0)

    // Room again: the records retried are stored once each, and the state clears.
    await redis.client.flushall()
    await dlq.push([record(0), record(1), record(2), record(3), record(4), refused(1)])
    await dlq.push([record(0), record(1)])
    assert.equal(await redis.client.llen(key), 6, 'five records once each and the refused request')
    assert.match(await registry.metrics(), /dlq_redis_full\{role="consumer"\} 0/)
    assert.ok(lines.some(l => l['msg'] === 'dead-letter queue: Redis accepts dead letters again'))
  })
})
