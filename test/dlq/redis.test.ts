import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { loadConfig } from '../../src/config/index.ts'
import {
  chunkArgs,
  createRedisDlq,
  type DeadLetter,
  dlqFromConfig,
  encodePayload,
  type RedisDlqOptions,
  seenKeyOf,
} from '../../src/dlq/index.ts'
import { PipelineError } from '../../src/errors.ts'
import { tcpProxy } from '../helpers/proxy.ts'
import { type Cleanup, monitorOf, redisPrefix, standaloneOnly } from '../helpers/resources.ts'
import { redisHostPort, testServices } from '../helpers/services.ts'

const letter = (offset: number): DeadLetter => ({
  eventId: `e-${offset}`,
  topic: 'events',
  partition: 0,
  offset: String(offset),
  key: 'k',
  ...encodePayload(Buffer.from(`{"n":${offset}}`)),
  error: { code: 'SCHEMA_VIOLATION', message: 'bad' },
  attempts: 1,
  failedAt: new Date(0).toISOString(),
  source: 'consumer',
})

const refused = (n: number): DeadLetter => ({
  ...letter(n),
  topic: null,
  partition: null,
  offset: null,
  source: 'producer',
})

/** A queue on the test's own key, closed after the test. */
function queue(t: Cleanup, key: string, options: Partial<RedisDlqOptions> = {}) {
  const dlq = createRedisDlq({
    addr: testServices.redisAddr,
    password: testServices.redisPassword,
    key,
    ...options,
  })
  t.after(() => dlq.close())
  return dlq
}

const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms))

describe('Redis dead-letter queue', () => {
  it('LPUSHes records so that the list reads newest first', async t => {
    const { redis, prefix } = redisPrefix(t)
    const dlq = createRedisDlq({
      addr: testServices.redisAddr,
      password: testServices.redisPassword,
      key: `${prefix}dlq`,
    })
    t.after(() => dlq.close())
    await dlq.push([letter(1), letter(2)])
    await dlq.push([letter(3)])
    assert.equal(await dlq.length(), 3)
    assert.deepEqual(
      (await dlq.list()).map(l => l.offset),
      ['3', '2', '1'],
    )
    // What redis-cli shows is plain JSON with the seed's fields.
    const raw = JSON.parse((await redis.lindex(`${prefix}dlq`, 0)) as string)
    for (const field of [
      'eventId',
      'topic',
      'partition',
      'offset',
      'key',
      'payload',
      'error',
      'attempts',
      'failedAt',
    ]) {
      assert.ok(field in raw, field)
    }
  })

  it('holds one entry per Kafka record however often it is pushed', async t => {
    const { redis, prefix } = redisPrefix(t)
    const dlq = queue(t, `${prefix}dlq`)
    await dlq.push([letter(1), letter(2)])
    await dlq.push([letter(1)])
    await dlq.push([letter(2), letter(3), letter(3)])
    assert.deepEqual(
      (await dlq.list()).map(l => l.offset),
      ['3', '2', '1'],
    )
    // The same offset in another partition or topic is another record.
    await dlq.push([
      { ...letter(1), partition: 1 },
      { ...letter(1), topic: 'other' },
    ])
    assert.equal(await dlq.length(), 5)
    assert.equal(await redis.zcard(seenKeyOf(`${prefix}dlq`)), 5)
  })

  it('adds no second entry when a push whose reply was lost is retried', async t => {
    if (standaloneOnly(t, 'a cluster client learns the nodes from the cluster, around a proxy')) return
    const { redis, prefix } = redisPrefix(t)
    const { host, port } = redisHostPort()
    const proxy = await tcpProxy(t, host, port)
    const dlq = createRedisDlq({
      addr: `127.0.0.1:${proxy.port}`,
      password: testServices.redisPassword,
      key: `${prefix}dlq`,
      commandTimeoutMs: 300,
    })
    t.after(() => dlq.close())
    await dlq.length() // opened: its first use done
    // Redis runs the script, the answer never comes back, the client gives up on the command.
    proxy.blackhole('replies')
    await assert.rejects(
      () => dlq.push([letter(1), letter(2)]),
      (e: unknown) => e instanceof PipelineError && e.code === 'DLQ_UNAVAILABLE' && e.retryable,
    )
    assert.equal(await redis.llen(`${prefix}dlq`), 2, 'the lost push did land')
    // The connection is dropped, as a client that timed out sees it sooner or later; the retry reconnects.
    await proxy.cut()
    await proxy.restore()
    let retried = false
    for (let attempt = 0; attempt < 50 && !retried; attempt++) {
      retried = await dlq.push([letter(1), letter(2)]).then(
        () => true,
        () => sleep(100).then(() => false),
      )
    }
    assert.ok(retried, 'the retry went through once Redis answered again')
    assert.deepEqual(
      (await dlq.list()).map(l => l.offset),
      ['2', '1'],
    )
  })

  it('forgets the oldest records past the count cap, and records older than the age limit', async t => {
    const { redis, prefix } = redisPrefix(t)
    const capped = queue(t, `${prefix}capped`, { seenMaxCount: 3 })
    for (const n of [1, 2, 3, 4, 5]) {
      await capped.push([letter(n)])
      await sleep(3) // distinct push times, so "oldest" is well defined
    }
    assert.deepEqual(await redis.zrange(seenKeyOf(`${prefix}capped`), '0', '-1'), [
      'events/0/3',
      'events/0/4',
      'events/0/5',
    ])
    await capped.push([letter(5)])
    assert.equal(await capped.length(), 5, 'a remembered record is still skipped')
    await capped.push([letter(1)])
    assert.equal(await capped.length(), 6, 'a forgotten record is pushed again: the cap bounds the dedupe')
    assert.equal(await redis.zcard(seenKeyOf(`${prefix}capped`)), 3)

    const aged = queue(t, `${prefix}aged`, { seenMaxAgeMs: 50 })
    await aged.push([letter(1)])
    await sleep(120)
    await aged.push([letter(2)])
    assert.deepEqual(await redis.zrange(seenKeyOf(`${prefix}aged`), '0', '-1'), ['events/0/2'])
  })

  it('pushes events the producer refused (no Kafka coordinates) every time, as before', async t => {
    const { redis, prefix } = redisPrefix(t)
    const dlq = queue(t, `${prefix}dlq`)
    await dlq.push([refused(1), refused(1)])
    await dlq.push([refused(1), letter(1), letter(1)])
    assert.deepEqual(
      (await dlq.list()).map(l => [l.source, l.topic]),
      [
        ['consumer', 'events'],
        ['producer', null],
        ['producer', null],
        ['producer', null],
      ],
    )
    assert.equal(await redis.zcard(seenKeyOf(`${prefix}dlq`)), 1)
  })

  it('splits a large push into bounded script calls, each idempotent, keeping the order', async t => {
    const { redis, prefix } = redisPrefix(t)
    const key = `${prefix}dlq`
    const monitor = await monitorOf(t, redis, key)
    const calls: number[] = []
    monitor.on('monitor', (_time: string, args: string[]) => {
      const [command, , , list] = args
      if (/^eval(sha)?$/i.test(command ?? '') && list === key) calls.push((args.length - 11) / 3)
    })
    const dlq = queue(t, key)
    const letters = Array.from({ length: 1200 }, (_, n) => letter(n))
    // A first push that got only part of the way: a retry of the whole adds just the rest.
    await dlq.push(letters.slice(0, 700))
    await dlq.push(letters)
    const offsets = (await dlq.list()).map(l => Number(l.offset))
    assert.equal(offsets.length, 1200)
    assert.deepEqual(offsets, letters.map((_, n) => n).reverse())
    await sleep(200) // MONITOR lines trail the replies
    assert.deepEqual(calls, [500, 200, 500, 500, 200])
  })

  it('bounds each script call in entries and in bytes; an oversized entry goes alone', () => {
    const big = { ...letter(9), payload: 'x'.repeat(2000) }
    const chunks = chunkArgs([letter(1), letter(2), big, letter(3), letter(4), letter(5)], {
      maxEntries: 2,
      maxBytes: 1000,
    })
    // Each chunk is (id, eventId, entry) triples.
    assert.deepEqual(
      chunks.map(c => c.filter((_, i) => i % 3 === 0)),
      [['events/0/1', 'events/0/2'], ['events/0/9'], ['events/0/3', 'events/0/4'], ['events/0/5']],
    )
    assert.deepEqual(chunkArgs([]), [])
    assert.deepEqual(chunkArgs([refused(1)])[0]?.slice(0, 2), ['', 'e-1'])
    assert.deepEqual(chunkArgs([{ ...letter(1), eventId: null }])[0]?.slice(0, 2), ['events/0/1', ''])
  })

  it('keeps payloads that are not UTF-8 as base64, so nothing is lost', () => {
    assert.deepEqual(encodePayload(Buffer.from('héllo')), { payload: 'héllo', payloadEncoding: 'utf8' })
    assert.deepEqual(encodePayload(Buffer.from([0xc3, 0x28])), { payload: 'wyg=', payloadEncoding: 'base64' })
    assert.deepEqual(encodePayload(null), { payload: null, payloadEncoding: 'utf8' })
  })

  it('fails fast with a retryable DLQ_UNAVAILABLE when Redis cannot be reached', async t => {
    const dlq = createRedisDlq({ addr: '127.0.0.1:1', key: 'dlq:events', commandTimeoutMs: 500 })
    t.after(() => dlq.close())
    const started = Date.now()
    await assert.rejects(
      () => dlq.push([letter(1)]),
      (e: unknown) => e instanceof PipelineError && e.code === 'DLQ_UNAVAILABLE' && e.retryable,
    )
    await assert.rejects(
      () => dlq.ping(),
      (e: unknown) => e instanceof PipelineError && e.code === 'DLQ_UNAVAILABLE',
    )
    assert.ok(Date.now() - started < 5000, 'no endless wait')
  })

  it('is the queue the configuration names: REDIS_ADDR, REDIS_PASSWORD, DLQ_KEY', async t => {
    const { redis, prefix } = redisPrefix(t)
    const config = loadConfig({
      REDIS_ADDR: testServices.redisAddr,
      REDIS_PASSWORD: testServices.redisPassword,
      DLQ_KEY: `${prefix}configured`,
    })
    const dlq = dlqFromConfig(config)
    t.after(() => dlq.close())
    await dlq.push([letter(7)])
    assert.equal(await redis.llen(`${prefix}configured`), 1)
    assert.equal((await dlq.list())[0]?.offset, '7')
  })
})
