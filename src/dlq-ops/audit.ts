// The audit trail of the DLQ: one record per redrive run (started, resumed, finished, cancelled) and per purge, in
// a bounded Redis list `{<DLQ_KEY>}:audit`, newest first. Dry runs change nothing and are not recorded.
import { capText, type RedisClient as Redis } from '../dlq/index.ts'
import { auditKeyOf } from '../redis/keys.ts'
import type { DlqFilter } from './filter.ts'

export type AuditAction =
  | 'redrive'
  | 'redrive-resume'
  | 'redrive-finish'
  | 'redrive-cancel'
  | 'purge'
  | 'consumer-pause'
  | 'consumer-resume'
  | RebuildAction
/** What a projection rebuild records (src/rebuild/): each command that changes the store or the rebuild. */
export type RebuildAction = 'rebuild-start' | 'rebuild-swap' | 'rebuild-rollback' | 'rebuild-abort' | 'rebuild-drop-old'

export interface AuditRecord {
  readonly at: string
  /** The OS user of the CLI, or `admin-api <remote address>`. */
  readonly who: string
  readonly action: AuditAction
  readonly redriveId?: string
  readonly filter: DlqFilter
  /** Entries the action is about: selected (redrive), removed (purge), or sent (redrive-finish). */
  readonly count: number
  /** The first eventIds of those entries; `moreEventIds` counts the rest. */
  readonly eventIds: readonly string[]
  readonly moreEventIds: number
  readonly to?: string
  /** The payload was replaced before the redrive. */
  readonly fixed?: true
  readonly outcome?: { readonly sent: number; readonly failed: number; readonly gone: number; readonly pending: number }
  /** Why a run stopped early (it can be resumed). */
  readonly error?: string
  /** The rebuild an action is about: its number and shadow generation (`3 rebuild_3`). */
  readonly rebuild?: string
  /** consumer-pause, consumer-resume: the partitions named, or every one. */
  readonly partitions?: readonly number[] | 'all'
  /** consumer-pause: why, as the caller said. */
  readonly reason?: string
}

export { auditKeyOf } from '../redis/keys.ts'
/** Records kept; the oldest go first. */
export const auditMaxRecords = 10_000
/** EventIds one record names. */
export const auditEventIdsMax = 100

export interface AuditInput extends Omit<AuditRecord, 'at' | 'eventIds' | 'moreEventIds' | 'count'> {
  readonly eventIds: readonly (string | null)[]
  readonly count?: number
}

/** The record as stored: eventIds capped (each at 200 bytes, at most auditEventIdsMax), the rest counted. */
export function auditRecord(input: AuditInput, now: Date): AuditRecord {
  const ids = input.eventIds.filter((id): id is string => id !== null)
  const { eventIds: _, count, ...rest } = input
  return {
    at: now.toISOString(),
    ...rest,
    who: capText(input.who, 200),
    ...(input.error !== undefined ? { error: capText(input.error, 1000) } : {}),
    count: count ?? input.eventIds.length,
    eventIds: ids.slice(0, auditEventIdsMax).map(id => capText(id, 200)),
    moreEventIds: Math.max(0, ids.length - auditEventIdsMax),
  }
}

export async function appendAudit(redis: Redis, key: string, record: AuditRecord): Promise<void> {
  await redis
    .multi()
    .lpush(auditKeyOf(key), JSON.stringify(record))
    .ltrim(auditKeyOf(key), 0, auditMaxRecords - 1)
    .exec()
}

/** The newest `limit` records, newest first. */
export async function readAudit(redis: Redis, key: string, limit: number): Promise<AuditRecord[]> {
  const items = await redis.lrange(auditKeyOf(key), 0, limit - 1)
  return items.map(item => JSON.parse(item) as AuditRecord)
}

/** A pause or resume of the consumer group, as the pause board reports it (src/consumer/pause-board.ts). */
export interface PauseAuditInput {
  readonly action: 'pause' | 'resume'
  readonly by: string
  readonly scope: 'all' | readonly number[]
  readonly reason?: string
}

/** The audit record of a pause or resume: no filter and no entries, the partitions and the reason instead. */
export function pauseAuditRecord(change: PauseAuditInput, now: Date): AuditRecord {
  return {
    ...auditRecord(
      {
        who: change.by,
        action: change.action === 'pause' ? 'consumer-pause' : 'consumer-resume',
        filter: {},
        eventIds: [],
      },
      now,
    ),
    count: change.scope === 'all' ? 0 : change.scope.length,
    partitions: change.scope === 'all' ? 'all' : [...change.scope],
    ...(change.action === 'pause' ? { reason: capText(change.reason ?? '', 1000) } : {}),
  }
}

/** What the pause board runs after each accepted request: one audit record in the DLQ's audit list. */
export const pauseAudit =
  (redis: Redis, key: string) =>
  (change: PauseAuditInput): Promise<void> =>
    appendAudit(redis, key, pauseAuditRecord(change, new Date()))
