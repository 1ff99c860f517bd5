import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { loadConfig } from '../../src/config/index.ts'
import { createRedisDlq, type DeadLetter, dlqFromConfig, encodePayload } from '../../src/dlq/index.ts'
import { PipelineError } from '../../src/errors.ts'
import { redisPrefix } from '../helpers/resources.ts'
import { testServices } from '../helpers/services.ts'

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
