import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { describe, it } from 'node:test'
import {
  boundLetter,
  capText,
  type DeadLetter,
  encodeBoundedPayload,
  encodePayload,
  textMaxBytes,
  utf8Prefix,
} from '../../src/dlq/index.ts'

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex')
const size = (letter: DeadLetter) => Buffer.byteLength(JSON.stringify(letter))

const letterOf = (payload: Uint8Array, over: Partial<DeadLetter> = {}): DeadLetter => ({
  eventId: 'e-1',
  topic: 'events',
  partition: 3,
  offset: '42',
  key: 'k',
  ...encodePayload(payload),
  error: { code: 'SCHEMA_VIOLATION', message: 'bad' },
  attempts: 1,
  failedAt: new Date(0).toISOString(),
  source: 'consumer',
  ...over,
})

describe('boundLetter', () => {
  it('leaves an entry within the cap as it was, without digest fields', () => {
    const letter = letterOf(Buffer.from('{"a":1}'))
    assert.deepEqual(boundLetter(letter, 8192), letter)
  })

  // Payloads whose JSON form is much larger than their bytes: quotes and backslashes double, control characters
  // become six bytes, multi-byte characters must not be split; and bytes that are not UTF-8 (base64).
  const payloads: [string, Buffer][] = [
    ['ASCII', Buffer.from('x'.repeat(300_000))],
    ['quotes and backslashes', Buffer.from('"\\'.repeat(150_000))],
    ['control characters', Buffer.from('\u0001\n'.repeat(100_000))],
    ['multi-byte characters', Buffer.from('é€😀'.repeat(40_000))],
    ['binary', randomBytes(200_001)],
  ]
  for (const [name, bytes] of payloads) {
    for (const cap of [8192, 65_536]) {
      it(`cuts ${name} to a prefix within ${cap} bytes, keeping the length and SHA-256 of the whole`, () => {
        const letter = letterOf(bytes)
        const bounded = boundLetter(letter, cap)
        assert.ok(size(bounded) <= cap, `${size(bounded)} > ${cap}`)
        // The cut uses the room it has: within the worst escape (6 bytes) plus a 4-byte base64 group of the cap.
        assert.ok(size(bounded) > cap - 12, `${size(bounded)} leaves room unused under ${cap}`)
        assert.equal(bounded.payloadTruncated, true)
        assert.equal(bounded.payloadBytes, bytes.length)
        assert.equal(bounded.payloadSha256, sha256(bytes))
        assert.equal(bounded.payloadEncoding, letter.payloadEncoding)
        const prefix = Buffer.from(bounded.payload!, bounded.payloadEncoding === 'base64' ? 'base64' : 'utf8')
        assert.ok(prefix.length > 0)
        assert.deepEqual(prefix, bytes.subarray(0, prefix.length), 'the payload is a prefix of the bytes sent')
        assert.deepEqual([bounded.topic, bounded.partition, bounded.offset], ['events', 3, '42'])
      })
    }
  }

  it('caps the error message, the key and the eventId at 1 KiB each', () => {
    const long = 'é'.repeat(5000)
    const bounded = boundLetter(
      letterOf(Buffer.from('{}'), { eventId: long, key: long, error: { code: 'INVALID_JSON', message: long } }),
      65_536,
    )
    for (const text of [bounded.eventId!, bounded.key!, bounded.error.message]) {
      assert.ok(Buffer.byteLength(text) <= textMaxBytes)
      assert.ok(text.endsWith('…'))
      assert.ok(long.startsWith(text.slice(0, -1)))
    }
  })

  it('cuts text on character boundaries', () => {
    assert.equal(utf8Prefix('aé', 2), 'a')
    assert.equal(utf8Prefix('a😀', 4), 'a')
    assert.equal(utf8Prefix('a\uFFFDb', 4), 'a\uFFFD')
    assert.equal(capText('short'), 'short')
  })
})

describe('encodeBoundedPayload', () => {
  it('decodes at most its limit of a large record, cut at a character, with the whole length and digest', () => {
    // 'é' is two bytes: a limit of 10,001 bytes falls inside one and must back up to its first byte.
    const whole = Buffer.from(`{"x":"${'é'.repeat(300_000)}"}`)
    const fields = encodeBoundedPayload(whole, 10_001)
    assert.equal(fields.payloadEncoding, 'utf8')
    assert.equal(fields.payloadTruncated, true)
    assert.equal(fields.payloadBytes, whole.length)
    assert.equal(fields.payloadSha256, sha256(whole))
    assert.ok(Buffer.byteLength(fields.payload ?? '') <= 10_001)
    assert.ok(whole.toString('utf8').startsWith(fields.payload ?? '-'), 'a prefix of the record, no character split')
  })

  it('keeps base64 for bytes that are not UTF-8, and leaves a small record whole', () => {
    const binary = Buffer.concat([Buffer.from([0xff, 0xfe]), randomBytes(50_000)])
    const fields = encodeBoundedPayload(binary, 9_000)
    assert.equal(fields.payloadEncoding, 'base64')
    assert.ok(binary.toString('base64').startsWith(fields.payload ?? '-'))
    assert.equal(fields.payloadSha256, sha256(binary))
    assert.deepEqual(encodeBoundedPayload(Buffer.from('{"a":1}'), 9_000), encodePayload(Buffer.from('{"a":1}')))
  })

  it('makes an entry boundLetter cuts to the cap, keeping the digest of the whole record', () => {
    const whole = Buffer.from(`{"pad":"${'\\"x'.repeat(400_000)}"}`)
    const letter = boundLetter({ ...letterOf(Buffer.from('')), ...encodeBoundedPayload(whole, 64 * 1024) }, 64 * 1024)
    assert.ok(size(letter) <= 64 * 1024, `entry of ${size(letter)} bytes`)
    assert.equal(letter.payloadBytes, whole.length)
    assert.equal(letter.payloadSha256, sha256(whole))
    assert.ok(whole.toString('utf8').startsWith(letter.payload ?? '-'))
  })
})
