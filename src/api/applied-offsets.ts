// The applied offsets as the read API knows them, kept in memory so that reads add no query of their own:
//   - while reads come, one shared query refreshes them at most every `refreshMs`; a read takes the value in
//     memory (refreshed in the background) unless it is older than `staleMs`, then it waits for the next query;
//   - a read whose ?after= is not covered yet waits; a poll, running only while someone waits, re-reads the
//     offsets and wakes each waiter its value covers. The poll starts `refreshMs` apart and doubles the gap,
//     up to `maxPollMs`, while the offsets stay the same (nextPollGap); a change or a new waiter brings it back.
// How many reads may wait, in total and per client, is decided before they get here (wait-slots.ts).
// Every value handed out comes from a query that completed before it was handed out. Offsets only grow, so a
// data query started afterwards sees at least what that value says: the header is a true lower bound.
import { covers, type Offsets, sameOffsets } from './after.ts'

/** Time between polls after a failed query. */
export const failedPollMs = 100

/**
 * The gap before the next poll: back to `min` when the last query saw the offsets move, else twice the last gap,
 * at most `max`. A consumer that is idle or stuck costs a few queries a second, not hundreds.
 */
export function nextPollGap(previous: number, changed: boolean, bounds: { min: number; max: number }): number {
  return changed ? bounds.min : Math.min(bounds.max, Math.max(bounds.min, previous * 2))
}

export interface AppliedOffsetsOptions {
  /** One query of the applied offsets. */
  readonly read: () => Promise<Offsets>
  /** Least time between two queries, and the first gap of the poll (default 5 ms). */
  readonly refreshMs?: number
  /** Longest gap of the poll while the offsets stay the same (default 100 ms). */
  readonly maxPollMs?: number
  /** A value older than this is not handed out; the caller waits for a fresh one (default 100 ms). */
  readonly staleMs?: number
  /** Told of a failed poll; the waiters go on waiting until their time is up. */
  readonly onPollError?: (error: unknown) => void
  readonly now?: () => number
}

export type WaitOutcome =
  | { readonly kind: 'covered'; readonly offsets: Offsets }
  | { readonly kind: 'timeout'; readonly offsets: Offsets }

interface Waiter {
  readonly wanted: Offsets
  settle(outcome: WaitOutcome): void
}

export class AppliedOffsets {
  readonly #options: AppliedOffsetsOptions
  readonly #refreshMs: number
  readonly #maxPollMs: number
  readonly #staleMs: number
  readonly #now: () => number
  #value: Offsets | undefined
  /** When the query behind #value started. */
  #readAt = Number.NEGATIVE_INFINITY
  /** When the last query started, and whether it failed (the poll then waits `failedPollMs`). */
  #lastStart = Number.NEGATIVE_INFINITY
  #lastFailed = false
  /** The poll's current gap (nextPollGap). */
  #pollGap: number
  #inflight: Promise<Offsets> | undefined
  readonly #waiters = new Set<Waiter>()
  #poll: NodeJS.Timeout | undefined
  #closed = false

  constructor(options: AppliedOffsetsOptions) {
    this.#options = options
    this.#refreshMs = options.refreshMs ?? 5
    this.#maxPollMs = Math.max(this.#refreshMs, options.maxPollMs ?? 100)
    this.#pollGap = this.#refreshMs
    this.#staleMs = Math.max(this.#refreshMs, options.staleMs ?? 100)
    this.#now = options.now ?? performance.now.bind(performance)
  }

  /** Reads waiting now. */
  get waiting(): number {
    return this.#waiters.size
  }

  /** Offsets read from the store before this resolves: a lower bound of what any query started later sees. */
  async current(): Promise<Offsets> {
    return this.fresh() ?? this.#refresh()
  }

  /**
   * The value in memory when it is fresh enough to hand out (what current() would resolve with at once, with the
   * same background refresh), else undefined: the caller then awaits current(). Reads take this path nearly
   * always, without a promise of their own.
   */
  fresh(): Offsets | undefined {
    const now = this.#now()
    if (this.#value === undefined || now - this.#readAt >= this.#staleMs) return undefined
    if (now - this.#lastStart >= this.#refreshMs) this.#refresh().catch(() => {})
    return this.#value
  }

  /**
   * Resolves once the applied offsets cover `wanted` (with the value that covers them), after `timeoutMs` or when
   * `signal` aborts (with the latest value). The caller bounds how many wait (WaitSlots).
   */
  async waitFor(wanted: Offsets, timeoutMs: number, signal?: AbortSignal): Promise<WaitOutcome> {
    const offsets = await this.current()
    if (covers(offsets, wanted)) return { kind: 'covered', offsets }
    if (this.#closed || timeoutMs <= 0 || signal?.aborted === true) return { kind: 'timeout', offsets }
    return new Promise(resolve => {
      const latest = () => this.#value ?? offsets
      const onAbort = () => waiter.settle({ kind: 'timeout', offsets: latest() })
      const timer = setTimeout(onAbort, timeoutMs)
      const waiter: Waiter = {
        wanted,
        settle: outcome => {
          clearTimeout(timer)
          signal?.removeEventListener('abort', onAbort)
          this.#waiters.delete(waiter)
          // No one waits any more: the poll stops now, not after its next query.
          if (this.#waiters.size === 0 && this.#poll !== undefined) {
            clearTimeout(this.#poll)
            this.#poll = undefined
          }
          resolve(outcome)
        },
      }
      signal?.addEventListener('abort', onAbort, { once: true })
      this.#waiters.add(waiter)
      // A new waiter may wait for a write that just landed: poll soon again, not after a long gap.
      this.#pollGap = this.#refreshMs
      if (this.#poll !== undefined && !this.#lastFailed) {
        clearTimeout(this.#poll)
        this.#poll = undefined
      }
      this.#schedulePoll()
    })
  }

  /** Stops polling and answers every waiter with the latest value, as timed out. */
  close(): void {
    this.#closed = true
    if (this.#poll !== undefined) clearTimeout(this.#poll)
    this.#poll = undefined
    for (const waiter of [...this.#waiters]) waiter.settle({ kind: 'timeout', offsets: this.#value ?? new Map() })
  }

  /** One query at a time: callers arriving while it runs share it. */
  #refresh(): Promise<Offsets> {
    if (this.#inflight !== undefined) return this.#inflight
    const startedAt = this.#now()
    this.#lastStart = startedAt
    const inflight = this.#options
      .read()
      .then(value => {
        this.#lastFailed = false
        const bounds = { min: this.#refreshMs, max: this.#maxPollMs }
        const changed = this.#value === undefined || !sameOffsets(this.#value, value)
        this.#pollGap = nextPollGap(this.#pollGap, changed, bounds)
        this.#value = value
        this.#readAt = startedAt
        for (const waiter of [...this.#waiters]) {
          if (covers(value, waiter.wanted)) waiter.settle({ kind: 'covered', offsets: value })
        }
        return value
      })
      .catch((error: unknown) => {
        this.#lastFailed = true
        throw error
      })
      .finally(() => {
        this.#inflight = undefined
        this.#schedulePoll()
      })
    this.#inflight = inflight
    return inflight
  }

  /**
   * The next poll, the poll's gap after the last query started (`failedPollMs` after a failed one, so a database
   * that is down is not asked hundreds of times a second), while someone waits and no query runs.
   */
  #schedulePoll(): void {
    if (this.#closed || this.#waiters.size === 0 || this.#poll !== undefined || this.#inflight !== undefined) return
    const gap = this.#lastFailed ? failedPollMs : this.#pollGap
    const delay = Math.max(0, gap - (this.#now() - this.#lastStart))
    this.#poll = setTimeout(() => {
      this.#poll = undefined
      this.#refresh().catch(error => this.#options.onPollError?.(error))
    }, delay)
  }
}
