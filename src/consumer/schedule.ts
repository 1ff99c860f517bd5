// Which partition lanes start a batch now. Pure: it sees what waits in each lane and the clock, and answers with
// the lanes to launch and how long until it should be asked again.
//
// Lanes go in the order of their oldest waiting record's timestamp, and a lane waits while another one still has
// older records waiting. Draining a backlog, every partition then moves through the same stretch of produce time
// together: taking equal batches in turn instead lets a thin partition run minutes ahead of a busy one. Equal
// timestamps hold no one back, and no lane is held for more than `maxHoldBatches` batches of the others or
// `maxHoldMs` without any (a producer with a wrong clock must not stall a partition). Correctness never rests on
// this order (an order whose user is late waits as a pending event); it keeps pending events few.

/** What the scheduler needs to know about one lane. */
export interface LaneView {
  readonly key: string
  /** Records waiting in the lane. */
  readonly waiting: number
  /** When the oldest waiting record arrived (ms), for the batch wait. */
  readonly since: number
  /** Kafka timestamp of the oldest waiting record. */
  readonly oldest: bigint | undefined
  /** A batch of this lane is in flight: the next one waits for it (offset order). */
  readonly busy: boolean
}

export interface ScheduleOptions {
  readonly batchMax: number
  readonly batchWaitMs: number
  /** Most batches in flight at once. */
  readonly concurrency: number
  readonly maxHoldBatches?: number
  readonly maxHoldMs?: number
}

export interface Decision {
  /** Lane keys to launch, in this order. */
  readonly launch: string[]
  /** How long until something may become ready (a batch wait, a hold running out); at most 1 s. */
  readonly wake: number
}

export class LaneScheduler {
  readonly #options: Required<ScheduleOptions>
  /** Lanes ready but held back for older records elsewhere: since when, and how many launches had happened. */
  readonly #held = new Map<string, { since: number; launches: number }>()
  /** Batches launched so far: the clock of the hold-back. */
  #launches = 0

  constructor(options: ScheduleOptions) {
    this.#options = { maxHoldBatches: 16, maxHoldMs: 5000, ...options, concurrency: Math.max(1, options.concurrency) }
  }

  decide(lanes: readonly LaneView[], inFlight: number, now: number): Decision {
    const { batchMax, batchWaitMs, concurrency, maxHoldBatches, maxHoldMs } = this.#options
    let wake = 1000
    const ready: LaneView[] = []
    for (const lane of lanes) {
      if (lane.busy || lane.waiting === 0) continue
      const fillBy = lane.since + batchWaitMs
      if (lane.waiting >= batchMax || fillBy <= now) ready.push(lane)
      else wake = Math.min(wake, fillBy - now)
    }
    ready.sort((a, b) => compareOldest(a.oldest, b.oldest))
    const launch: string[] = []
    let running = inFlight
    for (const lane of ready) {
      if (running >= concurrency) break
      if (lane.oldest !== undefined && olderElsewhere(lanes, lane)) {
        let held = this.#held.get(lane.key)
        if (held === undefined) {
          held = { since: now, launches: this.#launches }
          this.#held.set(lane.key, held)
        }
        if (this.#launches - held.launches < maxHoldBatches && now - held.since < maxHoldMs) {
          wake = Math.min(wake, held.since + maxHoldMs - now)
          continue
        }
      }
      this.#held.delete(lane.key)
      this.#launches++
      running++
      launch.push(lane.key)
    }
    return { launch, wake: Math.max(1, wake) }
  }

  /** A lane that went away (its partition was revoked) is no longer held. */
  forget(key: string): void {
    this.#held.delete(key)
  }
}

function compareOldest(a: bigint | undefined, b: bigint | undefined): number {
  if (a === undefined || b === undefined) return a === b ? 0 : a === undefined ? -1 : 1
  return a < b ? -1 : a > b ? 1 : 0
}

function olderElsewhere(lanes: readonly LaneView[], lane: LaneView): boolean {
  for (const other of lanes) {
    if (other.key !== lane.key && other.waiting > 0 && other.oldest !== undefined && other.oldest < lane.oldest!) {
      return true
    }
  }
  return false
}
