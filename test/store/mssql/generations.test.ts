// SQL Server generations: the statements checked offline (a generation is a database beside the live one; a swap
// copies rows in one transaction on the live database), and the shared suite against a server when MSSQL_CONN
// names one (skipped, with the reason in the test output, otherwise).
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { GenerationError, generationTables } from '../../../src/store/generations.ts'
import { parseConnectionString } from '../../../src/store/mssql/connection-string.ts'
import { execWithName, tediousFactory } from '../../../src/store/mssql/driver.ts'
import {
  dropOldStatements,
  keyParam,
  MssqlGenerations,
  quote,
  rollbackStatements,
  shadowDatabase,
  swapStatements,
} from '../../../src/store/mssql/generations.ts'
import { storeConnection } from '../../../src/store/mssql/store.ts'
import { runGenerationSuite } from '../generations-suite.ts'
import { freshDatabase, liveConnection, query, skipReason } from './live.ts'

const columns = new Map(generationTables.map(t => [t, ['a', 'b']]))

describe('mssql generation statements', () => {
  it('names the shadow database after the live one and quotes identifiers', () => {
    assert.equal(shadowDatabase('pipeline', 'rebuild_3'), 'pipeline__rebuild_3')
    assert.equal(quote('a]b'), '[a]]b]')
  })

  it('swaps in one transaction: keep the live rows in <name>_old, empty children first, fill parents first', () => {
    const statements = swapStatements('dbo', 'pipeline__next', 'next', columns, '2026-01-01T00:00:00.000Z')
    assert.equal(statements[0], "EXEC (N'CREATE SCHEMA [next_old]')")
    assert.match(
      statements[1]!,
      /^SELECT CAST\('2026-01-01T00:00:00.000Z' AS VARCHAR\(30\)\) AS swapped_at, .* INTO \[next_old\]\.\[generation\]$/,
    )
    assert.ok(statements.includes('SELECT [a], [b] INTO [next_old].[users] FROM [dbo].[users]'))
    const deletes = statements.filter(s => s.startsWith('DELETE'))
    assert.deepEqual(
      deletes,
      [...generationTables].reverse().map(t => `DELETE FROM [dbo].[${t}]`),
    )
    const inserts = statements.filter(s => s.startsWith('INSERT'))
    assert.deepEqual(
      inserts,
      generationTables.map(
        t => `INSERT INTO [dbo].[${t}] ([a], [b]) SELECT [a], [b] FROM [pipeline__next].[dbo].[${t}]`,
      ),
    )
    assert.ok(statements.indexOf(deletes.at(-1)!) < statements.indexOf(inserts[0]!), 'every delete before any insert')
  })

  it('rolls back: live rows to the shadow database, the old rows back, the old schema dropped', () => {
    const statements = rollbackStatements('dbo', 'pipeline__next', 'next', columns)
    assert.equal(
      statements[0],
      'INSERT INTO [pipeline__next].[dbo].[users] ([a], [b]) SELECT [a], [b] FROM [dbo].[users]',
    )
    assert.ok(statements.includes('INSERT INTO [dbo].[orders] ([a], [b]) SELECT [a], [b] FROM [next_old].[orders]'))
    assert.deepEqual(statements.slice(-dropOldStatements('next').length), dropOldStatements('next'))
    assert.equal(dropOldStatements('next').at(-1), "EXEC (N'DROP SCHEMA [next_old]')")
    assert.ok(dropOldStatements('next').includes('DROP TABLE IF EXISTS [next_old].[generation]'))
  })

  it('binds page keys with their columns types', () => {
    assert.deepEqual(
      [keyParam('user_id', 'u1').kind, keyParam('user_id', 'u1').declaration],
      ['varchar', 'varchar(400)'],
    )
    assert.equal(keyParam('source_topic', 'events').declaration, 'varchar(1020)')
    assert.equal(keyParam('source_partition', 3).kind, 'int')
    assert.equal(keyParam('source_offset', '12').value, 12n)
  })

  it('keeps the password when the store points at another database', () => {
    const connection = storeConnection({
      connectionString: 'server=h;user id=u;password=secret;database=live',
      database: 'live__next',
      timeoutMs: 5,
    })
    assert.deepEqual(
      [connection.password, connection.database, connection.requestTimeoutMs],
      ['secret', 'live__next', 5],
    )
    assert.ok(!JSON.stringify(connection).includes('secret'), 'and still leaves it out of JSON')
  })

  it('refuses a generation whose database name would pass 128 characters', async () => {
    const generations = new MssqlGenerations({
      engine: 'mssql',
      connectionString: `server=127.0.0.1,1;user id=u;password=p;database=${'d'.repeat(100)}`,
    })
    try {
      await assert.rejects(
        generations.open('a'.repeat(30)),
        (e: unknown) => e instanceof GenerationError && e.reason === 'invalid-name' && /128/.test(e.message),
      )
    } finally {
      await generations.close()
    }
  })
})

/** Drops every database of a test's generations (`<database>__*`). */
const dropGenerations = `DECLARE @n SYSNAME;
DECLARE c CURSOR LOCAL FOR SELECT name FROM sys.databases WHERE LEFT(name, LEN(@name) + 2) = @name + '__';
OPEN c; FETCH NEXT FROM c INTO @n;
WHILE @@FETCH_STATUS = 0
BEGIN
  DECLARE @drop NVARCHAR(400) = N'ALTER DATABASE ' + QUOTENAME(@n) + N' SET SINGLE_USER WITH ROLLBACK IMMEDIATE; DROP DATABASE ' + QUOTENAME(@n);
  EXEC (@drop);
  FETCH NEXT FROM c INTO @n;
END`

if (liveConnection === undefined) {
  it('mssql generations against SQL Server', { skip: skipReason }, () => {})
} else {
  const raw = liveConnection
  const names = new Map<string, string>()
  runGenerationSuite('mssql', {
    fresh: async t => {
      const { connectionString, name } = freshDatabase(t, raw)
      t.after(() => execWithName(tediousFactory(parseConnectionString(raw)), 'master', dropGenerations, name))
      names.set(connectionString, name)
      return { engine: 'mssql', connectionString }
    },
    sql: (_t, database) => async (target, text) => {
      const live = names.get(database.engine === 'mssql' ? (database.connectionString ?? '') : '') ?? ''
      await query(raw, target === 'live' ? live : shadowDatabase(live, target), text)
    },
  })
}
