// Gathers the messages of concurrent publish calls into few, large Kafka sends. One send is in flight at a time:
// while it waits for the broker the next batch fills up (so batches grow with load on their own), and per-key
// order follows call order without depending on how the client orders concurrent sends of an idempotent
// producer. A short linger lets a quiet moment's first request wait for its neighbours instead of going alone.
import { asPipelineError, type PipelineError } from '../errors.ts'
import type { Outgoing } from './outgoing.ts'

export interface PublishedOffset {
  topic: string
  partition: number
  /** Decimal string: Kafka offsets are 64-bit. */
  offset: string
}

/** The messages of one publish call (or a slice of a large one) and how to answer it. */
export interface Entry {
  readonly messages: readonly Outgoing[]
  readonly bytes: number
  /** Set once resolved or rejected; a late outcome of an entry whose caller gave up is only logged. */
  settled: boolean
  resolve(offsets: PublishedOffset[]): void
  reject(error: PipelineError): void
}

export interface CoalescerOptions {
  lingerMs: number
  maxMessages: number
  maxBytes: number
  /** Sends the entries as one batch and settles every one of them; must not throw. */
  send(entries: Entry[]): Promise<void>
}

export class Coalescer {
  readonly #options: CoalescerOptions
  #queue: Entry[] = []
  #messages = 0
  #bytes = 0
  #linger: NodeJS.Timeout | undefined
  /** The one send in flight (with the sends that follow it while entries keep coming). */
  #sending: Promise<void> | undefined

  constructor(options: CoalescerOptions) {
    this.#options = options
  }

  add(entry: Entry): void {
    this.#queue.push(entry)
    this.#messages += entry.messages.length
    this.#bytes += entry.bytes
    this.#schedule()
  }

  /** Takes back an entry that has not been sent yet; false when it is already on its way. */
  withdraw(entry: Entry): boolean {
    const i = this.#queue.indexOf(entry)
    if (i < 0) return false
    this.#queue.splice(i, 1)
    this.#messages -= entry.messages.length
    this.#bytes -= entry.bytes
    return true
  }

  /** Sends everything queued now and resolves once nothing is queued or in flight. */
  async flush(): Promise<void> {
    while (this.#queue.length > 0 || this.#sending !== undefined) {
      if (this.#sending === undefined) this.#start()
      await this.#sending
    }
  }

  #take(): Entry[] {
    const batch: Entry[] = []
    let count = 0
    let size = 0
    let i = 0
    for (; i < this.#queue.length; i++) {
      const entry = this.#queue[i]!
      const fits =
        count + entry.messages.length <= this.#options.maxMessages && size + entry.bytes <= this.#options.maxBytes
      if (!fits && batch.length > 0) break
      count += entry.messages.length
      size += entry.bytes
      batch.push(entry)
    }
    this.#queue = i === this.#queue.length ? [] : this.#queue.slice(i)
    this.#messages -= count
    this.#bytes -= size
    return batch
  }

  async #drain(): Promise<void> {
    while (this.#queue.length > 0) {
      const batch = this.#take()
      try {
        await this.#options.send(batch)
      } catch (error) {
        // send settles its entries itself; this only keeps a bug there from leaving callers waiting forever.
        const failure = asPipelineError(error)
        for (const entry of batch) if (!entry.settled) entry.reject(failure)
      }
    }
  }

  #start(): void {
    if (this.#linger !== undefined) {
      clearTimeout(this.#linger)
      this.#linger = undefined
    }
    this.#sending ??= this.#drain().finally(() => {
      this.#sending = undefined
      // An entry may have arrived between the loop's last check and this callback.
      if (this.#queue.length > 0) this.#schedule()
    })
  }

  #schedule(): void {
    if (this.#sending !== undefined) return
    if (this.#messages >= this.#options.maxMessages || this.#bytes >= this.#options.maxBytes) this.#start()
    else this.#linger ??= setTimeout(() => this.#start(), this.#options.lingerMs)
  }
}
