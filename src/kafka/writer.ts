// The one way the pipeline writes to Kafka (the producer role's publisher and the DLQ redrive): an idempotent,
// acks=all producer that places each record on a partition, sends, and answers the offset of every record.
import { ProduceAcks, Producer } from '@platformatic/kafka'
import type { KafkaConnection } from './options.ts'
import { partitionOfBytes } from './partition.ts'

export interface WriteRecord {
  readonly topic: string
  /** Where the record goes; without it, the partition of its key among the topic's partitions (partition.ts). */
  readonly partition?: number
  readonly key?: Buffer
  readonly value: Buffer
  /** A Map is used by the client as it is; an object would be copied into one. */
  readonly headers: Map<Buffer, Buffer>
}

/** Where a record was written; `offset` is undefined only if the broker reported no base offset for its partition. */
export interface Written {
  readonly topic: string
  readonly partition: number
  readonly offset: bigint | undefined
}

export interface WriteOptions {
  /**
   * Monotonic time (performance.now()) by which the send must be over, however the client retries: past it the
   * writer closes its producer, which drops the pending retries, and the write fails with SendOverran. The
   * writer cannot be used after that.
   */
  readonly deadline?: number
}

/** A send abandoned at its deadline: the records may or may not be in the log. */
export class SendOverran extends Error {
  constructor() {
    super('a send to Kafka outran its deadline and is left in doubt')
    this.name = 'SendOverran'
  }
}

/** A record as the client sends it, placed on its partition. */
interface Message {
  readonly topic: string
  readonly partition: number
  readonly key: Buffer | undefined
  readonly value: Buffer
  readonly headers: Map<Buffer, Buffer>
}

export class KafkaWriter {
  // No serializers: keys, values and headers are handed over as the buffers the caller made.
  readonly #producer: Producer<Buffer, Buffer, Buffer, Buffer>

  /** Every request of the writer is bounded by `timeoutMs`. */
  constructor(connection: KafkaConnection, timeoutMs: number) {
    this.#producer = new Producer<Buffer, Buffer, Buffer, Buffer>({
      ...connection,
      idempotent: true,
      acks: ProduceAcks.ALL,
      timeout: timeoutMs,
      connectTimeout: Math.min(timeoutMs, 3000),
      // Bounded, so a dead broker fails a send in about a second instead of retrying forever behind a deadline.
      retries: 3,
      retryDelay: 250,
    })
  }

  /**
   * The topic's partition count, undefined when the topic is unknown or has none. The client caches metadata
   * (refreshed every few seconds), so a partition count that grows is picked up.
   */
  async partitionCount(topic: string): Promise<number | undefined> {
    const metadata = await this.#producer.metadata({ topics: [topic] })
    const count = metadata.topics.get(topic)?.partitionsCount
    return count === undefined || count < 1 ? undefined : count
  }

  /**
   * Sends the records in one request and resolves with where each of them was written, in order. The client
   * reports one base offset per partition of a send; the records of one partition form one batch in the order
   * given, so the n-th of them sits at base + n.
   */
  async write(records: readonly WriteRecord[], options: WriteOptions = {}): Promise<Written[]> {
    const partitions = await this.#place(records)
    // One message object per record, of one shape (no spread of optional fields): this runs for every event a
    // producer sends.
    const messages: Message[] = new Array(records.length)
    for (let i = 0; i < records.length; i++) {
      const r = records[i] as WriteRecord
      messages[i] = {
        topic: r.topic,
        partition: partitions[i] as number,
        key: r.key,
        value: r.value,
        headers: r.headers,
      }
    }
    const result = await (options.deadline === undefined
      ? this.#producer.send({ messages })
      : this.#sendBy(options.deadline, messages))
    // Base offset per topic and partition; each record of a partition takes the next one, in the order given.
    const next = new Map<string, bigint[]>()
    for (const o of result.offsets ?? []) {
      const bases = next.get(o.topic) ?? []
      bases[o.partition] = o.offset
      next.set(o.topic, bases)
    }
    const written: Written[] = new Array(messages.length)
    for (let i = 0; i < messages.length; i++) {
      const { topic, partition } = messages[i] as Message
      const bases = next.get(topic)
      const offset = bases?.[partition]
      if (offset !== undefined) (bases as bigint[])[partition] = offset + 1n
      written[i] = { topic, partition, offset }
    }
    return written
  }

  close(): Promise<void> {
    return this.#producer.close()
  }

  /** The partition of every record: its own, or its key's (one metadata look-up per topic). */
  async #place(records: readonly WriteRecord[]): Promise<number[]> {
    const counts = new Map<string, number>()
    const partitions: number[] = []
    for (const r of records) {
      if (r.partition !== undefined) {
        partitions.push(r.partition)
        continue
      }
      if (r.key === undefined) throw new Error(`a record for ${r.topic} has neither a partition nor a key`)
      let count = counts.get(r.topic)
      if (count === undefined) {
        count = await this.partitionCount(r.topic)
        if (count === undefined) throw new Error(`topic ${r.topic} has no partitions`)
        counts.set(r.topic, count)
      }
      partitions.push(partitionOfBytes(r.key, count))
    }
    return partitions
  }

  async #sendBy(deadline: number, messages: Message[]) {
    let timer: NodeJS.Timeout | undefined
    const overrun = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => {
          void this.#producer.close(true).catch(() => {})
          reject(new SendOverran())
        },
        Math.max(0, deadline - performance.now()),
      )
    })
    const send = this.#producer.send({ messages })
    send.catch(() => {})
    try {
      return await Promise.race([send, overrun])
    } finally {
      clearTimeout(timer)
    }
  }
}
