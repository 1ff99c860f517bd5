// Turns the message stream of @platformatic/kafka into one queue per partition ("lane"), from which the consumer
// takes batches of one partition at a time. Lanes let partitions be applied independently and in turn: a fetch
// delivers a megabyte of one partition before the next one, and a single queue would apply them one after the
// other, far apart in time (an order then reaches the store long before its user, who sits on another
// partition). The stream is paused while too many records or bytes wait (bounded memory, whatever the size of the
// records; heartbeats go on in the client).
import type { Message, MessagesStream } from '@platformatic/kafka'

// Keys and values are typed as Buffer, but a record with a null key or value arrives with undefined/null there:
// the consumer treats both as possibly absent.
export type RawMessage = Message<Buffer, Buffer, Buffer, Buffer>
export type RawStream = MessagesStream<Buffer, Buffer, Buffer, Buffer>

/** What the reader needs of a record it keeps: where it comes from, its size and its Kafka timestamp. */
export interface WaitingRecord {
  readonly topic: string
  readonly partition: number
  readonly key?: Uint8Array | null
  readonly value?: Uint8Array | null
  readonly timestamp?: bigint
}

/** The records of one partition waiting to be applied, oldest first. */
export interface Lane<R extends WaitingRecord = RawMessage> {
  readonly key: string
  readonly topic: string
  readonly partition: number
  /**
   * Waiting records are records[head…]; the slots before head are emptied as records are taken, and dropped in
   * bulk, not shifted one by one.
   */
  records: R[]
  head: number
  /** When the oldest waiting record arrived (Date.now()), for the batch wait. */
  since: number
}

/** What one record holds in memory, as far as the reader counts it: its key and value. */
export const recordBytes = (m: WaitingRecord): number => (m.key?.length ?? 0) + (m.value?.length ?? 0)

export interface ReaderLimits {
  /** Records waiting in the lanes at which the stream pauses (it resumes below half). */
  readonly records: number
  /** Bytes waiting in the lanes at which the stream pauses (it resumes below half). */
  readonly bytes: number
}

export const laneKey = (topic: string, partition: number) => `${topic}\u0000${partition}`

export class PartitionReader<R extends WaitingRecord = RawMessage> {
  readonly #stream: RawStream
  readonly #highWater: number
  readonly #highWaterBytes: number
  readonly lanes = new Map<string, Lane<R>>()
  #buffered = 0
  #bufferedBytes = 0
  #pausing = false
  #wake: (() => void) | undefined
  #error: Error | undefined
  #ended = false
  /** The caller wants nothing fetched (every partition it owns is paused): the stream stays paused. */
  #held = false

  /**
   * Pauses the stream once `limits` records or bytes wait in the lanes (see #mayPause), resumes it below half.
   *
   * `adopt` turns each message into the record the lanes keep, as it arrives. The client's message carries a
   * headers map, a bound commit function and a copy of the decoded record, and a record waits in a lane for
   * longer than the young generation lives: kept whole, all of that is copied and promoted by the garbage
   * collector before it dies. Adopted at once, only the small record survives (docs/performance.md, "What the
   * consumer's garbage collector copies").
   */
  constructor(stream: RawStream, limits: ReaderLimits, adopt: (message: RawMessage) => R) {
    this.#stream = stream
    this.#highWater = limits.records
    this.#highWaterBytes = limits.bytes
    stream.on('data', (raw: RawMessage) => {
      const message = adopt(raw)
      const key = laneKey(message.topic, message.partition)
      let lane = this.lanes.get(key)
      if (lane === undefined) {
        lane = { key, topic: message.topic, partition: message.partition, records: [], head: 0, since: 0 }
        this.lanes.set(key, lane)
      }
      if (lane.head === lane.records.length) lane.since = Date.now()
      lane.records.push(message)
      this.#bufferedBytes += recordBytes(message)
      if (++this.#buffered >= this.#highWater || this.#bufferedBytes >= this.#highWaterBytes) this.#pauseSoon()
      this.poke()
    })
    stream.on('error', (error: Error) => {
      this.#error = error
      this.poke()
    })
    stream.on('close', () => {
      this.#ended = true
      this.poke()
    })
  }

  /** Why the stream stopped, if it did: the caller then opens a new one. */
  get failure(): Error | undefined {
    return this.#error ?? (this.#ended ? new Error('message stream closed') : undefined)
  }

  waiting(lane: Lane<R>): number {
    return lane.records.length - lane.head
  }

  /** The Kafka timestamp of the lane's oldest waiting record, if one waits. */
  oldest(lane: Lane<R>): bigint | undefined {
    return lane.head < lane.records.length ? lane.records[lane.head]!.timestamp : undefined
  }

  /** Takes up to `max` of the lane's oldest records and at most `maxBytes` of them, but always at least one. */
  take(lane: Lane<R>, max: number, maxBytes = Number.POSITIVE_INFINITY): R[] {
    let end = lane.head
    let bytes = 0
    const last = Math.min(lane.records.length, lane.head + max)
    while (end < last) {
      const size = recordBytes(lane.records[end]!)
      if (end > lane.head && bytes + size > maxBytes) break
      bytes += size
      end++
    }
    const batch = lane.records.slice(lane.head, end)
    // The lane lets go of what it hands out: a taken record must not stay reachable from records[…head] until
    // the lane empties or compacts, or a lane that never empties holds up to 4,096 taken records whatever their
    // size (400 MB of 1 MB records), past the byte bound the reader keeps on what waits.
    const slots = lane.records as (R | undefined)[]
    for (let i = lane.head; i < end; i++) slots[i] = undefined
    lane.head = end
    if (lane.head === lane.records.length) {
      lane.records = []
      lane.head = 0
    } else if (lane.head > 4096 && lane.head * 2 > lane.records.length) {
      lane.records = lane.records.slice(lane.head)
      lane.head = 0
    }
    // What is left waited already; it is not given a new batch wait.
    this.#buffered -= batch.length
    this.#bufferedBytes -= bytes
    this.#resumeIfBelow()
    return batch
  }

  /**
   * Holds the stream paused (`true`) whatever the lanes hold, or lets back-pressure decide again (`false`):
   * while every partition the caller owns is paused, fetching their records only to drop them is waste.
   */
  hold(held: boolean): void {
    if (held === this.#held) return
    this.#held = held
    if (held) {
      if (!this.#stream.isPaused()) this.#stream.pause()
    } else this.#resumeIfBelow()
  }

  #resumeIfBelow(): void {
    if (this.#held || !this.#stream.isPaused()) return
    const below = this.#buffered < this.#highWater / 2 && this.#bufferedBytes < this.#highWaterBytes / 2
    if (below || !this.#mayPause()) this.#stream.resume()
  }

  /** Discards the lane and its waiting records (its partition went to another member). */
  drop(lane: Lane<R>): void {
    for (let i = lane.head; i < lane.records.length; i++) this.#bufferedBytes -= recordBytes(lane.records[i]!)
    this.#buffered -= this.waiting(lane)
    this.lanes.delete(lane.key)
    this.#resumeIfBelow()
  }

  /**
   * The client pushes a whole fetch response at once, partition after partition. Pausing in the middle of it would
   * leave the later partitions' records in the stream's own buffer, out of the lanes' sight, while the earlier
   * ones run ahead of them: the pause waits until the response is through (a microtask).
   */
  #pauseSoon(): void {
    if (this.#pausing) return
    this.#pausing = true
    queueMicrotask(() => {
      this.#pausing = false
      const full = this.#buffered >= this.#highWater || this.#bufferedBytes >= this.#highWaterBytes
      if (full && !this.#stream.isPaused() && this.#mayPause()) this.#stream.pause()
    })
  }

  /**
   * Pausing while a lane is empty would let the others run ahead of it (nothing of its partition is older than
   * their records, so nothing holds them back): the stream goes on until every lane has records or a hard limit
   * is reached, four times the records' high-water mark or twice the bytes'.
   */
  #mayPause(): boolean {
    if (this.#buffered >= this.#highWater * 4 || this.#bufferedBytes >= this.#highWaterBytes * 2) return true
    for (const lane of this.lanes.values()) if (lane.head === lane.records.length) return false
    return true
  }

  /** Wakes a pending wait(): new records, a failed stream, or a caller with news of its own. */
  poke(): void {
    const wake = this.#wake
    this.#wake = undefined
    wake?.()
  }

  /** Resolves on the next poke, after `ms`, or when the signal aborts, whichever comes first. */
  wait(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise(resolve => {
      const done = () => {
        clearTimeout(timer)
        signal.removeEventListener('abort', done)
        if (this.#wake === done) this.#wake = undefined
        resolve()
      }
      const timer = setTimeout(done, Math.max(0, ms))
      signal.addEventListener('abort', done, { once: true })
      this.#wake = done
    })
  }

  async close(): Promise<void> {
    if (!this.#stream.closed && !this.#stream.destroyed) await this.#stream.close().catch(() => {})
  }
}
