// Engine-independent planning of one applyBatch call: the batch is collapsed to one row per key before any SQL
// runs, because a multi-row upsert may not touch the same row twice (PostgreSQL refuses it outright) and
// because the winner per key must not depend on the order rows happen to be written in.
import { createHash } from 'node:crypto'
import { PipelineError } from '../errors.ts'
import type { Event } from '../events/index.ts'
import type { Source, SourcedEvent, StateTable } from './types.ts'

/** What every state row remembers about the event that last wrote it. */
export interface Stamp {
  readonly eventId: string
  /** ISO-8601 UTC with milliseconds, so string order is time order. */
  readonly eventTs: string
  readonly source: Source
}

export interface UserRow extends Stamp {
  readonly userId: string
  readonly name: string
  readonly email: string
  readonly createdAt: string
}

export interface OrderRow extends Stamp {
  /** The event the row comes from: what a pending row stores while the user is missing. */
  readonly event: Extract<Event, { type: 'OrderPlaced' }>
  /** The Kafka record itself, which keys a pending row; `source` is its position (the original's, for a copy). */
  readonly record: Source
  /** Position in the batch handed to applyBatch; undefined for a pending order released from the store. */
  readonly position: number | undefined
  readonly orderId: string
  readonly userId: string
  /** Decimal text with exactly two places ('123.45'): exact in every engine, unlike a double. */
  readonly total: string
  readonly status: string
  readonly createdAt: string
}

export interface PaymentRow extends Stamp {
  readonly orderId: string
  readonly status: string
  readonly amount: string
  readonly settledAt: string
}

export interface DeltaRow {
  readonly eventId: string
  readonly sku: string
  readonly delta: number
  readonly reason: string | null
  readonly adjustedAt: string
  readonly source: Source
  /** Position in the batch: the source of the last applied delta is what the inventory row keeps. */
  readonly position: number
}

/** The net effect of the newly applied deltas on one inventory row. */
export interface InventoryChange {
  readonly sku: string
  readonly delta: number
  readonly lastAdjustedAt: string
  readonly source: Source
}

/** Where a state event went (event_log): the table and key it was for, whether it holds the row or not. */
export interface LogRow extends Stamp {
  readonly table: StateTable
  readonly key: string
}

export interface BatchPlan {
  readonly users: readonly UserRow[]
  /** Every order record of the batch, in batch order: which of them may be applied depends on their users. */
  readonly orders: readonly OrderRow[]
  readonly payments: readonly PaymentRow[]
  /** The first record of each delta eventId in the batch, sorted by eventId. */
  readonly deltas: readonly DeltaRow[]
  /** The later records of those eventIds, in batch order: each is judged against the eventId's first record. */
  readonly repeatedDeltas: readonly DeltaRow[]
  /** State events in the batch, winners and losers: upserts + stale always add up to it. */
  readonly stateEvents: number
  /** One row per eventId of the batch's state events (its first record), winners and losers, sorted by eventId. */
  readonly logged: readonly LogRow[]
}

export interface Conflict {
  /** Position of the refused record in the events handed to applyBatch. */
  readonly position: number
  readonly error: PipelineError
}

export const defaultOrderStatus = 'placed'

/** The parent an order needs, as pending rows name it. */
export const orderParent = { table: 'users', constraint: 'FK_Orders_Users' } as const

/** DECIMAL(18,2) as exact text. NaN and infinities are refused here: PostgreSQL's NUMERIC would store NaN. */
export function moneyText(value: number, field: string): string {
  if (!Number.isFinite(value)) {
    throw new PipelineError('DATA_OUT_OF_RANGE', `${field} ${value} is not a finite amount of money`)
  }
  return value.toFixed(2)
}

/**
 * Last writer wins by (event timestamp, position), where a record's position is where it first entered the log
 * (a redriven copy keeps its original's). On equal timestamps the record further along the log wins: the greater
 * offset within one partition, so a correction re-sent under the same eventId replaces the first copy; across
 * partitions (a key moved by a partition-count change, a copy redriven elsewhere), where offsets say nothing about
 * order, the greater partition number. Equal positions: the one applied last (the same record, or a fixed copy
 * of it). A total order, so the order in which records reach a member never decides. SQL keeps the same rule
 * against the stored row (statements.ts of each engine).
 */
export function newer(a: Stamp, b: Stamp): boolean {
  if (a.eventTs !== b.eventTs) return a.eventTs > b.eventTs
  if (a.source.partition !== b.source.partition) return a.source.partition > b.source.partition
  return a.source.offset >= b.source.offset
}

function keep<R extends Stamp>(winners: Map<string, R>, key: string, row: R): void {
  const current = winners.get(key)
  if (current === undefined || newer(row, current)) winners.set(key, row)
}

/** What a delta's eventId stands for: two records with one eventId must carry the same. */
export function deltaDigest(row: Pick<DeltaRow, 'sku' | 'delta' | 'reason' | 'adjustedAt'>): string {
  const canonical = JSON.stringify([row.sku, row.delta, row.reason, row.adjustedAt])
  return createHash('sha256').update(canonical).digest('hex').slice(0, 16)
}

/**
 * A delta cannot be corrected by re-sending it: applying the second payload would count the adjustment twice,
 * ignoring it would lose it silently. So a reused eventId with another payload is refused for good, naming both.
 */
export function deltaConflict(eventId: string, first: string, second: string): PipelineError {
  return new PipelineError(
    'EVENT_ID_CONFLICT',
    `eventId ${eventId} was already applied as an InventoryAdjusted with another payload (applied digest ${first}, this record's digest ${second}); a delta cannot be corrected by re-sending it: send a new event`,
  )
}

// Rows go to the database sorted by key so that two transactions touching the same keys lock them in the same
// order and cannot deadlock each other.
function sortedValues<R>(rows: Map<string, R>): R[] {
  return [...rows.keys()].sort().map(key => rows.get(key)!)
}

/**
 * A redriven copy's original position, which its pending row keeps beside the copy's own coordinates; undefined
 * for an original record, whose position is its own.
 */
export const originOf = (row: OrderRow): Source | undefined => (row.source === row.record ? undefined : row.source)

export function orderRowOf(event: OrderRow['event'], source: Source, record: Source, position?: number): OrderRow {
  const { orderId, userId, total, status, createdAt } = event.data
  return {
    event,
    record,
    position,
    eventId: event.eventId,
    eventTs: event.timestamp,
    source,
    orderId,
    userId,
    total: moneyText(total, 'total'),
    status: status ?? defaultOrderStatus,
    createdAt,
  }
}

/** Merges order rows into one winner per orderId (see newer), sorted by orderId. */
export function winnersByOrder(rows: Iterable<OrderRow>): OrderRow[] {
  const winners = new Map<string, OrderRow>()
  for (const row of rows) keep(winners, row.orderId, row)
  return sortedValues(winners)
}

export function planBatch(batch: readonly SourcedEvent[]): BatchPlan {
  const users = new Map<string, UserRow>()
  const orders: OrderRow[] = []
  const payments = new Map<string, PaymentRow>()
  const deltas = new Map<string, DeltaRow>()
  const repeatedDeltas: DeltaRow[] = []
  let stateEvents = 0
  const logged = new Map<string, LogRow>()
  // The first record of an eventId is the one logged, as the log's insert-or-ignore keeps the first it sees.
  // Rows are object literals rather than spreads of a shared stamp: one allocation each, of one shape.
  const log = (event: Event, source: Source, table: StateTable, key: string) => {
    const eventId = event.eventId
    if (!logged.has(eventId)) logged.set(eventId, { eventId, eventTs: event.timestamp, source, table, key })
  }
  batch.forEach(({ event, source: record, origin }, position) => {
    const source = origin ?? record
    switch (event.type) {
      case 'UserCreated': {
        const { userId, name, email, createdAt } = event.data
        const row = { eventId: event.eventId, eventTs: event.timestamp, source, userId, name, email, createdAt }
        keep(users, userId, row)
        log(event, source, 'users', userId)
        stateEvents++
        break
      }
      case 'OrderPlaced': {
        const row = orderRowOf(event, source, record, position)
        orders.push(row)
        log(event, source, 'orders', row.orderId)
        stateEvents++
        break
      }
      case 'PaymentSettled': {
        const { orderId, status, amount, settledAt } = event.data
        const amountText = moneyText(amount, 'amount')
        const row = {
          eventId: event.eventId,
          eventTs: event.timestamp,
          source,
          orderId,
          status,
          amount: amountText,
          settledAt,
        }
        keep(payments, orderId, row)
        log(event, source, 'payments', orderId)
        stateEvents++
        break
      }
      case 'InventoryAdjusted': {
        const { sku, delta, reason, adjustedAt } = event.data
        const row = { eventId: event.eventId, sku, delta, reason: reason ?? null, adjustedAt, source: record, position }
        if (deltas.has(event.eventId)) repeatedDeltas.push(row)
        else deltas.set(event.eventId, row)
        break
      }
    }
  })
  return {
    users: sortedValues(users),
    orders,
    payments: sortedValues(payments),
    deltas: sortedValues(deltas),
    repeatedDeltas,
    stateEvents,
    logged: sortedValues(logged),
  }
}

type DeltaFields = Pick<DeltaRow, 'sku' | 'delta' | 'reason' | 'adjustedAt'>

/**
 * Judges records of delta eventIds against each eventId's first record in the log, as a record-at-a-time reading
 * would: `first` gives that record (the ledger's, when the eventId was applied before this batch; else the
 * batch's first record of it). The same payload is a redelivery, another is a conflict. Digests are computed
 * only here: repeated eventIds are rare, and the batch's hot path hashes nothing.
 */
export function judgeDeltas(
  records: readonly DeltaRow[],
  first: (eventId: string) => DeltaFields | undefined,
): { duplicates: number; conflicts: Conflict[] } {
  let duplicates = 0
  const conflicts: Conflict[] = []
  for (const row of records) {
    const applied = first(row.eventId)
    if (applied === undefined) continue
    const [was, now] = [deltaDigest(applied), deltaDigest(row)]
    if (was === now) duplicates++
    else conflicts.push({ position: row.position, error: deltaConflict(row.eventId, was, now) })
  }
  conflicts.sort((a, b) => a.position - b.position)
  return { duplicates, conflicts }
}

/**
 * The greatest offset per topic and partition among `sources`, sorted: what one transaction marks as processed
 * (applied_offsets keeps the greatest it was ever given, so a late, lower mark never moves it back).
 */
export function processedThrough<S extends Source>(sources: readonly S[]): S[] {
  // Called with every record of a batch, nearly all of one partition: grouped by topic, then partition, with no
  // key built per record.
  const byTopic = new Map<string, Map<number, S>>()
  for (const s of sources) {
    let partitions = byTopic.get(s.topic)
    if (partitions === undefined) {
      partitions = new Map()
      byTopic.set(s.topic, partitions)
    }
    const current = partitions.get(s.partition)
    if (current === undefined || s.offset > current.offset) partitions.set(s.partition, s)
  }
  const out: S[] = []
  for (const topic of [...byTopic.keys()].sort()) {
    const partitions = byTopic.get(topic)!
    for (const partition of [...partitions.keys()].sort((a, b) => a - b)) out.push(partitions.get(partition)!)
  }
  return out
}

/** Sums the deltas the ledger accepted (the `applied` eventIds) per sku, sorted by sku. */
export function inventoryChanges(deltas: readonly DeltaRow[], applied: ReadonlySet<string>): InventoryChange[] {
  const bySku = new Map<string, { delta: number; lastAdjustedAt: string; source: Source; position: number }>()
  for (const row of deltas) {
    if (!applied.has(row.eventId)) continue
    const current = bySku.get(row.sku)
    if (current === undefined) {
      bySku.set(row.sku, {
        delta: row.delta,
        lastAdjustedAt: row.adjustedAt,
        source: row.source,
        position: row.position,
      })
      continue
    }
    current.delta += row.delta
    if (row.adjustedAt > current.lastAdjustedAt) current.lastAdjustedAt = row.adjustedAt
    if (row.position > current.position) {
      current.source = row.source
      current.position = row.position
    }
  }
  return [...bySku.keys()].sort().map(sku => {
    const { delta, lastAdjustedAt, source } = bySku.get(sku)!
    return { sku, delta, lastAdjustedAt, source }
  })
}

/** Splits rows into runs of at most `size`, for engines that cap the parameters of one statement. */
export function chunks<T>(rows: readonly T[], size: number): T[][] {
  const out: T[][] = []
  for (let i = 0; i < rows.length; i += size) out.push(rows.slice(i, i + size))
  return out
}
