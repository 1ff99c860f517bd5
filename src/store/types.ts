// The one Store interface every engine implements (store/postgres, store/sqlite, later store/mssql, each with
// the same file names). It exposes no connection or transaction types: callers hand it whole batches.
import type { Event } from '../events/index.ts'

/** Where a record came from: stored with what it applied, so every row can be traced to its Kafka record. */
export interface Source {
  readonly topic: string
  readonly partition: number
  readonly offset: bigint
}

export interface SourcedEvent {
  readonly event: Event
  readonly source: Source
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
}

export type Engine = 'sqlite' | 'postgres' | 'mssql'

export interface Store {
  readonly engine: Engine
  /** Creates or upgrades the schema; safe to run twice and from two processes at once. */
  migrate(): Promise<void>
  /**
   * Applies the events in ONE transaction, all or nothing. Rules: state events (UserCreated, OrderPlaced,
   * PaymentSettled) are upserts where an event never overwrites a row written by an event with a later
   * timestamp (equal timestamps: the later record wins, so a redelivery with changed fields updates the row);
   * InventoryAdjusted deltas apply exactly once per eventId through a ledger written in the same transaction.
   * Throws a PipelineError: retryable for connection loss, timeouts and deadlocks; not retryable for
   * constraint violations (code CONSTRAINT_VIOLATION, naming the constraint) and out-of-range data.
   */
  applyBatch(events: readonly SourcedEvent[]): Promise<ApplyResult>
  getUser(userId: string): Promise<User | undefined>
  /** The user's newest orders by createdAt, newest first. */
  getRecentOrders(userId: string, limit: number): Promise<Order[]>
  getOrder(orderId: string): Promise<Order | undefined>
  getPayment(orderId: string): Promise<Payment | undefined>
  getInventory(sku: string): Promise<Inventory | undefined>
  /** Resolves when the database answers a trivial query; throws a retryable PipelineError otherwise. */
  ping(): Promise<void>
  close(): Promise<void>
}
