// The DLQ's key summary in Redis beyond what the model test varies: a queue whose index an earlier version built
// (no summary) is rebuilt on first use and then answers; keys too long to be asked for, records the producer
// refused and base64 payloads are treated as the rule says; a cut payload keeps its class.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createRedisDlq, type DeadLetterQueue, dlqKeys, type KeyQuestion } from '../../src/dlq/index.ts'
import { PipelineError } from '../../src/errors.ts'
import { eventually } from '../helpers/kafka.ts'
import { letter } from '../helpers/letters.ts'
import { type Cleanup, keysMatching, redisPrefix } from '../helpers/resources.ts'
import { testServices } from '../helpers/services.ts'

function queue(t: Cleanup, key: string): DeadLetterQueue {
  const dlq = createRedisDlq({ addr: testServices.redisAddr, password: testServices.redisPassword, key })
  t.after(() => dlq.close())
  return dlq
}

const count = async (dlq: DeadLetterQueue, question: KeyQuestion) => (await dlq.keySummaries([question]))[0]?.count

describe('the key summary in Redis', () => {
  it('an index without the summary (an earlier version) is rebuilt on first use; meanwhile reads are told so', async t => {
    const { redis, prefix } = redisPrefix(t)
    const key = `${prefix}dlq`
    const first = queue(t, key)
    await first.push([letter(1), letter(2), letter(4, { key: 'u-1' })])
    assert.equal(await count(first, { class: 'users', key: 'u-1' }), 2)
    // What an earlier version left: an index (indexed) without the summary's sets nor its mark.
    const { meta, prefix: companions } = dlqKeys(key)
    const gen = (await redis.hget(meta, 'gen')) as string
    const escaped = companions.replace(/[{}[\]*?\\]/g, c => `\\${c}`)
    const sets = await keysMatching(redis, `${escaped}key:${gen}:*`)
    assert.equal(sets.length, 2)
    await redis.del(...sets, `${companions}keys:${gen}`)
    await redis.hdel(meta, 'ks')
    await assert.rejects(first.keySummaries([{ class: 'users', key: 'u-1' }]), (e: unknown) => {
      return e instanceof PipelineError && e.code === 'DLQ_UNAVAILABLE' && /rebuilt/.test(e.message)
    })

    const upgraded = queue(t, key)
    await eventually('the first use rebuilds the index with its summary', async () => {
      const answers = await upgraded.keySummaries([{ class: 'users', key: 'u-1', after: '1' }]).catch(() => undefined)
      return answers?.[0]?.count === 1 && answers[0].newest?.eventId === 'e-4'
    })
    assert.equal((await redis.hget(meta, 'ks')) === '1', true)
  })

  it('counts only records of the log with a key a read can name, by the class of their type', async t => {
    const { prefix } = redisPrefix(t)
    const dlq = queue(t, `${prefix}dlq`)
    const long = 'k'.repeat(401)
    await dlq.push([
      letter(1, { key: 'u-9' }),
      letter(2, { key: 'u-9', source: 'producer', topic: null, partition: null, offset: null }),
      letter(3, { key: 'u-9', payload: 'AAEC', payloadEncoding: 'base64' }),
      letter(4, { key: long }),
      letter(5, {
        key: 'u-9',
        payload: '{"eventId":"e-5","type":"OrderPlaced","data":{"total":',
        payloadTruncated: true,
        payloadBytes: 900_000,
        payloadSha256: '0'.repeat(64),
      }),
    ])
    assert.equal(await count(dlq, { class: 'users', key: 'u-9' }), 1, 'the refused request does not count')
    assert.equal(await count(dlq, { class: 'unknown', key: 'u-9' }), 1, 'a base64 payload has no readable type')
    assert.equal(await count(dlq, { class: 'orders', key: 'u-9' }), 1, 'a cut payload keeps the type it names')
    assert.equal(await count(dlq, { class: 'users', key: long }), 0, 'a key no read can name is not summarized')
    const [newest] = await dlq.keySummaries([{ class: 'users', key: 'u-9', after: '0' }])
    assert.deepEqual(newest, { count: 1, newest: { eventId: 'e-1', partition: 1, offset: '1' } })
  })
})
