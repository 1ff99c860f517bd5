// Publishes validated events to Kafka with an idempotent, acks=all producer and answers each caller with the
// partition and offset of every one of its events, once the broker has acknowledged them.
import { Producer } from '@platformatic/kafka'
import { PipelineError } from '../errors.ts'
import type { Event } from '../events/index.ts'
import type { Check } from '../http/index.ts'
import { ensureTopic, kafkaAnswers } from '../kafka/admin.ts'
import type { KafkaConnection } from '../kafka/options.ts'
import { partitionOfBytes } from '../kafka/partition.ts'
import { idempotentProducerOptions } from '../kafka/producer.ts'
import type { Logger } from '../observability/index.ts'
import { createCoalescer, type Entry, type PublishedOffset } from './coalescer.ts'
import { type Outgoing, outgoingOf } from './outgoing.ts'

export type { PublishedOffset }

export interface PublisherOptions {
  connection: KafkaConnection
  topic: string
  /** Partitions of the topic when the publisher has to create it. */
  partitions: number
  logger: Logger
  /** Longest a publish waits for Kafka's acknowledgement before it fails with KAFKA_UNAVAILABLE. */
  timeoutMs?: number
  /** How long the first message of a quiet moment waits for others to share its send. */
  lingerMs?: number
  /** Most messages in one send. */
  maxBatchMessages?: number
  /**
   * Most bytes (keys, values, headers) in one send. One partition's share of a send becomes one record batch,
   * and brokers refuse batches over message.max.bytes (1 MiB by default): staying under that keeps every
   * send acceptable whatever the key distribution.
   */
  maxBatchBytes?: number
  /** How long a readiness answer is reused, so frequent probes do not each open a Kafka connection. */
  readyCacheMs?: number
}

export interface Publisher {
  readonly topic: string
  /** Resolves with one offset per event, in order, once Kafka acknowledged all of them. */
  publish(events: readonly Event[]): Promise<PublishedOffset[]>
  /** Whether Kafka answers a metadata request (cached for readyCacheMs). */
  ready(): Promise<Check>
  /** Refuses new events, sends what is queued, waits for the acknowledgements and closes the client. */
  close(): Promise<void>
}

/** Record overhead besides key, value and header bytes (lengths, attributes, deltas): a generous estimate. */
const recordOverhead = 64
/** The header every record carries; one buffer for all of them, since the client only reads it. */
const headerName = Buffer.from('eventId')

function sizeOf(message: Outgoing): number {
  return message.key.length + message.value.length + message.eventId.length + recordOverhead
}

/**
 * Creates the publisher and makes sure its topic exists. When Kafka does not answer in time the publisher is
 * still returned (the failure is logged): every publish retries the preparation, answering KAFKA_UNAVAILABLE
 * until Kafka is back, so the producer can start before Kafka and readiness tells orchestrators when it can serve.
 */
export async function createPublisher(options: PublisherOptions): Promise<Publisher> {
  const { topic, logger, connection } = options
  const timeoutMs = options.timeoutMs ?? 5000
  const maxBatchMessages = options.maxBatchMessages ?? 10_000
  const maxBatchBytes = options.maxBatchBytes ?? 900_000
  const readyCacheMs = options.readyCacheMs ?? 1500
  const log = logger.child({ component: 'publisher', topic })

  // No serializers: keys, values and headers are handed over as the UTF-8 buffers outgoingOf made.
  const producer = new Producer<Buffer, Buffer, Buffer, Buffer>(idempotentProducerOptions(connection, timeoutMs))

  let closed = false
  let preparing: Promise<void> | undefined
  function prepare(): Promise<void> {
    if (preparing === undefined) {
      const attempt = withDeadline(ensureTopic(connection, topic, options.partitions), timeoutMs, 'creating the topic')
      // A failure is not remembered: the next send tries again.
      attempt.catch(() => {
        if (preparing === attempt) preparing = undefined
      })
      preparing = attempt
    }
    return preparing
  }

  async function send(entries: Entry[]): Promise<void> {
    const live = entries.filter(e => !e.settled)
    if (live.length === 0) return
    let results: PublishedOffset[][]
    try {
      await prepare()
      // Cached by the client (refreshed every few seconds), so a partition count that grows is picked up.
      const metadata = await producer.metadata({ topics: [topic] })
      const partitionCount = metadata.topics.get(topic)?.partitionsCount
      if (partitionCount === undefined || partitionCount < 1) throw new Error(`topic ${topic} has no partitions`)
      const partitions: number[] = []
      const messages = []
      for (const entry of live) {
        for (const m of entry.messages) {
          const partition = partitionOfBytes(m.key, partitionCount)
          partitions.push(partition)
          // A Map is used by the client as it is; an object would be copied into one.
          const headers = new Map<Buffer, Buffer>().set(headerName, m.eventId)
          messages.push({ topic, partition, key: m.key, value: m.value, headers })
        }
      }
      const result = await producer.send({ messages })
      results = offsetsOf(live, partitions, result.offsets ?? [])
      log.debug({ events: messages.length, calls: live.length }, 'batch acknowledged')
    } catch (error) {
      const failure =
        error instanceof PipelineError
          ? error
          : new PipelineError('KAFKA_UNAVAILABLE', `Kafka did not accept the events: ${(error as Error).message}`, {
              cause: error,
            })
      log.error({ err: error, events: messageCount(live) }, 'send to Kafka failed')
      for (const entry of live) if (!entry.settled) entry.reject(failure)
      return
    }
    let late = 0
    live.forEach((entry, i) => {
      if (entry.settled) late += entry.messages.length
      else entry.resolve(results[i]!)
    })
    // The caller was already told 503; the events are in Kafka anyway, and a retry only makes a duplicate that
    // the consumer's idempotence absorbs. Worth knowing when it happens often.
    if (late > 0) log.warn({ events: late }, 'Kafka acknowledged events after their callers had given up')
  }

  /**
   * The client reports one base offset per partition of a send; the records of one partition form one batch
   * in the order we gave them, so the n-th of them sits at base + n.
   */
  function offsetsOf(
    entries: readonly Entry[],
    partitions: readonly number[],
    bases: readonly { topic: string; partition: number; offset: bigint }[],
  ): PublishedOffset[][] {
    const next = new Map<number, bigint>()
    for (const b of bases) if (b.topic === topic) next.set(b.partition, b.offset)
    let i = 0
    return entries.map(entry =>
      entry.messages.map(() => {
        const partition = partitions[i++]!
        const offset = next.get(partition)
        if (offset === undefined) {
          throw new PipelineError('INTERNAL', `Kafka returned no offset for ${topic}/${partition}`)
        }
        next.set(partition, offset + 1n)
        return { topic, partition, offset: offset.toString() }
      }),
    )
  }

  const coalescer = createCoalescer({
    lingerMs: options.lingerMs ?? 2,
    maxMessages: maxBatchMessages,
    maxBytes: maxBatchBytes,
    send,
  })

  function enqueue(messages: Outgoing[], bytes: number): Promise<PublishedOffset[]> {
    return new Promise((resolve, reject) => {
      const entry: Entry = {
        messages,
        bytes,
        settled: false,
        resolve: offsets => {
          entry.settled = true
          clearTimeout(timer)
          resolve(offsets)
        },
        reject: error => {
          entry.settled = true
          clearTimeout(timer)
          reject(error)
        },
      }
      const timer = setTimeout(() => {
        // Not sent yet: take it back, so a 503 means "not written". Already sent: the outcome is only logged.
        coalescer.withdraw(entry)
        entry.reject(
          new PipelineError('KAFKA_UNAVAILABLE', `Kafka did not acknowledge the events within ${timeoutMs} ms`),
        )
      }, timeoutMs)
      coalescer.add(entry)
    })
  }

  let probe: { at: number; answer: Promise<Check> } | undefined

  await prepare().catch(error => {
    log.warn({ err: error }, 'could not make sure the topic exists; publishing will retry')
  })

  return {
    topic,
    async publish(events) {
      if (closed) throw new PipelineError('SHUTTING_DOWN', 'the producer is shutting down')
      if (events.length === 0) return []
      // A large call is cut into slices that each fit one send; its answer waits for all of them.
      const slices: Promise<PublishedOffset[]>[] = []
      let messages: Outgoing[] = []
      let bytes = 0
      for (const m of outgoingOf(events)) {
        const size = sizeOf(m)
        if (messages.length > 0 && (messages.length >= maxBatchMessages || bytes + size > maxBatchBytes)) {
          slices.push(enqueue(messages, bytes))
          messages = []
          bytes = 0
        }
        messages.push(m)
        bytes += size
      }
      slices.push(enqueue(messages, bytes))
      return (await Promise.all(slices)).flat()
    },
    ready() {
      if (closed) return Promise.resolve({ ok: false, error: 'publisher closed' })
      const now = Date.now()
      if (probe === undefined || now - probe.at > readyCacheMs) {
        const answer = kafkaAnswers(connection, Math.min(timeoutMs, 2000)).then(
          (ok): Check =>
            ok ? { ok } : { ok, error: `Kafka (${connection.bootstrapBrokers.join(',')}) does not answer` },
        )
        probe = { at: now, answer }
      }
      return probe.answer
    },
    async close() {
      if (closed) return
      closed = true
      await coalescer.flush()
      await producer.close()
    },
  }
}

function messageCount(entries: readonly Entry[]): number {
  return entries.reduce((n, e) => n + e.messages.length, 0)
}

async function withDeadline<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new PipelineError('KAFKA_UNAVAILABLE', `Kafka did not answer within ${ms} ms while ${what}`)),
      ms,
    )
  })
  try {
    return await Promise.race([work, deadline])
  } catch (error) {
    if (error instanceof PipelineError) throw error
    throw new PipelineError('KAFKA_UNAVAILABLE', `Kafka failed while ${what}: ${(error as Error).message}`, {
      cause: error,
    })
  } finally {
    clearTimeout(timer)
  }
}
