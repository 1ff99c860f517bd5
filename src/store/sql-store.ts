// The Store both SQL engines share: planning, the order of statements inside the one transaction, result
// counting, reads and the error edge. An engine folder supplies only what differs: its connection, its SQL
// text, its migrations and how its driver's errors map onto the taxonomy.
import { CompiledQuery, type Kysely, sql, type Transaction } from 'kysely'
import { PipelineError } from '../errors.ts'
import {
  type BatchPlan,
  type DeltaRow,
  type InventoryChange,
  inventoryChanges,
  type OrderRow,
  type PaymentRow,
  planBatch,
  type UserRow,
} from './batch.ts'
import {
  inventoryColumns,
  orderColumns,
  paymentColumns,
  type Tables,
  toInventory,
  toOrder,
  toPayment,
  toUser,
  userColumns,
} from './tables.ts'
import type { ApplyResult, Engine, Inventory, Order, Payment, SourcedEvent, Store, User } from './types.ts'

/** The write statements of one engine. Each returns the statements to run, in order (SQLite chunks). */
export interface Statements {
  upsertUsers(rows: readonly UserRow[]): CompiledQuery[]
  upsertOrders(rows: readonly OrderRow[]): CompiledQuery[]
  upsertPayments(rows: readonly PaymentRow[]): CompiledQuery[]
  /** Inserts ledger rows, skipping eventIds already there, and returns the inserted ones as `event_id`. */
  insertLedger(rows: readonly DeltaRow[]): CompiledQuery<{ event_id: string }>[]
  upsertInventory(rows: readonly InventoryChange[]): CompiledQuery[]
}

export interface EngineParts {
  readonly engine: Engine
  readonly db: Kysely<Tables>
  readonly statements: Statements
  /** Runs `work` in one write transaction (SQLite also serialises these per file within the process). */
  write<T>(work: (trx: Transaction<Tables>) => Promise<T>): Promise<T>
  migrate(trx: Transaction<Tables>): Promise<void>
  /** Runs before the migration's transaction, outside it: MS SQL Server creates a missing database here. */
  beforeMigrate?(): Promise<void>
  toPipelineError(error: unknown): PipelineError
  /**
   * Lookup texts that take every key as one array parameter ($1), so the text is the same for one key or five
   * hundred (PostgreSQL: `= ANY($1)`, run as prepared statements). Without them the store builds `key = $1` or
   * `key IN (…)` per batch of keys.
   */
  readonly lookups?: Lookups
}

/** One text per table, selecting that table's read columns for the keys in the array parameter $1. */
export interface Lookups {
  readonly users: string
  readonly orders: string
  readonly payments: string
  readonly inventory: string
}

const empty: ApplyResult = Object.freeze({ upserts: 0, stale: 0, deltasApplied: 0, deltasDuplicate: 0 })

async function affected(trx: Transaction<Tables>, queries: readonly CompiledQuery[]): Promise<number> {
  let rows = 0
  for (const query of queries) rows += Number((await trx.executeQuery(query)).numAffectedRows ?? 0n)
  return rows
}

// Users first, then orders, then payments, then inventory: an order whose user arrives in the same batch
// finds it, because the foreign key is checked per statement.
async function applyPlan(trx: Transaction<Tables>, statements: Statements, plan: BatchPlan): Promise<ApplyResult> {
  let upserts = await affected(trx, statements.upsertUsers(plan.users))
  upserts += await affected(trx, statements.upsertOrders(plan.orders))
  upserts += await affected(trx, statements.upsertPayments(plan.payments))
  const applied = new Set<string>()
  for (const query of statements.insertLedger(plan.deltas)) {
    for (const row of (await trx.executeQuery(query)).rows) applied.add(row.event_id)
  }
  await affected(trx, statements.upsertInventory(inventoryChanges(plan.deltas, applied)))
  // An upsert whose WHERE refused the row (the stored event is newer) affects no row, so every state event
  // that did not become its row's content counts as stale, whether a newer record of the batch or the stored
  // row beat it.
  return {
    upserts,
    stale: plan.stateEvents - upserts,
    deltasApplied: applied.size,
    deltasDuplicate: plan.duplicateDeltas + plan.deltas.length - applied.size,
  }
}

interface Waiter<R> {
  resolve(row: R | undefined): void
  reject(error: unknown): void
}

/**
 * Lookups by key that arrive in the same turn of the event loop share one query (`key IN (…)`, or the engine's
 * array lookup). The read API answers GET /orders/:id with two lookups, and under load dozens of requests arrive
 * in the same turn: one round trip per table then serves all of them, where each round trip costs the client
 * about as much CPU as the rest of the request. Waiting for the end of the turn (setImmediate) adds well under a
 * millisecond.
 */
class KeyLoader<R> {
  static readonly maxKeys = 500
  readonly #fetch: (keys: string[]) => Promise<R[]>
  readonly #keyOf: (row: R) => string
  readonly #maxKeys: number
  #pending = new Map<string, Waiter<R>[]>()
  #scheduled = false

  /** `maxKeys` 1 turns batching off: every key is fetched on its own, still in the same turn. */
  constructor(fetch: (keys: string[]) => Promise<R[]>, keyOf: (row: R) => string, maxKeys: number) {
    this.#fetch = fetch
    this.#keyOf = keyOf
    this.#maxKeys = maxKeys
  }

  load(key: string): Promise<R | undefined> {
    return new Promise((resolve, reject) => {
      const waiters = this.#pending.get(key)
      if (waiters === undefined) this.#pending.set(key, [{ resolve, reject }])
      else waiters.push({ resolve, reject })
      if (!this.#scheduled) {
        this.#scheduled = true
        setImmediate(() => this.#flush())
      }
    })
  }

  #flush(): void {
    this.#scheduled = false
    const pending = this.#pending
    this.#pending = new Map()
    const keys = [...pending.keys()]
    for (let i = 0; i < keys.length; i += this.#maxKeys) {
      const part = keys.slice(i, i + this.#maxKeys)
      this.#fetch(part).then(
        rows => {
          const byKey = new Map<string, R>()
          for (const row of rows) byKey.set(this.#keyOf(row), row)
          for (const key of part) for (const w of pending.get(key)!) w.resolve(byKey.get(key))
        },
        (error: unknown) => {
          for (const key of part) for (const w of pending.get(key)!) w.reject(error)
        },
      )
    }
  }
}

export class SqlStore implements Store {
  readonly engine: Engine
  readonly #parts: EngineParts
  readonly #db: Kysely<Tables>
  readonly #users: KeyLoader<User>
  readonly #orders: KeyLoader<Order>
  readonly #payments: KeyLoader<Payment>
  readonly #inventory: KeyLoader<Inventory>
  #closed = false

  constructor(parts: EngineParts) {
    this.engine = parts.engine
    this.#parts = parts
    this.#db = parts.db
    const db = parts.db
    // SQL Server keeps one query per lookup: its statements are checked text for text (test/store/mssql), and a
    // case-insensitive collation would let a shared IN (…) match a row under a key other than the one asked for.
    const batched = parts.engine !== 'mssql'
    const loader = <R>(fetch: (keys: string[]) => Promise<R[]>, keyOf: (row: R) => string) =>
      new KeyLoader(keys => this.#run(() => fetch(keys)), keyOf, batched ? KeyLoader.maxKeys : 1)
    // The engine's array lookup (one text for any number of keys) when it has one; otherwise the plain
    // `key = $1` for one key and `key IN (…)` for several.
    const lookups = parts.lookups
    const byArray = <Row, R>(text: string | undefined, map: (row: Row) => R) =>
      text === undefined
        ? undefined
        : async (keys: string[]) => (await db.executeQuery<Row>(CompiledQuery.raw(text, [keys]))).rows.map(map)
    this.#users = loader(
      byArray(lookups?.users, toUser) ??
        (async keys => {
          const q = db.selectFrom('users').select(userColumns)
          const query = keys.length === 1 ? q.where('user_id', '=', keys[0]!) : q.where('user_id', 'in', keys)
          return (await query.execute()).map(toUser)
        }),
      u => u.userId,
    )
    this.#orders = loader(
      byArray(lookups?.orders, toOrder) ??
        (async keys => {
          const q = db.selectFrom('orders').select(orderColumns)
          const query = keys.length === 1 ? q.where('order_id', '=', keys[0]!) : q.where('order_id', 'in', keys)
          return (await query.execute()).map(toOrder)
        }),
      o => o.orderId,
    )
    this.#payments = loader(
      byArray(lookups?.payments, toPayment) ??
        (async keys => {
          const q = db.selectFrom('payments').select(paymentColumns)
          const query = keys.length === 1 ? q.where('order_id', '=', keys[0]!) : q.where('order_id', 'in', keys)
          return (await query.execute()).map(toPayment)
        }),
      p => p.orderId,
    )
    this.#inventory = loader(
      byArray(lookups?.inventory, toInventory) ??
        (async keys => {
          const q = db.selectFrom('inventory').select(inventoryColumns)
          const query = keys.length === 1 ? q.where('sku', '=', keys[0]!) : q.where('sku', 'in', keys)
          return (await query.execute()).map(toInventory)
        }),
      i => i.sku,
    )
  }

  async #run<T>(work: () => Promise<T>): Promise<T> {
    // Kysely and the drivers throw plain errors once closed; callers need the retryable taxonomy instead.
    if (this.#closed) throw new PipelineError('DB_UNAVAILABLE', `the ${this.engine} store is closed`)
    try {
      return await work()
    } catch (error) {
      throw this.#parts.toPipelineError(error)
    }
  }

  migrate(): Promise<void> {
    return this.#run(async () => {
      await this.#parts.beforeMigrate?.()
      await this.#parts.write(trx => this.#parts.migrate(trx))
    })
  }

  applyBatch(events: readonly SourcedEvent[]): Promise<ApplyResult> {
    return this.#run(async () => {
      if (events.length === 0) return empty
      const plan = planBatch(events)
      return this.#parts.write(trx => applyPlan(trx, this.#parts.statements, plan))
    })
  }

  getUser(userId: string): Promise<User | undefined> {
    return this.#users.load(userId)
  }

  getRecentOrders(userId: string, limit: number): Promise<Order[]> {
    return this.#run(async () => {
      const count = Math.floor(limit)
      if (!(count > 0)) return []
      const rows = await this.#db
        .selectFrom('orders')
        .select(orderColumns)
        .where('user_id', '=', userId)
        .orderBy('created_at', 'desc')
        .orderBy('order_id', 'desc')
        .limit(count)
        .execute()
      return rows.map(toOrder)
    })
  }

  getOrder(orderId: string): Promise<Order | undefined> {
    return this.#orders.load(orderId)
  }

  getPayment(orderId: string): Promise<Payment | undefined> {
    return this.#payments.load(orderId)
  }

  getInventory(sku: string): Promise<Inventory | undefined> {
    return this.#inventory.load(sku)
  }

  ping(): Promise<void> {
    return this.#run(async () => {
      await sql`select 1`.execute(this.#db)
    })
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    await this.#db.destroy()
  }
}
