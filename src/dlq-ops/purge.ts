// Purge: removes the entries matching a filter, except those an open redrive holds (it will send them), the
// claim checked and the entry removed in one script. Without
// confirmation it is a dry run that only counts. Every purge that removed something is audited.
import type { DeadLetterQueue, RedisClient as Redis, StoredLetter } from '../dlq/index.ts'
import { appendAudit, auditRecord } from './audit.ts'
import { scanNewestFirst } from './browse.ts'
import type { DlqFilter } from './filter.ts'
import { claimOf, claimsKeyOf } from './job-store.ts'

export interface PurgeResult {
  readonly dryRun: boolean
  /** Entries removed (or, in a dry run, that would be). */
  readonly count: number
  /** Their eventIds, the first `purgeEcho` of them. */
  readonly eventIds: string[]
  /** Matching entries left alone because an open redrive holds them. */
  readonly heldByRedrive: number
}

export const purgeEcho = 1000
const batch = 500

export async function purge(
  dlq: DeadLetterQueue,
  redis: Redis,
  key: string,
  filter: DlqFilter,
  options: { readonly dryRun: boolean; readonly who: string; readonly limit?: number },
): Promise<PurgeResult> {
  const eventIds: (string | null)[] = []
  let count = 0
  let held = 0
  let pending: StoredLetter[] = []
  const flush = async () => {
    if (pending.length === 0) return
    const batch = pending
    pending = []
    const digests = batch.map(s => claimOf(s.entry))
    // A dry run reads the claims; a purge checks each claim and removes its entry in one atomic step, so a
    // redrive created meanwhile never loses an entry it claimed.
    const outcome = options.dryRun
      ? (await redis.hmget(claimsKeyOf(key), ...digests)).map(claim => (claim === null ? 'removed' : 'held'))
      : await dlq.removeUnclaimed(
          batch.map(s => s.entry),
          digests,
          claimsKeyOf(key),
        )
    batch.forEach((s, i) => {
      if (outcome[i] === 'held') held++
      if (outcome[i] !== 'removed') return
      count++
      eventIds.push(s.letter.eventId)
    })
  }
  for await (const stored of scanNewestFirst(dlq, filter)) {
    if (options.limit !== undefined && count + pending.length >= options.limit) break
    pending.push(stored)
    if (pending.length >= batch) await flush()
  }
  await flush()
  if (!options.dryRun && count > 0) {
    await appendAudit(
      redis,
      key,
      auditRecord({ who: options.who, action: 'purge', filter, eventIds, count }, new Date()),
    )
  }
  const named = eventIds.filter((id): id is string => id !== null)
  return { dryRun: options.dryRun, count, eventIds: named.slice(0, purgeEcho), heldByRedrive: held }
}
