// fast-check generators for hostile input: random bytes, truncated and deeply nested JSON, huge strings, wrong
// types, out-of-range numbers, invalid dates, unknown fields, invalid UTF-8 and SQL-injection text, plus valid
// events whose strings are arbitrary unicode (they must be stored literally).
import fc from 'fast-check'
import type { RawRecord } from '../helpers/kafka.ts'

const injection = fc.constantFrom(
  "'; DROP TABLE users;--",
  "Robert'); DELETE FROM orders WHERE ('1'='1",
  '" OR 1=1 --',
  '$1; SELECT pg_sleep(10)',
  "' UNION SELECT password FROM users --",
  '\\x00\\u0000',
  '%s%s%s%n',
)

/** Printable-or-not unicode without NUL (NUL is refused by design: SQL text columns cannot hold it). */
const text = (max: number) =>
  fc
    .oneof(fc.string({ unit: 'grapheme', maxLength: max }), injection)
    .filter(s => !s.includes('\u0000') && s.length <= max)

const id = fc
  .oneof(
    fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,40}$/),
    injection.map(s => `x${s.replaceAll(' ', '_')}x`),
  )
  .filter(s => s.length <= 100 && !s.includes('\u0000'))

const date = fc
  .date({ min: new Date('1970-01-01T00:00:00Z'), max: new Date('2100-01-01T00:00:00Z'), noInvalidDate: true })
  .map(d => d.toISOString())

export const validUser = fc.record({
  eventId: fc.uuid(),
  type: fc.constant('UserCreated'),
  timestamp: date,
  data: fc.record({ userId: id, name: text(255), email: text(255), createdAt: date }),
})

export const validDelta = fc.record({
  eventId: fc.uuid(),
  type: fc.constant('InventoryAdjusted'),
  timestamp: date,
  data: fc.record({ sku: id, delta: fc.integer({ min: -1000, max: 1000 }), adjustedAt: date }),
})

const badValue = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.double(),
  fc.constantFrom(Number.MAX_VALUE, -1e300, 2 ** 53, 1e13, 0.001, 2 ** 31),
  fc.string({ maxLength: 20 }),
  fc.constant('x'.repeat(10_000)),
  fc.constantFrom('2025-02-30T00:00:00Z', 'yesterday', '10000-01-01T00:00:00Z', '2025-13-01T00:00:00Z', ''),
  fc.array(fc.integer(), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.integer(), { maxKeys: 3 }),
  injection,
)

/** A valid event with one field broken, removed or added. */
export const mutatedEvent = fc
  .tuple(fc.oneof(validUser, validDelta), fc.nat(), badValue, fc.constantFrom('replace', 'delete', 'add'))
  .map(([event, pick, value, how]) => {
    const copy = structuredClone(event) as Record<string, unknown> & { data: Record<string, unknown> }
    const inData = pick % 2 === 0
    const target = inData ? copy.data : copy
    const keys = Object.keys(target)
    const key = keys[pick % keys.length] as string
    if (how === 'delete') delete target[key]
    else if (how === 'add') target[`unknown_${pick % 7}`] = value
    else target[key] = value
    return copy
  })

/** JSON nested `depth` levels deep, written as text (building it as objects would overflow JSON.stringify). */
function nested(depth: number): string {
  return depth % 2 === 0
    ? `${'['.repeat(depth)}1${']'.repeat(depth)}`
    : `${'{"data":'.repeat(depth)}1${'}'.repeat(depth)}`
}

/** Bytes that fast-check prints as a short preview: a failing 100,000-level body must not flood the output. */
export class Bytes {
  readonly buffer: Buffer
  constructor(buffer: Buffer) {
    this.buffer = buffer
  }
  [fc.toStringMethod](): string {
    const text = this.buffer.toString('utf8')
    return `Bytes(${this.buffer.length}: ${JSON.stringify(text.length > 160 ? `${text.slice(0, 80)}…${text.slice(-80)}` : text)})`
  }
}

/** Bytes for a Kafka record value or an HTTP body. */
export const hostileBytes = fc
  .oneof(
    fc.uint8Array({ maxLength: 200 }).map(b => Buffer.from(b)),
    fc.constantFrom(Buffer.from([0xff, 0xfe, 0xfd]), Buffer.from([0xc3, 0x28]), Buffer.from([0xe2, 0x82])),
    fc.jsonValue().map(v => Buffer.from(JSON.stringify(v) ?? 'null')),
    validUser.map(e => Buffer.from(JSON.stringify(e).slice(0, 40))),
    fc.integer({ min: 100, max: 40_000 }).map(d => Buffer.from(nested(d))),
    mutatedEvent.map(e => Buffer.from(JSON.stringify(e))),
    fc.constant(
      Buffer.from(
        JSON.stringify({ eventId: 'big', type: 'UserCreated', timestamp: 'x', data: { name: 'y'.repeat(200_000) } }),
      ),
    ),
  )
  .map(b => new Bytes(b))

type Header = NonNullable<RawRecord['rawHeaders']>[number]

/** An x-redrive-source header with this value (null: the header without a value). */
export const redrive = (value: string | Buffer | null): Header => [
  Buffer.from('x-redrive-source'),
  value === null ? null : Buffer.from(value),
]

/**
 * The headers of a record from "any producer": mostly none; else an `x-redrive-source` of every kind — naming a
 * record of `topic` before or after the copy (offsets up to `offsets`, partitions up to one past the topic's),
 * another topic, partitions and offsets out of range, malformed text, binary, 20 KB, no value at all, two of them
 * (the first counts), names that only look like it, and hundreds of other headers around it.
 */
export function hostileHeaders(topic: string, partitions: number, offsets: number): fc.Arbitrary<Header[]> {
  const place = fc.tuple(fc.integer({ min: 0, max: partitions }), fc.integer({ min: 0, max: offsets }))
  const named = place.map(([p, o]) => `${topic}/${p}/${o}`)
  const value = fc.oneof(
    { weight: 4, arbitrary: named },
    place.map(([p, o]) => `other.topic_2/${p}/${o}`),
    fc.constantFrom(
      `${topic}/2147483647/0`,
      `${topic}/2147483648/0`,
      `${topic}/0/9223372036854775807`,
      `${topic}/0/9223372036854775808`,
      `${topic}/0/12345678901234567890`,
      `${topic}/-1/0`,
      `${topic}/0/`,
      `${topic}//0`,
      `/0/0`,
      `${'t'.repeat(250)}/0/0`,
      `${topic}/0/0/0`,
      ` ${topic}/0/0`,
      `${topic}/0/0\n`,
      'producer',
      '',
    ),
    fc.string({ maxLength: 40 }),
    named.map(v => v.replace('/', '\u2215')),
  )
  const header = fc.oneof(
    value.map(v => redrive(v)),
    fc.constant(redrive(null)),
    fc.uint8Array({ maxLength: 300 }).map(b => redrive(Buffer.from(b))),
    fc.constant(redrive(Buffer.alloc(20_000, 0x31))),
    named.map((v): Header => [Buffer.from('X-Redrive-Source'), Buffer.from(v)]),
    named.map((v): Header => [Buffer.from('x-redrive-source\u0000'), Buffer.from(v)]),
    fc
      .tuple(fc.uint8Array({ maxLength: 30 }), fc.option(fc.uint8Array({ maxLength: 30 })))
      .map(([n, v]): Header => [Buffer.from(n), v === null ? null : Buffer.from(v)]),
  )
  return fc.oneof(
    { weight: 8, arbitrary: fc.constant<Header[]>([]) },
    { weight: 6, arbitrary: fc.array(header, { minLength: 1, maxLength: 3 }) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.integer({ min: 100, max: 400 }), header)
        .map(([n, last]) => [
          ...Array.from({ length: n }, (_, i): Header => [Buffer.from(`h-${i}`), Buffer.from(String(i))]),
          last,
        ]),
    },
  )
}
