// The one reader of a topic's offsets: log ends (the read API's after= check, the console, the redrive's marks
// and read-backs) and a group's commits (the console), with one admin client kept until close.
import { Admin } from '@platformatic/kafka'
import type { KafkaConnection } from './options.ts'

export interface OffsetsReader {
  /** Log end offset of every partition of the topic: the offset the next record of the partition gets. */
  ends(topic: string): Promise<Map<number, bigint>>
  /** The group's committed offset per partition of the topic (partitions without a commit are absent). */
  committed(group: string, topic: string): Promise<Map<number, bigint>>
  close(): Promise<void>
}

/** Where a topic's partitions begin, and where a reader starting at a given time begins (the rebuild asks). */
export interface LogPositions {
  /** Log start offset of every partition: the oldest record retention has kept (0 while nothing was deleted). */
  starts(topic: string): Promise<Map<number, bigint>>
  /**
   * Per partition, the offset of the first record whose timestamp is at or after `timestampMs`; the log end where
   * no record is that late (a consumer starting there reads only what comes next).
   */
  atTime(topic: string, timestampMs: number): Promise<Map<number, bigint>>
}

export interface OffsetsReaderOptions {
  /** Longest one request may take. */
  readonly timeoutMs: number
  /** How often a failed request is retried (default 1). */
  readonly retries?: number
  /** Longest a connection may take to open (default: the client's). */
  readonly connectTimeoutMs?: number
}

/**
 * The client connects on the first read and stays open: the console asks every few seconds, the read API at
 * most ten times a second to check ?after=.
 */
export function createOffsetsReader(
  connection: KafkaConnection,
  options: OffsetsReaderOptions,
): OffsetsReader & LogPositions {
  let admin: Admin | undefined
  const client = () => {
    admin ??= new Admin({
      ...connection,
      clientId: `${connection.clientId}-offsets`,
      timeout: options.timeoutMs,
      retries: options.retries ?? 1,
      ...(options.connectTimeoutMs !== undefined ? { connectTimeout: options.connectTimeoutMs } : {}),
    })
    return admin
  }
  /** ListOffsets for every partition at `timestamp` (-1n: the log end, -2n: the log start, else a time in ms). */
  const listAt = async (topic: string, timestamp: bigint) => {
    // Fresh metadata: a partition added a moment ago is counted (the read API refuses after= for a partition
    // it does not list).
    const metadata = await client().metadata({ topics: [topic], forceUpdate: true })
    const count = metadata.topics.get(topic)?.partitionsCount ?? 0
    const partitions = Array.from({ length: count }, (_, partitionIndex) => ({ partitionIndex, timestamp }))
    const listed = await client().listOffsets({ topics: [{ name: topic, partitions }] })
    const found = new Map<number, bigint>()
    for (const t of listed) if (t.name === topic) for (const p of t.partitions) found.set(p.partitionIndex, p.offset)
    return found
  }
  return {
    ends: topic => listAt(topic, -1n),
    starts: topic => listAt(topic, -2n),
    async atTime(topic, timestampMs) {
      if (!Number.isSafeInteger(timestampMs) || timestampMs < 0) throw new RangeError('a time in ms since the epoch')
      const [found, ends] = await Promise.all([listAt(topic, BigInt(timestampMs)), listAt(topic, -1n)])
      // The broker answers -1 where no record is that late: the log end is where such a reader starts.
      for (const [p, offset] of found) if (offset < 0n) found.set(p, ends.get(p) ?? 0n)
      return found
    },
    async committed(group, topic) {
      const groups = await client().listConsumerGroupOffsets({ groups: [group] })
      const committed = new Map<number, bigint>()
      for (const g of groups) {
        for (const t of g.topics) {
          if (t.name === topic) for (const p of t.partitions) committed.set(p.partitionIndex, p.committedOffset)
        }
      }
      return committed
    },
    async close() {
      await admin?.close().catch(() => {})
      admin = undefined
    },
  }
}

/** The log end offset of every partition of `topic` (index = partition), with a client of its own. */
export async function endOffsets(connection: KafkaConnection, topic: string, timeoutMs: number): Promise<bigint[]> {
  const reader = createOffsetsReader(connection, { timeoutMs, retries: 2, connectTimeoutMs: Math.min(timeoutMs, 3000) })
  try {
    const ends = await reader.ends(topic)
    return Array.from({ length: ends.size }, (_, p) => ends.get(p) ?? 0n)
  } finally {
    await reader.close()
  }
}
