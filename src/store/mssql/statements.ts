// SQL Server write statements: MERGE … WITH (UPDLOCK, HOLDLOCK) from a VALUES list of typed parameters.
// HOLDLOCK holds a key-range lock from the lookup to the insert, so two transactions writing the same new key
// serialise instead of both inserting (the race a plain MERGE has); UPDLOCK makes the lookup take update locks, so
// two writers of one existing row queue instead of deadlocking on the upgrade, and the read locks even when the
// database uses read-committed snapshot. SQL Server takes at most 2,100 parameters per request and 1,000 rows per
// VALUES list; chunks stay at or under 2,000 and 1,000.
import { CompiledQuery } from 'kysely'
import {
  chunks,
  type DeltaRow,
  type InventoryChange,
  type LogRow,
  type OrderRow,
  orderParent,
  originOf,
  type PaymentRow,
  type UserRow,
} from '../batch.ts'
import type { Statements } from '../sql-store.ts'
import type { Mark, Source } from '../types.ts'
import { bigint, datetime2, decimal, int, type Typed, varchar } from './params.ts'

export const maxParameters = 2000
export const maxValuesRows = 1000

interface Column<R> {
  readonly name: string
  /** The row's value for this column, typed; `label` (table.column) names it in an out-of-range error. */
  readonly param: (row: R, label: string) => Typed
}

const text = <R>(name: string, length: number, get: (r: R) => string | null): Column<R> => ({
  name,
  param: (r, label) => varchar(get(r), length, label),
})
const money = <R>(name: string, get: (r: R) => string): Column<R> => ({
  name,
  param: (r, label) => decimal(get(r), label),
})
const time = <R>(name: string, get: (r: R) => string): Column<R> => ({
  name,
  param: (r, label) => datetime2(get(r), label),
})
const int32 = <R>(name: string, get: (r: R) => number): Column<R> => ({ name, param: (r, label) => int(get(r), label) })
const int64 = <R>(name: string, get: (r: R) => bigint | number): Column<R> => ({
  name,
  param: (r, label) => bigint(get(r), label),
})

function sourceColumns<R extends { source: Source }>(): Column<R>[] {
  return [
    text('source_topic', 255, r => r.source.topic),
    int32('source_partition', r => r.source.partition),
    int64('source_offset', r => r.source.offset),
  ]
}

function stampColumns<R extends { eventId: string; eventTs: string; source: Source }>(): Column<R>[] {
  return [text('event_id', 100, r => r.eventId), time('event_ts', r => r.eventTs), ...sourceColumns<R>()]
}

interface Shape<R> {
  readonly table: string
  /** The key columns the MERGE matches on. */
  readonly key: string | readonly string[]
  readonly columns: readonly Column<R>[]
  /** The WHEN clauses (and OUTPUT) after ON. */
  readonly actions: string
  /** A plain INSERT … VALUES instead of a MERGE (key and actions unused). */
  readonly append?: boolean
}

const insert = (names: readonly string[]) =>
  `WHEN NOT MATCHED BY TARGET THEN\n  INSERT (${names.join(', ')})\n  VALUES (${names.map(n => `s.${n}`).join(', ')})`

/**
 * A state table: only an event at least as new by (timestamp, offset) as the row's replaces it (batch.ts, newer:
 * the same rule inside a batch).
 */
function stateShape<R extends { eventId: string; eventTs: string; source: Source }>(
  table: string,
  key: string,
  data: readonly Column<R>[],
): Shape<R> {
  const columns = [...data, ...stampColumns<R>()]
  const names = columns.map(c => c.name)
  const set = [...names.filter(n => n !== key).map(n => `${n} = s.${n}`), 'updated_at = SYSUTCDATETIME()']
  return {
    table,
    key,
    columns,
    actions: `WHEN MATCHED AND (t.event_ts < s.event_ts
    OR (t.event_ts = s.event_ts AND (t.source_partition < s.source_partition
      OR (t.source_partition = s.source_partition AND t.source_offset <= s.source_offset)))) THEN\n  UPDATE SET ${set.join(', ')}\n${insert(names)}`,
  }
}

const users = stateShape<UserRow>('users', 'user_id', [
  text('user_id', 100, r => r.userId),
  text('name', 255, r => r.name),
  text('email', 255, r => r.email),
  time('created_at', r => r.createdAt),
])

const orders = stateShape<OrderRow>('orders', 'order_id', [
  text('order_id', 100, r => r.orderId),
  text('user_id', 100, r => r.userId),
  money('total', r => r.total),
  text('status', 50, r => r.status),
  time('created_at', r => r.createdAt),
])

const payments = stateShape<PaymentRow>('payments', 'order_id', [
  text('order_id', 100, r => r.orderId),
  text('status', 50, r => r.status),
  money('amount', r => r.amount),
  time('settled_at', r => r.settledAt),
])

const ledgerColumns: Column<DeltaRow>[] = [
  text('event_id', 100, r => r.eventId),
  text('sku', 100, r => r.sku),
  int32('delta', r => r.delta),
  text('reason', 255, r => r.reason),
  time('adjusted_at', r => r.adjustedAt),
  ...sourceColumns<DeltaRow>(),
]

// Insert-or-ignore: OUTPUT lists the eventIds inserted now; the ones already in the ledger are redeliveries.
const ledger: Shape<DeltaRow> = {
  table: 'inventory_ledger',
  key: 'event_id',
  columns: ledgerColumns,
  actions: `${insert(ledgerColumns.map(c => c.name))}\nOUTPUT inserted.event_id`,
}

// One pending row per Kafka record: a redelivered record that is pending already is not stored twice.
const pendingColumns: Column<OrderRow>[] = [
  // Keyed by the Kafka record itself: one row per record, however often it is redelivered.
  text('source_topic', 255, r => r.record.topic),
  int32('source_partition', r => r.record.partition),
  int64('source_offset', r => r.record.offset),
  text('event_id', 100, r => r.eventId),
  text('event_type', 100, () => 'OrderPlaced'),
  text('event_key', 100, r => r.orderId),
  text('parent_table', 50, () => orderParent.table),
  text('parent_key', 100, r => r.userId),
  text('constraint_name', 100, () => orderParent.constraint),
  time('event_ts', r => r.eventTs),
  text('payload', 2000, r => JSON.stringify(r.event)),
  text('origin_topic', 255, r => originOf(r)?.topic ?? null),
  { name: 'origin_partition', param: (r, label) => int(originOf(r)?.partition ?? null, label) },
  { name: 'origin_offset', param: (r, label) => bigint(originOf(r)?.offset ?? null, label) },
]
const pending: Shape<OrderRow> = {
  table: 'pending_events',
  key: ['source_topic', 'source_partition', 'source_offset'],
  columns: pendingColumns,
  actions: insert(pendingColumns.map(c => c.name)),
}

// A plain INSERT (no MERGE, no uniqueness check): a redelivery adds a row, lookups take the first.
const eventLogColumns: Column<LogRow>[] = [
  text('event_id', 100, r => r.eventId),
  text('entity_table', 20, r => r.table),
  text('entity_key', 100, r => r.key),
  time('event_ts', r => r.eventTs),
  ...sourceColumns<LogRow>(),
]
const eventLog: Shape<LogRow> = {
  table: 'event_log',
  key: [],
  columns: eventLogColumns,
  actions: '',
  append: true,
}

// Only a greater offset updates: a batch of a revoked partition that commits after the new owner's never moves
// the mark back.
// A mark of another topic ID is another log (the topic was re-created): it starts again from this one.
const processedColumns: Column<Mark>[] = [
  text('source_topic', 255, r => r.topic),
  int32('source_partition', r => r.partition),
  int64('source_offset', r => r.offset),
  text('topic_id', 36, r => r.topicId ?? null),
]
const processed: Shape<Mark> = {
  table: 'applied_offsets',
  key: ['source_topic', 'source_partition'],
  columns: processedColumns,
  actions: `WHEN MATCHED AND (t.source_offset < s.source_offset OR t.topic_id <> s.topic_id) THEN
  UPDATE SET source_offset = s.source_offset, topic_id = COALESCE(s.topic_id, t.topic_id), updated_at = SYSUTCDATETIME()
${insert(processedColumns.map(c => c.name))}`,
}

// The summed delta travels as BIGINT: a sum past INT then fails as an overflow converting into the INT column
// (8115), the same error a running total past INT gets, rather than as a parameter tedious refuses.
const inventoryColumns: Column<InventoryChange>[] = [
  text('sku', 100, r => r.sku),
  int64('quantity', r => r.delta),
  time('last_adjusted_at', r => r.lastAdjustedAt),
  ...sourceColumns<InventoryChange>(),
]

const inventory: Shape<InventoryChange> = {
  table: 'inventory',
  key: 'sku',
  columns: inventoryColumns,
  actions: `WHEN MATCHED THEN
  UPDATE SET quantity = t.quantity + s.quantity,
    last_adjusted_at = CASE WHEN t.last_adjusted_at IS NULL OR t.last_adjusted_at < s.last_adjusted_at
      THEN s.last_adjusted_at ELSE t.last_adjusted_at END,
    source_topic = s.source_topic, source_partition = s.source_partition, source_offset = s.source_offset
${insert(inventoryColumns.map(c => c.name))}`,
}

/** Rows per request for a table of `columns` columns: as many as fit both limits. */
export function rowsPerRequest(columns: number): number {
  return Math.min(maxValuesRows, Math.floor(maxParameters / columns))
}

// Only the full-chunk text of each table is kept: the one big batches repeat; a shorter text is cheap to build.
const fullChunkTexts = new Map<string, string>()

// Kysely's MSSQL driver names parameter i (from 0) @{i+1}, so the placeholders count up through the VALUES list.
function mergeText(s: Shape<never>, rows: number): string {
  const full = rows === rowsPerRequest(s.columns.length)
  const cached = full ? fullChunkTexts.get(s.table) : undefined
  if (cached !== undefined) return cached
  const names = s.columns.map(c => c.name)
  let n = 0
  const tuples = Array.from({ length: rows }, () => `(${names.map(() => `@${++n}`).join(', ')})`)
  const text = s.append
    ? `INSERT INTO ${s.table} (${names.join(', ')})\nVALUES ${tuples.join(', ')};`
    : `MERGE INTO ${s.table} WITH (UPDLOCK, HOLDLOCK) AS t
USING (VALUES ${tuples.join(', ')}) AS s (${names.join(', ')})
ON ${(typeof s.key === 'string' ? [s.key] : s.key).map(k => `t.${k} = s.${k}`).join(' AND ')}
${s.actions};`
  if (full) fullChunkTexts.set(s.table, text)
  return text
}

function build<R, O = unknown>(s: Shape<R>, rows: readonly R[]): CompiledQuery<O>[] {
  return chunks(rows, rowsPerRequest(s.columns.length)).map(part => {
    const params = part.flatMap(row => s.columns.map(c => c.param(row, `${s.table}.${c.name}`)))
    return CompiledQuery.raw(mergeText(s as Shape<never>, part.length), params) as CompiledQuery<O>
  })
}

export const statements: Statements = {
  upsertUsers: rows => build(users, rows),
  upsertOrders: rows => build(orders, rows),
  upsertPayments: rows => build(payments, rows),
  insertLedger: rows => build<DeltaRow, { event_id: string }>(ledger, rows),
  upsertInventory: rows => build(inventory, rows),
  insertPending: rows => build(pending, rows),
  insertEventLog: rows => build(eventLog, rows),
  markProcessed: rows => build(processed, rows),
  deleteReturns: 'output',
  rowCap: 'top',
  // The oldest rows come first in the clustered index on logged_at.
  pruneEventLog: (before, limit) =>
    CompiledQuery.raw('DELETE TOP (@1) FROM event_log WHERE logged_at < @2;', [limit, before]),
}
