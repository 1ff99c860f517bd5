// The tables as Kysely sees them, shared by every engine, and the mapping from rows to the domain objects of
// types.ts. Each engine converts at its edge so rows arrive here already uniform: timestamps are ISO-8601 UTC
// strings with milliseconds, money is a number (PostgreSQL, through its NUMERIC parser) or the canonical
// decimal text SQLite stores.
import type { Generated } from 'kysely'
import type { Inventory, Order, OrderWithPayment, Payment, User } from './types.ts'

/** Money as the engine returns it: number from PostgreSQL, decimal text such as '123.45' from SQLite. */
export type Money = number | string

interface SourceColumns {
  source_topic: string
  source_partition: number
  source_offset: bigint | number | string
}

interface StateColumns extends SourceColumns {
  event_id: string
  event_ts: string
  updated_at: string
}

export interface Tables {
  users: StateColumns & { user_id: string; name: string | null; email: string | null; created_at: string | null }
  orders: StateColumns & {
    order_id: string
    user_id: string
    total: Money | null
    status: string | null
    created_at: string | null
  }
  payments: StateColumns & {
    order_id: string
    status: string | null
    amount: Money | null
    settled_at: string | null
  }
  inventory: SourceColumns & { sku: string; quantity: number; last_adjusted_at: string | null }
  inventory_ledger: SourceColumns & {
    event_id: string
    sku: string
    delta: number
    reason: string | null
    adjusted_at: string
    applied_at: string
  }
  pending_events: SourceColumns & {
    event_id: string
    event_type: string
    event_key: string
    parent_table: string
    parent_key: string
    constraint_name: string
    event_ts: string
    payload: string
    pending_since: Generated<string>
    /** Where a redriven copy's original entered the log (its position); null for an original record. */
    origin_topic: string | null
    origin_partition: number | null
    origin_offset: bigint | number | string | null
  }
  /** One row per eventId of a state event: where it went, so its fate can be told after its row moved on. */
  event_log: SourceColumns & {
    event_id: string
    entity_table: string
    entity_key: string
    event_ts: string
    logged_at: Generated<string>
  }
  /** Per partition, the offset through which every record is applied, pending or dead-lettered. */
  applied_offsets: SourceColumns & { updated_at: Generated<string>; topic_id: string | null }
  schema_migrations: { version: number; applied_at: Generated<string> }
}

type Row<T extends keyof Tables, K extends keyof Tables[T]> = Pick<Tables[T], K>

// Each read also selects where its row came from (source_partition, source_offset): the read API compares it with
// the DLQ's dead letters of the key (src/dlq/key-summary.ts). It is not part of the domain objects; readSourceOf
// gives it for an object a read returned.
export const userColumns = [
  'user_id',
  'name',
  'email',
  'created_at',
  'updated_at',
  'source_partition',
  'source_offset',
] as const
export const orderColumns = [
  'order_id',
  'user_id',
  'total',
  'status',
  'created_at',
  'updated_at',
  'source_partition',
  'source_offset',
] as const
export const paymentColumns = [
  'order_id',
  'status',
  'amount',
  'settled_at',
  'updated_at',
  'source_partition',
  'source_offset',
] as const
export const inventoryColumns = ['sku', 'quantity', 'last_adjusted_at', 'source_partition', 'source_offset'] as const

/** The Kafka record a row read by key came from: its partition and offset (decimal text). */
export interface ReadSource {
  readonly partition: number
  readonly offset: string
}

// Beside the objects rather than in them: domain objects keep their fields, and answers built from them too.
const readSources = new WeakMap<object, ReadSource>()

/** Where the row behind an object a read by key returned came from; undefined for any other object. */
export function readSourceOf(value: object): ReadSource | undefined {
  return readSources.get(value)
}

function sourced<T extends object>(value: T, partition: unknown, offset: unknown): T {
  if (partition !== null && partition !== undefined && offset !== null && offset !== undefined) {
    readSources.set(value, { partition: Number(partition), offset: String(offset) })
  }
  return value
}

/** A row of orders LEFT JOIN payments: the order's columns, and its payment's prefixed `payment_` (all null without one). */
type OrderWithPaymentRow = Row<'orders', (typeof orderColumns)[number]> & {
  [C in (typeof paymentColumns)[number] as `payment_${C}`]: Tables['payments'][C] | null
}

// The nullable columns of the reference tables are always written by the pipeline; '' and 0 only show for rows written by hand.
export function toUser(row: Row<'users', (typeof userColumns)[number]>): User {
  const user = {
    userId: row.user_id,
    name: row.name ?? '',
    email: row.email ?? '',
    createdAt: row.created_at ?? '',
    updatedAt: row.updated_at,
  }
  return sourced(user, row.source_partition, row.source_offset)
}

export function toOrder(row: Row<'orders', (typeof orderColumns)[number]>): Order {
  const order = {
    orderId: row.order_id,
    userId: row.user_id,
    total: Number(row.total ?? 0),
    status: row.status ?? '',
    createdAt: row.created_at ?? '',
    updatedAt: row.updated_at,
  }
  return sourced(order, row.source_partition, row.source_offset)
}

export function toPayment(row: Row<'payments', (typeof paymentColumns)[number]>): Payment {
  const payment = {
    orderId: row.order_id,
    status: row.status ?? '',
    amount: Number(row.amount ?? 0),
    settledAt: row.settled_at ?? '',
    updatedAt: row.updated_at,
  }
  return sourced(payment, row.source_partition, row.source_offset)
}

export function toOrderWithPayment(row: OrderWithPaymentRow): OrderWithPayment {
  return {
    order: toOrder(row),
    payment:
      row.payment_order_id === null
        ? null
        : toPayment({
            order_id: row.payment_order_id,
            status: row.payment_status,
            amount: row.payment_amount,
            settled_at: row.payment_settled_at,
            updated_at: row.payment_updated_at ?? '',
            source_partition: row.payment_source_partition ?? 0,
            source_offset: row.payment_source_offset ?? 0,
          }),
  }
}

export function toInventory(row: Row<'inventory', (typeof inventoryColumns)[number]>): Inventory {
  const inventory = { sku: row.sku, quantity: Number(row.quantity), lastAdjustedAt: row.last_adjusted_at ?? '' }
  return sourced(inventory, row.source_partition, row.source_offset)
}

/**
 * How a column reads in a row's canonical text: `time` is ISO-8601 UTC with milliseconds (what every engine's edge
 * gives already; a Date is converted), `money` the exact decimal with two places ('123.40', whether the engine
 * returns 123.4 or '123.40'), `int` the integer's decimal digits (offsets arrive as bigint, number or string).
 */
export type CanonicalKind = 'text' | 'int' | 'money' | 'time'

export function canonicalValue(kind: CanonicalKind, value: unknown): string | null {
  if (value === null || value === undefined) return null
  switch (kind) {
    case 'text':
      return String(value)
    case 'int':
      return BigInt(value as bigint | number | string).toString()
    case 'money':
      return Number(value).toFixed(2)
    case 'time':
      return value instanceof Date ? value.toISOString() : String(value)
  }
}

export interface CanonicalTable {
  readonly table: string
  /** The key, in index order: rows are read and compared in this order. */
  readonly keys: readonly string[]
  /** Every column the log decides, keys first: the row's canonical text is these values in this order. */
  readonly columns: readonly (readonly [column: string, kind: CanonicalKind])[]
}

const stampKinds = [
  ['event_id', 'text'],
  ['event_ts', 'time'],
  ['source_topic', 'text'],
  ['source_partition', 'int'],
  ['source_offset', 'int'],
] as const

/**
 * The projection's tables as a rebuild must reproduce them: the columns that the log alone decides. Left out are the
 * wall-clock columns (updated_at, applied_at, pending_since), and the record that last touched an inventory row
 * or first brought a ledger row: which record of a sku or an eventId seen on two partitions came first depends
 * on which partition's batch committed first, not on the log (the reference model compares neither).
 * event_log (one row per record read, redeliveries included, pruned by the clock) and applied_offsets (how far
 * each reader got) are bookkeeping of one reading of the log, not the projection, and are not compared.
 */
export const canonicalTables: readonly CanonicalTable[] = [
  {
    table: 'users',
    keys: ['user_id'],
    columns: [['user_id', 'text'], ['name', 'text'], ['email', 'text'], ['created_at', 'time'], ...stampKinds],
  },
  {
    table: 'orders',
    keys: ['order_id'],
    columns: [
      ['order_id', 'text'],
      ['user_id', 'text'],
      ['total', 'money'],
      ['status', 'text'],
      ['created_at', 'time'],
      ...stampKinds,
    ],
  },
  {
    table: 'payments',
    keys: ['order_id'],
    columns: [['order_id', 'text'], ['status', 'text'], ['amount', 'money'], ['settled_at', 'time'], ...stampKinds],
  },
  {
    table: 'inventory',
    keys: ['sku'],
    columns: [
      ['sku', 'text'],
      ['quantity', 'int'],
      ['last_adjusted_at', 'time'],
    ],
  },
  {
    table: 'inventory_ledger',
    keys: ['event_id'],
    columns: [
      ['event_id', 'text'],
      ['sku', 'text'],
      ['delta', 'int'],
      ['reason', 'text'],
      ['adjusted_at', 'time'],
    ],
  },
  {
    table: 'pending_events',
    keys: ['source_topic', 'source_partition', 'source_offset'],
    columns: [
      ['source_topic', 'text'],
      ['source_partition', 'int'],
      ['source_offset', 'int'],
      ['event_id', 'text'],
      ['event_type', 'text'],
      ['event_key', 'text'],
      ['parent_table', 'text'],
      ['parent_key', 'text'],
      ['constraint_name', 'text'],
      ['event_ts', 'time'],
      ['payload', 'text'],
      ['origin_topic', 'text'],
      ['origin_partition', 'int'],
      ['origin_offset', 'int'],
    ],
  },
]

/** A row's canonical form: each compared column's canonical value, by column name, in the table's column order. */
export function canonicalRow(
  table: CanonicalTable,
  row: Readonly<Record<string, unknown>>,
): Record<string, string | null> {
  const out: Record<string, string | null> = {}
  for (const [column, kind] of table.columns) out[column] = canonicalValue(kind, row[column])
  return out
}
