// The benchmark's access to the real broker: its own topics (dev/resources.ts: created fresh, deleted at the
// end), a fast pre-fill, and a steady offered load that records when and where each record was written.
import { ProduceAcks, Producer, stringSerializers } from '@platformatic/kafka'
import { services } from '../dev/services.ts'
import type { WorkloadRecord } from './workload.ts'

export { createTopic, deleteGroups, deleteTopics } from '../dev/resources.ts'

export const brokers: readonly string[] = services.kafkaBrokers

function producer(clientId: string, idempotent: boolean, extra: { transactionalId?: string; timeout?: number } = {}) {
  return new Producer({
    clientId,
    bootstrapBrokers: [...brokers],
    serializers: stringSerializers,
    acks: ProduceAcks.ALL,
    idempotent,
    ...extra,
  })
}

/** Sends per call of a pre-fill: under the broker's 1 MiB batch limit per partition for the workload's records. */
const prefillChunk = 6000

/** Sends the records in order, `prefillChunk` per awaited send, reporting how many went so far. */
async function sendInOrder(
  send: (request: { messages: { topic: string; key: string; value: string; partition: number }[] }) => Promise<unknown>,
  topic: string,
  records: readonly WorkloadRecord[],
  progress: (sent: number) => void,
): Promise<void> {
  for (let i = 0; i < records.length; i += prefillChunk) {
    const messages = records
      .slice(i, i + prefillChunk)
      .map(r => ({ topic, key: r.key, value: r.value, partition: r.partition }))
    await send({ messages })
    progress(Math.min(records.length, i + prefillChunk))
  }
}

/**
 * Writes the records in order with an idempotent producer, one send at a time, so each lands at the offset the
 * workload computed for it. Sends stay under the broker's 1 MiB batch limit per partition.
 */
export async function prefill(
  topic: string,
  records: readonly WorkloadRecord[],
  progress: (sent: number) => void,
): Promise<void> {
  const client = producer('bench-prefill', true)
  try {
    await sendInOrder(request => client.send(request), topic, records, progress)
  } finally {
    await client.close()
  }
}

/** Where and when one record of the steady load was written. */
export interface Sent {
  readonly partition: number
  readonly offset: bigint
  /** The record's Kafka timestamp (ms since the epoch), set by us right before the send. */
  readonly at: number
}

/**
 * Offers `rate` records per second for `seconds`, in sends every `tickMs`; each send's records carry the send
 * time as their Kafka timestamp. Sends are not awaited one by one: a slow acknowledgement must not lower the
 * offered load (no coordinated omission).
 */
export async function steadyLoad(
  topic: string,
  records: readonly WorkloadRecord[],
  rate: number,
  seconds: number,
  tickMs = 10,
): Promise<Sent[]> {
  const client = producer('bench-steady', false)
  const sent: Sent[] = []
  const pending: Promise<void>[] = []
  let next = 0
  const started = performance.now()
  try {
    await client.metadata({ topics: [topic] })
    await new Promise<void>(resolve => {
      const timer = setInterval(() => {
        const elapsed = (performance.now() - started) / 1000
        const due = Math.min(Math.floor(rate * Math.min(elapsed, seconds)), Math.floor(rate * seconds))
        if (due > next) {
          const at = Date.now()
          const timestamp = BigInt(at)
          const batch: WorkloadRecord[] = []
          for (; next < due; next++) batch.push(records[next % records.length]!)
          const messages = batch.map(r => ({ topic, key: r.key, value: r.value, partition: r.partition, timestamp }))
          pending.push(
            client.send({ messages }).then(result => {
              const base = new Map<number, bigint>()
              for (const o of result.offsets ?? []) base.set(o.partition, o.offset)
              for (const r of batch) {
                const offset = base.get(r.partition)!
                base.set(r.partition, offset + 1n)
                sent.push({ partition: r.partition, offset, at })
              }
            }),
          )
        }
        if (elapsed >= seconds) {
          clearInterval(timer)
          resolve()
        }
      }, tickMs)
    })
    await Promise.all(pending)
  } finally {
    await client.close()
  }
  return sent
}

/** Records written in a transaction that is still open: invisible to read_committed consumers until `commit`. */
export interface HeldRecords {
  /** Makes every record visible at once. */
  commit(): Promise<void>
  /** Aborts the transaction (when the measurement failed) and closes the producer. */
  abort(): Promise<void>
}

/**
 * Writes the records in order in one Kafka transaction and leaves it open, so a consumer group can form on the
 * topic and settle its assignment before any record is visible (the pipeline reads read_committed, the
 * client's default). Each record lands at the offset the workload computed for it; the commit marker follows
 * the last record of each partition.
 */
export async function prefillHeld(
  topic: string,
  records: readonly WorkloadRecord[],
  progress: (sent: number) => void,
): Promise<HeldRecords> {
  const client = producer('bench-prefill-held', true, {
    transactionalId: `${topic}-tx`,
    // The client passes its request timeout as the transaction's timeout too: the broker aborts a transaction
    // open longer, and this one stays open while the consumers start and settle.
    timeout: 180_000,
  })
  let finished = false
  const finish = async (how: 'commit' | 'abort', transaction: { commit(): Promise<void>; abort(): Promise<void> }) => {
    if (finished) return
    finished = true
    try {
      await transaction[how]()
    } finally {
      await client.close()
    }
  }
  try {
    const transaction = await client.beginTransaction()
    await sendInOrder(request => transaction.send(request), topic, records, progress)
    return { commit: () => finish('commit', transaction), abort: () => finish('abort', transaction) }
  } catch (error) {
    await client.close().catch(() => {})
    throw error
  }
}
