import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  headersOf,
  type JobEntry,
  partitionFor,
  redrivability,
  redriveHeaders,
  resolveInDoubt,
} from '../../src/dlq-ops/index.ts'
import { jobEntryOf, move, readBackFrom, recordValue, tally } from '../../src/dlq-ops/redrive-plan.ts'
import { partitionOf } from '../../src/kafka/index.ts'
import { letter } from '../helpers/letters.ts'

const entry = (n: number, over: Partial<JobEntry> = {}): JobEntry => ({
  ...jobEntryOf(n, JSON.stringify(letter(n)), letter(n), undefined),
  ...over,
})

describe('redrive planning', () => {
  it('sends consumer entries with a whole payload, and says why it leaves the others', () => {
    assert.deepEqual(redrivability(letter(1)), { ok: true })
    const producer = redrivability(letter(1, { source: 'producer', topic: null, partition: null, offset: null }))
    assert.ok(!producer.ok && /refused by the producer.*--payload FILE/.test(producer.reason))
    const cut = redrivability(letter(1, { payloadTruncated: true, payloadBytes: 100_000 }))
    assert.ok(!cut.ok && /cut to fit DLQ_ENTRY_MAX_BYTES.*events\/1\/1/.test(cut.reason))
    const empty = redrivability(letter(1, { payload: null }))
    assert.ok(!empty.ok && /no value/.test(empty.reason))
  })

  it("republishes the original bytes under the original key, on the producer's partition for that key", () => {
    const l = letter(4, {
      key: 'order-17',
      payloadEncoding: 'base64',
      payload: Buffer.from([0xc3, 0x28]).toString('base64'),
    })
    const job = jobEntryOf(1, JSON.stringify(l), l, undefined)
    assert.equal(job.topic, 'events')
    assert.equal(job.source, 'events/1/4')
    assert.deepEqual(recordValue(job, l), Buffer.from([0xc3, 0x28]))
    assert.equal(partitionFor(job, 12), partitionOf('order-17', 12))
    assert.equal(jobEntryOf(1, '', l, 'other').topic, 'other')
    // Without a key a record keeps its partition while the topic has it.
    assert.equal(partitionFor({ key: null, originalPartition: 5 }, 6), 5)
    assert.equal(partitionFor({ key: null, originalPartition: 5 }, 3), 0)
    assert.deepEqual(recordValue({ ...job, value: '{"fixed":true}' }, l), Buffer.from('{"fixed":true}'))
  })

  it('names the redrive, the entry and the original coordinates in headers, with the eventId header', () => {
    assert.deepEqual(headersOf('rd-1', entry(3)), {
      [redriveHeaders.id]: 'rd-1',
      [redriveHeaders.entry]: '3',
      [redriveHeaders.source]: 'events/0/3',
      eventId: 'e-3',
    })
  })

  it('moves entries only along the protocol', () => {
    const sending = move(entry(1), 'sending', { partition: 2, mark: '10' })
    assert.equal(sending.state, 'sending')
    assert.equal(move(move(sending, 'sent'), 'done').state, 'done')
    assert.throws(() => move(entry(1), 'sent'), /pending → sent is not allowed/)
    assert.throws(() => move(move(move(sending, 'sent'), 'done'), 'pending'), /not allowed/)
  })

  it('decides entries in doubt from what Kafka holds after their marks, never by guessing', () => {
    const a = move(entry(1), 'sending', { partition: 0, mark: '10' })
    const b = move(entry(2), 'sending', { partition: 0, mark: '10' })
    const c = move(entry(3), 'sending', { partition: 1, mark: '4', topic: 'other' })
    assert.deepEqual(
      [...readBackFrom([a, b, c])].map(([topic, from]) => [topic, [...from]]),
      [
        ['events', [[0, 10n]]],
        ['other', [[1, 4n]]],
      ],
    )
    const resolved = resolveInDoubt([a, b, c], new Map([[2, 11n]]))
    assert.deepEqual(
      resolved.map(e => [e.n, e.state, e.offset]),
      [
        [1, 'pending', undefined],
        [2, 'sent', '11'],
        [3, 'pending', undefined],
      ],
    )
    assert.throws(() => resolveInDoubt([entry(4)], new Map()), /not in doubt/)
    assert.deepEqual(tally([...resolved, move(move(entry(5), 'sending'), 'sent'), move(entry(6), 'failed')]), {
      total: 5,
      pending: 2,
      sent: 2,
      failed: 1,
      gone: 0,
    })
  })
})
