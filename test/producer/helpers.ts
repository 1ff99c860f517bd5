// Helpers of the producer tests: a publisher on the test broker, a logger whose lines the test can read, and a
// reader that consumes a topic back from the beginning.
import { Consumer, stringDeserializers } from '@platformatic/kafka'
import { createLogger, type Logger } from '../../src/observability/index.ts'
import { createPublisher, type Publisher, type PublisherOptions } from '../../src/producer/index.ts'
import type { Cleanup } from '../helpers/resources.ts'
import { testServices } from '../helpers/services.ts'

export type LogLine = Record<string, unknown> & { msg?: string; level?: string }

/** A logger that keeps its JSON lines in memory. */
export function capturingLogger(): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = []
  const logger = createLogger('debug', 'producer', {
    write(line: string) {
      lines.push(JSON.parse(line) as LogLine)
    },
  })
  return { logger, lines }
}

export async function testPublisher(
  t: Cleanup,
  topic: string,
  over: Partial<PublisherOptions> = {},
): Promise<Publisher> {
  const publisher = await createPublisher({
    connection: { clientId: 'test-producer', bootstrapBrokers: [...testServices.kafkaBrokers] },
    topic,
    partitions: 3,
    logger: createLogger('silent', 'producer'),
    ...over,
  })
  t.after(() => publisher.close())
  return publisher
}

export interface ConsumedRecord {
  key: string
  value: string
  partition: number
  offset: string
  eventId: string | undefined
}

/** Reads `count` records of `topic` from the earliest offset (fails after `timeoutMs`). */
export async function consumeBack(topic: string, count: number, timeoutMs = 10_000): Promise<ConsumedRecord[]> {
  const consumer = new Consumer({
    clientId: 'test-reader',
    groupId: `reader-${topic}-${Math.random().toString(36).slice(2)}`,
    bootstrapBrokers: [...testServices.kafkaBrokers],
    deserializers: stringDeserializers,
  })
  const records: ConsumedRecord[] = []
  const stream = await consumer.consume({ topics: [topic], mode: 'earliest', autocommit: false, maxWaitTime: 100 })
  const timer = setTimeout(() => void stream.close(), timeoutMs)
  try {
    for await (const message of stream) {
      records.push({
        key: message.key,
        value: message.value,
        partition: message.partition,
        offset: message.offset.toString(),
        eventId: message.headers.get('eventId'),
      })
      if (records.length >= count) break
    }
  } finally {
    clearTimeout(timer)
    await stream.close()
    await consumer.close(true)
  }
  if (records.length < count) throw new Error(`read ${records.length} of ${count} records of ${topic}`)
  return records
}

/** Where a record lives, as "partition/offset", for comparing produce answers with what Kafka holds. */
export const place = (r: { partition: number; offset: string }) => `${r.partition}/${r.offset}`
