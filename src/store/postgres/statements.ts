// PostgreSQL write statements: one statement per table per batch, whatever its size, as
// INSERT … SELECT FROM unnest(array, array, …). The text never changes (one parameter per column, not per
// value), so there is no parameter limit to chunk for, and each text is a named prepared statement (see
// preparedNames): the server parses and plans it once per connection instead of once per batch.
import { CompiledQuery } from 'kysely'
import {
  type DeltaRow,
  type InventoryChange,
  type LogRow,
  type OrderRow,
  orderParent,
  originOf,
  type PaymentRow,
  type UserRow,
} from '../batch.ts'
import type { Lookups, Statements } from '../sql-store.ts'
import * as read from '../tables.ts'
import type { Mark, Source } from '../types.ts'
import { arrayLiteralOf } from './driver.ts'

type Param = string | number | null

interface Column<R> {
  readonly name: string
  /** PostgreSQL element type of the array parameter. */
  readonly type: string
  readonly value: (row: R) => Param
}

const col = <R>(name: string, type: string, value: (row: R) => Param): Column<R> => ({ name, type, value })

function sourceColumns<R extends { source: Source }>(): Column<R>[] {
  return [
    col('source_topic', 'varchar', r => r.source.topic),
    col('source_partition', 'int', r => r.source.partition),
    // As text: pg would otherwise need BigInt support, and the array literal is text anyway.
    col('source_offset', 'bigint', r => r.source.offset.toString()),
  ]
}

function stampColumns<R extends { eventId: string; eventTs: string; source: Source }>(): Column<R>[] {
  return [
    col('event_id', 'varchar', r => r.eventId),
    col('event_ts', 'timestamptz', r => r.eventTs),
    ...sourceColumns<R>(),
  ]
}

function insertFromArrays<R>(table: string, columns: readonly Column<R>[], tail: string): string {
  const names = columns.map(c => c.name).join(', ')
  const arrays = columns.map((c, i) => `$${i + 1}::${c.type}[]`).join(', ')
  return `INSERT INTO ${table} (${names}) SELECT * FROM unnest(${arrays}) ${tail}`
}

/**
 * ON CONFLICT clause of a state table: only an event at least as new by (timestamp, offset) as the row's
 * replaces it (batch.ts, newer: the same rule inside a batch).
 */
function newerWins<R>(table: string, key: string, columns: readonly Column<R>[]): string {
  const set = columns.filter(c => c.name !== key).map(c => `${c.name} = excluded.${c.name}`)
  return `ON CONFLICT (${key}) DO UPDATE SET ${[...set, 'updated_at = now()'].join(', ')}
    WHERE ${table}.event_ts < excluded.event_ts
      OR (${table}.event_ts = excluded.event_ts AND (${table}.source_partition < excluded.source_partition
        OR (${table}.source_partition = excluded.source_partition AND ${table}.source_offset <= excluded.source_offset)))`
}

interface Shape<R> {
  readonly text: string
  readonly columns: readonly Column<R>[]
}

/**
 * A state table's upsert. It also appends every input row to event_log, in the same statement and from the same
 * arrays (a data-modifying CTE): logging the batch's winners then costs no parameter of its own.
 */
function upsertShape<R extends { eventId: string; eventTs: string; source: Source }>(
  table: string,
  key: string,
  dataColumns: readonly Column<R>[],
): Shape<R> {
  const columns = [...dataColumns, ...stampColumns<R>()]
  const names = columns.map(c => c.name).join(', ')
  const arrays = columns.map((c, i) => `$${i + 1}::${c.type}[]`).join(', ')
  const text = `WITH input AS (SELECT * FROM unnest(${arrays}) AS i (${names})),
  logged AS (INSERT INTO event_log (event_id, entity_table, entity_key, event_ts, source_topic, source_partition, source_offset)
    SELECT event_id, '${table}', ${key}, event_ts, source_topic, source_partition, source_offset FROM input)
INSERT INTO ${table} (${names}) SELECT * FROM input ${newerWins(table, key, columns)}`
  return { text, columns }
}

const users = upsertShape<UserRow>('users', 'user_id', [
  col('user_id', 'varchar', r => r.userId),
  col('name', 'varchar', r => r.name),
  col('email', 'varchar', r => r.email),
  col('created_at', 'timestamptz', r => r.createdAt),
])

const orders = upsertShape<OrderRow>('orders', 'order_id', [
  col('order_id', 'varchar', r => r.orderId),
  col('user_id', 'varchar', r => r.userId),
  col('total', 'numeric', r => r.total),
  col('status', 'varchar', r => r.status),
  col('created_at', 'timestamptz', r => r.createdAt),
])

const payments = upsertShape<PaymentRow>('payments', 'order_id', [
  col('order_id', 'varchar', r => r.orderId),
  col('status', 'varchar', r => r.status),
  col('amount', 'numeric', r => r.amount),
  col('settled_at', 'timestamptz', r => r.settledAt),
])

const ledgerColumns: Column<DeltaRow>[] = [
  col('event_id', 'varchar', r => r.eventId),
  col('sku', 'varchar', r => r.sku),
  col('delta', 'int', r => r.delta),
  col('reason', 'varchar', r => r.reason),
  col('adjusted_at', 'timestamptz', r => r.adjustedAt),
  ...sourceColumns<DeltaRow>(),
]
const ledger: Shape<DeltaRow> = {
  columns: ledgerColumns,
  text: insertFromArrays('inventory_ledger', ledgerColumns, 'ON CONFLICT (event_id) DO NOTHING RETURNING event_id'),
}

const pendingColumns: Column<OrderRow>[] = [
  // The pending row is keyed by the Kafka record itself: one row per record, however often it is redelivered.
  col('source_topic', 'varchar', r => r.record.topic),
  col('source_partition', 'int', r => r.record.partition),
  col('source_offset', 'bigint', r => r.record.offset.toString()),
  col('event_id', 'varchar', r => r.eventId),
  col('event_type', 'varchar', () => 'OrderPlaced'),
  col('event_key', 'varchar', r => r.orderId),
  col('parent_table', 'varchar', () => orderParent.table),
  col('parent_key', 'varchar', r => r.userId),
  col('constraint_name', 'varchar', () => orderParent.constraint),
  col('event_ts', 'timestamptz', r => r.eventTs),
  col('payload', 'text', r => JSON.stringify(r.event)),
  col('origin_topic', 'varchar', r => originOf(r)?.topic ?? null),
  col('origin_partition', 'int', r => originOf(r)?.partition ?? null),
  col('origin_offset', 'bigint', r => originOf(r)?.offset.toString() ?? null),
]
// One pending row per Kafka record: a redelivered record that is pending already is not stored twice.
const pending: Shape<OrderRow> = {
  columns: pendingColumns,
  text: insertFromArrays(
    'pending_events',
    pendingColumns,
    'ON CONFLICT (source_topic, source_partition, source_offset) DO NOTHING',
  ),
}

const eventLogColumns: Column<LogRow>[] = [
  col('event_id', 'varchar', r => r.eventId),
  col('entity_table', 'varchar', r => r.table),
  col('entity_key', 'varchar', r => r.key),
  col('event_ts', 'timestamptz', r => r.eventTs),
  ...sourceColumns<LogRow>(),
]
// A plain append: no uniqueness check (the costly part of ON CONFLICT); a redelivery adds a row, lookups take
// the first.
const eventLog: Shape<LogRow> = {
  columns: eventLogColumns,
  text: insertFromArrays('event_log', eventLogColumns, ''),
}

const processedColumns: Column<Mark>[] = [
  col('source_topic', 'varchar', r => r.topic),
  col('source_partition', 'int', r => r.partition),
  col('source_offset', 'bigint', r => r.offset.toString()),
  col('topic_id', 'varchar', r => r.topicId ?? null),
]
// GREATEST: a batch of a revoked partition that commits after the new owner's never moves the mark back. A mark
// of another topic ID is another log (the topic was re-created): it starts again from this one.
const processed: Shape<Mark> = {
  columns: processedColumns,
  text: insertFromArrays(
    'applied_offsets',
    processedColumns,
    `ON CONFLICT (source_topic, source_partition) DO UPDATE SET
      source_offset = CASE WHEN applied_offsets.topic_id <> excluded.topic_id THEN excluded.source_offset
        ELSE GREATEST(applied_offsets.source_offset, excluded.source_offset) END,
      topic_id = COALESCE(excluded.topic_id, applied_offsets.topic_id), updated_at = now()`,
  ),
}

// The summed delta travels as bigint so that a sum beyond INT fails as an overflow on the column (22003), the
// same error a running total past INT gets, instead of failing to parse as the array's element type.
const inventoryColumns: Column<InventoryChange>[] = [
  col('sku', 'varchar', r => r.sku),
  col('quantity', 'bigint', r => r.delta),
  col('last_adjusted_at', 'timestamptz', r => r.lastAdjustedAt),
  ...sourceColumns<InventoryChange>(),
]
const inventory: Shape<InventoryChange> = {
  columns: inventoryColumns,
  text: insertFromArrays(
    'inventory',
    inventoryColumns,
    `ON CONFLICT (sku) DO UPDATE SET
      quantity = inventory.quantity + excluded.quantity,
      last_adjusted_at = GREATEST(inventory.last_adjusted_at, excluded.last_adjusted_at),
      source_topic = excluded.source_topic,
      source_partition = excluded.source_partition,
      source_offset = excluded.source_offset`,
  ),
}

// Each parameter is its column's array literal, built straight from the planned rows: no array of values per
// column for the driver to encode afterwards.
function build<R, O = unknown>(shape: Shape<R>, rows: readonly R[]): CompiledQuery<O>[] {
  if (rows.length === 0) return []
  const params = shape.columns.map(c => arrayLiteralOf(rows, c.value))
  return [CompiledQuery.raw(shape.text, params) as CompiledQuery<O>]
}

const lookup = (table: string, key: string, columns: readonly string[]) =>
  `SELECT ${columns.join(', ')} FROM ${table} WHERE ${key} = ANY($1::varchar[])`

/**
 * The read API's lookups by key: one text for any number of keys (the store batches the keys of a turn), so
 * each runs as a prepared statement like the writes; a btree index scan serves `= ANY(array)` as it does `IN`.
 */
export const lookups: Lookups = {
  users: lookup('users', 'user_id', read.userColumns),
  orders: lookup('orders', 'order_id', read.orderColumns),
  payments: lookup('payments', 'order_id', read.paymentColumns),
  ordersWithPayments: `SELECT ${[
    ...read.orderColumns.map(c => `o.${c}`),
    ...read.paymentColumns.map(c => `p.${c} AS payment_${c}`),
  ].join(', ')} FROM orders o LEFT JOIN payments p ON p.order_id = o.order_id WHERE o.order_id = ANY($1::varchar[])`,
  inventory: lookup('inventory', 'sku', read.inventoryColumns),
}

const takePendingOfUsers = `DELETE FROM pending_events WHERE parent_table = '${orderParent.table}'
  AND parent_key = ANY($1::varchar[]) RETURNING *`
const storedUsers = 'SELECT user_id FROM users WHERE user_id = ANY($1::varchar[])'

/** Statement name of each fixed text, for the pool's clients (driver.ts) to run it as a prepared statement. */
export const preparedNames: ReadonlyMap<string, string> = new Map([
  ...[users, orders, payments, ledger, inventory, pending, eventLog, processed].map((shape, i): [string, string] => [
    shape.text,
    `ep_write_${i}`,
  ]),
  ...Object.entries(lookups).map(([table, text]): [string, string] => [text, `ep_read_${table}`]),
  [takePendingOfUsers, 'ep_take_pending'],
  [storedUsers, 'ep_stored_users'],
])

export const statements: Statements = {
  upsertUsers: rows => build(users, rows),
  upsertOrders: rows => build(orders, rows),
  upsertPayments: rows => build(payments, rows),
  insertLedger: rows => build<DeltaRow, { event_id: string }>(ledger, rows),
  upsertInventory: rows => build(inventory, rows),
  insertPending: rows => build(pending, rows),
  insertEventLog: rows => build(eventLog, rows),
  markProcessed: rows => build(processed, rows),
  deleteReturns: 'returning',
  rowCap: 'limit',
  upsertsLog: true,
  // The BRIN index finds the old block ranges; the rows go by their physical address (event_id is not unique).
  pruneEventLog: (before, limit) =>
    CompiledQuery.raw(
      'DELETE FROM event_log WHERE ctid = ANY(ARRAY(SELECT ctid FROM event_log WHERE logged_at < $1 LIMIT $2))',
      [before, limit],
    ),
  byKeys: {
    takePendingOfUsers: keys => CompiledQuery.raw(takePendingOfUsers, [keys]),
    storedUsers: keys => CompiledQuery.raw(storedUsers, [keys]),
  },
}
