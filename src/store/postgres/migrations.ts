// The PostgreSQL schema: the reference system's tables and types (VARCHAR, DECIMAL(18,2) as NUMERIC, timestamps as
// timestamptz(3) — millisecond precision, exactly what events carry) plus the event and source columns that
// idempotency needs. Constraint and index names are quoted to keep the reference system's spelling (FK_Orders_Users).
import { sql, type Transaction } from 'kysely'
import { applyMigrations, type Migration } from '../migrator.ts'
import type { Tables } from '../tables.ts'

const stateColumns = `updated_at timestamptz(3) NOT NULL DEFAULT now(),
    event_id VARCHAR(100) NOT NULL,
    event_ts timestamptz(3) NOT NULL,
    source_topic VARCHAR(255) NOT NULL,
    source_partition INT NOT NULL,
    source_offset BIGINT NOT NULL`

const sourceColumns = `source_topic VARCHAR(255) NOT NULL,
    source_partition INT NOT NULL,
    source_offset BIGINT NOT NULL`

export const createMigrationTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
  version INT PRIMARY KEY,
  applied_at timestamptz(3) NOT NULL DEFAULT now()
)`

export const migrations: readonly Migration[] = [
  {
    version: 1,
    description: 'the reference tables plus event and source columns, inventory ledger',
    statements: [
      `CREATE TABLE users (
        user_id VARCHAR(100) PRIMARY KEY,
        name VARCHAR(255),
        email VARCHAR(255),
        created_at timestamptz(3),
        ${stateColumns}
      )`,
      `CREATE TABLE orders (
        order_id VARCHAR(100) PRIMARY KEY,
        user_id VARCHAR(100) NOT NULL,
        total NUMERIC(18,2),
        status VARCHAR(50),
        created_at timestamptz(3),
        ${stateColumns},
        CONSTRAINT "FK_Orders_Users" FOREIGN KEY (user_id) REFERENCES users (user_id)
      )`,
      // (user_id, created_at) rather than the reference system's (user_id): the same lookups, and "newest orders of a user"
      // becomes an index range scan instead of a sort.
      'CREATE INDEX "IX_orders_user_id" ON orders (user_id, created_at)',
      'CREATE INDEX "IX_orders_created_at" ON orders (created_at)',
      `CREATE TABLE payments (
        order_id VARCHAR(100) PRIMARY KEY,
        status VARCHAR(50),
        amount NUMERIC(18,2),
        settled_at timestamptz(3),
        ${stateColumns}
      )`,
      `CREATE TABLE inventory (
        sku VARCHAR(100) PRIMARY KEY,
        quantity INT NOT NULL,
        last_adjusted_at timestamptz(3),
        ${sourceColumns}
      )`,
      `CREATE TABLE inventory_ledger (
        event_id VARCHAR(100) PRIMARY KEY,
        sku VARCHAR(100) NOT NULL,
        delta INT NOT NULL,
        reason VARCHAR(255),
        adjusted_at timestamptz(3) NOT NULL,
        ${sourceColumns},
        applied_at timestamptz(3) NOT NULL DEFAULT now()
      )`,
    ],
  },
  {
    version: 2,
    description: 'pending events: children whose parent is not stored yet, one row per Kafka record',
    statements: [
      `CREATE TABLE pending_events (
        ${sourceColumns},
        event_id VARCHAR(100) NOT NULL,
        event_type VARCHAR(100) NOT NULL,
        event_key VARCHAR(100) NOT NULL,
        parent_table VARCHAR(50) NOT NULL,
        parent_key VARCHAR(100) NOT NULL,
        constraint_name VARCHAR(100) NOT NULL,
        event_ts timestamptz(3) NOT NULL,
        payload TEXT NOT NULL,
        pending_since timestamptz(3) NOT NULL DEFAULT now(),
        PRIMARY KEY (source_topic, source_partition, source_offset)
      )`,
      'CREATE INDEX "IX_pending_events_parent" ON pending_events (parent_table, parent_key)',
      'CREATE INDEX "IX_pending_events_since" ON pending_events (pending_since)',
    ],
  },
  {
    version: 3,
    description: 'event status and read-your-own-writes: event_log, pending events by eventId, applied_offsets',
    statements: [
      // One row per Kafka record of a state event, appended without a uniqueness check (a redelivery adds a row;
      // lookups take the first), pruned after EVENT_LOG_RETENTION. logged_at grows with the table's physical
      // order, so a BRIN index finds the oldest rows at a fraction of a B-tree's cost per insert; autosummarize
      // has autovacuum summarise each block range once filled, so the prune never rescans the whole recent tail.
      `CREATE TABLE event_log (
        event_id VARCHAR(100) NOT NULL,
        entity_table VARCHAR(20) NOT NULL,
        entity_key VARCHAR(100) NOT NULL,
        event_ts timestamptz(3) NOT NULL,
        ${sourceColumns},
        logged_at timestamptz(3) NOT NULL DEFAULT now()
      )`,
      'CREATE INDEX "IX_event_log_event_id" ON event_log (event_id)',
      'CREATE INDEX "IX_event_log_logged_at" ON event_log USING brin (logged_at) WITH (autosummarize = on)',
      'CREATE INDEX "IX_pending_events_event_id" ON pending_events (event_id)',
      `CREATE TABLE applied_offsets (
        ${sourceColumns},
        updated_at timestamptz(3) NOT NULL DEFAULT now(),
        PRIMARY KEY (source_topic, source_partition)
      )`,
    ],
  },
  {
    version: 4,
    description: 'positions of redriven copies in pending events; the topic identity of applied_offsets',
    statements: [
      'ALTER TABLE pending_events ADD COLUMN IF NOT EXISTS origin_topic VARCHAR(255) NULL',
      'ALTER TABLE pending_events ADD COLUMN IF NOT EXISTS origin_partition INT NULL',
      'ALTER TABLE pending_events ADD COLUMN IF NOT EXISTS origin_offset BIGINT NULL',
      // The Kafka topic ID the marks belong to: a topic deleted and re-created under its name is another log.
      'ALTER TABLE applied_offsets ADD COLUMN IF NOT EXISTS topic_id VARCHAR(36) NULL',
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
      `CREATE INDEX IF NOT EXISTS "IX_pending_events_expiry"
        ON pending_events (parent_table, pending_since, source_partition, source_offset)`,
      'DROP INDEX IF EXISTS "IX_pending_events_since"',
    ],
  },
]

// An arbitrary constant naming "the schema of this pipeline" among advisory locks of the database.
const migrationLock = 0x6576_7069_7065n

/**
 * The transaction-scoped advisory lock comes before anything else, even the CREATE TABLE IF NOT EXISTS of the
 * bookkeeping table, which is itself not safe to run twice at the same moment. It is released by the commit.
 */
export async function migrate(trx: Transaction<Tables>): Promise<void> {
  await sql`select pg_advisory_xact_lock(${migrationLock.toString()}::bigint)`.execute(trx)
  await applyMigrations(trx, createMigrationTable, migrations)
}
