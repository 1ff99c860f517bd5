// The Store every SQL engine shares: planning, the order of statements inside the one transaction, result
// counting, reads and the error edge. An engine folder supplies only what differs: its connection, its SQL
// text, its migrations and how its driver's errors map onto the taxonomy.
import { type CompiledQuery, type ExpressionBuilder, type Kysely, type Selectable, sql, type Transaction } from 'kysely'
import { PipelineError } from '../errors.ts'
import type { Event } from '../events/index.ts'
import {
  type BatchPlan,
  chunks,
  type DeltaRow,
  type InventoryChange,
  inventoryChanges,
  judgeDeltas,
  type LogRow,
  newer,
  type OrderRow,
  orderParent,
  orderRowOf,
  type PaymentRow,
  planBatch,
  processedThrough,
  type UserRow,
  winnersByOrder,
} from './batch.ts'
import { type Cap, readAppliedOffsets, readEventFacts } from './event-facts.ts'
import {
  type CandidateQuery,
  candidates,
  cappedCount,
  claimedParent,
  expiredRows,
  heldClaims,
  ofParents,
  oldestUnder,
  storedSince,
  waitingParents,
} from './pending-queries.ts'
import { type KeyReads, keyReads, type Lookups } from './reads.ts'
import { orderColumns, type Tables, toOrder } from './tables.ts'
import type {
  ApplyResult,
  Engine,
  EventFacts,
  Inventory,
  Mark,
  Order,
  OrderWithPayment,
  Payment,
  PendingEvent,
  PendingScope,
  PendingStats,
  Source,
  SourcedEvent,
  Store,
  User,
} from './types.ts'
import { pendingCountCap } from './types.ts'

export type { Lookups } from './reads.ts'

/** The write statements of one engine. Each returns the statements to run, in order (SQLite chunks). */
export interface Statements {
  upsertUsers(rows: readonly UserRow[]): CompiledQuery[]
  upsertOrders(rows: readonly OrderRow[]): CompiledQuery[]
  upsertPayments(rows: readonly PaymentRow[]): CompiledQuery[]
  /** Inserts ledger rows, skipping eventIds already there, and returns the inserted ones as `event_id`. */
  insertLedger(rows: readonly DeltaRow[]): CompiledQuery<{ event_id: string }>[]
  upsertInventory(rows: readonly InventoryChange[]): CompiledQuery[]
  /** Stores orders as pending on their missing user, skipping Kafka records already pending. */
  insertPending(rows: readonly OrderRow[]): CompiledQuery[]
  /** Logs where each state event went (event_log), skipping eventIds already logged. */
  insertEventLog(rows: readonly LogRow[]): CompiledQuery[]
  /**
   * Raises applied_offsets of each topic and partition to the given offset, never lowering one, unless the row
   * belongs to another topic ID (a re-created topic), which starts it again.
   */
  markProcessed(rows: readonly Mark[]): CompiledQuery[]
  /** How the engine returns the rows a DELETE removed: RETURNING (PostgreSQL, SQLite) or OUTPUT (SQL Server). */
  readonly deleteReturns: 'returning' | 'output'
  /** How the engine caps a SELECT's rows: LIMIT (PostgreSQL, SQLite) or TOP (SQL Server). */
  readonly rowCap: 'limit' | 'top'
  /**
   * The state upserts append their input rows to event_log themselves (PostgreSQL): insertEventLog then gets
   * only the events no upsert was given (losers inside the batch, orders stored as pending).
   */
  readonly upsertsLog?: boolean
  /**
   * Deletes up to `limit` event_log rows logged before `before`, oldest first, the engine's own way: PostgreSQL
   * through its BRIN index, SQLite from the start of the table by rowid, SQL Server through its clustered index.
   */
  pruneEventLog(before: string, limit: number): CompiledQuery
  /**
   * One fixed text taking every key as one array parameter, as the engine's lookups do (PostgreSQL): every batch
   * runs them, so a text that never changes (prepared once per connection) saves building and planning an
   * `IN (…)` of hundreds of parameters per batch. Without them the store builds those `IN` lists.
   */
  readonly byKeys?: {
    /** Removes and returns the pending rows whose parent is one of $1 (parent_table 'users'). */
    takePendingOfUsers(userIds: readonly string[]): CompiledQuery<Tables['pending_events']>
    /** The user_id of each stored user among $1. */
    storedUsers(userIds: readonly string[]): CompiledQuery<{ user_id: string }>
  }
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
  /**
   * Whether lookups of several keys may share one query (`key IN (…)` or the array lookup); when false, each key
   * is read by its own query, still sent in the same turn.
   */
  readonly batchedLookups: boolean
}

const empty: ApplyResult = Object.freeze({
  upserts: 0,
  stale: 0,
  deltasApplied: 0,
  deltasDuplicate: 0,
  pending: 0,
  pendingPositions: [],
  resolved: 0,
  conflicts: [],
})

/** Keys per `IN (…)` list: under SQL Server's 2,100 parameters and SQLite's 32,766. */
const keysPerList = 500

async function affected(trx: Transaction<Tables>, queries: readonly CompiledQuery[]): Promise<number> {
  let rows = 0
  for (const query of queries) rows += Number((await trx.executeQuery(query)).numAffectedRows ?? 0n)
  return rows
}

type Pending = Tables['pending_events']

type PendingKey = Pick<Pending, 'source_topic' | 'source_partition' | 'source_offset'>
type PendingOrigin = Pick<Pending, 'origin_topic' | 'origin_partition' | 'origin_offset'>

const recordOf = (row: PendingKey): Source => ({
  topic: row.source_topic,
  partition: Number(row.source_partition),
  offset: BigInt(row.source_offset),
})

/** A pending row's position: its original's for a redriven copy, else its own record's. */
function positionOf(row: PendingKey & PendingOrigin): Source {
  if (row.origin_topic === null || row.origin_partition === null || row.origin_offset === null) return recordOf(row)
  return { topic: row.origin_topic, partition: Number(row.origin_partition), offset: BigInt(row.origin_offset) }
}

function pendingOrder(row: Pick<Pending, 'payload'> & PendingKey & PendingOrigin): OrderRow {
  const event = JSON.parse(row.payload) as Event
  if (event.type !== 'OrderPlaced') throw new PipelineError('INTERNAL', `pending ${event.type} cannot be applied`)
  return orderRowOf(event, positionOf(row), recordOf(row))
}

/** Removes and returns the pending orders of these users; the caller applies them in the same transaction. */
async function takePending(trx: Transaction<Tables>, statements: Statements, userIds: readonly string[]) {
  const taken: OrderRow[] = []
  if (statements.byKeys !== undefined) {
    for (const row of (await trx.executeQuery(statements.byKeys.takePendingOfUsers(userIds))).rows) {
      taken.push(pendingOrder(row))
    }
    return taken
  }
  for (const part of chunks(userIds, keysPerList)) {
    const query = trx
      .deleteFrom('pending_events')
      .where('parent_table', '=', orderParent.table)
      .where('parent_key', 'in', part)
    const rows =
      statements.deleteReturns === 'output'
        ? await query.outputAll('deleted').execute()
        : await query.returningAll().execute()
    for (const row of rows) taken.push(pendingOrder(row))
  }
  return taken
}

/** The users among `userIds` that are stored (read inside the transaction that will reference them). */
async function storedUsers(
  trx: Transaction<Tables>,
  statements: Statements,
  userIds: readonly string[],
): Promise<Set<string>> {
  const found = new Set<string>()
  if (statements.byKeys !== undefined) {
    for (const row of (await trx.executeQuery(statements.byKeys.storedUsers(userIds))).rows) found.add(row.user_id)
    return found
  }
  for (const part of chunks(userIds, keysPerList)) {
    for (const row of await trx.selectFrom('users').select('user_id').where('user_id', 'in', part).execute()) {
      found.add(row.user_id)
    }
  }
  return found
}

/**
 * Each order record is judged on its own, as a record-at-a-time reading of the log would: one whose user is stored
 * (or stored by this batch, which would release it) joins last-writer-wins with the other such records and the
 * pending orders `released` by this batch's users; one whose user is missing is kept as its own pending row, in
 * the same transaction, so its offset can be committed and its partition moves on, however a newer or older
 * version of its order fares.
 */
async function applyOrders(
  trx: Transaction<Tables>,
  statements: Statements,
  orders: readonly OrderRow[],
  users: readonly UserRow[],
  released: readonly OrderRow[],
): Promise<{ upserts: number; pending: number[]; ready: readonly OrderRow[] }> {
  if (orders.length === 0 && released.length === 0) return { upserts: 0, pending: [], ready: [] }
  const here = new Set(users.map(u => u.userId))
  for (const row of released) here.add(row.userId)
  const unknown = [...new Set(orders.filter(o => !here.has(o.userId)).map(o => o.userId))]
  const stored = unknown.length === 0 ? here : await storedUsers(trx, statements, unknown)
  const candidates: OrderRow[] = [...released]
  const waiting: OrderRow[] = []
  for (const row of orders) (here.has(row.userId) || stored.has(row.userId) ? candidates : waiting).push(row)
  const ready = winnersByOrder(candidates)
  const upserts = await affected(trx, statements.upsertOrders(ready))
  await affected(trx, statements.insertPending(waiting))
  const pending: number[] = []
  for (const row of waiting) if (row.position !== undefined) pending.push(row.position)
  return { upserts, pending, ready }
}

/**
 * The event_log rows insertEventLog must write: every state event of the batch, less those an upsert logged
 * itself when the engine's upserts do. A pending order released later is logged again by its upsert there; the
 * duplicate row is harmless (lookups take the first).
 */
function unlogged(
  statements: Statements,
  plan: BatchPlan,
  upserted: readonly (readonly { eventId: string }[])[],
): readonly LogRow[] {
  if (statements.upsertsLog !== true) return plan.logged
  const logged = new Set<string>()
  for (const rows of upserted) for (const row of rows) logged.add(row.eventId)
  return plan.logged.filter(row => !logged.has(row.eventId))
}

/** The ledger rows of these delta eventIds, by eventId: the first record of each that was applied. */
async function ledgerRows(trx: Transaction<Tables>, eventIds: readonly string[]) {
  const byId = new Map<string, { sku: string; delta: number; reason: string | null; adjustedAt: string }>()
  for (const part of chunks(eventIds, keysPerList)) {
    const stored = await trx
      .selectFrom('inventory_ledger')
      .select(['event_id', 'sku', 'delta', 'reason', 'adjusted_at'])
      .where('event_id', 'in', part)
      .execute()
    for (const r of stored) {
      byId.set(r.event_id, { sku: r.sku, delta: Number(r.delta), reason: r.reason, adjustedAt: r.adjusted_at })
    }
  }
  return byId
}

// Users first (and the pending orders they release), then orders, then payments, then inventory: an order
// whose user arrives in the same batch finds it, because the foreign key is checked per statement.
async function applyPlan(trx: Transaction<Tables>, statements: Statements, plan: BatchPlan): Promise<ApplyResult> {
  let upserts = await affected(trx, statements.upsertUsers(plan.users))
  const released =
    plan.users.length === 0
      ? []
      : await takePending(
          trx,
          statements,
          plan.users.map(u => u.userId),
        )
  const orders = await applyOrders(trx, statements, plan.orders, plan.users, released)
  upserts += orders.upserts
  upserts += await affected(trx, statements.upsertPayments(plan.payments))
  const applied = new Set<string>()
  for (const query of statements.insertLedger(plan.deltas)) {
    for (const row of (await trx.executeQuery(query)).rows) applied.add(row.event_id)
  }
  await affected(trx, statements.upsertInventory(inventoryChanges(plan.deltas, applied)))
  // Every record of an eventId is judged against its first record in the log: the ledger's when the eventId was
  // applied before this batch, else the batch's first record of it.
  const inLedger = plan.deltas.filter(d => !applied.has(d.eventId))
  const judged = [...inLedger, ...plan.repeatedDeltas]
  let duplicates = 0
  let conflicts: ApplyResult['conflicts'][number][] = []
  if (judged.length > 0) {
    const ledger =
      inLedger.length === 0
        ? new Map()
        : await ledgerRows(
            trx,
            inLedger.map(d => d.eventId),
          )
    const firsts = new Map(plan.deltas.map(d => [d.eventId, d]))
    const verdict = judgeDeltas(judged, eventId => ledger.get(eventId) ?? firsts.get(eventId))
    duplicates = verdict.duplicates
    conflicts = verdict.conflicts
  }
  await affected(trx, statements.insertEventLog(unlogged(statements, plan, [plan.users, plan.payments, orders.ready])))
  // An upsert whose WHERE refused the row (the stored event is newer) affects no row, so every state event
  // that did not become its row's content (nor waits as pending) counts as stale, whether a newer record of the
  // batch or the stored row beat it. A released pending order that won counts as an upsert too.
  return {
    upserts,
    stale: Math.max(0, plan.stateEvents - orders.pending.length - upserts),
    deltasApplied: applied.size,
    deltasDuplicate: duplicates,
    pending: orders.pending.length,
    pendingPositions: orders.pending,
    resolved: released.length,
    conflicts,
  }
}

function sameRecord(eb: ExpressionBuilder<Tables, 'pending_events'>, key: PendingKey) {
  return eb.and([
    eb('source_topic', '=', key.source_topic),
    eb('source_partition', '=', Number(key.source_partition)),
    eb('source_offset', '=', String(key.source_offset)),
  ])
}

function pendingEventOf(row: Selectable<Pending>, superseded: boolean): PendingEvent {
  return {
    source: recordOf(row),
    eventId: row.event_id,
    type: row.event_type,
    key: row.event_key,
    parentTable: row.parent_table === claimedParent ? orderParent.table : row.parent_table,
    parentKey: row.parent_key,
    constraint: row.constraint_name,
    payload: row.payload,
    pendingSince: String(row.pending_since),
    superseded,
  }
}

export class SqlStore implements Store {
  readonly engine: Engine
  readonly #parts: EngineParts
  readonly #db: Kysely<Tables>
  readonly #reads: KeyReads
  #closed = false

  constructor(parts: EngineParts) {
    this.engine = parts.engine
    this.#parts = parts
    this.#db = parts.db
    this.#reads = keyReads({
      db: parts.db,
      lookups: parts.lookups,
      maxBatchSize: parts.batchedLookups ? keysPerList : 1,
      run: work => this.#run(work),
    })
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

  applyBatch(events: readonly SourcedEvent[], processed: readonly Mark[] = []): Promise<ApplyResult> {
    return this.#run(async () => {
      const { statements } = this.#parts
      const marks = processedThrough(processed)
      if (events.length === 0) {
        if (marks.length > 0) await this.#parts.write(trx => affected(trx, statements.markProcessed(marks)))
        return empty
      }
      const plan = planBatch(events)
      return this.#parts.write(async trx => {
        const result = await applyPlan(trx, statements, plan)
        // Last, so the one row per partition that every batch of the partition updates is locked only briefly.
        await affected(trx, statements.markProcessed(marks))
        return result
      })
    })
  }

  /** At most `limit` rows, the engine's way (LIMIT, or SQL Server's TOP). */
  #capped: Cap = (query, limit) => (this.#parts.statements.rowCap === 'top' ? query.top(limit) : query.limit(limit))

  appliedOffsets(topic: string): Promise<Map<number, bigint>> {
    return this.#run(() => readAppliedOffsets(this.#db, topic))
  }

  handledThrough(topic: string, topicId: string): Promise<Map<number, bigint>> {
    return this.#run(async () => {
      const rows = await this.#db
        .selectFrom('applied_offsets')
        .select(['source_partition', 'source_offset'])
        .where('source_topic', '=', topic)
        .where('topic_id', '=', topicId)
        .execute()
      return new Map(rows.map(r => [Number(r.source_partition), BigInt(r.source_offset)]))
    })
  }

  eventFacts(eventId: string): Promise<EventFacts> {
    return this.#run(() => readEventFacts(this.#db, this.#capped, eventId))
  }

  pruneEventLog(before: string, limit: number): Promise<number> {
    return this.#run(async () => {
      const query = this.#parts.statements.pruneEventLog(before, limit)
      return Number((await this.#db.executeQuery(query)).numAffectedRows ?? 0n)
    })
  }

  resolvePending(limit: number, scope: PendingScope = 'all'): Promise<number> {
    return this.#run(async () => {
      const found = new Set<string>()
      // The parents of the scope's pending rows that are stored, found by indexes: pending rows by (parent_table,
      // parent_key) or (parent_table, pending_since), users by key.
      if (scope === 'all' || 'since' in scope) {
        const narrow = scope === 'all' ? (q: CandidateQuery) => q : storedSince(scope.since)
        for (const row of await candidates(this.#db, this.#capped, narrow, limit).execute()) found.add(row.parent_key)
      } else {
        for (const part of chunks([...new Set(scope.parents)], keysPerList)) {
          if (found.size >= limit) break
          const rows = await candidates(this.#db, this.#capped, ofParents(part), limit - found.size).execute()
          for (const row of rows) found.add(row.parent_key)
        }
      }
      if (found.size === 0) return 0
      // The DELETE … RETURNING inside the transaction decides which member applies a pending row: two members
      // resolving at once each apply only the rows their own delete removed.
      return this.#parts.write(async trx => {
        const statements = this.#parts.statements
        const released = await takePending(trx, statements, [...found])
        await applyOrders(trx, statements, [], [], released)
        return released.length
      })
    })
  }

  pendingParents(after: string | undefined, limit: number): Promise<string[]> {
    return this.#run(async () => {
      const rows = await waitingParents(this.#db, this.#capped, after, limit).execute()
      return rows.map(row => row.parent_key)
    })
  }

  claimExpired(before: string, limit: number): Promise<PendingEvent[]> {
    return this.#run(() =>
      this.#parts.write(async trx => {
        // Rows claimed by an earlier sweep whose DLQ push or removal did not happen (a crash, Redis down): pushed
        // again, which the DLQ's one entry per record makes harmless.
        const held = await heldClaims(trx, this.#capped, limit).execute()
        const room = limit - held.length
        if (room <= 0) return held.map(row => pendingEventOf(row, false))
        const rows = await expiredRows(trx, this.#capped, before, room).execute()
        const superseded: PendingKey[] = []
        const expired: PendingKey[] = []
        for (const row of rows) {
          const current =
            row.current_ts === null || row.current_partition === null || row.current_offset === null
              ? undefined
              : {
                  eventId: '',
                  eventTs: row.current_ts,
                  source: { topic: '', partition: Number(row.current_partition), offset: BigInt(row.current_offset) },
                }
          const mine = { eventId: row.event_id, eventTs: row.event_ts, source: positionOf(row) }
          ;(current !== undefined && newer(current, mine) ? superseded : expired).push(row)
        }
        // Each row is claimed only while it still waits for its parent (parent_table 'users'): a row the parent's
        // transaction took meanwhile is applied there and neither dropped nor claimed here, so an order is
        // applied or dead-lettered, never both.
        const dropped: PendingEvent[] = []
        for (const part of chunks(superseded, keysPerList / 5)) {
          const query = trx
            .deleteFrom('pending_events')
            .where('parent_table', '=', orderParent.table)
            .where(eb => eb.or(part.map(k => sameRecord(eb, k))))
          const gone =
            this.#parts.statements.deleteReturns === 'output'
              ? await query.outputAll('deleted').execute()
              : await query.returningAll().execute()
          for (const row of gone) dropped.push(pendingEventOf(row, true))
        }
        const claimed: PendingEvent[] = []
        for (const part of chunks(expired, keysPerList / 5)) {
          const query = trx
            .updateTable('pending_events')
            .set({ parent_table: claimedParent })
            .where('parent_table', '=', orderParent.table)
            .where(eb => eb.or(part.map(k => sameRecord(eb, k))))
          const taken =
            this.#parts.statements.deleteReturns === 'output'
              ? await query.outputAll('inserted').execute()
              : await query.returningAll().execute()
          for (const row of taken) claimed.push(pendingEventOf(row, false))
        }
        return [...held.map(row => pendingEventOf(row, false)), ...claimed, ...dropped]
      }),
    )
  }

  removePending(sources: readonly Source[]): Promise<void> {
    return this.#run(async () => {
      for (const part of chunks(sources, keysPerList / 5)) {
        await this.#db
          .deleteFrom('pending_events')
          .where(eb =>
            eb.or(
              part.map(s =>
                sameRecord(eb, { source_topic: s.topic, source_partition: s.partition, source_offset: s.offset }),
              ),
            ),
          )
          .execute()
      }
    })
  }

  pendingStats(): Promise<PendingStats> {
    return this.#run(async () => {
      // A count that stops at the cap (an index-only read of at most cap + 1 entries) rather than a counts row kept
      // by every transaction that adds or removes pending rows: that row would be one lock every lane and member
      // writing pending rows queues on, and a count that drifts the day a row is deleted by hand.
      const counted = await cappedCount(this.#db, this.#capped).executeTakeFirst()
      // The oldest row is the first entry of the expiry index under each parent_table: waiting, or claimed.
      let oldest: string | undefined
      for (const parent of [orderParent.table, claimedParent]) {
        const first = await oldestUnder(this.#db, this.#capped, parent).executeTakeFirst()
        const since = first === undefined ? undefined : String(first.pending_since)
        if (since !== undefined && (oldest === undefined || Date.parse(since) < Date.parse(oldest))) oldest = since
      }
      const count = Number(counted?.count ?? 0)
      return { count: Math.min(count, pendingCountCap), capped: count > pendingCountCap, oldestSince: oldest }
    })
  }

  getUser(userId: string): Promise<User | undefined> {
    return this.#reads.users(userId)
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
    return this.#reads.orders(orderId)
  }

  getPayment(orderId: string): Promise<Payment | undefined> {
    return this.#reads.payments(orderId)
  }

  getOrderWithPayment(orderId: string): Promise<OrderWithPayment | undefined> {
    return this.#reads.ordersWithPayments(orderId)
  }

  getInventory(sku: string): Promise<Inventory | undefined> {
    return this.#reads.inventory(sku)
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
