// The reads of the pending sweep, as query builders over any engine: the store runs them, and the engines' tests
// compile them to check that each one is an index read (EXPLAIN), since a sweep runs every second on every member
// and must cost what it finds, not what pending_events holds.
//
// The indexes they are written for: IX_pending_events_expiry (parent_table, pending_since, source_partition,
// source_offset) for the claims, the oldest row and the recent rows; IX_pending_events_parent (parent_table,
// parent_key) for the walk and the rows of given parents; the users' primary key for the join.
import { type Kysely, type SelectQueryBuilder, sql } from 'kysely'
import { orderParent } from './batch.ts'
import type { Cap } from './event-facts.ts'
import type { Tables } from './tables.ts'
import { pendingCountCap } from './types.ts'

/**
 * What parent_table becomes when the sweep claims an expired pending row for the DLQ: no parent's transaction
 * takes it any more (they take rows waiting for 'users'), and the row stays until its entry is pushed.
 */
export const claimedParent = '(dead-letter)'

type Pending = Tables['pending_events']

/** The candidates query before its scope narrows it. */
export type CandidateQuery = SelectQueryBuilder<Tables & { p: Pending }, 'p', { parent_key: string }>

/** Narrowings of the candidates: the rows of these parents, or the rows stored at or after `since`. */
export const ofParents =
  (parents: readonly string[]) =>
  (q: CandidateQuery): CandidateQuery =>
    q.where('p.parent_key', 'in', parents)
export const storedSince =
  (since: string) =>
  (q: CandidateQuery): CandidateQuery =>
    q.where('p.pending_since', '>=', since)

/**
 * The parents, stored now, of up to `cap` rows waiting for them among those `narrow` keeps (a parent may come
 * more than once). The users are probed per pending row (EXISTS), so the scope's rows drive the read: with a join
 * SQLite's planner read every user instead, and with DISTINCT it read every waiting row in parent_key order.
 */
export function candidates(
  db: Kysely<Tables>,
  capped: Cap,
  narrow: (q: CandidateQuery) => CandidateQuery,
  cap: number,
) {
  return db
    .selectFrom('pending_events as p')
    .select('p.parent_key')
    .where('p.parent_table', '=', orderParent.table)
    .$call(narrow)
    .where(eb => eb.exists(eb.selectFrom('users as u').select('u.user_id').whereRef('u.user_id', '=', 'p.parent_key')))
    .$call(q => capped(q, cap))
}

/** Up to `limit` distinct parent keys that rows wait for, in key order, after `after`. */
export function waitingParents(db: Kysely<Tables>, capped: Cap, after: string | undefined, limit: number) {
  return db
    .selectFrom('pending_events')
    .select('parent_key')
    .distinct()
    .where('parent_table', '=', orderParent.table)
    .$call(q => (after === undefined ? q : q.where('parent_key', '>', after)))
    .orderBy('parent_key')
    .$call(q => capped(q, limit))
}

/** The number of pending rows, counted up to pendingCountCap + 1 (index entries only). */
export function cappedCount(db: Kysely<Tables>, capped: Cap) {
  return db
    .selectFrom(eb =>
      capped(eb.selectFrom('pending_events').select(sql<number>`1`.as('one')), pendingCountCap + 1).as('c'),
    )
    .select(eb => eb.fn.countAll<number | string | bigint>().as('count'))
}

/** The oldest row under one parent_table: the first entry of the expiry index there. */
export function oldestUnder(db: Kysely<Tables>, capped: Cap, parent: string) {
  return db
    .selectFrom('pending_events')
    .select('pending_since')
    .where('parent_table', '=', parent)
    .orderBy('pending_since')
    .$call(q => capped(q, 1))
}

/** Rows a sweep claimed and did not remove (a crash, Redis down), oldest first. */
export function heldClaims(db: Kysely<Tables>, capped: Cap, limit: number) {
  return db
    .selectFrom('pending_events')
    .selectAll()
    .where('parent_table', '=', claimedParent)
    .orderBy('pending_since')
    .$call(q => capped(q, limit))
}

/** Up to `limit` rows still waiting that were stored before `before`, oldest first, with their order's stamp. */
export function expiredRows(db: Kysely<Tables>, capped: Cap, before: string, limit: number) {
  return db
    .selectFrom('pending_events as p')
    .leftJoin('orders as o', 'o.order_id', 'p.event_key')
    .selectAll('p')
    .select([
      'o.event_ts as current_ts',
      'o.source_partition as current_partition',
      'o.source_offset as current_offset',
    ])
    .where('p.parent_table', '=', orderParent.table)
    .where('p.pending_since', '<', before)
    .orderBy('p.pending_since')
    .orderBy('p.source_partition')
    .orderBy('p.source_offset')
    .$call(q => capped(q, limit))
}
