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

export interface Coalescer {
  add(entry: Entry): void
  /** Takes back an entry that has not been sent yet; false when it is already on its way. */
  withdraw(entry: Entry): boolean
  /** Sends everything queued now and resolves once nothing is queued or in flight. */
  flush(): Promise<void>
}

export function createCoalescer(options: CoalescerOptions): Coalescer {
  let queue: Entry[] = []
  let messages = 0
  let bytes = 0
  let linger: NodeJS.Timeout | undefined
  let sending: Promise<void> | undefined

  function take(): Entry[] {
    const batch: Entry[] = []
    let count = 0
    let size = 0
    let i = 0
    for (; i < queue.length; i++) {
      const entry = queue[i]!
      const fits = count + entry.messages.length <= options.maxMessages && size + entry.bytes <= options.maxBytes
      if (!fits && batch.length > 0) break
      count += entry.messages.length
      size += entry.bytes
      batch.push(entry)
    }
    queue = i === queue.length ? [] : queue.slice(i)
    messages -= count
    bytes -= size
    return batch
  }

  async function drain(): Promise<void> {
    while (queue.length > 0) {
      const batch = take()
      try {
        await options.send(batch)
      } catch (error) {
        // send settles its entries itself; this only keeps a bug there from leaving callers waiting forever.
        const failure = asPipelineError(error)
        for (const entry of batch) if (!entry.settled) entry.reject(failure)
      }
    }
  }

  function start(): void {
    if (linger !== undefined) {
      clearTimeout(linger)
      linger = undefined
    }
    sending ??= drain().finally(() => {
      sending = undefined
      // An entry may have arrived between the loop's last check and this callback.
      if (queue.length > 0) schedule()
    })
  }

  function schedule(): void {
    if (sending !== undefined) return
    if (messages >= options.maxMessages || bytes >= options.maxBytes) start()
    else linger ??= setTimeout(start, options.lingerMs)
  }

  return {
    add(entry) {
      queue.push(entry)
      messages += entry.messages.length
      bytes += entry.bytes
      schedule()
    },
    withdraw(entry) {
      const i = queue.indexOf(entry)
      if (i < 0) return false
      queue.splice(i, 1)
      messages -= entry.messages.length
      bytes -= entry.bytes
      return true
    },
    async flush() {
      while (queue.length > 0 || sending !== undefined) {
        if (sending === undefined) start()
        await sending
      }
    },
  }
}
