// The MSSQL leg of the store conformance suite, plus what only SQL Server itself can show: the schema's seed
// names and types, upgrading a database the seed created, and exact Unicode in a database that is not UTF-8.
// It needs a server: it runs when MSSQL_CONN is set (a login that may create databases) and is skipped, with
// the reason in the test output, otherwise.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { parseConnectionString } from '../../../src/store/mssql/connection-string.ts'
import { execWithName, tediousFactory } from '../../../src/store/mssql/driver.ts'
import { runConformance } from '../conformance.ts'
import { sourced, userCreated } from '../events.ts'
import { openStore } from '../harness.ts'
import { freshDatabase, liveConnection, query, skipReason } from './live.ts'

if (liveConnection === undefined) {
  it('mssql store conformance', { skip: skipReason }, () => {})
} else {
  const raw = liveConnection
  runConformance('mssql', async t => ({ engine: 'mssql', connectionString: freshDatabase(t, raw).connectionString }))

  describe('mssql store against SQL Server', () => {
    it('creates the seed schema: names, types and one recorded migration', async t => {
      const { connectionString, name } = freshDatabase(t, raw)
      const stores = await Promise.all([1, 2].map(() => openStore(t, { engine: 'mssql', connectionString }, false)))
      await Promise.all(stores.map(s => s.migrate()))
      const db = (text: string) => query(raw, name, text)
      assert.deepEqual(await db('SELECT version FROM schema_migrations'), [{ version: 1 }])
      const columns = await db(`SELECT TABLE_NAME + '.' + COLUMN_NAME AS c, DATA_TYPE AS t,
          CHARACTER_MAXIMUM_LENGTH AS len, NUMERIC_PRECISION AS p, NUMERIC_SCALE AS s, COLLATION_NAME AS coll
        FROM INFORMATION_SCHEMA.COLUMNS WHERE TABLE_NAME IN ('users', 'orders', 'payments', 'inventory')`)
      const of = (c: string) => columns.find(r => r['c'] === c)
      // The seed's VARCHAR(n) as n characters of UTF-8: 4n bytes, held to n characters by a CHECK.
      assert.deepEqual([of('users.user_id')?.['t'], of('users.user_id')?.['len']], ['varchar', 400])
      assert.deepEqual(
        [of('orders.user_id')?.['len'], of('orders.user_id')?.['coll']],
        [400, 'Latin1_General_100_BIN2_UTF8'],
      )
      assert.deepEqual([of('users.email')?.['t'], of('users.email')?.['len']], ['varchar', 1020])
      assert.deepEqual([of('orders.status')?.['t'], of('orders.status')?.['len']], ['varchar', 200])
      assert.deepEqual(
        [of('orders.total')?.['t'], of('orders.total')?.['p'], of('orders.total')?.['s']],
        ['decimal', 18, 2],
      )
      assert.equal(of('payments.settled_at')?.['t'], 'datetime2')
      assert.equal(of('inventory.quantity')?.['t'], 'int')
      assert.equal(of('users.name')?.['coll'], 'Latin1_General_100_BIN2_UTF8')
      const names = await db(`SELECT name FROM sys.foreign_keys WHERE name = 'FK_Orders_Users'
        UNION ALL SELECT name FROM sys.indexes WHERE name LIKE 'IX[_]orders[_]%' ORDER BY 1`)
      assert.deepEqual(
        names.map(r => r['name']),
        ['FK_Orders_Users', 'IX_orders_created_at', 'IX_orders_user_id'],
      )
    })

    it('upgrades a database the seed system created, keeping its rows', async t => {
      const { connectionString, name } = freshDatabase(t, raw)
      await execWithName(
        tediousFactory(parseConnectionString(raw)),
        'master',
        "EXEC (N'CREATE DATABASE ' + QUOTENAME(@name))",
        name,
      )
      await query(
        raw,
        name,
        `CREATE TABLE users (user_id VARCHAR(100) PRIMARY KEY, name VARCHAR(255), email VARCHAR(255), created_at DATETIME2);
         INSERT INTO users (user_id, name, email, created_at) VALUES ('u1', 'Seed', 'seed@example.com', '2024-01-01');`,
      )
      const store = await openStore(t, { engine: 'mssql', connectionString })
      assert.equal((await store.getUser('u1'))?.name, 'Seed')
      await store.applyBatch(sourced(userCreated({ userId: 'u1', name: 'Event' })))
      assert.equal((await store.getUser('u1'))?.name, 'Event', 'any event is newer than a seed row')
    })

    it('stores Unicode exactly in a database whose default collation is not UTF-8', async t => {
      const { connectionString, name } = freshDatabase(t, raw)
      await execWithName(
        tediousFactory(parseConnectionString(raw)),
        'master',
        "EXEC (N'CREATE DATABASE ' + QUOTENAME(@name) + N' COLLATE SQL_Latin1_General_CP1_CI_AS')",
        name,
      )
      const store = await openStore(t, { engine: 'mssql', connectionString })
      const text = 'Zoë 日本語 🎉 مرحبا'
      const cjk = '字'.repeat(100)
      await store.applyBatch(sourced(userCreated({ userId: cjk, name: '🎉'.repeat(255) })))
      assert.equal((await store.getUser(cjk))?.name, '🎉'.repeat(255), 'n characters fit whatever their bytes')
      await store.applyBatch(sourced(userCreated({ userId: 'ü-1', name: text })))
      assert.equal((await store.getUser('ü-1'))?.name, text)
      assert.equal(await store.getUser('Ü-1'), undefined, 'keys compare case-sensitively, as in the other engines')
    })
  })
}
