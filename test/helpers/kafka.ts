// Raw access to the real broker for tests: write any bytes to a topic, read a group's committed offsets.
import { Admin, Consumer, ProduceAcks, Producer } from '@platformatic/kafka'

import { testServices } from './services.ts'

export interface RawRecord {
  key?: string | Buffer
  value: string | Buffer | null
  partition?: number
  headers?: Record<string, string>
  /** Headers exactly as given, in order: a value may be null, as Kafka allows (a name may not). */
  rawHeaders?: [Buffer, Buffer | null][]
}

const toBuffer = (v: string | Buffer) => (typeof v === 'string' ? Buffer.from(v) : v)

/**
 * Writes records exactly as given (no validation, any bytes), each exactly once, and waits for the broker's
 * acknowledgement. Large inputs go out in several requests, each well under the broker's 1 MB request limit.
 * Idempotent: the broker drops a write the client retries after it had landed, so a test that counts offsets
 * finds each record once.
 */
export async function produceRaw(topic: string, records: RawRecord[]): Promise<void> {
  const producer = new Producer({
    clientId: 'test-raw-producer',
    bootstrapBrokers: [...testServices.kafkaBrokers],
    acks: ProduceAcks.ALL,
    idempotent: true,
  })
  try {
    let start = 0
    while (start < records.length) {
      let bytes = 0
      let end = start
      while (end < records.length && (end === start || bytes < 400_000) && end - start < 2000) {
        const r = records[end] as RawRecord
        bytes += (r.value?.length ?? 0) + (r.key?.length ?? 0) + 64
        end++
      }
      await producer.send({
        messages: records.slice(start, end).map(r => ({
          topic,
          key: r.key === undefined ? undefined : toBuffer(r.key),
          value: (r.value === null ? null : toBuffer(r.value)) as Buffer,
          partition: r.partition,
          ...(r.headers === undefined
            ? {}
            : { headers: new Map(Object.entries(r.headers).map(([k, v]) => [Buffer.from(k), Buffer.from(v)])) }),
          ...(r.rawHeaders === undefined ? {} : { headers: new Map(r.rawHeaders) as Map<Buffer, Buffer> }),
        })),
      })
      start = end
    }
  } finally {
    await producer.close()
  }
}

/** The group's committed offset per partition (partitions without a commit are absent). */
export async function committedOffsets(
  groupId: string,
  topic: string,
  brokers: readonly string[] = testServices.kafkaBrokers,
): Promise<Map<number, bigint>> {
  const admin = new Admin({ clientId: 'test-admin', bootstrapBrokers: [...brokers] })
  try {
    const [group] = await admin.listConsumerGroupOffsets({ groups: [groupId] })
    const out = new Map<number, bigint>()
    for (const t of group?.topics ?? []) {
      if (t.name !== topic) continue
      for (const p of t.partitions) if (p.committedOffset >= 0n) out.set(p.partitionIndex, p.committedOffset)
    }
    return out
  } finally {
    await admin.close()
  }
}

/** Where each partition of `topic` lives, from fresh metadata: leader, replicas and in-sync replicas by node id. */
export async function partitionReplicas(
  topic: string,
  brokers: readonly string[] = testServices.kafkaBrokers,
): Promise<{ partition: number; leader: number; replicas: number[]; isr: number[] }[]> {
  const admin = new Admin({ clientId: 'test-admin', bootstrapBrokers: [...brokers], timeout: 5000, retries: 1 })
  try {
    const metadata = await admin.metadata({ topics: [topic], forceUpdate: true })
    return (metadata.topics.get(topic)?.partitions ?? []).map((p, partition) => ({
      partition,
      leader: p.leader,
      replicas: [...p.replicas],
      isr: [...p.isr],
    }))
  } finally {
    await admin.close().catch(() => {})
  }
}

/** The log end offset of every partition of `topic` (with no transactions: the records each one holds). */
export async function endOffsets(
  topic: string,
  brokers: readonly string[] = testServices.kafkaBrokers,
): Promise<Map<number, bigint>> {
  const admin = new Admin({ clientId: 'test-admin', bootstrapBrokers: [...brokers], timeout: 5000, retries: 1 })
  try {
    const metadata = await admin.metadata({ topics: [topic], forceUpdate: true })
    const count = metadata.topics.get(topic)?.partitionsCount ?? 0
    const partitions = Array.from({ length: count }, (_, partitionIndex) => ({ partitionIndex, timestamp: -1n }))
    const listed = await admin.listOffsets({ topics: [{ name: topic, partitions }] })
    const ends = new Map<number, bigint>()
    for (const t of listed) if (t.name === topic) for (const p of t.partitions) ends.set(p.partitionIndex, p.offset)
    return ends
  } finally {
    await admin.close().catch(() => {})
  }
}

/**
 * Polls `check` until it returns true or `timeoutMs` passes; then fails with `what`, and with what `explain`
 * says about the state of things then (so that a rare failure tells why).
 */
export async function eventually(
  what: string,
  check: () => Promise<boolean> | boolean,
  timeoutMs = 20_000,
  explain?: () => Promise<string> | string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (await check()) return
    await new Promise(resolve => setTimeout(resolve, 100))
  }
  const state =
    explain === undefined ? '' : `; ${await Promise.resolve(explain()).catch(e => `(explain failed: ${e})`)}`
  throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what}${state}`)
}

/** One record as it sits in a topic. */
export interface TopicRecord {
  readonly partition: number
  readonly offset: bigint
  readonly key: Buffer | null
  readonly value: Buffer | null
  /** Header names and values as UTF-8 text. */
  readonly headers: ReadonlyMap<string, string>
  /** The headers exactly as the record carries them, in order (a name or a value may be null). */
  readonly rawHeaders: readonly (readonly [Buffer | null, Buffer | null])[]
  /** The record's Kafka timestamp (ms since the epoch; -1 when it has none). */
  readonly timestamp: bigint
}

/**
 * Every record of `topic`, read from the beginning up to the high watermarks taken when the call starts, with
 * its partition and offset. A throwaway consumer group (deleted afterwards) reads it, so no group of the code
 * under test is touched. Fails after `timeoutMs` rather than wait for records that never come.
 */
export async function readTopic(
  topic: string,
  options: { brokers?: readonly string[]; timeoutMs?: number } = {},
): Promise<TopicRecord[]> {
  const brokers = [...(options.brokers ?? testServices.kafkaBrokers)]
  const groupId = `test-read-${topic}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`
  const consumer = new Consumer({ clientId: 'test-read-topic', groupId, bootstrapBrokers: brokers })
  const out: TopicRecord[] = []
  try {
    const ends = (await consumer.listOffsets({ topics: [topic] })).get(topic) ?? []
    const remaining = new Set(ends.flatMap((end, partition) => (end > 0n ? [partition] : [])))
    if (remaining.size === 0) return out
    const stream = await consumer.consume({ topics: [topic], mode: 'earliest', autocommit: false, maxWaitTime: 200 })
    const deadline = setTimeout(() => void stream.close(), options.timeoutMs ?? 60_000)
    try {
      for await (const m of stream) {
        const end = ends[m.partition] ?? 0n
        if (m.offset < end) {
          const headers = new Map<string, string>()
          const rawHeaders: [Buffer | null, Buffer | null][] = []
          for (const [name, value] of m.headers ?? []) {
            headers.set(String(name), String(value))
            rawHeaders.push([name ?? null, value ?? null])
          }
          out.push({
            partition: m.partition,
            offset: m.offset,
            key: m.key ?? null,
            value: m.value ?? null,
            headers,
            rawHeaders,
            timestamp: m.timestamp,
          })
        }
        if (m.offset >= end - 1n) remaining.delete(m.partition)
        if (remaining.size === 0) break
      }
    } finally {
      clearTimeout(deadline)
      await stream.close().catch(() => {})
    }
    if (remaining.size > 0) {
      throw new Error(`readTopic ${topic}: partitions ${[...remaining]} not read to their end in time`)
    }
    return out
  } finally {
    await consumer.close(true).catch(() => {})
    const admin = new Admin({ clientId: 'test-admin', bootstrapBrokers: brokers })
    await admin.deleteGroups({ groups: [groupId] }).catch(() => {})
    await admin.close().catch(() => {})
  }
}

/** A producer writing records at a steady rate in the background; see produceAtRate. */
export interface RecordStream {
  /** Records the broker has acknowledged so far. */
  acknowledged(): number
  /** Resolves when every record is acknowledged (rejects if a send failed). */
  readonly done: Promise<void>
}

/**
 * Writes `records` in order at about `perSecond` records a second (ten sends a second), idempotently, so that a
 * fault can land while records are still arriving. Bounded: it sends each record once and stops.
 */
export function produceAtRate(topic: string, records: RawRecord[], perSecond: number): RecordStream {
  const producer = new Producer({
    clientId: 'test-rate-producer',
    bootstrapBrokers: [...testServices.kafkaBrokers],
    acks: ProduceAcks.ALL,
    idempotent: true,
  })
  let acked = 0
  const perTick = Math.max(1, Math.round(perSecond / 10))
  const done = (async () => {
    try {
      let next = Date.now()
      for (let start = 0; start < records.length; start += perTick) {
        const slice = records.slice(start, start + perTick)
        await producer.send({
          messages: slice.map(r => ({
            topic,
            key: r.key === undefined ? undefined : toBuffer(r.key),
            value: (r.value === null ? null : toBuffer(r.value)) as Buffer,
            partition: r.partition,
          })),
        })
        acked += slice.length
        next += 100
        await new Promise(resolve => setTimeout(resolve, Math.max(0, next - Date.now())))
      }
    } finally {
      await producer.close()
    }
  })()
  return { acknowledged: () => acked, done }
}
