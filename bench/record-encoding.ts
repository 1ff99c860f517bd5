// How much CPU @platformatic/kafka spends encoding a produce request's record batch, as shipped and with the
// change proposed in docs/platformatic-kafka-produce-encoding.md: each record written as one buffer in place,
// and the batch's CRC32C chained over its parts instead of computed over their concatenation. It first checks
// that both encodings give the same bytes.
//   node bench/record-encoding.ts [records per batch, default 3300: a 10,000-message send over 3 partitions]
// It imports the client's internal modules by path (they are not exported), so it follows the installed version.
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { generateWorkload } from './workload.ts'

const dist = fileURLToPath(new URL('../node_modules/@platformatic/kafka/dist/', import.meta.url))
const dynamicBuffer = fileURLToPath(
  new URL('../node_modules/@platformatic/dynamic-buffer/dist/index.js', import.meta.url),
)

interface Message {
  topic: string
  partition: number
  timestamp: bigint
  key: Buffer
  value: Buffer
  headers: Map<Buffer, Buffer>
}
interface BatchOptions {
  producerId: bigint
  producerEpoch: number
}
interface EncodedWriter {
  readonly buffer: Buffer
  readonly dynamicBuffer: { readonly buffers: Buffer[] }
  appendInt8(v: number, append?: boolean): EncodedWriter
  appendInt16(v: number, append?: boolean): EncodedWriter
  appendInt32(v: number, append?: boolean): EncodedWriter
  appendUnsignedInt32(v: number, append?: boolean): EncodedWriter
  appendInt64(v: bigint, append?: boolean): EncodedWriter
  appendFrom(other: unknown): EncodedWriter
  prependLength(): EncodedWriter
}
type Encode = (messages: Message[], options: BatchOptions) => EncodedWriter

const { createRecordsBatch } = (await import(`${dist}protocol/records.js`)) as { createRecordsBatch: Encode }
const { Writer } = (await import(`${dist}protocol/writer.js`)) as { Writer: { create(): EncodedWriter } }
const { DynamicBuffer } = (await import(dynamicBuffer)) as {
  DynamicBuffer: new () => { append(b: Buffer): unknown; buffers: Buffer[] }
}
const nativeCrc = createRequire(`${dist}protocol/crc32c.js`)('@node-rs/crc32') as {
  crc32c(input: Uint8Array, initialState?: number): number
}

// ---- the proposed change ----
const zigzag = (v: number) => (v << 1) ^ (v >> 31)
const zigzag64 = (v: bigint) => (v << 1n) ^ (v >> 63n)

function varUintSize(v: number): number {
  let n = 1
  for (; v >= 0x80; v >>>= 7) n++
  return n
}

function varUint64Size(v: bigint): number {
  let n = 1
  for (; v >= 0x80n; v >>= 7n) n++
  return n
}

function putVarUint(b: Buffer, at: number, v: number): number {
  let p = at
  for (; v >= 0x80; v >>>= 7) b[p++] = (v & 0x7f) | 0x80
  b[p++] = v
  return p
}

function putVarUint64(b: Buffer, at: number, v: bigint): number {
  let p = at
  for (; v >= 0x80n; v >>= 7n) b[p++] = Number(v & 0x7fn) | 0x80
  b[p++] = Number(v)
  return p
}

const bytesSize = (x: Buffer | null) => (x === null ? 1 : varUintSize(zigzag(x.length)) + x.length)

function putBytes(b: Buffer, at: number, x: Buffer | null): number {
  if (x === null) return putVarUint(b, at, zigzag(-1))
  const p = putVarUint(b, at, zigzag(x.length))
  x.copy(b, p)
  return p + x.length
}

/** One record (Kafka record format v2) as one buffer: every field sized first, then written in place. */
export function encodeRecord(message: Message, offsetDelta: number, firstTimestamp: bigint): Buffer {
  const timestampDelta = zigzag64(message.timestamp - firstTimestamp)
  let body = 1 + varUint64Size(timestampDelta) + varUintSize(zigzag(offsetDelta))
  body += bytesSize(message.key) + bytesSize(message.value) + varUintSize(zigzag(message.headers.size))
  for (const [k, v] of message.headers) body += bytesSize(k) + bytesSize(v)
  const b = Buffer.allocUnsafe(varUintSize(zigzag(body)) + body)
  let p = putVarUint(b, 0, zigzag(body))
  b[p++] = 0 // attributes
  p = putVarUint64(b, p, timestampDelta)
  p = putVarUint(b, p, zigzag(offsetDelta))
  p = putBytes(b, p, message.key)
  p = putBytes(b, p, message.value)
  p = putVarUint(b, p, zigzag(message.headers.size))
  for (const [k, v] of message.headers) p = putBytes(b, putBytes(b, p, k), v)
  return b
}

/** CRC32C of the parts as if concatenated: the native function takes the running CRC as its initial state. */
export function crc32cOfParts(parts: readonly Buffer[]): number {
  let crc = 0
  for (const part of parts) crc = nativeCrc.crc32c(part, crc)
  return crc
}

const encodeProposed: Encode = (messages, options) => {
  const firstTimestamp = messages[0]!.timestamp
  let maxTimestamp = firstTimestamp
  const records = new DynamicBuffer()
  messages.forEach((m, i) => {
    if (m.timestamp > maxTimestamp) maxTimestamp = m.timestamp
    records.append(encodeRecord(m, i, firstTimestamp))
  })
  const writer = Writer.create()
    .appendInt16(0) // attributes: no compression, not transactional
    .appendInt32(messages.length - 1)
    .appendInt64(firstTimestamp)
    .appendInt64(maxTimestamp)
    .appendInt64(options.producerId)
    .appendInt16(options.producerEpoch)
    .appendInt32(0) // first sequence
    .appendInt32(messages.length)
    .appendFrom(records)
  return writer
    .appendUnsignedInt32(crc32cOfParts(writer.dynamicBuffer.buffers), false)
    .appendInt8(2, false) // magic
    .appendInt32(0, false) // partition leader epoch
    .prependLength()
    .appendInt64(0n, false) // first offset
}

// ---- the measurement ----
const perBatch = Number(process.argv[2] ?? 3300)
const workload = generateWorkload({ events: 30_000, partitions: 3 })
const timestamp = BigInt(Date.now())
const messagesOf = (): Message[] =>
  workload.records.map(r => ({
    topic: 't',
    partition: r.partition,
    timestamp,
    key: Buffer.from(r.key),
    value: Buffer.from(r.value),
    headers: new Map([[Buffer.from('eventId'), Buffer.from((JSON.parse(r.value) as { eventId: string }).eventId)]]),
  }))
const options: BatchOptions = { producerId: 5n, producerEpoch: 0 }
const shipped = createRecordsBatch(messagesOf().slice(0, perBatch), options).buffer
const proposed = encodeProposed(messagesOf().slice(0, perBatch), options).buffer
if (!shipped.equals(proposed)) throw new Error('the proposed encoding does not give the shipped bytes')
console.log(`same bytes from both encodings for a ${perBatch}-record batch (${shipped.length} bytes)`)

const variants: [string, Encode][] = [
  ['shipped', createRecordsBatch],
  ['proposed', encodeProposed],
]
for (let round = 1; round <= 3; round++) {
  for (const [name, encode] of variants) {
    const messages = messagesOf()
    const started = performance.now()
    let n = 0
    for (let repeat = 0; repeat < 5; repeat++) {
      for (let i = 0; i < messages.length; i += perBatch) {
        const slice = messages.slice(i, i + perBatch)
        // .buffer: the connection concatenates the request's parts once before writing it to the socket.
        void encode(slice, options).buffer
        n += slice.length
      }
    }
    console.log(`round ${round} ${name}: ${(((performance.now() - started) * 1000) / n).toFixed(2)} µs/record`)
  }
}
