// The SQLite schema. Timestamps are TEXT holding ISO-8601 UTC with milliseconds ('2025-01-11T12:00:00.000Z'),
// so text order is time order and the event_ts comparison of the upserts is a plain string comparison. Money is
// TEXT holding the exact decimal ('123.45'): SQLite has no DECIMAL type, and a REAL would make sums inexact.
// SQLite ignores VARCHAR lengths, so they are CHECK constraints here; their names start with len_ or range_,
// which errors.ts reports as DATA_OUT_OF_RANGE, like PostgreSQL's own length and overflow errors.
import type { Transaction } from 'kysely'
import { applyMigrations, type Migration } from '../migrator.ts'
import type { Tables } from '../tables.ts'

const now = `(strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))`

const len = (table: string, column: string, max: number) =>
  `CONSTRAINT len_${table}_${column} CHECK (length(${column}) <= ${max})`
const money = (table: string, column: string) =>
  `CONSTRAINT range_${table}_${column} CHECK (abs(CAST(${column} AS REAL)) < 1e16)`
const int32 = (table: string, column: string) =>
  `CONSTRAINT range_${table}_${column} CHECK (${column} BETWEEN -2147483648 AND 2147483647)`

function stateColumns(table: string): string {
  return `updated_at TEXT NOT NULL DEFAULT ${now},
    event_id TEXT NOT NULL,
    event_ts TEXT NOT NULL,
    source_topic TEXT NOT NULL,
    source_partition INTEGER NOT NULL,
    source_offset INTEGER NOT NULL,
    ${len(table, 'event_id', 100)},
    ${len(table, 'source_topic', 255)}`
}

export const createMigrationTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
  version INTEGER PRIMARY KEY,
  applied_at TEXT NOT NULL DEFAULT ${now}
) STRICT`

export const migrations: readonly Migration[] = [
  {
    version: 1,
    description: 'the reference tables plus event and source columns, inventory ledger',
    statements: [
      `CREATE TABLE users (
        user_id TEXT NOT NULL PRIMARY KEY,
        name TEXT,
        email TEXT,
        created_at TEXT,
        ${stateColumns('users')},
        ${len('users', 'user_id', 100)},
        ${len('users', 'name', 255)},
        ${len('users', 'email', 255)}
      ) STRICT, WITHOUT ROWID`,
      `CREATE TABLE orders (
        order_id TEXT NOT NULL PRIMARY KEY,
        user_id TEXT NOT NULL,
        total TEXT,
        status TEXT,
        created_at TEXT,
        ${stateColumns('orders')},
        ${len('orders', 'order_id', 100)},
        ${len('orders', 'user_id', 100)},
        ${len('orders', 'status', 50)},
        ${money('orders', 'total')},
        CONSTRAINT FK_Orders_Users FOREIGN KEY (user_id) REFERENCES users (user_id)
      ) STRICT, WITHOUT ROWID`,
      // (user_id, created_at) rather than the reference system's (user_id): the same lookups, and "newest orders of a user"
      // becomes an index range scan instead of a sort.
      'CREATE INDEX IX_orders_user_id ON orders (user_id, created_at)',
      'CREATE INDEX IX_orders_created_at ON orders (created_at)',
      `CREATE TABLE payments (
        order_id TEXT NOT NULL PRIMARY KEY,
        status TEXT,
        amount TEXT,
        settled_at TEXT,
        ${stateColumns('payments')},
        ${len('payments', 'order_id', 100)},
        ${len('payments', 'status', 50)},
        ${money('payments', 'amount')}
      ) STRICT, WITHOUT ROWID`,
      `CREATE TABLE inventory (
        sku TEXT NOT NULL PRIMARY KEY,
        quantity INTEGER NOT NULL,
        last_adjusted_at TEXT,
        source_topic TEXT NOT NULL,
        source_partition INTEGER NOT NULL,
        source_offset INTEGER NOT NULL,
        ${len('inventory', 'sku', 100)},
        ${len('inventory', 'source_topic', 255)},
        ${int32('inventory', 'quantity')}
      ) STRICT, WITHOUT ROWID`,
      `CREATE TABLE inventory_ledger (
        event_id TEXT NOT NULL PRIMARY KEY,
        sku TEXT NOT NULL,
        delta INTEGER NOT NULL,
        reason TEXT,
        adjusted_at TEXT NOT NULL,
        source_topic TEXT NOT NULL,
        source_partition INTEGER NOT NULL,
        source_offset INTEGER NOT NULL,
        applied_at TEXT NOT NULL DEFAULT ${now},
        ${len('inventory_ledger', 'event_id', 100)},
        ${len('inventory_ledger', 'sku', 100)},
        ${len('inventory_ledger', 'reason', 255)},
        ${len('inventory_ledger', 'source_topic', 255)},
        ${int32('inventory_ledger', 'delta')}
      ) STRICT, WITHOUT ROWID`,
    ],
  },
  {
    version: 2,
    description: 'pending events: children whose parent is not stored yet, one row per Kafka record',
    statements: [
      `CREATE TABLE pending_events (
        source_topic TEXT NOT NULL,
        source_partition INTEGER NOT NULL,
        source_offset INTEGER NOT NULL,
        event_id TEXT NOT NULL,
        event_type TEXT NOT NULL,
        event_key TEXT NOT NULL,
        parent_table TEXT NOT NULL,
        parent_key TEXT NOT NULL,
        constraint_name TEXT NOT NULL,
        event_ts TEXT NOT NULL,
        payload TEXT NOT NULL,
        pending_since TEXT NOT NULL DEFAULT ${now},
        PRIMARY KEY (source_topic, source_partition, source_offset)
      ) STRICT, WITHOUT ROWID`,
      'CREATE INDEX IX_pending_events_parent ON pending_events (parent_table, parent_key)',
      'CREATE INDEX IX_pending_events_since ON pending_events (pending_since)',
    ],
  },
  {
    version: 3,
    description: 'event status and read-your-own-writes: event_log, pending events by eventId, applied_offsets',
    statements: [
      // One row per Kafka record of a state event, appended in time order (a rowid table: no uniqueness check, a
      // redelivery adds a row and lookups take the first) and pruned from its start (rowid order) past
      // EVENT_LOG_RETENTION, so logged_at needs no index. No length CHECKs: every value was checked by the state
      // table or pending row of the same transaction.
      `CREATE TABLE event_log (
        event_id TEXT NOT NULL,
        entity_table TEXT NOT NULL,
        entity_key TEXT NOT NULL,
        event_ts TEXT NOT NULL,
        source_topic TEXT NOT NULL,
        source_partition INTEGER NOT NULL,
        source_offset INTEGER NOT NULL,
        logged_at TEXT NOT NULL DEFAULT ${now}
      ) STRICT`,
      'CREATE INDEX IX_event_log_event_id ON event_log (event_id)',
      'CREATE INDEX IX_pending_events_event_id ON pending_events (event_id)',
      `CREATE TABLE applied_offsets (
        source_topic TEXT NOT NULL,
        source_partition INTEGER NOT NULL,
        source_offset INTEGER NOT NULL,
        updated_at TEXT NOT NULL DEFAULT ${now},
        PRIMARY KEY (source_topic, source_partition)
      ) STRICT, WITHOUT ROWID`,
    ],
  },
  {
    version: 4,
    description: 'positions of redriven copies in pending events; the topic identity of applied_offsets',
    statements: [
      'ALTER TABLE pending_events ADD COLUMN origin_topic TEXT NULL',
      'ALTER TABLE pending_events ADD COLUMN origin_partition INTEGER NULL',
      'ALTER TABLE pending_events ADD COLUMN origin_offset INTEGER NULL',
      // The Kafka topic ID the marks belong to: a topic deleted and re-created under its name is another log.
      'ALTER TABLE applied_offsets ADD COLUMN topic_id TEXT NULL',
    ],
  },
  {
    version: 5,
    description: 'pending events by expiry: the sweep reads only what it claims',
    statements: [
      // The sweep's two claims (rows waiting for 'users', rows claimed for the DLQ) filter on parent_table and
      // take the oldest by (pending_since, partition, offset): with this index both are one range read that stops
      // at its LIMIT, nothing expired costs one seek, and the oldest pending row is the first entry of each
      // parent_table. It replaces the index on pending_since alone, which left the claim a sort of every waiting row.
      `CREATE INDEX IF NOT EXISTS IX_pending_events_expiry
        ON pending_events (parent_table, pending_since, source_partition, source_offset)`,
      'DROP INDEX IF EXISTS IX_pending_events_since',
    ],
  },
]

/** Runs inside the store's write transaction, which is BEGIN IMMEDIATE: that is the migration lock. */
export async function migrate(trx: Transaction<Tables>): Promise<void> {
  await applyMigrations(trx, createMigrationTable, migrations)
}
