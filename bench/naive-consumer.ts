// The baseline: a consumer written the way the reference Go system works. One record at a time: parse it, open a
// transaction, write its one row with the same idempotency rules as the pipeline (newer event wins, each delta
// once through the ledger), commit the transaction, then commit that record's offset to Kafka and wait for it.
// Same broker, same database server, same schema (migrated by the real store), same validation (parseRecord).
import { Consumer } from '@platformatic/kafka'
import pg from 'pg'
import { type Event, parseRecord } from '../src/events/index.ts'

export interface NaiveOptions {
  readonly brokers: string[]
  readonly topic: string
  readonly groupId: string
  readonly databaseUrl: string
  /** Stop after this many records… */
  readonly maxRecords: number
  /** …or after this long, whichever comes first. */
  readonly maxMs: number
  /** Called once the group is joined and the first record is about to be handled. */
  readonly onStart?: () => void
  readonly onProgress?: (handled: number) => void
}

export interface NaiveResult {
  readonly handled: number
  readonly failed: number
  readonly ms: number
}

const upsertUser = `INSERT INTO users (user_id, name, email, created_at, event_id, event_ts, source_topic,
    source_partition, source_offset) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
  ON CONFLICT (user_id) DO UPDATE SET name = excluded.name, email = excluded.email, created_at = excluded.created_at,
    event_id = excluded.event_id, event_ts = excluded.event_ts, source_topic = excluded.source_topic,
    source_partition = excluded.source_partition, source_offset = excluded.source_offset, updated_at = now()
  WHERE users.event_ts <= excluded.event_ts`

const upsertOrder = `INSERT INTO orders (order_id, user_id, total, status, created_at, event_id, event_ts, source_topic,
    source_partition, source_offset) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
  ON CONFLICT (order_id) DO UPDATE SET user_id = excluded.user_id, total = excluded.total, status = excluded.status,
    created_at = excluded.created_at, event_id = excluded.event_id, event_ts = excluded.event_ts,
    source_topic = excluded.source_topic, source_partition = excluded.source_partition,
    source_offset = excluded.source_offset, updated_at = now()
  WHERE orders.event_ts <= excluded.event_ts`

const upsertPayment = `INSERT INTO payments (order_id, status, amount, settled_at, event_id, event_ts, source_topic,
    source_partition, source_offset) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
  ON CONFLICT (order_id) DO UPDATE SET status = excluded.status, amount = excluded.amount,
    settled_at = excluded.settled_at, event_id = excluded.event_id, event_ts = excluded.event_ts,
    source_topic = excluded.source_topic, source_partition = excluded.source_partition,
    source_offset = excluded.source_offset, updated_at = now()
  WHERE payments.event_ts <= excluded.event_ts`

const insertLedger = `INSERT INTO inventory_ledger (event_id, sku, delta, reason, adjusted_at, source_topic,
    source_partition, source_offset) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (event_id) DO NOTHING`

const upsertInventory = `INSERT INTO inventory (sku, quantity, last_adjusted_at, source_topic, source_partition,
    source_offset) VALUES ($1, $2, $3, $4, $5, $6)
  ON CONFLICT (sku) DO UPDATE SET quantity = inventory.quantity + excluded.quantity,
    last_adjusted_at = GREATEST(inventory.last_adjusted_at, excluded.last_adjusted_at),
    source_topic = excluded.source_topic, source_partition = excluded.source_partition,
    source_offset = excluded.source_offset`

async function apply(client: pg.Client, event: Event, topic: string, partition: number, offset: string) {
  const source = [topic, partition, offset]
  await client.query('BEGIN')
  try {
    switch (event.type) {
      case 'UserCreated': {
        const d = event.data
        await client.query(upsertUser, [
          d.userId,
          d.name,
          d.email,
          d.createdAt,
          event.eventId,
          event.timestamp,
          ...source,
        ])
        break
      }
      case 'OrderPlaced': {
        const d = event.data
        const row = [d.orderId, d.userId, d.total.toFixed(2), d.status ?? 'placed', d.createdAt]
        await client.query(upsertOrder, [...row, event.eventId, event.timestamp, ...source])
        break
      }
      case 'PaymentSettled': {
        const d = event.data
        const row = [d.orderId, d.status, d.amount.toFixed(2), d.settledAt, event.eventId, event.timestamp]
        await client.query(upsertPayment, [...row, ...source])
        break
      }
      case 'InventoryAdjusted': {
        const d = event.data
        const row = [event.eventId, d.sku, d.delta, d.reason ?? null, d.adjustedAt, ...source]
        const inserted = await client.query(insertLedger, row)
        if (inserted.rowCount === 1) await client.query(upsertInventory, [d.sku, d.delta, d.adjustedAt, ...source])
        break
      }
    }
    await client.query('COMMIT')
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {})
    throw error
  }
}

export async function runNaiveConsumer(options: NaiveOptions): Promise<NaiveResult> {
  const client = new pg.Client({ connectionString: options.databaseUrl, options: '-c TimeZone=UTC' })
  await client.connect()
  const consumer = new Consumer({
    clientId: 'bench-naive',
    bootstrapBrokers: options.brokers,
    groupId: options.groupId,
    sessionTimeout: 10_000,
    heartbeatInterval: 1000,
    maxWaitTime: 100,
  })
  let handled = 0
  let failed = 0
  let started = 0
  try {
    const stream = await consumer.consume({
      topics: [options.topic],
      mode: 'committed',
      fallbackMode: 'earliest',
      autocommit: false,
    })
    let deadline = Number.POSITIVE_INFINITY
    for await (const message of stream) {
      if (started === 0) {
        started = performance.now()
        deadline = started + options.maxMs
        options.onStart?.()
      }
      try {
        const event = parseRecord(message.value)
        // The seed retried a failed record a few times before giving up on it; this workload has no bad records.
        await apply(client, event, message.topic, message.partition, message.offset.toString())
      } catch {
        failed++
      }
      await consumer.commit({
        offsets: [
          {
            topic: message.topic,
            partition: message.partition,
            offset: message.offset + 1n,
            leaderEpoch: message.leaderEpoch,
          },
        ],
      })
      handled++
      if (handled % 200 === 0) options.onProgress?.(handled)
      if (handled >= options.maxRecords || performance.now() >= deadline) break
    }
    const ms = performance.now() - started
    await stream.close()
    return { handled, failed, ms }
  } finally {
    await consumer.close(true).catch(() => {})
    await client.end().catch(() => {})
  }
}
