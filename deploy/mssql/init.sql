-- Least-privilege SQL Server logins for the pipeline, run as sa by the one-shot mssql-init service
-- (init.sh). Idempotent: each run creates what is missing and sets every password from its variable.
--   pipeline_migrate   owner of the events database: the schema (`pipeline migrate`); no server-wide rights
--   pipeline_consumer  reads and writes rows (db_datareader, db_datawriter); no DDL
--   pipeline_api       reads rows (db_datareader); the read API never writes
-- The consumer and the API still run the migration at start; with every step recorded in schema_migrations it
-- reads that table and changes nothing, which db_datareader allows (sp_getapplock needs only public).
-- The passwords are sqlcmd scripting variables, which sqlcmd takes from the environment (init.sh checked them).
-- sqlcmd substitutes them everywhere in the text, comments included, so no comment here spells that syntax.
SET NOCOUNT ON;
GO

IF SUSER_ID(N'pipeline_migrate') IS NULL
  CREATE LOGIN pipeline_migrate WITH PASSWORD = N'$(MSSQL_MIGRATE_PASSWORD)', CHECK_POLICY = ON;
ELSE
  ALTER LOGIN pipeline_migrate WITH PASSWORD = N'$(MSSQL_MIGRATE_PASSWORD)';
IF SUSER_ID(N'pipeline_consumer') IS NULL
  CREATE LOGIN pipeline_consumer WITH PASSWORD = N'$(MSSQL_CONSUMER_PASSWORD)', CHECK_POLICY = ON;
ELSE
  ALTER LOGIN pipeline_consumer WITH PASSWORD = N'$(MSSQL_CONSUMER_PASSWORD)';
IF SUSER_ID(N'pipeline_api') IS NULL
  CREATE LOGIN pipeline_api WITH PASSWORD = N'$(MSSQL_API_PASSWORD)', CHECK_POLICY = ON;
ELSE
  ALTER LOGIN pipeline_api WITH PASSWORD = N'$(MSSQL_API_PASSWORD)';
GO

-- The collation the pipeline gives a database it creates (databaseCollation in src/store/mssql/driver.ts;
-- test/deploy/compose.test.ts keeps them equal).
IF DB_ID(N'events') IS NULL
  CREATE DATABASE events COLLATE Latin1_General_100_CI_AS_SC_UTF8;
GO

-- The owner is dbo inside the database, so the migration may create and alter its tables, and the login has no
-- right on any other database. A database an earlier deployment created as sa is handed over the same way.
IF ISNULL((SELECT SUSER_SNAME(owner_sid) FROM sys.databases WHERE name = N'events'), N'') <> N'pipeline_migrate'
  ALTER AUTHORIZATION ON DATABASE::events TO pipeline_migrate;
GO

USE events;
GO

IF USER_ID(N'pipeline_consumer') IS NULL
  CREATE USER pipeline_consumer FOR LOGIN pipeline_consumer;
ELSE
  ALTER USER pipeline_consumer WITH LOGIN = pipeline_consumer;
IF USER_ID(N'pipeline_api') IS NULL
  CREATE USER pipeline_api FOR LOGIN pipeline_api;
ELSE
  ALTER USER pipeline_api WITH LOGIN = pipeline_api;
GO

IF IS_ROLEMEMBER(N'db_datareader', N'pipeline_consumer') = 0 ALTER ROLE db_datareader ADD MEMBER pipeline_consumer;
IF IS_ROLEMEMBER(N'db_datawriter', N'pipeline_consumer') = 0 ALTER ROLE db_datawriter ADD MEMBER pipeline_consumer;
IF IS_ROLEMEMBER(N'db_datareader', N'pipeline_api') = 0 ALTER ROLE db_datareader ADD MEMBER pipeline_api;
GO

-- Rights granted by hand earlier are taken back, so the roles have exactly the rights above.
IF IS_ROLEMEMBER(N'db_owner', N'pipeline_consumer') = 1 ALTER ROLE db_owner DROP MEMBER pipeline_consumer;
IF IS_ROLEMEMBER(N'db_ddladmin', N'pipeline_consumer') = 1 ALTER ROLE db_ddladmin DROP MEMBER pipeline_consumer;
IF IS_ROLEMEMBER(N'db_owner', N'pipeline_api') = 1 ALTER ROLE db_owner DROP MEMBER pipeline_api;
IF IS_ROLEMEMBER(N'db_ddladmin', N'pipeline_api') = 1 ALTER ROLE db_ddladmin DROP MEMBER pipeline_api;
IF IS_ROLEMEMBER(N'db_datawriter', N'pipeline_api') = 1 ALTER ROLE db_datawriter DROP MEMBER pipeline_api;
GO
