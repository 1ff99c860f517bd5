// The physical ceiling: the same rows the consumer writes, loaded the fastest way PostgreSQL offers. Every
// record of the workload (duplicates and superseded versions included, as the consumer receives them) is sent
// with COPY … FROM STDIN (text format) into unlogged temporary staging tables, then merged into the real tables
// with one INSERT … ON CONFLICT per table under the same rules (newest event per key wins, each delta once
// through the ledger), all in one transaction.
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import pg from 'pg'
import { from as copyFrom } from 'pg-copy-streams'
import { type Event, parseRecord } from '../src/events/index.ts'
import type { WorkloadRecord } from './workload.ts'

type Cell = string | number | null

// The characters COPY's text format escapes.
const special = /[\\\t\n\r]/g
const escapes: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' }

function copyText(rows: readonly Cell[][]): Buffer[] {
  const out: Buffer[] = []
  let text = ''
  for (const row of rows) {
    let line = ''
    for (let i = 0; i < row.length; i++) {
      const cell = row[i]
      if (i > 0) line += '\t'
      line += cell === null || cell === undefined ? '\\N' : String(cell).replace(special, c => escapes[c]!)
    }
    text += `${line}\n`
    // Chunks of about 1 MB keep the socket writes large without one huge string.
    if (text.length > 1_000_000) {
      out.push(Buffer.from(text))
      text = ''
    }
  }
  if (text.length > 0) out.push(Buffer.from(text))
  return out
}

export interface CeilingRows {
  readonly users: Cell[][]
  readonly orders: Cell[][]
  readonly payments: Cell[][]
  readonly ledger: Cell[][]
  readonly count: number
}

/** The rows of every record, parsed as the consumer parses them (done before the clock starts). */
export function ceilingRows(topic: string, records: readonly WorkloadRecord[]): CeilingRows {
  const rows: CeilingRows = { users: [], orders: [], payments: [], ledger: [], count: records.length }
  records.forEach((record, seq) => {
    const event: Event = parseRecord(Buffer.from(record.value))
    const source = [topic, record.partition, record.offset]
    switch (event.type) {
      case 'UserCreated': {
        const d = event.data
        rows.users.push([seq, d.userId, d.name, d.email, d.createdAt, event.eventId, event.timestamp, ...source])
        break
      }
      case 'OrderPlaced': {
        const d = event.data
        const data = [d.orderId, d.userId, d.total.toFixed(2), d.status ?? 'placed', d.createdAt]
        rows.orders.push([seq, ...data, event.eventId, event.timestamp, ...source])
        break
      }
      case 'PaymentSettled': {
        const d = event.data
        const data = [d.orderId, d.status, d.amount.toFixed(2), d.settledAt]
        rows.payments.push([seq, ...data, event.eventId, event.timestamp, ...source])
        break
      }
      case 'InventoryAdjusted': {
        const d = event.data
        rows.ledger.push([seq, event.eventId, d.sku, d.delta, d.reason ?? null, d.adjustedAt, ...source])
        break
      }
    }
  })
  return rows
}

const src = 'source_topic VARCHAR(255), source_partition INT, source_offset BIGINT'
const stamp = `event_id VARCHAR(100), event_ts timestamptz(3), ${src}`
const staging = [
  `CREATE TEMP TABLE s_users (seq BIGINT, user_id VARCHAR(100), name VARCHAR(255), email VARCHAR(255),
     created_at timestamptz(3), ${stamp}) ON COMMIT DROP`,
  `CREATE TEMP TABLE s_orders (seq BIGINT, order_id VARCHAR(100), user_id VARCHAR(100), total NUMERIC(18,2),
     status VARCHAR(50), created_at timestamptz(3), ${stamp}) ON COMMIT DROP`,
  `CREATE TEMP TABLE s_payments (seq BIGINT, order_id VARCHAR(100), status VARCHAR(50), amount NUMERIC(18,2),
     settled_at timestamptz(3), ${stamp}) ON COMMIT DROP`,
  `CREATE TEMP TABLE s_ledger (seq BIGINT, event_id VARCHAR(100), sku VARCHAR(100), delta INT, reason VARCHAR(255),
     adjusted_at timestamptz(3), ${src}) ON COMMIT DROP`,
]

const stampSet = `event_id = excluded.event_id, event_ts = excluded.event_ts, source_topic = excluded.source_topic,
  source_partition = excluded.source_partition, source_offset = excluded.source_offset, updated_at = now()`
const stampCols = 'event_id, event_ts, source_topic, source_partition, source_offset'

// Per key, the newest event wins; equal timestamps go to the later record, as in the consumer.
const merges = [
  `INSERT INTO users (user_id, name, email, created_at, ${stampCols})
   SELECT DISTINCT ON (user_id) user_id, name, email, created_at, ${stampCols} FROM s_users
   ORDER BY user_id, event_ts DESC, seq DESC
   ON CONFLICT (user_id) DO UPDATE SET name = excluded.name, email = excluded.email,
     created_at = excluded.created_at, ${stampSet}
   WHERE users.event_ts <= excluded.event_ts`,
  `INSERT INTO orders (order_id, user_id, total, status, created_at, ${stampCols})
   SELECT DISTINCT ON (order_id) order_id, user_id, total, status, created_at, ${stampCols} FROM s_orders
   ORDER BY order_id, event_ts DESC, seq DESC
   ON CONFLICT (order_id) DO UPDATE SET user_id = excluded.user_id, total = excluded.total,
     status = excluded.status, created_at = excluded.created_at, ${stampSet}
   WHERE orders.event_ts <= excluded.event_ts`,
  `INSERT INTO payments (order_id, status, amount, settled_at, ${stampCols})
   SELECT DISTINCT ON (order_id) order_id, status, amount, settled_at, ${stampCols} FROM s_payments
   ORDER BY order_id, event_ts DESC, seq DESC
   ON CONFLICT (order_id) DO UPDATE SET status = excluded.status, amount = excluded.amount,
     settled_at = excluded.settled_at, ${stampSet}
   WHERE payments.event_ts <= excluded.event_ts`,
  `WITH applied AS (
     INSERT INTO inventory_ledger (event_id, sku, delta, reason, adjusted_at, source_topic, source_partition,
       source_offset)
     SELECT DISTINCT ON (event_id) event_id, sku, delta, reason, adjusted_at, source_topic, source_partition,
       source_offset FROM s_ledger ORDER BY event_id, seq
     ON CONFLICT (event_id) DO NOTHING
     RETURNING sku, delta, adjusted_at, source_topic, source_partition, source_offset)
   INSERT INTO inventory (sku, quantity, last_adjusted_at, source_topic, source_partition, source_offset)
   SELECT sku, sum(delta), max(adjusted_at), max(source_topic), max(source_partition), max(source_offset)
   FROM applied GROUP BY sku ORDER BY sku
   ON CONFLICT (sku) DO UPDATE SET quantity = inventory.quantity + excluded.quantity,
     last_adjusted_at = GREATEST(inventory.last_adjusted_at, excluded.last_adjusted_at),
     source_topic = excluded.source_topic, source_partition = excluded.source_partition,
     source_offset = excluded.source_offset`,
]

/** Loads the rows into the (migrated, empty) database at `url`; returns the elapsed milliseconds. */
export async function loadWithCopy(url: string, rows: CeilingRows): Promise<number> {
  const client = new pg.Client({ connectionString: url, options: '-c TimeZone=UTC' })
  await client.connect()
  try {
    const started = performance.now()
    await client.query('BEGIN')
    for (const statement of staging) await client.query(statement)
    const tables = [
      ['s_users', rows.users],
      ['s_orders', rows.orders],
      ['s_payments', rows.payments],
      ['s_ledger', rows.ledger],
    ] as const
    for (const [table, data] of tables) {
      const copy = client.query(copyFrom(`COPY ${table} FROM STDIN`))
      // The stream finishes once the server has answered the end of the copy, with the rows it counted.
      await pipeline(Readable.from(copyText(data)), copy)
      const copied = copy.rowCount
      if (copied !== data.length) throw new Error(`COPY ${table}: ${copied} rows of ${data.length}`)
    }
    for (const statement of merges) await client.query(statement)
    await client.query('COMMIT')
    return performance.now() - started
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {})
    throw error
  } finally {
    await client.end()
  }
}
