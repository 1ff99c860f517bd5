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
import type { DeadLetterQueue } from '../dlq/index.ts'
import { asPipelineError } from '../errors.ts'
import { type ConsumerMetrics, eventFields, type Logger } from '../observability/index.ts'
import type { PendingScope, PendingStats, Store } from '../store/index.ts'
import { planExpiry } from './dead-letters.ts'

export const defaultEventLogRetentionMs = 7 * 24 * 3600 * 1000

export interface PendingSweeperOptions {
  store: Store
  dlq: DeadLetterQueue
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

export function createPendingSweeper(options: PendingSweeperOptions) {
  const { store, dlq, logger, metrics } = options
  const pageSize = options.pageSize ?? 500
  const maxPages = options.maxPages ?? 20
  const now = options.now ?? Date.now
  const retentionMs = options.eventLogRetentionMs ?? defaultEventLogRetentionMs
  const prunePageSize = options.prunePageSize ?? 5000
  const recentMs = options.recentMs ?? 30_000
  const walkPage = options.walkPage ?? 1000
  const maxSoonKeys = options.maxSoonKeys ?? 10_000
  let last: PendingStats = { count: 0, capped: false, oldestSince: undefined }
  /** When the previous tick started: this one looks at the rows stored since then, less recentMs. */
  let lastTick: number | undefined
  /** Where the walk over parent keys goes on; undefined starts it again from the first key. */
  let walkAfter: string | undefined

  /** Applies, page by page, the pending events of `scope` whose parent is stored now. */
  async function resolve(scope: PendingScope): Promise<number> {
    let resolved = 0
    for (let page = 0; page < maxPages; page++) {
      const n = await store.resolvePending(pageSize, scope)
      resolved += n
      if (n < pageSize) break
    }
    return resolved
  }

  /** One page of the walk over every parent key that pending events wait for. */
  async function walk(): Promise<number> {
    const parents = await store.pendingParents(walkAfter, walkPage)
    walkAfter = parents.length < walkPage ? undefined : parents.at(-1)
    return parents.length === 0 ? 0 : resolve({ parents })
  }

  /**
   * Deletes event_log rows past the retention, oldest first. Up to maxPages × prunePageSize rows a sweep (100,000
   * a second by default) keeps up with any drain rate this consumer reaches, so the table holds about the
   * retention's worth of state events.
   */
  async function prune(): Promise<number> {
    const before = new Date(now() - retentionMs).toISOString()
    let pruned = 0
    for (let page = 0; page < maxPages; page++) {
      const n = await store.pruneEventLog(before, prunePageSize)
      pruned += n
      if (n < prunePageSize) break
    }
    if (pruned > 0) logger.debug({ pruned, before }, 'event log pruned')
    return pruned
  }

  async function sweep(): Promise<SweepResult> {
    const started = now()
    const since = new Date((lastTick ?? started) - recentMs).toISOString()
    let resolved = await resolve({ since })
    lastTick = started
    resolved += await walk()
    if (resolved > 0) {
      metrics.pendingResolved.inc(resolved)
      logger.info({ resolved }, 'pending events applied: their parents were stored by a concurrent transaction')
    }
    let deadLettered = 0
    let superseded = 0
    for (let page = 0; page < maxPages; page++) {
      const at = now()
      // Claimed in one transaction with the parent's own take: an order is applied or dead-lettered, never both.
      const expired = await store.claimExpired(new Date(at - options.maxAgeMs).toISOString(), pageSize)
      if (expired.length === 0) break
      const plan = planExpiry(expired, at, options.topicId?.())
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
      if (expired.length < pageSize) break
    }
    if (superseded > 0) logger.info({ superseded }, 'expired pending events dropped: newer events hold their rows')
    const stats = await store.pendingStats()
    metrics.pending.set(stats.count)
    metrics.pendingCapped.set(stats.capped ? 1 : 0)
    const oldest = stats.oldestSince === undefined ? 0 : Math.max(0, (now() - Date.parse(stats.oldestSince)) / 1000)
    metrics.pendingOldestAge.set(oldest)
    if (stats.count !== last.count && (stats.count === 0 || last.count === 0 || deadLettered > 0)) {
      logger.info(
        { pending: stats.count, capped: stats.capped, oldestSince: stats.oldestSince },
        'pending events waiting for their parents',
      )
    }
    last = stats
    const pruned = await prune()
    return { pruned, resolved, deadLettered, superseded, stats }
  }

  let soon: NodeJS.Timeout | undefined
  let resolving: Promise<void> | undefined
  /** The parent keys the next look takes: users just stored, and users that orders just stored wait for. */
  let soonKeys = new Set<string>()
  let soonOverflow = false

  /** Applies what has a parent now, without the expiry and the counts of a whole sweep. */
  async function resolveNow(): Promise<void> {
    const parents = [...soonKeys]
    const overflow = soonOverflow
    soonKeys = new Set()
    soonOverflow = false
    try {
      const resolved = await resolve(overflow ? { since: new Date(now() - recentMs).toISOString() } : { parents })
      if (resolved > 0) metrics.pendingResolved.inc(resolved)
    } catch (thrown) {
      logger.debug({ err: asPipelineError(thrown) }, 'looking again at pending events failed; the sweep will')
    }
  }

  let closed = false

  /** One look at a time; keys that arrived during a look get the next one. */
  function schedule(delayMs: number): void {
    if (soon !== undefined || closed) return
    soon = setTimeout(() => {
      resolving = (resolving ?? Promise.resolve()).then(resolveNow).finally(() => {
        soon = undefined
        if (soonKeys.size > 0 || soonOverflow) schedule(delayMs)
      })
    }, delayMs)
  }

  return {
    /**
     * Looks again, within `delayMs`, for pending events of these parents whose parent is stored now: lanes that
     * stored children and parents in concurrent transactions may each have missed the other, and each looks after
     * its commit, so the later look sees both. Many calls share one look, by key (an index seek each).
     */
    resolveSoon(parents: Iterable<string>, delayMs = 20): void {
      for (const key of parents) {
        if (soonKeys.size >= maxSoonKeys) soonOverflow = true
        else soonKeys.add(key)
      }
      schedule(delayMs)
    },

    /** Cancels a look scheduled by resolveSoon and waits for one in progress. */
    async close(): Promise<void> {
      closed = true
      if (soon !== undefined) clearTimeout(soon)
      soon = undefined
      await resolving
    },

    /** One sweep; failures (database or Redis unreachable) are logged and left for the next one. */
    async tick(): Promise<SweepResult | undefined> {
      try {
        return await sweep()
      } catch (thrown) {
        const error = asPipelineError(thrown)
        logger.warn({ err: error, code: error.code }, 'sweep of pending events failed; trying again later')
        return undefined
      }
    },
    stats: (): PendingStats => last,
  }
}

export type PendingSweeper = ReturnType<typeof createPendingSweeper>
