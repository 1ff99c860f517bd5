// Purge: removes the entries matching a filter, except those an open redrive holds (it will send them). Without
// confirmation it is a dry run that only counts. Every purge that removed something is audited.
import type { Redis } from 'ioredis'
import type { DeadLetterQueue, StoredLetter } from '../dlq/index.ts'
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
    const claims = await redis.hmget(claimsKeyOf(key), ...pending.map(s => claimOf(s.entry)))
    const free = pending.filter((_, i) => claims[i] === null)
    held += pending.length - free.length
    pending = []
    if (free.length === 0) return
    const removed = options.dryRun ? free.map(() => true) : await dlq.remove(free.map(s => s.entry))
    free.forEach((s, i) => {
      if (!removed[i]) return
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
