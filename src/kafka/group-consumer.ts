// The group consumer of the pipeline, as @platformatic/kafka builds it: manual commits, the group protocol of the
// configuration, fetch sizes that keep one partition from starving the others.
import { Consumer, GroupProtocols, type MessagesStream } from '@platformatic/kafka'
import type { KafkaConnection } from './options.ts'

export type GroupConsumer = Consumer<Buffer, Buffer, Buffer, Buffer>
export type GroupStream = MessagesStream<Buffer, Buffer, Buffer, Buffer>

export interface GroupConsumerOptions {
  readonly connection: KafkaConnection
  readonly groupId: string
  /** KIP-848 'consumer' (default) or 'classic'. */
  readonly groupProtocol?: 'consumer' | 'classic'
  /** Classic protocol only: how long a silent member keeps its partitions. */
  readonly sessionTimeoutMs?: number
  /** Most bytes one fetch response may carry (default 16 MiB); a single larger record batch still comes whole. */
  readonly fetchMaxBytes?: number
}

export function createGroupConsumer(options: GroupConsumerOptions): GroupConsumer {
  return new Consumer({
    ...options.connection,
    groupId: options.groupId,
    // KIP-848 by default (see docs/architecture.md, "Consumer group protocol"): the broker owns the session
    // timeout and the assignment there; the classic protocol takes them from the client.
    ...(options.groupProtocol === 'classic'
      ? { sessionTimeout: options.sessionTimeoutMs ?? 10_000, heartbeatInterval: 1000, rebalanceTimeout: 30_000 }
      : { groupProtocol: GroupProtocols.CONSUMER, rebalanceTimeout: 60_000 }),
    maxWaitTime: 100,
    maxBytes: options.fetchMaxBytes ?? 16 * 1024 * 1024,
    // Without a per-partition limit the client uses maxBytes for each partition, and the first partition of a
    // backlog fills every fetch on its own. The limit also bounds what waits in memory: the client pushes a whole
    // fetch response into the stream before the reader can pause it, so a backlog keeps two or three responses of
    // records alive (docs/performance.md, "Consumer memory"); 256 KiB per partition drains as fast as
    // 1 MiB. A record batch larger than the limit still comes whole (KIP-74), and the broker moves a partition it
    // answered to the end of the fetch session's order (KIP-227), so a large record cannot stall a partition.
    maxBytesPerPartition: 256 * 1024,
  })
}

/** Opens the stream of the topic at the group's committed offsets (a new group starts at the beginning). */
export function consumeTopic(consumer: GroupConsumer, topic: string, highWaterMark: number): Promise<GroupStream> {
  return consumer.consume({
    topics: [topic],
    // A new group starts from the beginning, so nothing produced before the consumer started is skipped.
    mode: 'committed',
    fallbackMode: 'earliest',
    autocommit: false,
    highWaterMark,
  })
}

/** The group's committed offsets of these partitions (-1n where nothing is committed yet). */
export async function committedOffsets(
  consumer: GroupConsumer,
  topic: string,
  partitions: readonly number[],
): Promise<Map<number, bigint>> {
  const offsets = await consumer.listCommittedOffsets({ topics: [{ topic, partitions: [...partitions] }] })
  const list = offsets.get(topic) ?? []
  return new Map(partitions.map(p => [p, list[p] ?? -1n]))
}
