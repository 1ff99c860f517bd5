-- events
select 1

-- events: BEGIN TRANSACTION (a tedious transaction manager request)

-- events
DECLARE @status INT;
EXEC @status = sp_getapplock @Resource = N'event-pipeline:schema', @LockMode = N'Exclusive', @LockOwner = N'Transaction', @LockTimeout = 20000;
IF @status < 0
BEGIN
  DECLARE @message NVARCHAR(200) = CONCAT(N'schema migration lock not granted (sp_getapplock returned ', @status, N')');
  THROW 50001, @message, 1;
END

-- events
IF OBJECT_ID(N'schema_migrations', N'U') IS NULL CREATE TABLE schema_migrations (
  version INT NOT NULL CONSTRAINT PK_schema_migrations PRIMARY KEY,
  applied_at DATETIME2(3) NOT NULL CONSTRAINT DF_schema_migrations_applied_at DEFAULT SYSUTCDATETIME()
)

-- events
select "version" from "schema_migrations"

-- events
IF OBJECT_ID(N'users', N'U') IS NULL CREATE TABLE users (
  user_id VARCHAR(400) COLLATE Latin1_General_100_BIN2_UTF8 NOT NULL CONSTRAINT PK_users PRIMARY KEY CONSTRAINT CK_users_user_id_len CHECK (LEN(user_id + '.') <= 101),
  name VARCHAR(1020) COLLATE Latin1_General_100_BIN2_UTF8 NULL CONSTRAINT CK_users_name_len CHECK (LEN(name + '.') <= 256),
  email VARCHAR(1020) COLLATE Latin1_General_100_BIN2_UTF8 NULL CONSTRAINT CK_users_email_len CHECK (LEN(email + '.') <= 256),
  created_at DATETIME2 NULL
)

-- events
IF COL_LENGTH(N'users', N'updated_at') IS NULL ALTER TABLE users ADD updated_at DATETIME2 NOT NULL CONSTRAINT DF_users_updated_at DEFAULT SYSUTCDATETIME()

-- events
IF COL_LENGTH(N'users', N'event_id') IS NULL ALTER TABLE users ADD event_id VARCHAR(400) COLLATE Latin1_General_100_BIN2_UTF8 NOT NULL CONSTRAINT DF_users_event_id DEFAULT '' CONSTRAINT CK_users_event_id_len CHECK (LEN(event_id + '.') <= 101)

-- events
IF COL_LENGTH(N'users', N'event_ts') IS NULL ALTER TABLE users ADD event_ts DATETIME2(3) NOT NULL CONSTRAINT DF_users_event_ts DEFAULT '0001-01-01'

-- events
IF COL_LENGTH(N'users', N'source_topic') IS NULL ALTER TABLE users ADD source_topic VARCHAR(1020) COLLATE Latin1_General_100_BIN2_UTF8 NOT NULL CONSTRAINT DF_users_source_topic DEFAULT '' CONSTRAINT CK_users_source_topic_len CHECK (LEN(source_topic + '.') <= 256)

-- events
IF COL_LENGTH(N'users', N'source_partition') IS NULL ALTER TABLE users ADD source_partition INT NOT NULL CONSTRAINT DF_users_source_partition DEFAULT -1

-- events
IF COL_LENGTH(N'users', N'source_offset') IS NULL ALTER TABLE users ADD source_offset BIGINT NOT NULL CONSTRAINT DF_users_source_offset DEFAULT -1

-- events
IF OBJECT_ID(N'orders', N'U') IS NULL
BEGIN
  DECLARE @userId NVARCHAR(300) = (
    SELECT TYPE_NAME(c.system_type_id) + N'(' + CASE
        WHEN c.max_length = -1 THEN N'MAX'
        WHEN TYPE_NAME(c.system_type_id) IN (N'nvarchar', N'nchar') THEN CAST(c.max_length / 2 AS NVARCHAR(10))
        ELSE CAST(c.max_length AS NVARCHAR(10)) END + N') COLLATE ' + c.collation_name
    FROM sys.columns AS c WHERE c.object_id = OBJECT_ID(N'users') AND c.name = N'user_id');
  DECLARE @create NVARCHAR(MAX) = N'CREATE TABLE orders (
  order_id VARCHAR(400) COLLATE Latin1_General_100_BIN2_UTF8 NOT NULL CONSTRAINT PK_orders PRIMARY KEY CONSTRAINT CK_orders_order_id_len CHECK (LEN(order_id + ''.'') <= 101),
  user_id ' + @userId + N' NOT NULL,
  total DECIMAL(18,2) NULL,
  status VARCHAR(200) COLLATE Latin1_General_100_BIN2_UTF8 NULL CONSTRAINT CK_orders_status_len CHECK (LEN(status + ''.'') <= 51),
  created_at DATETIME2 NULL
)';
  EXEC (@create);
END

-- events
IF COL_LENGTH(N'orders', N'updated_at') IS NULL ALTER TABLE orders ADD updated_at DATETIME2 NOT NULL CONSTRAINT DF_orders_updated_at DEFAULT SYSUTCDATETIME()

-- events
IF COL_LENGTH(N'orders', N'event_id') IS NULL ALTER TABLE orders ADD event_id VARCHAR(400) COLLATE Latin1_General_100_BIN2_UTF8 NOT NULL CONSTRAINT DF_orders_event_id DEFAULT '' CONSTRAINT CK_orders_event_id_len CHECK (LEN(event_id + '.') <= 101)

-- events
IF COL_LENGTH(N'orders', N'event_ts') IS NULL ALTER TABLE orders ADD event_ts DATETIME2(3) NOT NULL CONSTRAINT DF_orders_event_ts DEFAULT '0001-01-01'

-- events
IF COL_LENGTH(N'orders', N'source_topic') IS NULL ALTER TABLE orders ADD source_topic VARCHAR(1020) COLLATE Latin1_General_100_BIN2_UTF8 NOT NULL CONSTRAINT DF_orders_source_topic DEFAULT '' CONSTRAINT CK_orders_source_topic_len CHECK (LEN(source_topic + '.') <= 256)

-- events
IF COL_LENGTH(N'orders', N'source_partition') IS NULL ALTER TABLE orders ADD source_partition INT NOT NULL CONSTRAINT DF_orders_source_partition DEFAULT -1

-- events
IF COL_LENGTH(N'orders', N'source_offset') IS NULL ALTER TABLE orders ADD source_offset BIGINT NOT NULL CONSTRAINT DF_orders_source_offset DEFAULT -1

-- events
IF OBJECT_ID(N'FK_Orders_Users', N'F') IS NULL
  ALTER TABLE orders ADD CONSTRAINT FK_Orders_Users FOREIGN KEY (user_id) REFERENCES users (user_id)

-- events
IF INDEXPROPERTY(OBJECT_ID(N'orders'), N'IX_orders_user_id', 'IndexID') IS NULL CREATE INDEX IX_orders_user_id ON orders (user_id, created_at)

-- events
IF INDEXPROPERTY(OBJECT_ID(N'orders'), N'IX_orders_created_at', 'IndexID') IS NULL CREATE INDEX IX_orders_created_at ON orders (created_at)

-- events
IF OBJECT_ID(N'payments', N'U') IS NULL CREATE TABLE payments (
  order_id VARCHAR(400) COLLATE Latin1_General_100_BIN2_UTF8 NOT NULL CONSTRAINT PK_payments PRIMARY KEY CONSTRAINT CK_payments_order_id_len CHECK (LEN(order_id + '.') <= 101),
  status VARCHAR(200) COLLATE Latin1_General_100_BIN2_UTF8 NULL CONSTRAINT CK_payments_status_len CHECK (LEN(status + '.') <= 51),
  amount DECIMAL(18,2) NULL,
  settled_at DATETIME2 NULL
)

-- events
IF COL_LENGTH(N'payments', N'updated_at') IS NULL ALTER TABLE payments ADD updated_at DATETIME2 NOT NULL CONSTRAINT DF_payments_updated_at DEFAULT SYSUTCDATETIME()

-- events
IF COL_LENGTH(N'payments', N'event_id') IS NULL ALTER TABLE payments ADD event_id VARCHAR(400) COLLATE Latin1_General_100_BIN2_UTF8 NOT NULL CONSTRAINT DF_payments_event_id DEFAULT '' CONSTRAINT CK_payments_event_id_len CHECK (LEN(event_id + '.') <= 101)

-- events
IF COL_LENGTH(N'payments', N'event_ts') IS NULL ALTER TABLE payments ADD event_ts DATETIME2(3) NOT NULL CONSTRAINT DF_payments_event_ts DEFAULT '0001-01-01'

-- events
IF COL_LENGTH(N'payments', N'source_topic') IS NULL ALTER TABLE payments ADD source_topic VARCHAR(1020) COLLATE Latin1_General_100_BIN2_UTF8 NOT NULL CONSTRAINT DF_payments_source_topic DEFAULT '' CONSTRAINT CK_payments_source_topic_len CHECK (LEN(source_topic + '.') <= 256)

-- events
IF COL_LENGTH(N'payments', N'source_partition') IS NULL ALTER TABLE payments ADD source_partition INT NOT NULL CONSTRAINT DF_payments_source_partition DEFAULT -1

-- events
IF COL_LENGTH(N'payments', N'source_offset') IS NULL ALTER TABLE payments ADD source_offset BIGINT NOT NULL CONSTRAINT DF_payments_source_offset DEFAULT -1

-- events
IF OBJECT_ID(N'inventory', N'U') IS NULL CREATE TABLE inventory (
  sku VARCHAR(400) COLLATE Latin1_General_100_BIN2_UTF8 NOT NULL CONSTRAINT PK_inventory PRIMARY KEY CONSTRAINT CK_inventory_sku_len CHECK (LEN(sku + '.') <= 101),
  quantity INT NOT NULL CONSTRAINT DF_inventory_quantity DEFAULT 0,
  last_adjusted_at DATETIME2 NULL
)

-- events
IF COL_LENGTH(N'inventory', N'source_topic') IS NULL ALTER TABLE inventory ADD source_topic VARCHAR(1020) COLLATE Latin1_General_100_BIN2_UTF8 NOT NULL CONSTRAINT DF_inventory_source_topic DEFAULT '' CONSTRAINT CK_inventory_source_topic_len CHECK (LEN(source_topic + '.') <= 256)

-- events
IF COL_LENGTH(N'inventory', N'source_partition') IS NULL ALTER TABLE inventory ADD source_partition INT NOT NULL CONSTRAINT DF_inventory_source_partition DEFAULT -1

-- events
IF COL_LENGTH(N'inventory', N'source_offset') IS NULL ALTER TABLE inventory ADD source_offset BIGINT NOT NULL CONSTRAINT DF_inventory_source_offset DEFAULT -1

-- events
IF OBJECT_ID(N'inventory_ledger', N'U') IS NULL CREATE TABLE inventory_ledger (
  event_id VARCHAR(400) COLLATE Latin1_General_100_BIN2_UTF8 NOT NULL CONSTRAINT PK_inventory_ledger PRIMARY KEY CONSTRAINT CK_inventory_ledger_event_id_len CHECK (LEN(event_id + '.') <= 101),
  sku VARCHAR(400) COLLATE Latin1_General_100_BIN2_UTF8 NOT NULL CONSTRAINT CK_inventory_ledger_sku_len CHECK (LEN(sku + '.') <= 101),
  delta INT NOT NULL,
  reason VARCHAR(1020) COLLATE Latin1_General_100_BIN2_UTF8 NULL CONSTRAINT CK_inventory_ledger_reason_len CHECK (LEN(reason + '.') <= 256),
  adjusted_at DATETIME2(3) NOT NULL,
  source_topic VARCHAR(1020) COLLATE Latin1_General_100_BIN2_UTF8 NOT NULL CONSTRAINT CK_inventory_ledger_source_topic_len CHECK (LEN(source_topic + '.') <= 256),
  source_partition INT NOT NULL,
  source_offset BIGINT NOT NULL,
  applied_at DATETIME2(3) NOT NULL CONSTRAINT DF_inventory_ledger_applied_at DEFAULT SYSUTCDATETIME()
)

-- events (@1 int)
insert into "schema_migrations" ("version") values (@1)

-- events
IF OBJECT_ID(N'pending_events', N'U') IS NULL
BEGIN
  DECLARE @userId NVARCHAR(300) = (
    SELECT TYPE_NAME(c.system_type_id) + N'(' + CASE
        WHEN c.max_length = -1 THEN N'MAX'
        WHEN TYPE_NAME(c.system_type_id) IN (N'nvarchar', N'nchar') THEN CAST(c.max_length / 2 AS NVARCHAR(10))
        ELSE CAST(c.max_length AS NVARCHAR(10)) END + N') COLLATE ' + c.collation_name
    FROM sys.columns AS c WHERE c.object_id = OBJECT_ID(N'users') AND c.name = N'user_id');
  DECLARE @orderId NVARCHAR(300) = (
    SELECT TYPE_NAME(c.system_type_id) + N'(' + CASE
        WHEN c.max_length = -1 THEN N'MAX'
        WHEN TYPE_NAME(c.system_type_id) IN (N'nvarchar', N'nchar') THEN CAST(c.max_length / 2 AS NVARCHAR(10))
        ELSE CAST(c.max_length AS NVARCHAR(10)) END + N') COLLATE ' + c.collation_name
    FROM sys.columns AS c WHERE c.object_id = OBJECT_ID(N'orders') AND c.name = N'order_id');
  DECLARE @create NVARCHAR(MAX) = N'CREATE TABLE pending_events (
  source_topic VARCHAR(1020) COLLATE Latin1_General_100_BIN2_UTF8 NOT NULL CONSTRAINT CK_pending_events_source_topic_len CHECK (LEN(source_topic + ''.'') <= 256),
  source_partition INT NOT NULL,
  source_offset BIGINT NOT NULL,
  event_id VARCHAR(400) COLLATE Latin1_General_100_BIN2_UTF8 NOT NULL CONSTRAINT CK_pending_events_event_id_len CHECK (LEN(event_id + ''.'') <= 101),
  event_type VARCHAR(400) COLLATE Latin1_General_100_BIN2_UTF8 NOT NULL CONSTRAINT CK_pending_events_event_type_len CHECK (LEN(event_type + ''.'') <= 101),
  event_key ' + @orderId + N' NOT NULL,
  parent_table VARCHAR(200) COLLATE Latin1_General_100_BIN2_UTF8 NOT NULL CONSTRAINT CK_pending_events_parent_table_len CHECK (LEN(parent_table + ''.'') <= 51),
  parent_key ' + @userId + N' NOT NULL,
  constraint_name VARCHAR(400) COLLATE Latin1_General_100_BIN2_UTF8 NOT NULL CONSTRAINT CK_pending_events_constraint_name_len CHECK (LEN(constraint_name + ''.'') <= 101),
  event_ts DATETIME2(3) NOT NULL,
  payload VARCHAR(MAX) COLLATE Latin1_General_100_BIN2_UTF8 NOT NULL,
  pending_since DATETIME2(3) NOT NULL CONSTRAINT DF_pending_events_pending_since DEFAULT SYSUTCDATETIME(),
  CONSTRAINT PK_pending_events PRIMARY KEY NONCLUSTERED (source_topic, source_partition, source_offset)
)';
  EXEC (@create);
END

-- events
IF INDEXPROPERTY(OBJECT_ID(N'pending_events'), N'IX_pending_events_parent', 'IndexID') IS NULL CREATE INDEX IX_pending_events_parent ON pending_events (parent_table, parent_key)

-- events
IF INDEXPROPERTY(OBJECT_ID(N'pending_events'), N'IX_pending_events_since', 'IndexID') IS NULL CREATE INDEX IX_pending_events_since ON pending_events (pending_since)

-- events (@1 int)
insert into "schema_migrations" ("version") values (@1)

-- events
IF OBJECT_ID(N'event_log', N'U') IS NULL CREATE TABLE event_log (
  event_id VARCHAR(400) COLLATE Latin1_General_100_BIN2_UTF8 NOT NULL CONSTRAINT CK_event_log_event_id_len CHECK (LEN(event_id + '.') <= 101),
  entity_table VARCHAR(80) COLLATE Latin1_General_100_BIN2_UTF8 NOT NULL CONSTRAINT CK_event_log_entity_table_len CHECK (LEN(entity_table + '.') <= 21),
  entity_key VARCHAR(400) COLLATE Latin1_General_100_BIN2_UTF8 NOT NULL CONSTRAINT CK_event_log_entity_key_len CHECK (LEN(entity_key + '.') <= 101),
  event_ts DATETIME2(3) NOT NULL,
  source_topic VARCHAR(1020) COLLATE Latin1_General_100_BIN2_UTF8 NOT NULL CONSTRAINT CK_event_log_source_topic_len CHECK (LEN(source_topic + '.') <= 256),
  source_partition INT NOT NULL,
  source_offset BIGINT NOT NULL,
  logged_at DATETIME2(3) NOT NULL CONSTRAINT DF_event_log_logged_at DEFAULT SYSUTCDATETIME()
)

-- events
IF INDEXPROPERTY(OBJECT_ID(N'event_log'), N'IX_event_log_logged_at', 'IndexID') IS NULL
  CREATE CLUSTERED INDEX IX_event_log_logged_at ON event_log (logged_at)

-- events
IF INDEXPROPERTY(OBJECT_ID(N'event_log'), N'IX_event_log_event_id', 'IndexID') IS NULL CREATE INDEX IX_event_log_event_id ON event_log (event_id)

-- events
IF INDEXPROPERTY(OBJECT_ID(N'pending_events'), N'IX_pending_events_event_id', 'IndexID') IS NULL CREATE INDEX IX_pending_events_event_id ON pending_events (event_id)

-- events
IF OBJECT_ID(N'applied_offsets', N'U') IS NULL CREATE TABLE applied_offsets (
  source_topic VARCHAR(1020) COLLATE Latin1_General_100_BIN2_UTF8 NOT NULL CONSTRAINT CK_applied_offsets_source_topic_len CHECK (LEN(source_topic + '.') <= 256),
  source_partition INT NOT NULL,
  source_offset BIGINT NOT NULL,
  updated_at DATETIME2(3) NOT NULL CONSTRAINT DF_applied_offsets_updated_at DEFAULT SYSUTCDATETIME(),
  CONSTRAINT PK_applied_offsets PRIMARY KEY NONCLUSTERED (source_topic, source_partition)
)

-- events (@1 int)
insert into "schema_migrations" ("version") values (@1)

-- events
IF COL_LENGTH(N'pending_events', N'origin_topic') IS NULL ALTER TABLE pending_events ADD origin_topic VARCHAR(1020) COLLATE Latin1_General_100_BIN2_UTF8 NULL CONSTRAINT CK_pending_events_origin_topic_len CHECK (LEN(origin_topic + '.') <= 256)

-- events
IF COL_LENGTH(N'pending_events', N'origin_partition') IS NULL ALTER TABLE pending_events ADD origin_partition INT NULL

-- events
IF COL_LENGTH(N'pending_events', N'origin_offset') IS NULL ALTER TABLE pending_events ADD origin_offset BIGINT NULL

-- events
IF COL_LENGTH(N'applied_offsets', N'topic_id') IS NULL ALTER TABLE applied_offsets ADD topic_id VARCHAR(144) COLLATE Latin1_General_100_BIN2_UTF8 NULL CONSTRAINT CK_applied_offsets_topic_id_len CHECK (LEN(topic_id + '.') <= 37)

-- events (@1 int)
insert into "schema_migrations" ("version") values (@1)

-- events
IF INDEXPROPERTY(OBJECT_ID(N'pending_events'), N'IX_pending_events_expiry', 'IndexID') IS NULL CREATE INDEX IX_pending_events_expiry ON pending_events (parent_table, pending_since, source_partition, source_offset)

-- events
IF INDEXPROPERTY(OBJECT_ID(N'pending_events'), N'IX_pending_events_since', 'IndexID') IS NOT NULL
  DROP INDEX IX_pending_events_since ON pending_events

-- events (@1 int)
insert into "schema_migrations" ("version") values (@1)

-- events: COMMIT TRANSACTION (a tedious transaction manager request)

-- events
select 1

-- events: BEGIN TRANSACTION (a tedious transaction manager request)

-- events (@1 varchar(400), @2 varchar(1020), @3 varchar(1020), @4 datetime2(3), @5 varchar(400), @6 datetime2(3), @7 varchar(1020), @8 int, @9 bigint, @10 varchar(400), @11 varchar(1020), @12 varchar(1020), @13 datetime2(3), @14 varchar(400), @15 datetime2(3), @16 varchar(1020), @17 int, @18 bigint)
MERGE INTO users WITH (UPDLOCK, HOLDLOCK) AS t
USING (VALUES (@1, @2, @3, @4, @5, @6, @7, @8, @9), (@10, @11, @12, @13, @14, @15, @16, @17, @18)) AS s (user_id, name, email, created_at, event_id, event_ts, source_topic, source_partition, source_offset)
ON t.user_id = s.user_id
WHEN MATCHED AND (t.event_ts < s.event_ts
    OR (t.event_ts = s.event_ts AND (t.source_partition < s.source_partition
      OR (t.source_partition = s.source_partition AND t.source_offset <= s.source_offset)))) THEN
  UPDATE SET name = s.name, email = s.email, created_at = s.created_at, event_id = s.event_id, event_ts = s.event_ts, source_topic = s.source_topic, source_partition = s.source_partition, source_offset = s.source_offset, updated_at = SYSUTCDATETIME()
WHEN NOT MATCHED BY TARGET THEN
  INSERT (user_id, name, email, created_at, event_id, event_ts, source_topic, source_partition, source_offset)
  VALUES (s.user_id, s.name, s.email, s.created_at, s.event_id, s.event_ts, s.source_topic, s.source_partition, s.source_offset);

-- events (@1 varchar(8000), @2 varchar(8000), @3 varchar(8000))
delete from "pending_events" output "deleted".* where "parent_table" = @1 and "parent_key" in (@2, @3)

-- events (@1 varchar(400), @2 varchar(400), @3 decimal(18, 2), @4 varchar(200), @5 datetime2(3), @6 varchar(400), @7 datetime2(3), @8 varchar(1020), @9 int, @10 bigint)
MERGE INTO orders WITH (UPDLOCK, HOLDLOCK) AS t
USING (VALUES (@1, @2, @3, @4, @5, @6, @7, @8, @9, @10)) AS s (order_id, user_id, total, status, created_at, event_id, event_ts, source_topic, source_partition, source_offset)
ON t.order_id = s.order_id
WHEN MATCHED AND (t.event_ts < s.event_ts
    OR (t.event_ts = s.event_ts AND (t.source_partition < s.source_partition
      OR (t.source_partition = s.source_partition AND t.source_offset <= s.source_offset)))) THEN
  UPDATE SET user_id = s.user_id, total = s.total, status = s.status, created_at = s.created_at, event_id = s.event_id, event_ts = s.event_ts, source_topic = s.source_topic, source_partition = s.source_partition, source_offset = s.source_offset, updated_at = SYSUTCDATETIME()
WHEN NOT MATCHED BY TARGET THEN
  INSERT (order_id, user_id, total, status, created_at, event_id, event_ts, source_topic, source_partition, source_offset)
  VALUES (s.order_id, s.user_id, s.total, s.status, s.created_at, s.event_id, s.event_ts, s.source_topic, s.source_partition, s.source_offset);

-- events (@1 varchar(400), @2 varchar(200), @3 decimal(18, 2), @4 datetime2(3), @5 varchar(400), @6 datetime2(3), @7 varchar(1020), @8 int, @9 bigint)
MERGE INTO payments WITH (UPDLOCK, HOLDLOCK) AS t
USING (VALUES (@1, @2, @3, @4, @5, @6, @7, @8, @9)) AS s (order_id, status, amount, settled_at, event_id, event_ts, source_topic, source_partition, source_offset)
ON t.order_id = s.order_id
WHEN MATCHED AND (t.event_ts < s.event_ts
    OR (t.event_ts = s.event_ts AND (t.source_partition < s.source_partition
      OR (t.source_partition = s.source_partition AND t.source_offset <= s.source_offset)))) THEN
  UPDATE SET status = s.status, amount = s.amount, settled_at = s.settled_at, event_id = s.event_id, event_ts = s.event_ts, source_topic = s.source_topic, source_partition = s.source_partition, source_offset = s.source_offset, updated_at = SYSUTCDATETIME()
WHEN NOT MATCHED BY TARGET THEN
  INSERT (order_id, status, amount, settled_at, event_id, event_ts, source_topic, source_partition, source_offset)
  VALUES (s.order_id, s.status, s.amount, s.settled_at, s.event_id, s.event_ts, s.source_topic, s.source_partition, s.source_offset);

-- events (@1 varchar(400), @2 varchar(400), @3 int, @4 varchar(1020), @5 datetime2(3), @6 varchar(1020), @7 int, @8 bigint, @9 varchar(400), @10 varchar(400), @11 int, @12 varchar(1020), @13 datetime2(3), @14 varchar(1020), @15 int, @16 bigint)
MERGE INTO inventory_ledger WITH (UPDLOCK, HOLDLOCK) AS t
USING (VALUES (@1, @2, @3, @4, @5, @6, @7, @8), (@9, @10, @11, @12, @13, @14, @15, @16)) AS s (event_id, sku, delta, reason, adjusted_at, source_topic, source_partition, source_offset)
ON t.event_id = s.event_id
WHEN NOT MATCHED BY TARGET THEN
  INSERT (event_id, sku, delta, reason, adjusted_at, source_topic, source_partition, source_offset)
  VALUES (s.event_id, s.sku, s.delta, s.reason, s.adjusted_at, s.source_topic, s.source_partition, s.source_offset)
OUTPUT inserted.event_id;

-- events (@1 varchar(400), @2 bigint, @3 datetime2(3), @4 varchar(1020), @5 int, @6 bigint)
MERGE INTO inventory WITH (UPDLOCK, HOLDLOCK) AS t
USING (VALUES (@1, @2, @3, @4, @5, @6)) AS s (sku, quantity, last_adjusted_at, source_topic, source_partition, source_offset)
ON t.sku = s.sku
WHEN MATCHED THEN
  UPDATE SET quantity = t.quantity + s.quantity,
    last_adjusted_at = CASE WHEN t.last_adjusted_at IS NULL OR t.last_adjusted_at < s.last_adjusted_at
      THEN s.last_adjusted_at ELSE t.last_adjusted_at END,
    source_topic = s.source_topic, source_partition = s.source_partition, source_offset = s.source_offset
WHEN NOT MATCHED BY TARGET THEN
  INSERT (sku, quantity, last_adjusted_at, source_topic, source_partition, source_offset)
  VALUES (s.sku, s.quantity, s.last_adjusted_at, s.source_topic, s.source_partition, s.source_offset);

-- events (@1 varchar(400), @2 varchar(80), @3 varchar(400), @4 datetime2(3), @5 varchar(1020), @6 int, @7 bigint, @8 varchar(400), @9 varchar(80), @10 varchar(400), @11 datetime2(3), @12 varchar(1020), @13 int, @14 bigint, @15 varchar(400), @16 varchar(80), @17 varchar(400), @18 datetime2(3), @19 varchar(1020), @20 int, @21 bigint, @22 varchar(400), @23 varchar(80), @24 varchar(400), @25 datetime2(3), @26 varchar(1020), @27 int, @28 bigint)
INSERT INTO event_log (event_id, entity_table, entity_key, event_ts, source_topic, source_partition, source_offset)
VALUES (@1, @2, @3, @4, @5, @6, @7), (@8, @9, @10, @11, @12, @13, @14), (@15, @16, @17, @18, @19, @20, @21), (@22, @23, @24, @25, @26, @27, @28);

-- events (@1 varchar(1020), @2 int, @3 bigint, @4 varchar(144))
MERGE INTO applied_offsets WITH (UPDLOCK, HOLDLOCK) AS t
USING (VALUES (@1, @2, @3, @4)) AS s (source_topic, source_partition, source_offset, topic_id)
ON t.source_topic = s.source_topic AND t.source_partition = s.source_partition
WHEN MATCHED AND (t.source_offset < s.source_offset OR t.topic_id <> s.topic_id) THEN
  UPDATE SET source_offset = s.source_offset, topic_id = COALESCE(s.topic_id, t.topic_id), updated_at = SYSUTCDATETIME()
WHEN NOT MATCHED BY TARGET THEN
  INSERT (source_topic, source_partition, source_offset, topic_id)
  VALUES (s.source_topic, s.source_partition, s.source_offset, s.topic_id);

-- events: COMMIT TRANSACTION (a tedious transaction manager request)

-- events
select 1

-- events (@1 varchar(8000))
select "user_id", "name", "email", "created_at", "updated_at", "source_partition", "source_offset" from "users" where "user_id" = @1

-- events
select 1

-- events (@1 varchar(8000), @2 int)
select "order_id", "user_id", "total", "status", "created_at", "updated_at", "source_partition", "source_offset" from "orders" where "user_id" = @1 order by "created_at" desc, "order_id" desc offset 0 rows fetch next @2 rows only

-- events
select 1

-- events (@1 varchar(8000))
select "order_id", "user_id", "total", "status", "created_at", "updated_at", "source_partition", "source_offset" from "orders" where "order_id" = @1

-- events
select 1

-- events (@1 varchar(8000))
select "order_id", "status", "amount", "settled_at", "updated_at", "source_partition", "source_offset" from "payments" where "order_id" = @1

-- events
select 1

-- events (@1 varchar(8000))
select "sku", "quantity", "last_adjusted_at", "source_partition", "source_offset" from "inventory" where "sku" = @1

-- events
select 1

-- events (@1 varchar(8000))
select top(1) "entity_table", "entity_key", "event_ts", "source_topic", "source_partition", "source_offset" from "event_log" where "event_id" = @1 order by "logged_at", "source_offset"

-- events
select 1

-- events
select 1

-- events (@1 varchar(8000))
select top(10) "source_topic", "source_partition", "source_offset", "event_key", "parent_table", "parent_key", "constraint_name", "pending_since" from "pending_events" where "event_id" = @1 order by "pending_since", "source_partition", "source_offset"

-- events (@1 varchar(8000))
select "sku", "delta", "source_topic", "source_partition", "source_offset", "applied_at" from "inventory_ledger" where "event_id" = @1

-- events
select 1

-- events (@1 varchar(8000))
select "source_partition", "source_offset" from "applied_offsets" where "source_topic" = @1

-- events
select 1

-- events (@1 int, @2 varchar(8000))
DELETE TOP (@1) FROM event_log WHERE logged_at < @2;

-- events
select 1

-- events
select count(*) as "count" from (select top(100001) 1 as "one" from "pending_events") as "c"

-- events
select 1

-- events (@1 varchar(8000))
select top(1) "pending_since" from "pending_events" where "parent_table" = @1 order by "pending_since"

-- events
select 1

-- events (@1 varchar(8000))
select top(1) "pending_since" from "pending_events" where "parent_table" = @1 order by "pending_since"

-- events
select 1

-- events (@1 varchar(8000), @2 varchar(8000))
select distinct top(1000) "parent_key" from "pending_events" where "parent_table" = @1 and "parent_key" > @2 order by "parent_key"

-- events
select 1

-- events (@1 varchar(8000), @2 varchar(8000))
select top(500) "p"."parent_key" from "pending_events" as "p" where "p"."parent_table" = @1 and "p"."pending_since" >= @2 and exists (select "u"."user_id" from "users" as "u" where "u"."user_id" = "p"."parent_key")

-- events
select 1

-- events (@1 varchar(8000), @2 varchar(8000), @3 varchar(8000))
select top(500) "p"."parent_key" from "pending_events" as "p" where "p"."parent_table" = @1 and "p"."parent_key" in (@2, @3) and exists (select "u"."user_id" from "users" as "u" where "u"."user_id" = "p"."parent_key")

-- events
select 1

-- events
select 1
