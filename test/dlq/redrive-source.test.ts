// The original a redriven copy names in its x-redrive-source header: the copy's position in the log.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { parseRedriveSource, redriveSourceHeader, redriveSourceOf } from '../../src/dlq/index.ts'

const copy = { topic: 'events', partition: 1, offset: 500n }

describe('parseRedriveSource', () => {
  it('reads topic/partition/offset', () => {
    assert.deepEqual(parseRedriveSource('events/1/42', copy), { topic: 'events', partition: 1, offset: 42n })
    assert.deepEqual(parseRedriveSource('other.topic_2/0/9223372036854775807', copy), {
      topic: 'other.topic_2',
      partition: 0,
      offset: 9223372036854775807n,
    })
  })

  it('names no original for what cannot be one: the copy is then its own record', () => {
    for (const value of [
      'producer',
      '',
      'events/1',
      'events/-1/3',
      'events/1/-3',
      'events/2147483648/1',
      'events/1/9223372036854775808',
      'bad topic/1/1',
      `${'t'.repeat(250)}/1/1`,
      'events/1/42/7',
      // In the copy's own partition an original comes before the copy.
      'events/1/500',
      'events/1/501',
    ]) {
      assert.equal(parseRedriveSource(value, copy), undefined, value)
    }
    assert.deepEqual(parseRedriveSource('events/2/501', copy), { topic: 'events', partition: 2, offset: 501n })
  })
})

describe('redriveSourceOf', () => {
  const header = (name: string, value: string | Buffer) => [Buffer.from(name), Buffer.from(value)] as const

  it('finds the header among others, and nothing when absent', () => {
    assert.equal(
      redriveSourceOf(new Map([header('eventId', 'e1'), header(redriveSourceHeader, 'events/0/7')])),
      'events/0/7',
    )
    assert.equal(redriveSourceOf(new Map([header('eventId', 'e1')])), undefined)
    assert.equal(redriveSourceOf(new Map()), undefined)
    assert.equal(redriveSourceOf(undefined), undefined)
  })

  it('passes over a header without a name, and reads one without a value as naming no original', () => {
    // What the Kafka client hands over for a header whose name or value is null on the wire.
    const nameless = new Map<Buffer | null | undefined, Buffer | null | undefined>([
      [undefined, Buffer.from('x')],
      [null, null],
    ])
    assert.equal(redriveSourceOf(nameless), undefined)
    const valueless = new Map<Buffer | null | undefined, Buffer | null | undefined>([
      [undefined, undefined],
      [Buffer.from(redriveSourceHeader), undefined],
    ])
    assert.equal(redriveSourceOf(valueless), '')
    assert.equal(redriveSourceOf(new Map([[Buffer.from(redriveSourceHeader), null]])), '')
  })

  it('does not decode a value longer than any valid one', () => {
    const huge = Buffer.alloc(1024 * 1024, 0x31)
    assert.equal(redriveSourceOf(new Map([header(redriveSourceHeader, huge)])), '')
  })
})
