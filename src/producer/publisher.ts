// Publishes validated events to Kafka with an idempotent, acks=all producer and answers each caller with the
// partition and offset of every one of its events, once the broker has acknowledged them.
import { withTimeout } from '../async.ts'
import { PipelineError } from '../errors.ts'
import type { Event } from '../events/index.ts'
import type { Check } from '../http/index.ts'
import {
  ensureTopic,
  type KafkaConnection,
  KafkaWriter,
  kafkaAnswers,
  type WriteRecord,
  type Written,
} from '../kafka/index.ts'
import type { Logger } from '../observability/index.ts'
import { Coalescer, type Entry, type PublishedOffset } from './coalescer.ts'
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
export function createPublisher(options: PublisherOptions): Promise<Publisher> {
  return KafkaPublisher.create(options)
}

class KafkaPublisher implements Publisher {
  readonly topic: string
  readonly #log: Logger
  readonly #connection: KafkaConnection
  readonly #partitions: number
  readonly #timeoutMs: number
  readonly #maxBatchMessages: number
  readonly #maxBatchBytes: number
  readonly #readyCacheMs: number
  readonly #writer: KafkaWriter
  /** The queue of entries waiting for a send, and the one send in flight. */
  readonly #coalescer: Coalescer
  #closed = false
  /** The topic's creation in progress or done; a failure is not remembered, so the next send tries again. */
  #preparing: Promise<void> | undefined
  #probe: { at: number; answer: Promise<Check> } | undefined

  static async create(options: PublisherOptions): Promise<KafkaPublisher> {
    const publisher = new KafkaPublisher(options)
    await publisher.#prepare().catch(error => {
      publisher.#log.warn({ err: error }, 'could not make sure the topic exists; publishing will retry')
    })
    return publisher
  }

  private constructor(options: PublisherOptions) {
    this.topic = options.topic
    this.#log = options.logger.child({ component: 'publisher', topic: options.topic })
    this.#connection = options.connection
    this.#partitions = options.partitions
    this.#timeoutMs = options.timeoutMs ?? 5000
    this.#maxBatchMessages = options.maxBatchMessages ?? 10_000
    this.#maxBatchBytes = options.maxBatchBytes ?? 900_000
    this.#readyCacheMs = options.readyCacheMs ?? 1500
    this.#writer = new KafkaWriter(this.#connection, this.#timeoutMs)
    this.#coalescer = new Coalescer({
      lingerMs: options.lingerMs ?? 2,
      maxMessages: this.#maxBatchMessages,
      maxBytes: this.#maxBatchBytes,
      send: entries => this.#send(entries),
    })
  }

  async publish(events: readonly Event[]): Promise<PublishedOffset[]> {
    if (this.#closed) throw new PipelineError('SHUTTING_DOWN', 'the producer is shutting down')
    if (events.length === 0) return []
    // A large call is cut into slices that each fit one send; its answer waits for all of them.
    const slices: Promise<PublishedOffset[]>[] = []
    let messages: Outgoing[] = []
    let bytes = 0
    for (const m of outgoingOf(events)) {
      const size = sizeOf(m)
      if (messages.length > 0 && (messages.length >= this.#maxBatchMessages || bytes + size > this.#maxBatchBytes)) {
        slices.push(this.#enqueue(messages, bytes))
        messages = []
        bytes = 0
      }
      messages.push(m)
      bytes += size
    }
    slices.push(this.#enqueue(messages, bytes))
    return (await Promise.all(slices)).flat()
  }

  ready(): Promise<Check> {
    if (this.#closed) return Promise.resolve({ ok: false, error: 'publisher closed' })
    const now = Date.now()
    if (this.#probe === undefined || now - this.#probe.at > this.#readyCacheMs) {
      const brokers = this.#connection.bootstrapBrokers.join(',')
      const answer = kafkaAnswers(this.#connection, Math.min(this.#timeoutMs, 2000)).then(
        (ok): Check => (ok ? { ok } : { ok, error: `Kafka (${brokers}) does not answer` }),
      )
      this.#probe = { at: now, answer }
    }
    return this.#probe.answer
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    await this.#coalescer.flush()
    await this.#writer.close()
  }

  #prepare(): Promise<void> {
    if (this.#preparing === undefined) {
      const attempt = withDeadline(
        ensureTopic(this.#connection, this.topic, this.#partitions),
        this.#timeoutMs,
        'creating the topic',
      )
      attempt.catch(() => {
        if (this.#preparing === attempt) this.#preparing = undefined
      })
      this.#preparing = attempt
    }
    return this.#preparing
  }

  #enqueue(messages: Outgoing[], bytes: number): Promise<PublishedOffset[]> {
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
        this.#coalescer.withdraw(entry)
        entry.reject(
          new PipelineError('KAFKA_UNAVAILABLE', `Kafka did not acknowledge the events within ${this.#timeoutMs} ms`),
        )
      }, this.#timeoutMs)
      this.#coalescer.add(entry)
    })
  }

  async #send(entries: Entry[]): Promise<void> {
    const live = entries.filter(e => !e.settled)
    if (live.length === 0) return
    let results: PublishedOffset[][]
    try {
      await this.#prepare()
      const records: WriteRecord[] = []
      for (const entry of live) {
        for (const m of entry.messages) {
          records.push({
            topic: this.topic,
            key: m.key,
            value: m.value,
            headers: new Map<Buffer, Buffer>().set(headerName, m.eventId),
          })
        }
      }
      results = this.#offsetsOf(live, await this.#writer.write(records))
      this.#log.debug({ events: records.length, calls: live.length }, 'batch acknowledged')
    } catch (error) {
      const failure =
        error instanceof PipelineError
          ? error
          : new PipelineError('KAFKA_UNAVAILABLE', `Kafka did not accept the events: ${(error as Error).message}`, {
              cause: error,
            })
      this.#log.error({ err: error, events: messageCount(live) }, 'send to Kafka failed')
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
    if (late > 0) this.#log.warn({ events: late }, 'Kafka acknowledged events after their callers had given up')
  }

  /** The writer's per-record answers, cut back into one list per entry. */
  #offsetsOf(entries: readonly Entry[], written: readonly Written[]): PublishedOffset[][] {
    let i = 0
    return entries.map(entry =>
      entry.messages.map(() => {
        const { topic, partition, offset } = written[i++]!
        if (offset === undefined) {
          throw new PipelineError('INTERNAL', `Kafka returned no offset for ${topic}/${partition}`)
        }
        return { topic, partition, offset: offset.toString() }
      }),
    )
  }
}

function messageCount(entries: readonly Entry[]): number {
  return entries.reduce((n, e) => n + e.messages.length, 0)
}

/** `work` within `ms`, any failure of it (a timeout included) as KAFKA_UNAVAILABLE saying `what` was done. */
async function withDeadline<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  const late = () => new PipelineError('KAFKA_UNAVAILABLE', `Kafka did not answer within ${ms} ms while ${what}`)
  try {
    return await withTimeout(work, ms, late)
  } catch (error) {
    if (error instanceof PipelineError) throw error
    throw new PipelineError('KAFKA_UNAVAILABLE', `Kafka failed while ${what}: ${(error as Error).message}`, {
      cause: error,
    })
  }
}
