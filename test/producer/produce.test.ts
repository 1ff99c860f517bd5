// The produce service without HTTP or Kafka: what is published, what is refused, and what the answer says.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { PipelineError } from '../../src/errors.ts'
import { createRegistry, producerMetrics } from '../../src/observability/index.ts'
import { type ProduceCaller, ProduceService } from '../../src/producer/produce.ts'
import type { Rejection } from '../../src/producer/refused.ts'
import { userCreated } from '../helpers/events.ts'

const caller: ProduceCaller = { log: { info: () => {} } }

function setup(maxEventSkewMs?: number) {
  const published: unknown[] = []
  const refused: { rejections: readonly Rejection[]; events: number }[] = []
  const service = new ProduceService({
    produceBatchMax: 3,
    maxEventSkewMs,
    publisher: {
      publish: async events => {
        published.push(...events)
        return events.map((_, i) => ({
          topic: 't',
          partition: 0,
          offset: String(published.length - events.length + i),
        }))
      },
    },
    metrics: producerMetrics(createRegistry('producer', false)),
    reject: async (_, rejections, events) => {
      refused.push({ rejections, events })
    },
    logsInfo: () => false,
  })
  return { service, published, refused }
}

describe('ProduceService', () => {
  it('publishes one valid event and answers with its offset', async () => {
    const { service, published, refused } = setup()
    const event = userCreated('u1')
    assert.deepEqual(await service.one(caller, event, performance.now()), {
      eventId: event.eventId,
      topic: 't',
      partition: 0,
      offset: '0',
    })
    assert.equal(published.length, 1)
    assert.deepEqual(refused, [])
  })

  it('refuses an invalid event, handing it to reject before throwing', async () => {
    const { service, published, refused } = setup()
    await assert.rejects(service.one(caller, { nope: true }, 0), (e: PipelineError) => e.code === 'SCHEMA_VIOLATION')
    assert.equal(published.length, 0)
    assert.equal(refused.length, 1)
    assert.equal(refused[0]!.events, 1)
  })

  it('refuses an event dated too far ahead of this clock', async () => {
    const { service } = setup(1000)
    const event = userCreated('u1', { timestamp: new Date(Date.now() + 60_000).toISOString() })
    await assert.rejects(service.one(caller, event, 0), (e: PipelineError) => e.code === 'EVENT_TIME_SKEW')
  })

  it('answers a batch entry by entry, publishing the valid ones', async () => {
    const { service, published, refused } = setup()
    const good = userCreated('u1')
    const answer = await service.batch(caller, [{ bad: 1 }, good], 0)
    assert.equal(published.length, 1)
    assert.equal(answer.offsets[0]?.eventId, null)
    assert.ok('error' in answer.offsets[0]!)
    assert.deepEqual(answer.offsets[1], { eventId: good.eventId, topic: 't', partition: 0, offset: '0' })
    assert.equal(refused[0]!.rejections.length, 1)
    assert.equal(refused[0]!.events, 2)
  })

  it('refuses an empty batch and one over the limit', async () => {
    const { service } = setup()
    await assert.rejects(service.batch(caller, [], 0), { code: 'EMPTY_BATCH' })
    const four = ['a', 'b', 'c', 'd'].map(u => userCreated(u))
    await assert.rejects(service.batch(caller, four, 0), { code: 'BATCH_TOO_LARGE' })
  })
})
