// The topic's log end offsets, as the read API checks ?after= against them: an offset at or past its partition's
// end, or a partition the topic does not have, names a record that was never written, and waiting for it
// would only hold a place until READ_WAIT_MS. Such a read is refused instead.
//
// The ends are read from Kafka, never once per read:
//   - a value younger than `maxAgeMs` that shows every wanted offset inside the log lets the read wait at once;
//   - "beyond the end" is only believed from a read of the ends that started after the request arrived: an
//     honest client copies offsets from produce answers, so its write was acknowledged before it asked, and a
//     read started later sees it. A cached value may predate that write;
//   - one read runs at a time, reads start at least `minGapMs` apart, and every request that needs a fresher
//     value shares the next one: a flood of requests costs at most one Kafka request per `minGapMs`;
//   - when Kafka cannot be asked, the verdict is `unknown` and the read waits within READ_WAIT_MS as before.
import type { Offsets } from './after.ts'

export type LogVerdict =
  | { readonly kind: 'within' }
  /** `offset` is at or past `end`, the offset the partition's next record gets. */
  | { readonly kind: 'beyond'; readonly partition: number; readonly offset: bigint; readonly end: bigint }
  /** The topic has `partitions` partitions, numbered from 0, and `partition` is not one of them. */
  | { readonly kind: 'no-partition'; readonly partition: number; readonly partitions: number }

export type EndCheck = LogVerdict | { readonly kind: 'unknown' }

const within: LogVerdict = { kind: 'within' }

/**
 * Whether every wanted offset is a record of the log whose end offsets are `ends` (partition → the offset its
 * next record gets); else the first partition, by number, that is not.
 */
export function checkAgainstLog(wanted: Offsets, ends: Offsets): LogVerdict {
  for (const [partition, offset] of [...wanted].sort((a, b) => a[0] - b[0])) {
    const end = ends.get(partition)
    if (end === undefined) return { kind: 'no-partition', partition, partitions: ends.size }
    if (offset >= end) return { kind: 'beyond', partition, offset, end }
  }
  return within
}

export interface LogEndsOptions {
  /** One read of the topic's end offsets (partition → end). */
  readonly read: () => Promise<Offsets>
  /** A value older than this does not let a read through; a fresh one is read (default 1000 ms). */
  readonly maxAgeMs?: number
  /** Least time between the starts of two reads (default 100 ms). */
  readonly minGapMs?: number
  /** Told of a failed read. */
  readonly onError?: (error: unknown) => void
  readonly now?: () => number
}

export class LogEnds {
  readonly #options: LogEndsOptions
  readonly #maxAgeMs: number
  readonly #minGapMs: number
  readonly #now: () => number
  #value: Offsets | undefined
  /** When the read behind #value started. */
  #readAt = Number.NEGATIVE_INFINITY
  #lastStart = Number.NEGATIVE_INFINITY
  #inflight: Promise<Offsets | undefined> | undefined
  #inflightStart = Number.NEGATIVE_INFINITY
  /** The next read, shared by every caller that needs one started after the one in flight. */
  #next: Promise<Offsets | undefined> | undefined
  #reads = 0
  #closed = false

  constructor(options: LogEndsOptions) {
    this.#options = options
    this.#maxAgeMs = options.maxAgeMs ?? 1000
    this.#minGapMs = options.minGapMs ?? 100
    this.#now = options.now ?? performance.now.bind(performance)
  }

  /** Reads of the end offsets started so far. */
  get reads(): number {
    return this.#reads
  }

  /**
   * The verdict on `wanted` for a request that arrived at `arrivedAt` (on the `now` clock): `within` at once from
   * a young enough value, else from a read that started at or after `arrivedAt`; `unknown` when that read failed.
   */
  async check(wanted: Offsets, arrivedAt: number): Promise<EndCheck> {
    if (this.#value !== undefined && this.#now() - this.#readAt < this.#maxAgeMs) {
      const verdict = checkAgainstLog(wanted, this.#value)
      if (verdict.kind === 'within' || this.#readAt >= arrivedAt) return verdict
    }
    const value = await this.#readStartedSince(arrivedAt)
    return value === undefined ? { kind: 'unknown' } : checkAgainstLog(wanted, value)
  }

  /** Pending and later checks answer `unknown`; no read starts any more. */
  close(): void {
    this.#closed = true
  }

  #readStartedSince(arrivedAt: number): Promise<Offsets | undefined> {
    if (this.#inflight !== undefined && this.#inflightStart >= arrivedAt) return this.#inflight
    this.#next ??= this.#afterGap()
    return this.#next
  }

  /** Starts the next read once the one in flight is done and `minGapMs` has passed since the last start. */
  async #afterGap(): Promise<Offsets | undefined> {
    await this.#inflight
    const wait = this.#lastStart + this.#minGapMs - this.#now()
    if (wait > 0) await new Promise(resolve => setTimeout(resolve, wait))
    this.#next = undefined
    return this.#start()
  }

  #start(): Promise<Offsets | undefined> {
    if (this.#closed) return Promise.resolve(undefined)
    const startedAt = this.#now()
    this.#lastStart = startedAt
    this.#inflightStart = startedAt
    this.#reads++
    const inflight = this.#options
      .read()
      .then(
        value => {
          if (startedAt >= this.#readAt) {
            this.#value = value
            this.#readAt = startedAt
          }
          return value
        },
        (error: unknown) => {
          this.#options.onError?.(error)
          return undefined
        },
      )
      .finally(() => {
        if (this.#inflight === inflight) this.#inflight = undefined
      })
    this.#inflight = inflight
    return inflight
  }
}
