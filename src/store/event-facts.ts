// The store's reads for an event's status and for read-your-own-writes, shared by every engine: plain Kysely
// queries by key (event_log through IX_event_log_event_id, inventory_ledger by its eventId key, pending_events
// through IX_pending_events_event_id, one state row by its key, applied_offsets by topic). None of them runs on
// the consumer's hot path.
import type { Kysely } from 'kysely'
import type { Tables } from './tables.ts'
import type { EventFacts, RowStamp, Source, StateTable } from './types.ts'

/** Pending rows of one eventId shown at most: one per Kafka record, and redeliveries of one record are rare. */
export const pendingFactsMax = 10

const keyColumn = { users: 'user_id', orders: 'order_id', payments: 'order_id' } as const satisfies Record<
  StateTable,
  string
>

const isStateTable = (table: string): table is StateTable => Object.hasOwn(keyColumn, table)

const sourceOf = (row: { source_topic: string; source_partition: number; source_offset: unknown }): Source => ({
  topic: row.source_topic,
  partition: Number(row.source_partition),
  offset: BigInt(String(row.source_offset)),
})

/** A query capped at `n` rows, the engine's way (LIMIT, or SQL Server's TOP). */
export type Cap = <Q extends { limit(n: number): Q; top(n: number): Q }>(query: Q, n: number) => Q

/** The row a state event was for, as it is now: which event holds it. */
async function currentRow(db: Kysely<Tables>, table: StateTable, key: string): Promise<RowStamp | undefined> {
  // Kysely's types cannot follow a table chosen at run time; the three tables share these stamp columns.
  const row = await (db as unknown as Kysely<Record<StateTable, Tables['users'] & { order_id: string }>>)
    .selectFrom(table)
    .select(['event_id', 'event_ts', 'source_topic', 'source_partition', 'source_offset', 'updated_at'])
    .where(keyColumn[table], '=', key)
    .executeTakeFirst()
  if (row === undefined) return undefined
  return {
    eventId: row.event_id,
    eventTs: String(row.event_ts),
    source: sourceOf(row),
    updatedAt: String(row.updated_at),
  }
}

export async function readEventFacts(db: Kysely<Tables>, cap: Cap, eventId: string): Promise<EventFacts> {
  const [log, pending, ledger] = await Promise.all([
    db
      .selectFrom('event_log')
      .select(['entity_table', 'entity_key', 'event_ts', 'source_topic', 'source_partition', 'source_offset'])
      .where('event_id', '=', eventId)
      // A redelivered record may have logged the eventId again (PostgreSQL appends without a uniqueness check).
      .orderBy('logged_at')
      .orderBy('source_offset')
      .$call(q => cap(q, 1))
      .executeTakeFirst(),
    db
      .selectFrom('pending_events')
      .select([
        'source_topic',
        'source_partition',
        'source_offset',
        'event_key',
        'parent_table',
        'parent_key',
        'constraint_name',
        'pending_since',
      ])
      .where('event_id', '=', eventId)
      .orderBy('pending_since')
      .orderBy('source_partition')
      .orderBy('source_offset')
      .$call(q => cap(q, pendingFactsMax))
      .execute(),
    db
      .selectFrom('inventory_ledger')
      .select(['sku', 'delta', 'source_topic', 'source_partition', 'source_offset', 'applied_at'])
      .where('event_id', '=', eventId)
      .executeTakeFirst(),
  ])
  const logged =
    log === undefined || !isStateTable(log.entity_table)
      ? undefined
      : { table: log.entity_table, key: log.entity_key, eventTs: String(log.event_ts), source: sourceOf(log) }
  return {
    logged,
    row: logged === undefined ? undefined : await currentRow(db, logged.table, logged.key),
    pending: pending.map(p => ({
      source: sourceOf(p),
      key: p.event_key,
      parentTable: p.parent_table,
      parentKey: p.parent_key,
      constraint: p.constraint_name,
      pendingSince: String(p.pending_since),
    })),
    ledger:
      ledger === undefined
        ? undefined
        : {
            sku: ledger.sku,
            delta: Number(ledger.delta),
            source: sourceOf(ledger),
            appliedAt: String(ledger.applied_at),
          },
  }
}

export async function readAppliedOffsets(db: Kysely<Tables>, topic: string): Promise<Map<number, bigint>> {
  const rows = await db
    .selectFrom('applied_offsets')
    .select(['source_partition', 'source_offset'])
    .where('source_topic', '=', topic)
    .execute()
  return new Map(rows.map(r => [Number(r.source_partition), BigInt(String(r.source_offset))]))
}
