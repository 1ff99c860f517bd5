// Reading back what a topic holds, for callers that must decide from Kafka itself whether a record was written
// (the DLQ redrive after a crash): the records of chosen partitions from given offsets up to the end offsets of
// the moment (offsets.ts), read by a throwaway group that is deleted after.
import { randomUUID } from 'node:crypto'
import { Admin, Consumer } from '@platformatic/kafka'
import { endOffsets } from './offsets.ts'
import type { KafkaConnection } from './options.ts'

/** One record as read back: where it sits and its headers (names and values as UTF-8 text). */
export interface ReadRecord {
  readonly partition: number
  readonly offset: bigint
  readonly headers: ReadonlyMap<string, string>
}

/**
 * Calls `visit` with every record of `topic` at or after `from` (partition → first offset) and before the end
 * offsets read at the start, in each partition's order. Fails after `timeoutMs` rather than wait for records that
 * never come.
 */
export async function readRange(
  connection: KafkaConnection,
  topic: string,
  from: ReadonlyMap<number, bigint>,
  visit: (record: ReadRecord) => void,
  timeoutMs: number,
): Promise<void> {
  const ends = await endOffsets(connection, topic, timeoutMs)
  const remaining = new Set([...from].filter(([p, offset]) => offset < (ends[p] ?? 0n)).map(([p]) => p))
  if (remaining.size === 0) return
  const groupId = `read-range-${randomUUID()}`
  const consumer = new Consumer({ ...connection, clientId: `${connection.clientId}-read`, groupId, timeout: timeoutMs })
  try {
    const stream = await consumer.consume({
      topics: [topic],
      mode: 'manual',
      // Partitions not asked for start at their end: nothing of theirs is read.
      offsets: ends.map((end, partition) => ({ topic, partition, offset: from.get(partition) ?? end })),
      autocommit: false,
      maxWaitTime: 200,
    })
    const deadline = setTimeout(() => void stream.close(), timeoutMs)
    try {
      for await (const m of stream) {
        const end = ends[m.partition] ?? 0n
        const first = from.get(m.partition)
        if (first !== undefined && m.offset >= first && m.offset < end) {
          const headers = new Map<string, string>()
          for (const [name, value] of m.headers) headers.set(name.toString('utf8'), value.toString('utf8'))
          visit({ partition: m.partition, offset: m.offset, headers })
        }
        if (m.offset >= end - 1n) remaining.delete(m.partition)
        if (remaining.size === 0) break
      }
    } finally {
      clearTimeout(deadline)
      await stream.close().catch(() => {})
    }
    if (remaining.size > 0) {
      throw new Error(
        `partitions ${[...remaining].join(',')} of ${topic} were not read to their end in ${timeoutMs} ms`,
      )
    }
  } finally {
    await consumer.close(true).catch(() => {})
    const admin = new Admin({ ...connection, clientId: `${connection.clientId}-read-admin`, timeout: timeoutMs })
    await admin.deleteGroups({ groups: [groupId] }).catch(() => {})
    await admin.close().catch(() => {})
  }
}
