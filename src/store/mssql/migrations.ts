// The SQL Server schema: the reference system's tables and types (VARCHAR(100)/(255)/(50), DECIMAL(18,2), DATETIME2, INT,
// FK_Orders_Users, IX_orders_user_id, IX_orders_created_at) plus the event and source columns and the inventory
// ledger that idempotency needs, as the other engines have them. Every step is "create when missing", because a
// database the reference system created already holds its four tables: they are kept, the missing columns, keys and
// indexes are added, and rows the reference system wrote get event_ts 0001-01-01, so any event replaces them.
//
// Text columns are VARCHAR(4n) in a binary UTF-8 collation with a CHECK that LEN (code points, in a UTF-8
// collation) is at most n, the reference system's length. So any text of at most n characters is stored, as PostgreSQL
// stores it in VARCHAR(n): UTF-8 needs at most 4 bytes a code point. Chosen over NVARCHAR because NVARCHAR(n)
// counts UTF-16 units (an emoji takes 2, so it would need NVARCHAR(2n) and the same CHECK), takes 2 bytes for
// every ASCII character of the ids that fill the indexes, and would need NVARCHAR parameters, which the reference system's
// VARCHAR columns cannot seek on; the widest key, VARCHAR(400), stays well under the 900-byte limit of a
// clustered key. The binary collation compares keys exactly (case and accent sensitive) as the other engines do.
import { CompiledQuery, type Transaction } from 'kysely'
import { applyMigrations, type Migration } from '../migrator.ts'
import type { Tables } from '../tables.ts'
import { errorNumbers } from './errors.ts'

export const textCollation = 'Latin1_General_100_BIN2_UTF8'

/** UTF-8 needs at most this many bytes for one code point. */
export const maxBytesPerCharacter = 4

/**
 * A text column holding at most `length` characters. LEN ignores trailing spaces, so the CHECK measures the
 * value with one character appended. Its name, CK_<table>_<column>_len, is how errors.ts recognises it.
 */
const text = (table: string, column: string, length: number, nullability: 'NULL' | 'NOT NULL', rest = '') =>
  `${column} VARCHAR(${length * maxBytesPerCharacter}) COLLATE ${textCollation} ${nullability}${rest} ` +
  `CONSTRAINT CK_${table}_${column}_len CHECK (LEN(${column} + '.') <= ${length + 1})`

const createTable = (table: string, columns: string) =>
  `IF OBJECT_ID(N'${table}', N'U') IS NULL CREATE TABLE ${table} (\n  ${columns}\n)`

/** `definition` starts with the column's name. */
const addColumn = (table: string, column: string, definition: string) =>
  `IF COL_LENGTH(N'${table}', N'${column}') IS NULL ALTER TABLE ${table} ADD ${definition}`

const createIndex = (table: string, name: string, columns: string) =>
  `IF INDEXPROPERTY(OBJECT_ID(N'${table}'), N'${name}', 'IndexID') IS NULL CREATE INDEX ${name} ON ${table} (${columns})`

/** NOT NULL columns carry a named default so they can be added to a table that already has rows. */
function stateColumns(table: string): string[] {
  return [
    addColumn(
      table,
      'updated_at',
      `updated_at DATETIME2 NOT NULL CONSTRAINT DF_${table}_updated_at DEFAULT SYSUTCDATETIME()`,
    ),
    addColumn(
      table,
      'event_id',
      text(table, 'event_id', 100, 'NOT NULL', ` CONSTRAINT DF_${table}_event_id DEFAULT ''`),
    ),
    addColumn(table, 'event_ts', `event_ts DATETIME2(3) NOT NULL CONSTRAINT DF_${table}_event_ts DEFAULT '0001-01-01'`),
    ...sourceColumns(table),
  ]
}

function sourceColumns(table: string): string[] {
  return [
    addColumn(
      table,
      'source_topic',
      text(table, 'source_topic', 255, 'NOT NULL', ` CONSTRAINT DF_${table}_source_topic DEFAULT ''`),
    ),
    addColumn(
      table,
      'source_partition',
      `source_partition INT NOT NULL CONSTRAINT DF_${table}_source_partition DEFAULT -1`,
    ),
    addColumn(table, 'source_offset', `source_offset BIGINT NOT NULL CONSTRAINT DF_${table}_source_offset DEFAULT -1`),
  ]
}

/** The type and collation of a column as SQL Server declares it, e.g. `varchar(400) COLLATE Latin1_General_100_BIN2_UTF8`. */
const columnType = (table: string, column: string) => `(
    SELECT TYPE_NAME(c.system_type_id) + N'(' + CASE
        WHEN c.max_length = -1 THEN N'MAX'
        WHEN TYPE_NAME(c.system_type_id) IN (N'nvarchar', N'nchar') THEN CAST(c.max_length / 2 AS NVARCHAR(10))
        ELSE CAST(c.max_length AS NVARCHAR(10)) END + N') COLLATE ' + c.collation_name
    FROM sys.columns AS c WHERE c.object_id = OBJECT_ID(N'${table}') AND c.name = N'${column}')`

/**
 * orders.user_id takes the exact type and collation of users.user_id, which may be the reference system's (VARCHAR(100) in
 * the server's default collation): FK_Orders_Users needs both, and a join of two columns in different
 * collations fails. Read from sys.columns, since only the database knows which users table it holds.
 */
export const createOrders = `IF OBJECT_ID(N'orders', N'U') IS NULL
BEGIN
  DECLARE @userId NVARCHAR(300) = ${columnType('users', 'user_id')};
  DECLARE @create NVARCHAR(MAX) = N'CREATE TABLE orders (
  ${text('orders', 'order_id', 100, 'NOT NULL', ' CONSTRAINT PK_orders PRIMARY KEY').replaceAll("'", "''")},
  user_id ' + @userId + N' NOT NULL,
  total DECIMAL(18,2) NULL,
  ${text('orders', 'status', 50, 'NULL').replaceAll("'", "''")},
  created_at DATETIME2 NULL
)';
  EXEC (@create);
END`

/**
 * Pending events: parent_key is compared with users.user_id and event_key with orders.order_id, so each takes
 * that column's exact type and collation (the reference system's, in a database the reference system created), as orders.user_id does.
 * The key is the record's Kafka position: one row per record, however often it is redelivered.
 */
export const createPending = `IF OBJECT_ID(N'pending_events', N'U') IS NULL
BEGIN
  DECLARE @userId NVARCHAR(300) = ${columnType('users', 'user_id')};
  DECLARE @orderId NVARCHAR(300) = ${columnType('orders', 'order_id')};
  DECLARE @create NVARCHAR(MAX) = N'CREATE TABLE pending_events (
  ${text('pending_events', 'source_topic', 255, 'NOT NULL').replaceAll("'", "''")},
  source_partition INT NOT NULL,
  source_offset BIGINT NOT NULL,
  ${text('pending_events', 'event_id', 100, 'NOT NULL').replaceAll("'", "''")},
  ${text('pending_events', 'event_type', 100, 'NOT NULL').replaceAll("'", "''")},
  event_key ' + @orderId + N' NOT NULL,
  ${text('pending_events', 'parent_table', 50, 'NOT NULL').replaceAll("'", "''")},
  parent_key ' + @userId + N' NOT NULL,
  ${text('pending_events', 'constraint_name', 100, 'NOT NULL').replaceAll("'", "''")},
  event_ts DATETIME2(3) NOT NULL,
  payload VARCHAR(MAX) COLLATE ${textCollation} NOT NULL,
  pending_since DATETIME2(3) NOT NULL CONSTRAINT DF_pending_events_pending_since DEFAULT SYSUTCDATETIME(),
  CONSTRAINT PK_pending_events PRIMARY KEY NONCLUSTERED (source_topic, source_partition, source_offset)
)';
  EXEC (@create);
END`

export const createMigrationTable = createTable(
  'schema_migrations',
  `version INT NOT NULL CONSTRAINT PK_schema_migrations PRIMARY KEY,
  applied_at DATETIME2(3) NOT NULL CONSTRAINT DF_schema_migrations_applied_at DEFAULT SYSUTCDATETIME()`,
)

export const migrations: readonly Migration[] = [
  {
    version: 1,
    description: 'the reference tables plus event and source columns, inventory ledger',
    statements: [
      createTable(
        'users',
        `${text('users', 'user_id', 100, 'NOT NULL', ' CONSTRAINT PK_users PRIMARY KEY')},
  ${text('users', 'name', 255, 'NULL')},
  ${text('users', 'email', 255, 'NULL')},
  created_at DATETIME2 NULL`,
      ),
      ...stateColumns('users'),
      createOrders,
      ...stateColumns('orders'),
      `IF OBJECT_ID(N'FK_Orders_Users', N'F') IS NULL
  ALTER TABLE orders ADD CONSTRAINT FK_Orders_Users FOREIGN KEY (user_id) REFERENCES users (user_id)`,
      // (user_id, created_at) rather than the reference system's (user_id): the same lookups, and "newest orders of a user"
      // becomes an index range scan instead of a sort.
      createIndex('orders', 'IX_orders_user_id', 'user_id, created_at'),
      createIndex('orders', 'IX_orders_created_at', 'created_at'),
      createTable(
        'payments',
        `${text('payments', 'order_id', 100, 'NOT NULL', ' CONSTRAINT PK_payments PRIMARY KEY')},
  ${text('payments', 'status', 50, 'NULL')},
  amount DECIMAL(18,2) NULL,
  settled_at DATETIME2 NULL`,
      ),
      ...stateColumns('payments'),
      createTable(
        'inventory',
        `${text('inventory', 'sku', 100, 'NOT NULL', ' CONSTRAINT PK_inventory PRIMARY KEY')},
  quantity INT NOT NULL CONSTRAINT DF_inventory_quantity DEFAULT 0,
  last_adjusted_at DATETIME2 NULL`,
      ),
      ...sourceColumns('inventory'),
      createTable(
        'inventory_ledger',
        `${text('inventory_ledger', 'event_id', 100, 'NOT NULL', ' CONSTRAINT PK_inventory_ledger PRIMARY KEY')},
  ${text('inventory_ledger', 'sku', 100, 'NOT NULL')},
  delta INT NOT NULL,
  ${text('inventory_ledger', 'reason', 255, 'NULL')},
  adjusted_at DATETIME2(3) NOT NULL,
  ${text('inventory_ledger', 'source_topic', 255, 'NOT NULL')},
  source_partition INT NOT NULL,
  source_offset BIGINT NOT NULL,
  applied_at DATETIME2(3) NOT NULL CONSTRAINT DF_inventory_ledger_applied_at DEFAULT SYSUTCDATETIME()`,
      ),
    ],
  },
  {
    version: 2,
    description: 'pending events: children whose parent is not stored yet, one row per Kafka record',
    statements: [
      createPending,
      createIndex('pending_events', 'IX_pending_events_parent', 'parent_table, parent_key'),
      createIndex('pending_events', 'IX_pending_events_since', 'pending_since'),
    ],
  },
  {
    version: 3,
    description: 'event status and read-your-own-writes: event_log, pending events by eventId, applied_offsets',
    statements: [
      // One row per Kafka record of a state event, appended without a uniqueness check (a redelivery adds a row;
      // lookups take the first), pruned after EVENT_LOG_RETENTION, oldest first. Clustered on logged_at, so rows
      // are appended at the end and pruned from the start; eventIds are found through a nonclustered index.
      createTable(
        'event_log',
        `${text('event_log', 'event_id', 100, 'NOT NULL')},
  ${text('event_log', 'entity_table', 20, 'NOT NULL')},
  ${text('event_log', 'entity_key', 100, 'NOT NULL')},
  event_ts DATETIME2(3) NOT NULL,
  ${text('event_log', 'source_topic', 255, 'NOT NULL')},
  source_partition INT NOT NULL,
  source_offset BIGINT NOT NULL,
  logged_at DATETIME2(3) NOT NULL CONSTRAINT DF_event_log_logged_at DEFAULT SYSUTCDATETIME()`,
      ),
      `IF INDEXPROPERTY(OBJECT_ID(N'event_log'), N'IX_event_log_logged_at', 'IndexID') IS NULL
  CREATE CLUSTERED INDEX IX_event_log_logged_at ON event_log (logged_at)`,
      createIndex('event_log', 'IX_event_log_event_id', 'event_id'),
      createIndex('pending_events', 'IX_pending_events_event_id', 'event_id'),
      // Nonclustered key: source_topic may take 1,020 bytes, past the 900 of a clustered key.
      createTable(
        'applied_offsets',
        `${text('applied_offsets', 'source_topic', 255, 'NOT NULL')},
  source_partition INT NOT NULL,
  source_offset BIGINT NOT NULL,
  updated_at DATETIME2(3) NOT NULL CONSTRAINT DF_applied_offsets_updated_at DEFAULT SYSUTCDATETIME(),
  CONSTRAINT PK_applied_offsets PRIMARY KEY NONCLUSTERED (source_topic, source_partition)`,
      ),
    ],
  },
  {
    version: 4,
    description: 'positions of redriven copies in pending events; the topic identity of applied_offsets',
    statements: [
      addColumn('pending_events', 'origin_topic', text('pending_events', 'origin_topic', 255, 'NULL')),
      addColumn('pending_events', 'origin_partition', 'origin_partition INT NULL'),
      addColumn('pending_events', 'origin_offset', 'origin_offset BIGINT NULL'),
      // The Kafka topic ID the marks belong to: a topic deleted and re-created under its name is another log.
      addColumn('applied_offsets', 'topic_id', text('applied_offsets', 'topic_id', 36, 'NULL')),
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
      createIndex(
        'pending_events',
        'IX_pending_events_expiry',
        'parent_table, pending_since, source_partition, source_offset',
      ),
      `IF INDEXPROPERTY(OBJECT_ID(N'pending_events'), N'IX_pending_events_since', 'IndexID') IS NOT NULL
  DROP INDEX IX_pending_events_since ON pending_events`,
    ],
  },
]

// Shorter than tedious's 30 s request timeout, so a lock that is not granted is reported as such (and retried)
// rather than as a request timeout.
export const migrationLockTimeoutMs = 20_000

/**
 * An exclusive application lock owned by the migration's transaction serialises every process that migrates
 * this database, including the CREATE TABLE of schema_migrations; the commit releases it. sp_getapplock returns
 * a negative status instead of raising an error when the lock is not granted, hence the THROW.
 */
export const takeMigrationLock = `DECLARE @status INT;
EXEC @status = sp_getapplock @Resource = N'event-pipeline:schema', @LockMode = N'Exclusive', @LockOwner = N'Transaction', @LockTimeout = ${migrationLockTimeoutMs};
IF @status < 0
BEGIN
  DECLARE @message NVARCHAR(200) = CONCAT(N'schema migration lock not granted (sp_getapplock returned ', @status, N')');
  THROW ${errorNumbers.migrationLock}, @message, 1;
END`

export async function migrate(trx: Transaction<Tables>): Promise<void> {
  await trx.executeQuery(CompiledQuery.raw(takeMigrationLock))
  await applyMigrations(trx, createMigrationTable, migrations)
}
