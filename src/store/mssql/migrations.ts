// The SQL Server schema: the seed's tables and types (VARCHAR(100)/(255)/(50), DECIMAL(18,2), DATETIME2, INT,
// FK_Orders_Users, IX_orders_user_id, IX_orders_created_at) plus the event and source columns and the inventory
// ledger that idempotency needs, as the other engines have them. Every step is "create when missing", because a
// database the seed system created already holds its four tables: they are kept, the missing columns, keys and
// indexes are added, and rows the seed wrote get event_ts 0001-01-01, so any event replaces them.
//
// Text columns use a binary UTF-8 collation: keys compare exactly as in PostgreSQL and SQLite (case and accent
// sensitive), and any Unicode text fits a VARCHAR. Its length then counts bytes, not characters.
import { CompiledQuery, type Transaction } from 'kysely'
import { applyMigrations, type Migration } from '../migrator.ts'
import type { Tables } from '../tables.ts'
import { errorNumbers } from './errors.ts'

export const textCollation = 'Latin1_General_100_BIN2_UTF8'

const varchar = (length: number) => `VARCHAR(${length}) COLLATE ${textCollation}`

const createTable = (table: string, columns: string) =>
  `IF OBJECT_ID(N'${table}', N'U') IS NULL CREATE TABLE ${table} (\n  ${columns}\n)`

const addColumn = (table: string, column: string, definition: string) =>
  `IF COL_LENGTH(N'${table}', N'${column}') IS NULL ALTER TABLE ${table} ADD ${column} ${definition}`

const createIndex = (table: string, name: string, columns: string) =>
  `IF INDEXPROPERTY(OBJECT_ID(N'${table}'), N'${name}', 'IndexID') IS NULL CREATE INDEX ${name} ON ${table} (${columns})`

/** NOT NULL columns carry a named default so they can be added to a table that already has rows. */
function stateColumns(table: string): string[] {
  return [
    addColumn(table, 'updated_at', `DATETIME2 NOT NULL CONSTRAINT DF_${table}_updated_at DEFAULT SYSUTCDATETIME()`),
    addColumn(table, 'event_id', `${varchar(100)} NOT NULL CONSTRAINT DF_${table}_event_id DEFAULT ''`),
    addColumn(table, 'event_ts', `DATETIME2(3) NOT NULL CONSTRAINT DF_${table}_event_ts DEFAULT '0001-01-01'`),
    ...sourceColumns(table),
  ]
}

function sourceColumns(table: string): string[] {
  return [
    addColumn(table, 'source_topic', `${varchar(255)} NOT NULL CONSTRAINT DF_${table}_source_topic DEFAULT ''`),
    addColumn(table, 'source_partition', `INT NOT NULL CONSTRAINT DF_${table}_source_partition DEFAULT -1`),
    addColumn(table, 'source_offset', `BIGINT NOT NULL CONSTRAINT DF_${table}_source_offset DEFAULT -1`),
  ]
}

export const createMigrationTable = createTable(
  'schema_migrations',
  `version INT NOT NULL CONSTRAINT PK_schema_migrations PRIMARY KEY,
  applied_at DATETIME2(3) NOT NULL CONSTRAINT DF_schema_migrations_applied_at DEFAULT SYSUTCDATETIME()`,
)

export const migrations: readonly Migration[] = [
  {
    version: 1,
    description: 'seed tables plus event and source columns, inventory ledger',
    statements: [
      createTable(
        'users',
        `user_id ${varchar(100)} NOT NULL CONSTRAINT PK_users PRIMARY KEY,
  name ${varchar(255)} NULL,
  email ${varchar(255)} NULL,
  created_at DATETIME2 NULL`,
      ),
      ...stateColumns('users'),
      createTable(
        'orders',
        `order_id ${varchar(100)} NOT NULL CONSTRAINT PK_orders PRIMARY KEY,
  user_id ${varchar(100)} NOT NULL,
  total DECIMAL(18,2) NULL,
  status ${varchar(50)} NULL,
  created_at DATETIME2 NULL`,
      ),
      ...stateColumns('orders'),
      `IF OBJECT_ID(N'FK_Orders_Users', N'F') IS NULL
  ALTER TABLE orders ADD CONSTRAINT FK_Orders_Users FOREIGN KEY (user_id) REFERENCES users (user_id)`,
      // (user_id, created_at) rather than the seed's (user_id): the same lookups, and "newest orders of a user"
      // becomes an index range scan instead of a sort.
      createIndex('orders', 'IX_orders_user_id', 'user_id, created_at'),
      createIndex('orders', 'IX_orders_created_at', 'created_at'),
      createTable(
        'payments',
        `order_id ${varchar(100)} NOT NULL CONSTRAINT PK_payments PRIMARY KEY,
  status ${varchar(50)} NULL,
  amount DECIMAL(18,2) NULL,
  settled_at DATETIME2 NULL`,
      ),
      ...stateColumns('payments'),
      createTable(
        'inventory',
        `sku ${varchar(100)} NOT NULL CONSTRAINT PK_inventory PRIMARY KEY,
  quantity INT NOT NULL CONSTRAINT DF_inventory_quantity DEFAULT 0,
  last_adjusted_at DATETIME2 NULL`,
      ),
      ...sourceColumns('inventory'),
      createTable(
        'inventory_ledger',
        `event_id ${varchar(100)} NOT NULL CONSTRAINT PK_inventory_ledger PRIMARY KEY,
  sku ${varchar(100)} NOT NULL,
  delta INT NOT NULL,
  reason ${varchar(255)} NULL,
  adjusted_at DATETIME2(3) NOT NULL,
  source_topic ${varchar(255)} NOT NULL,
  source_partition INT NOT NULL,
  source_offset BIGINT NOT NULL,
  applied_at DATETIME2(3) NOT NULL CONSTRAINT DF_inventory_ledger_applied_at DEFAULT SYSUTCDATETIME()`,
      ),
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
