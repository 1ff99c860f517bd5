// The idempotent, acks=all producer settings every writer of the pipeline uses (the producer role's publisher and
// the DLQ redrive), so that both write to Kafka with the same guarantees and the same bounded retries.
import { ProduceAcks, type ProducerOptions } from '@platformatic/kafka'
import type { KafkaConnection } from './options.ts'

/** Producer options for `connection`: idempotent, acks=all, every request bounded by `timeoutMs`. */
export function idempotentProducerOptions(
  connection: KafkaConnection,
  timeoutMs: number,
): Pick<
  ProducerOptions<Buffer, Buffer, Buffer, Buffer>,
  'idempotent' | 'acks' | 'timeout' | 'connectTimeout' | 'retries' | 'retryDelay'
> &
  KafkaConnection {
  return {
    ...connection,
    idempotent: true,
    acks: ProduceAcks.ALL,
    timeout: timeoutMs,
    connectTimeout: Math.min(timeoutMs, 3000),
    // Bounded, so a dead broker fails a send in about a second instead of retrying forever behind our deadline.
    retries: 3,
    retryDelay: 250,
  }
}
