import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { DeadLetter, PushOutcome } from '../../src/dlq/index.ts'
import { PipelineError } from '../../src/errors.ts'
import { createRegistry } from '../../src/observability/index.ts'
import { buildProducerApp, summaryLetter, TokenBucket } from '../../src/producer/index.ts'
import { capturingLogger } from './helpers.ts'

describe('TokenBucket', () => {
  it('allows the burst at once, then the rate', () => {
    const bucket = new TokenBucket(10, 5, 0)
    const takes = (now: number, n: number) => Array.from({ length: n }, () => bucket.take(now)).filter(Boolean).length
    assert.equal(takes(0, 20), 5)
    assert.equal(takes(100, 20), 1, '10 a second is one per 100 ms')
    assert.equal(takes(10_000, 20), 5, 'never more than the burst saved up')
    assert.equal(new TokenBucket(0, 5, 0).take(1e9), false, 'a rate of 0 dead-letters nothing')
  })
})

describe('summaryLetter', () => {
  it('sums up a request: first eventId and code, counts and the first reasons, the body as sent', () => {
    const rejections = Array.from({ length: 1000 }, (_, index) => ({
      index,
      value: index === 0 ? 7 : { eventId: `e-${index}` },
      error: new PipelineError('SCHEMA_VIOLATION', `entry ${index} is wrong`),
    }))
    const letter = summaryLetter(rejections, 1002, '[body]', new Date(0).toISOString())
    assert.equal(letter.eventId, 'e-1')
    assert.equal(letter.error.code, 'SCHEMA_VIOLATION')
    assert.match(letter.error.message, /^1000 of 1002 events refused: #0 SCHEMA_VIOLATION: entry 0 is wrong; #1 /)
    assert.match(letter.error.message, /; … 997 more$/)
    assert.deepEqual([letter.payload, letter.source, letter.topic], ['[body]', 'producer', null])
  })
})

describe('refused requests in the producer app', () => {
  it('dead-letters one entry per request at the configured rate and counts the rest', async t => {
    const { logger, lines } = capturingLogger()
    const registry = createRegistry('producer', false)
    const dead: DeadLetter[][] = []
    const burst = 3
    const app = buildProducerApp({
      // One token per 1,000 s: however slowly this test runs, only the burst passes.
      config: {
        bodyLimitBytes: 1024 * 1024,
        produceBatchMax: 1000,
        producerDlqPerSecond: 0.001,
        producerDlqBurst: burst,
      },
      logger,
      registry,
      publisher: { publish: async () => [], ready: async () => ({ ok: true }) },
      rejected: async (records): Promise<PushOutcome> => {
        dead.push(records)
        // The DLQ's answer when its caps refuse the entry: the app counts it under the cap's name.
        return dead.length === burst ? { pushed: 0, dropped: { bytes: 1 } } : { pushed: 1, dropped: {} }
      },
    })
    t.after(() => app.close())
    const requests = 12
    const body = JSON.stringify(Array.from({ length: 1000 }, (_, i) => i))
    for (let i = 0; i < requests; i++) {
      const res = await app.inject({
        method: 'POST',
        url: '/produce',
        payload: body,
        headers: { 'content-type': 'application/json' },
      })
      assert.equal(res.statusCode, 200, 'a batch is answered entry by entry')
      assert.equal((res.json() as { offsets: unknown[] }).offsets.length, 1000)
    }
    assert.deepEqual(
      dead.map(records => records.length),
      Array.from({ length: burst }, () => 1),
    )
    assert.equal(dead[0]?.[0]?.payload, body)
    const metrics = await registry.metrics()
    assert.match(metrics, new RegExp(`dlq_dropped_total\\{reason="rate",role="producer"\\} ${requests - burst}`))
    assert.match(metrics, /dlq_dropped_total\{reason="bytes",role="producer"\} 1/)
    assert.match(
      metrics,
      new RegExp(`events_rejected_total\\{code="SCHEMA_VIOLATION",role="producer"\\} ${requests * 1000}`),
    )
    assert.equal(lines.filter(l => l.msg === 'event rejected').length, requests, 'one line per request')
    assert.equal(
      lines.filter(l => String(l.msg).startsWith('refused requests not dead-lettered')).length,
      1,
      'drops are told once per interval',
    )
  })
})
