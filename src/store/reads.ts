// The read API's lookups by key: batched per turn of the event loop through one DataLoader per kind of read, each
// batch one query (the engine's array lookup, or `key IN (…)`), nothing cached between batches.
import DataLoader from 'dataloader'
import { CompiledQuery, type Kysely } from 'kysely'
import {
  inventoryColumns,
  orderColumns,
  paymentColumns,
  type Tables,
  toInventory,
  toOrder,
  toOrderWithPayment,
  toPayment,
  toUser,
  userColumns,
} from './tables.ts'

/** One text per kind of read, selecting its columns for the keys in the array parameter $1. */
export interface Lookups {
  readonly users: string
  readonly orders: string
  readonly payments: string
  /** An order with its payment's columns (`payment_…`, null without one): orders LEFT JOIN payments. */
  readonly ordersWithPayments: string
  readonly inventory: string
}

// A loosely typed view of the tables: Kysely's types cannot follow a table chosen at run time, and each read
// below pairs its table with that table's own columns.
type AnyDb = Kysely<Record<string, Record<string, unknown>>>

/** One kind of read: the key column of its rows, how a row becomes the domain object, its query without lookups. */
interface ReadKind<R> {
  readonly key: string
  readonly map: (row: Record<string, unknown>) => R
  readonly select: (db: AnyDb, keys: readonly string[]) => Promise<Record<string, unknown>[]>
}

// A lookup's rows hold exactly the columns its query selects, which are the ones the mapping reads: hence the
// casts of `map`.
function plain<Row, R>(
  table: keyof Tables,
  key: keyof Row & string,
  columns: readonly (keyof Row & string)[],
  map: (row: Row) => R,
): ReadKind<R> {
  return {
    key,
    map: map as unknown as (row: Record<string, unknown>) => R,
    select: (db, keys) => {
      const k: string = key
      const q = db.selectFrom(table).select(columns as readonly string[])
      return (keys.length === 1 ? q.where(k, '=', keys[0]!) : q.where(k, 'in', keys)).execute()
    },
  }
}

const withPayment: ReadKind<ReturnType<typeof toOrderWithPayment>> = {
  key: 'order_id',
  map: toOrderWithPayment as unknown as (row: Record<string, unknown>) => ReturnType<typeof toOrderWithPayment>,
  select: (db, keys) => {
    const q = db
      .selectFrom('orders as o')
      .leftJoin('payments as p', 'p.order_id', 'o.order_id')
      .select([...orderColumns.map(c => `o.${c}` as const), ...paymentColumns.map(c => `p.${c} as payment_${c}`)])
    return (keys.length === 1 ? q.where('o.order_id', '=', keys[0]!) : q.where('o.order_id', 'in', keys)).execute()
  },
}

const kinds = {
  users: plain('users', 'user_id', userColumns, toUser),
  orders: plain('orders', 'order_id', orderColumns, toOrder),
  payments: plain('payments', 'order_id', paymentColumns, toPayment),
  ordersWithPayments: withPayment,
  inventory: plain('inventory', 'sku', inventoryColumns, toInventory),
} as const satisfies Record<keyof Lookups, unknown>

type Kind = keyof typeof kinds
type Result<K extends Kind> = ReturnType<(typeof kinds)[K]['map']>

export interface KeyReadsOptions {
  readonly db: Kysely<Tables>
  /** The engine's array lookups (PostgreSQL); without them each batch builds `key = $1` or `key IN (…)`. */
  readonly lookups?: Lookups | undefined
  /** Most keys one query takes: 1 reads every key by its own query, still sent in the same turn. */
  readonly maxBatchSize: number
  /** Runs a query, mapping its errors onto the store's taxonomy. */
  readonly run: <T>(work: () => Promise<T>) => Promise<T>
}

export type KeyReads = { readonly [K in Kind]: (key: string) => Promise<Result<K> | undefined> }

/**
 * Lookups by key that arrive in the same turn of the event loop share one query per kind of read. Under load
 * dozens of requests arrive in the same turn: one round trip then serves all of them, where each round trip
 * costs the client about as much CPU as the rest of the request. Waiting for the end of the turn (setImmediate)
 * adds well under a millisecond. Nothing is kept from one turn to the next (cache: false): a read sees the rows
 * as they are when it runs.
 */
export function keyReads({ db, lookups, maxBatchSize, run }: KeyReadsOptions): KeyReads {
  const select = (kind: Kind, keys: readonly string[]): Promise<Record<string, unknown>[]> => {
    const text = lookups?.[kind]
    if (text === undefined) return kinds[kind].select(db as unknown as AnyDb, keys)
    return db.executeQuery<Record<string, unknown>>(CompiledQuery.raw(text, [keys])).then(r => r.rows)
  }
  const options = { cache: false, maxBatchSize, batchScheduleFn: (dispatch: () => void) => setImmediate(dispatch) }
  const loader = <K extends Kind>(kind: K) => {
    const { key, map } = kinds[kind]
    const l = new DataLoader<string, Result<K> | undefined>(async keys => {
      // Without its cache DataLoader passes a key as often as it was asked for in the turn; it is read once.
      const rows = await run(() => select(kind, [...new Set(keys)]))
      const byKey = new Map<unknown, Result<K>>()
      for (const row of rows) byKey.set(row[key], map(row) as Result<K>)
      return keys.map(k => byKey.get(k))
    }, options)
    return (k: string) => l.load(k)
  }
  return {
    users: loader('users'),
    orders: loader('orders'),
    payments: loader('payments'),
    ordersWithPayments: loader('ordersWithPayments'),
    inventory: loader('inventory'),
  }
}
