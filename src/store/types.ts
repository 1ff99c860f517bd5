// The one Store interface every engine implements (store/mssql, store/postgres, store/sqlite, each with the same
// file names). It exposes no connection or transaction types: callers hand it whole batches.
import type { PipelineError } from '../errors.ts'
import type { Event } from '../events/index.ts'

/** Where a record came from: stored with what it applied, so every row can be traced to its Kafka record. */
export interface Source {
  readonly topic: string
  readonly partition: number
  readonly offset: bigint
}

/** A processed mark: a position and, when known, the Kafka topic ID of the log it belongs to. */
export interface Mark extends Source {
  readonly topicId?: string
}

export interface SourcedEvent {
  readonly event: Event
  /** Where this record is in Kafka: what applied_offsets and a pending row's key are made of. */
  readonly source: Source
  /**
   * Where the record first entered the log, when it is a redriven copy (its `x-redrive-source` header): the
   * position last-writer-wins compares. Absent for an original record, whose position is `source`.
   */
  readonly origin?: Source
}

export interface User {
  userId: string
  name: string
  email: string
  createdAt: string
  updatedAt: string
}

export interface Order {
  orderId: string
  userId: string
  total: number
  status: string
  createdAt: string
  updatedAt: string
}

export interface Payment {
  orderId: string
  status: string
  amount: number
  settledAt: string
  updatedAt: string
}

/** An order and its payment (null when none is stored), read together. */
export interface OrderWithPayment {
  order: Order
  payment: Payment | null
}

export interface Inventory {
  sku: string
  quantity: number
  lastAdjustedAt: string
}

export interface ApplyResult {
  /** State rows written (inserted or updated). */
  readonly upserts: number
  /** State events skipped because the row holds a newer event. */
  readonly stale: number
  /** Inventory deltas applied now. */
  readonly deltasApplied: number
  /** Inventory deltas whose eventId was already in the ledger (redelivery). */
  readonly deltasDuplicate: number
  /** Events stored as pending because their parent is missing (an order whose user is not stored yet). */
  readonly pending: number
  /** Positions (in the events handed to applyBatch) of the events stored as pending. */
  readonly pendingPositions: readonly number[]
  /** Pending events this batch's parents released and applied. */
  readonly resolved: number
  /**
   * Records refused on their own while the rest of the batch was applied (an eventId reused with another
   * payload): the caller dead-letters them. `position` indexes the events handed to applyBatch.
   */
  readonly conflicts: readonly { readonly position: number; readonly error: PipelineError }[]
}

/** An event that waits in the store for its parent. */
export interface PendingEvent {
  readonly source: Source
  readonly eventId: string
  readonly type: string
  /** The entity key of the event (an order's orderId). */
  readonly key: string
  /** The table and key of the missing parent, and the constraint that needs it. */
  readonly parentTable: string
  readonly parentKey: string
  readonly constraint: string
  /** The event as JSON. */
  readonly payload: string
  /** When it was first stored as pending (ISO-8601 UTC). */
  readonly pendingSince: string
  /** A newer event of the same key is already stored: this one can only lose, so it is dropped, not dead-lettered. */
  readonly superseded: boolean
}

export interface PendingStats {
  /** Pending events, counted up to `pendingCountCap`. */
  readonly count: number
  /** The table holds more than `count` rows: counting stopped at the cap (show it as "≥ count"). */
  readonly capped: boolean
  /** When the oldest pending event was stored, if there is one. */
  readonly oldestSince: string | undefined
}

/**
 * Counting pending rows stops here: the count costs at most this many index entries whatever the table holds, and
 * past it the exact number tells an operator nothing the oldest row's age does not.
 */
export const pendingCountCap = 100_000

/**
 * Which pending events a resolve looks at: those waiting for one of `parents` (what a batch just stored), those
 * stored at or after `since` (ISO-8601; what other members stored lately), or every one (a scan of the table).
 */
export type PendingScope = { readonly parents: readonly string[] } | { readonly since: string } | 'all'

/** The tables of state events, as event_log names them. */
export type StateTable = 'users' | 'orders' | 'payments'

/** Which event wrote a row, and when. */
export interface RowStamp {
  readonly eventId: string
  readonly eventTs: string
  readonly source: Source
  readonly updatedAt: string
}

/**
 * What the store knows about one eventId, for its status (src/event-status/status.ts decides on these facts).
 * `logged` is the event_log row of a state event (kept for EVENT_LOG_RETENTION): the table and key it was
 * for and its own first record; `row` is that row as it is now.
 */
export interface EventFacts {
  readonly logged:
    | { readonly table: StateTable; readonly key: string; readonly eventTs: string; readonly source: Source }
    | undefined
  readonly row: RowStamp | undefined
  /** Pending rows of this eventId, one per Kafka record, oldest first. */
  readonly pending: readonly Omit<PendingEvent, 'payload' | 'superseded' | 'type' | 'eventId'>[]
  /** The inventory ledger row of a delta with this eventId (kept for ever: it is what makes deltas apply once). */
  readonly ledger:
    | { readonly sku: string; readonly delta: number; readonly source: Source; readonly appliedAt: string }
    | undefined
}

export type Engine = 'sqlite' | 'postgres' | 'mssql'

export interface StoreOptions {
  /** Most connections the PostgreSQL or SQL Server pool opens (default 10); SQLite always uses one. */
  readonly poolSize?: number
  /**
   * Longest one database call may take (DB_TIMEOUT_MS): PostgreSQL's query and connection timeouts, SQLite's
   * busy timeout. Each engine keeps its own default when it is not given.
   */
  readonly timeoutMs?: number
}

export interface Store {
  readonly engine: Engine
  /** Creates or upgrades the schema; safe to run twice and from two processes at once. */
  migrate(): Promise<void>
  /**
   * Applies the events in ONE transaction, all or nothing. Rules: state events (UserCreated, OrderPlaced,
   * PaymentSettled) are upserts where the newest event by (timestamp, Kafka offset) holds the row, whatever
   * order records arrive in (equal timestamps: the later record wins, so a redelivery with changed fields
   * updates the row); InventoryAdjusted deltas apply exactly once per eventId through a ledger written in the
   * same transaction, and an eventId re-sent with another delta payload is returned in `conflicts`. An order
   * whose user is not stored is kept as a pending event in the same transaction; storing the user applies it.
   * Throws a PipelineError: retryable for connection loss, timeouts and deadlocks; not retryable for
   * constraint violations (code CONSTRAINT_VIOLATION, naming the constraint) and out-of-range data.
   *
   * `processed` are Kafka positions through which every record of their partition is processed (applied,
   * pending, or dead-lettered) once this transaction commits: applied_offsets keeps the greatest per partition, in
   * the same transaction, or starts again from a mark of another topic ID. With no events, only those marks are
   * written.
   */
  applyBatch(events: readonly SourcedEvent[], processed?: readonly Mark[]): Promise<ApplyResult>
  /** Per partition of `topic`, the offset through which every record is processed (see applyBatch). */
  appliedOffsets(topic: string): Promise<Map<number, bigint>>
  /**
   * The same marks, only those known to belong to the topic whose Kafka topic ID is `topicId` (a topic deleted
   * and re-created under its name is another log): every record at or below them was stored, pending, or pushed to
   * the DLQ, so a consumer that reads them again (a new group, or a group whose offsets expired) skips them.
   */
  handledThrough(topic: string, topicId: string): Promise<Map<number, bigint>>
  /** What the tables say about one eventId (see EventFacts). */
  eventFacts(eventId: string): Promise<EventFacts>
  /** Deletes up to `limit` event_log rows logged before `before` (ISO-8601); returns how many it deleted. */
  pruneEventLog(before: string, limit: number): Promise<number>
  /**
   * Applies, in one transaction, pending events of up to `limit` parents that are stored now (one member may
   * store a parent while another stores its child as pending), among those `scope` names; returns how many it
   * applied. Finding them costs what the scope holds: an index seek per parent, or a range of pending_since.
   */
  resolvePending(limit: number, scope?: PendingScope): Promise<number>
  /**
   * Up to `limit` distinct parent keys that pending events wait for, in key order, after `after` (from the first
   * when undefined): a walk over the whole table one bounded page at a time.
   */
  pendingParents(after: string | undefined, limit: number): Promise<string[]>
  /**
   * Claims up to `limit` pending events stored before `before` (ISO-8601), oldest first, in one transaction: a
   * claimed row can no longer be applied by its parent, so an order is applied or dead-lettered, never both.
   * Those a newer event of their order already replaced are deleted there and returned with `superseded`; the
   * others stay, claimed, until removePending after their DLQ push (rows claimed earlier and never removed, as
   * after a crash, are returned again first).
   */
  claimExpired(before: string, limit: number): Promise<PendingEvent[]>
  /** Removes these pending events (after they were dead-lettered or found superseded). */
  removePending(sources: readonly Source[]): Promise<void>
  /** The count (capped at pendingCountCap) and the oldest row: two index reads whatever the table holds. */
  pendingStats(): Promise<PendingStats>
  getUser(userId: string): Promise<User | undefined>
  /** The user's newest orders by createdAt, newest first. */
  getRecentOrders(userId: string, limit: number): Promise<Order[]>
  getOrder(orderId: string): Promise<Order | undefined>
  getPayment(orderId: string): Promise<Payment | undefined>
  /** The order and its payment as one read (one snapshot, one query); undefined when the order is not stored. */
  getOrderWithPayment(orderId: string): Promise<OrderWithPayment | undefined>
  getInventory(sku: string): Promise<Inventory | undefined>
  /** Resolves when the database answers a trivial query; throws a retryable PipelineError otherwise. */
  ping(): Promise<void>
  close(): Promise<void>
}
