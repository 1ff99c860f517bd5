// The sweep over pending events, run by every member every `intervalMs`: it applies pending events whose parent
// another member stored meanwhile (the transaction that stores a parent applies the children it can see; a child
// committed just after that look is picked up here), dead-letters those past PENDING_MAX_AGE, and counts what is
// left for the metrics. It also prunes event_log past EVENT_LOG_RETENTION. Members sweeping at once do no harm: a
// pending row is applied only by the transaction whose DELETE removed it, and the DLQ keeps one entry per Kafka
// record.
//
// A tick costs what changed, not what the table holds: it looks at the rows stored within `recentMs` of its last
// tick (where a race with a parent stored elsewhere can hide), at one page of the walk over every parent key (what
// a member that crashed before its look left behind, found within rows / walkPage ticks), at the expired rows
// through the expiry index, and counts up to pendingCountCap.
import { asPipelineError } from '../errors.ts'
import { type ConsumerMetrics, eventFields, type Logger } from '../observability/index.ts'
import type { PendingScope, PendingStats, Store } from '../store/index.ts'
import { type DeadLetterSink, planExpiry } from './dead-letters.ts'

export const defaultEventLogRetentionMs = 7 * 24 * 3600 * 1000

export interface PendingSweeperOptions {
  store: Store
  dlq: DeadLetterSink
  logger: Logger
  metrics: ConsumerMetrics
  /** Pending events older than this are dead-lettered. */
  maxAgeMs: number
  /** The consumer's topic and its Kafka topic ID when known, for the identity of the entries (DeadLetter.topicId). */
  topicId?: () => { readonly topic: string; readonly id: string } | undefined
  /** Rows handled per statement; a sweep goes on while full pages come back, up to `maxPages`. */
  pageSize?: number
  maxPages?: number
  /** event_log rows older than this are deleted (default 7 days). */
  eventLogRetentionMs?: number
  /** event_log rows deleted per statement; a sweep deletes up to `maxPages` of them. */
  prunePageSize?: number
  /**
   * How far before its previous tick a tick looks for pending rows whose parent is stored (default 30 s): a row
   * is stamped when its transaction starts (PostgreSQL's now()) and seen when it commits, and the clocks of the
   * member and the database differ a little. Rows this misses are found by the walk.
   */
  recentMs?: number
  /** Parent keys the walk looks at per tick (default 1,000). */
  walkPage?: number
  /** Parent keys a resolveSoon look takes; past it, the look reads the recent rows instead (default 10,000). */
  maxSoonKeys?: number
  now?: () => number
}

export interface SweepResult {
  readonly pruned: number
  readonly resolved: number
  readonly deadLettered: number
  readonly superseded: number
  readonly stats: PendingStats
}

export function createPendingSweeper(options: PendingSweeperOptions): PendingSweeper {
  return new PendingSweeper(options)
}

/** The sweep of pending events (one tick a second) and the quick looks after a batch (resolveSoon). */
export class PendingSweeper {
  readonly #options: PendingSweeperOptions
  readonly #pageSize: number
  readonly #maxPages: number
  readonly #now: () => number
  readonly #recentMs: number
  #last: PendingStats = { count: 0, capped: false, oldestSince: undefined }
  /** When the previous tick started: this one looks at the rows stored since then, less recentMs. */
  #lastTick: number | undefined
  /** Where the walk over parent keys goes on; undefined starts it again from the first key. */
  #walkAfter: string | undefined
  #soon: NodeJS.Timeout | undefined
  #resolving: Promise<void> | undefined
  /** The parent keys the next look takes: users just stored, and users that orders just stored wait for. */
  #soonKeys = new Set<string>()
  #soonOverflow = false
  #closed = false

  constructor(options: PendingSweeperOptions) {
    this.#options = options
    this.#pageSize = options.pageSize ?? 500
    this.#maxPages = options.maxPages ?? 20
    this.#now = options.now ?? Date.now
    this.#recentMs = options.recentMs ?? 30_000
  }

  /** Applies, page by page, the pending events of `scope` whose parent is stored now. */
  async #resolve(scope: PendingScope): Promise<number> {
    let resolved = 0
    for (let page = 0; page < this.#maxPages; page++) {
      const n = await this.#options.store.resolvePending(this.#pageSize, scope)
      resolved += n
      if (n < this.#pageSize) break
    }
    return resolved
  }

  /** One page of the walk over every parent key that pending events wait for. */
  async #walk(): Promise<number> {
    const walkPage = this.#options.walkPage ?? 1000
    const parents = await this.#options.store.pendingParents(this.#walkAfter, walkPage)
    this.#walkAfter = parents.length < walkPage ? undefined : parents.at(-1)
    return parents.length === 0 ? 0 : this.#resolve({ parents })
  }

  /**
   * Deletes event_log rows past the retention, oldest first. Up to maxPages × prunePageSize rows a sweep (100,000
   * a second by default) keeps up with any drain rate this consumer reaches, so the table holds about the
   * retention's worth of state events.
   */
  async #prune(): Promise<number> {
    const { store, logger } = this.#options
    const before = new Date(this.#now() - (this.#options.eventLogRetentionMs ?? defaultEventLogRetentionMs))
    const prunePageSize = this.#options.prunePageSize ?? 5000
    let pruned = 0
    for (let page = 0; page < this.#maxPages; page++) {
      const n = await store.pruneEventLog(before.toISOString(), prunePageSize)
      pruned += n
      if (n < prunePageSize) break
    }
    if (pruned > 0) logger.debug({ pruned, before: before.toISOString() }, 'event log pruned')
    return pruned
  }

  /** Dead-letters the pending events past their age, page by page; drops those newer events superseded. */
  async #expire(): Promise<{ deadLettered: number; superseded: number }> {
    const { store, dlq, logger, metrics } = this.#options
    let deadLettered = 0
    let superseded = 0
    for (let page = 0; page < this.#maxPages; page++) {
      const at = this.#now()
      // Claimed in one transaction with the parent's own take: an order is applied or dead-lettered, never both.
      const expired = await store.claimExpired(new Date(at - this.#options.maxAgeMs).toISOString(), this.#pageSize)
      if (expired.length === 0) break
      const plan = planExpiry(expired, at, this.#options.topicId?.())
      // The entries first, then the rows: a crash in between leaves the rows claimed, the next sweep pushes them
      // again, and the idempotent push keeps one entry each.
      await dlq.push(plan.letters)
      await store.removePending(plan.remove)
      for (const letter of plan.letters) {
        metrics.dlq.inc({ code: letter.error.code })
        logger.error(
          {
            ...eventFields(undefined, letter, { eventId: letter.eventId, key: letter.key }),
            type: 'OrderPlaced',
            err: letter.error,
          },
          'event dead-lettered',
        )
      }
      deadLettered += plan.letters.length
      superseded += plan.superseded.length
      if (expired.length < this.#pageSize) break
    }
    if (superseded > 0) logger.info({ superseded }, 'expired pending events dropped: newer events hold their rows')
    return { deadLettered, superseded }
  }

  /** Reads the counts, sets the gauges, and tells a change worth a line. */
  async #count(deadLettered: number): Promise<PendingStats> {
    const { store, logger, metrics } = this.#options
    const stats = await store.pendingStats()
    metrics.pending.set(stats.count)
    metrics.pendingCapped.set(stats.capped ? 1 : 0)
    const since = stats.oldestSince
    metrics.pendingOldestAge.set(since === undefined ? 0 : Math.max(0, (this.#now() - Date.parse(since)) / 1000))
    const last = this.#last
    if (stats.count !== last.count && (stats.count === 0 || last.count === 0 || deadLettered > 0)) {
      logger.info(
        { pending: stats.count, capped: stats.capped, oldestSince: stats.oldestSince },
        'pending events waiting for their parents',
      )
    }
    this.#last = stats
    return stats
  }

  async #sweep(): Promise<SweepResult> {
    const { logger, metrics } = this.#options
    const started = this.#now()
    const since = new Date((this.#lastTick ?? started) - this.#recentMs).toISOString()
    let resolved = await this.#resolve({ since })
    this.#lastTick = started
    resolved += await this.#walk()
    if (resolved > 0) {
      metrics.pendingResolved.inc(resolved)
      logger.info({ resolved }, 'pending events applied: their parents were stored by a concurrent transaction')
    }
    const { deadLettered, superseded } = await this.#expire()
    const stats = await this.#count(deadLettered)
    const pruned = await this.#prune()
    return { pruned, resolved, deadLettered, superseded, stats }
  }

  /** Applies what has a parent now, without the expiry and the counts of a whole sweep. */
  async #resolveNow(): Promise<void> {
    const parents = [...this.#soonKeys]
    const overflow = this.#soonOverflow
    this.#soonKeys = new Set()
    this.#soonOverflow = false
    try {
      const scope = overflow ? { since: new Date(this.#now() - this.#recentMs).toISOString() } : { parents }
      const resolved = await this.#resolve(scope)
      if (resolved > 0) this.#options.metrics.pendingResolved.inc(resolved)
    } catch (thrown) {
      this.#options.logger.debug(
        { err: asPipelineError(thrown) },
        'looking again at pending events failed; the sweep will',
      )
    }
  }

  /** One look at a time; keys that arrived during a look get the next one. */
  #schedule(delayMs: number): void {
    if (this.#soon !== undefined || this.#closed) return
    this.#soon = setTimeout(() => {
      this.#resolving = (this.#resolving ?? Promise.resolve())
        .then(() => this.#resolveNow())
        .finally(() => {
          this.#soon = undefined
          if (this.#soonKeys.size > 0 || this.#soonOverflow) this.#schedule(delayMs)
        })
    }, delayMs)
  }

  /**
   * Looks again, within `delayMs`, for pending events of these parents whose parent is stored now: lanes that
   * stored children and parents in concurrent transactions may each have missed the other, and each looks after
   * its commit, so the later look sees both. Many calls share one look, by key (an index seek each).
   */
  resolveSoon(parents: Iterable<string>, delayMs = 20): void {
    const maxSoonKeys = this.#options.maxSoonKeys ?? 10_000
    for (const key of parents) {
      if (this.#soonKeys.size >= maxSoonKeys) this.#soonOverflow = true
      else this.#soonKeys.add(key)
    }
    this.#schedule(delayMs)
  }

  /** Cancels a look scheduled by resolveSoon and waits for one in progress. */
  async close(): Promise<void> {
    this.#closed = true
    if (this.#soon !== undefined) clearTimeout(this.#soon)
    this.#soon = undefined
    await this.#resolving
  }

  /** One sweep; failures (database or Redis unreachable) are logged and left for the next one. */
  async tick(): Promise<SweepResult | undefined> {
    try {
      return await this.#sweep()
    } catch (thrown) {
      const error = asPipelineError(thrown)
      this.#options.logger.warn({ err: error, code: error.code }, 'sweep of pending events failed; trying again later')
      return undefined
    }
  }

  stats(): PendingStats {
    return this.#last
  }

  /** A look scheduled by resolveSoon is waiting or running (it writes to the store): #soon is cleared after it. */
  get busy(): boolean {
    return this.#soon !== undefined
  }
}
