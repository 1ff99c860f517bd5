// The Store both SQL engines share: planning, the order of statements inside the one transaction, result
// counting, reads and the error edge. An engine folder supplies only what differs: its connection, its SQL
// text, its migrations and how its driver's errors map onto the taxonomy.
import { type CompiledQuery, type Kysely, sql, type Transaction } from 'kysely'
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

export class SqlStore implements Store {
  readonly engine: Engine
  readonly #parts: EngineParts
  readonly #db: Kysely<Tables>
  #closed = false

  constructor(parts: EngineParts) {
    this.engine = parts.engine
    this.#parts = parts
    this.#db = parts.db
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
    return this.#run(async () => {
      const row = await this.#db
        .selectFrom('users')
        .select(userColumns)
        .where('user_id', '=', userId)
        .executeTakeFirst()
      return row && toUser(row)
    })
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
    return this.#run(async () => {
      const row = await this.#db
        .selectFrom('orders')
        .select(orderColumns)
        .where('order_id', '=', orderId)
        .executeTakeFirst()
      return row && toOrder(row)
    })
  }

  getPayment(orderId: string): Promise<Payment | undefined> {
    return this.#run(async () => {
      const row = await this.#db
        .selectFrom('payments')
        .select(paymentColumns)
        .where('order_id', '=', orderId)
        .executeTakeFirst()
      return row && toPayment(row)
    })
  }

  getInventory(sku: string): Promise<Inventory | undefined> {
    return this.#run(async () => {
      const row = await this.#db
        .selectFrom('inventory')
        .select(inventoryColumns)
        .where('sku', '=', sku)
        .executeTakeFirst()
      return row && toInventory(row)
    })
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
