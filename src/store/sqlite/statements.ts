// SQLite write statements: multi-row VALUES upserts, chunked well under SQLite's limit of 32,766 bound
// parameters per statement. The text depends only on the table and the row count, so the driver's statement
// cache prepares each shape once.
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

const rowsPerStatement = 500
const now = `strftime('%Y-%m-%dT%H:%M:%fZ', 'now')`
const sourceColumns = ['source_topic', 'source_partition', 'source_offset'] as const
const stampColumns = ['event_id', 'event_ts', ...sourceColumns] as const

type Param = string | number | bigint | null

interface Shape<R> {
  readonly table: string
  readonly columns: readonly string[]
  /** Everything after VALUES: the conflict clause and RETURNING. */
  readonly tail: string
  readonly params: (row: R) => readonly Param[]
}

/**
 * ON CONFLICT clause of a state table: only an event at least as new by (timestamp, offset) as the row's
 * replaces it (batch.ts, newer: the same rule inside a batch).
 */
function newerWins(table: string, key: string, columns: readonly string[]): string {
  const set = columns.filter(c => c !== key).map(c => `${c} = excluded.${c}`)
  return `ON CONFLICT (${key}) DO UPDATE SET ${[...set, `updated_at = ${now}`].join(', ')}
    WHERE ${table}.event_ts < excluded.event_ts
      OR (${table}.event_ts = excluded.event_ts AND (${table}.source_partition < excluded.source_partition
        OR (${table}.source_partition = excluded.source_partition AND ${table}.source_offset <= excluded.source_offset)))`
}

function shape<R>(table: string, key: string, columns: readonly string[], params: Shape<R>['params']): Shape<R> {
  return { table, columns, tail: newerWins(table, key, columns), params }
}

const source = (s: Source): Param[] => [s.topic, s.partition, s.offset]

const users = shape<UserRow>('users', 'user_id', ['user_id', 'name', 'email', 'created_at', ...stampColumns], r => [
  r.userId,
  r.name,
  r.email,
  r.createdAt,
  r.eventId,
  r.eventTs,
  ...source(r.source),
])

const orders = shape<OrderRow>(
  'orders',
  'order_id',
  ['order_id', 'user_id', 'total', 'status', 'created_at', ...stampColumns],
  r => [r.orderId, r.userId, r.total, r.status, r.createdAt, r.eventId, r.eventTs, ...source(r.source)],
)

const payments = shape<PaymentRow>(
  'payments',
  'order_id',
  ['order_id', 'status', 'amount', 'settled_at', ...stampColumns],
  r => [r.orderId, r.status, r.amount, r.settledAt, r.eventId, r.eventTs, ...source(r.source)],
)

const ledger: Shape<DeltaRow> = {
  table: 'inventory_ledger',
  columns: ['event_id', 'sku', 'delta', 'reason', 'adjusted_at', ...sourceColumns],
  tail: 'ON CONFLICT (event_id) DO NOTHING RETURNING event_id',
  params: r => [r.eventId, r.sku, r.delta, r.reason, r.adjustedAt, ...source(r.source)],
}

const originParams = (origin: Source | undefined): Param[] =>
  origin === undefined ? [null, null, null] : source(origin)

// One pending row per Kafka record: a redelivered record that is pending already is not stored twice.
const pending: Shape<OrderRow> = {
  table: 'pending_events',
  columns: [
    ...sourceColumns,
    'event_id',
    'event_type',
    'event_key',
    'parent_table',
    'parent_key',
    'constraint_name',
    'event_ts',
    'payload',
    'origin_topic',
    'origin_partition',
    'origin_offset',
  ],
  tail: 'ON CONFLICT (source_topic, source_partition, source_offset) DO NOTHING',
  // Keyed by the Kafka record itself; a redriven copy also keeps its original's position.
  params: r => [
    ...source(r.record),
    r.eventId,
    'OrderPlaced',
    r.orderId,
    orderParent.table,
    r.userId,
    orderParent.constraint,
    r.eventTs,
    JSON.stringify(r.event),
    ...originParams(originOf(r)),
  ],
}

// A plain append (a redelivery adds a row; lookups take the first).
const eventLog: Shape<LogRow> = {
  table: 'event_log',
  columns: ['event_id', 'entity_table', 'entity_key', 'event_ts', ...sourceColumns],
  tail: '',
  params: r => [r.eventId, r.table, r.key, r.eventTs, ...source(r.source)],
}

// max(): a batch of a revoked partition that commits after the new owner's never moves the mark back. A mark of
// another topic ID is another log (the topic was re-created): it starts again from this one.
const processed: Shape<Mark> = {
  table: 'applied_offsets',
  columns: [...sourceColumns, 'topic_id'],
  tail: `ON CONFLICT (source_topic, source_partition) DO UPDATE SET
    source_offset = CASE WHEN applied_offsets.topic_id <> excluded.topic_id THEN excluded.source_offset
      ELSE max(applied_offsets.source_offset, excluded.source_offset) END,
    topic_id = coalesce(excluded.topic_id, applied_offsets.topic_id), updated_at = ${now}`,
  params: r => [...source(r), r.topicId ?? null],
}

const inventory: Shape<InventoryChange> = {
  table: 'inventory',
  columns: ['sku', 'quantity', 'last_adjusted_at', ...sourceColumns],
  tail: `ON CONFLICT (sku) DO UPDATE SET
    quantity = inventory.quantity + excluded.quantity,
    last_adjusted_at = max(coalesce(inventory.last_adjusted_at, ''), excluded.last_adjusted_at),
    ${sourceColumns.map(c => `${c} = excluded.${c}`).join(', ')}`,
  params: r => [r.sku, r.delta, r.lastAdjustedAt, ...source(r.source)],
}

const texts = new Map<string, string>()

// Anonymous `?` placeholders: with numbered ones (?1, ?2, …) node:sqlite's binding cost grows with their
// count, and a 500-row upsert measured 30 times slower per row than with `?`.
function insertText(s: Shape<never>, rows: number): string {
  const key = `${s.table}:${rows}`
  let text = texts.get(key)
  if (text === undefined) {
    const tuple = `(${s.columns.map(() => '?').join(',')})`
    text = `INSERT INTO ${s.table} (${s.columns.join(', ')}) VALUES ${Array(rows).fill(tuple).join(',')} ${s.tail}`
    texts.set(key, text)
  }
  return text
}

function build<R, O = unknown>(s: Shape<R>, rows: readonly R[]): CompiledQuery<O>[] {
  return chunks(rows, rowsPerStatement).map(part => {
    const params = part.flatMap(s.params)
    return CompiledQuery.raw(insertText(s as Shape<never>, part.length), params) as CompiledQuery<O>
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
  deleteReturns: 'returning',
  rowCap: 'limit',
  // Rows are appended in time order: the oldest are the first by rowid, and logged_at needs no index.
  pruneEventLog: (before, limit) =>
    CompiledQuery.raw(
      'DELETE FROM event_log WHERE rowid IN (SELECT rowid FROM event_log ORDER BY rowid LIMIT ?) AND logged_at < ?',
      [limit, before],
    ),
}
