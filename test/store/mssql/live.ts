// What the tests against a real SQL Server share: a fresh database per test (created by the store's own
// migrate, dropped after the test) and a plain query on a connection of its own. Only used when MSSQL_CONN is set.
import { randomBytes } from 'node:crypto'
import type { TestContext } from 'node:test'
import { Connection, Request } from 'tedious'
import type { MssqlConnectionOptions } from '../../../src/store/mssql/connection.ts'
import { parseConnectionString } from '../../../src/store/mssql/connection-string.ts'
import { execWithName, tediousConfig, tediousFactory } from '../../../src/store/mssql/driver.ts'

export const skipReason = 'no SQL Server reachable: set MSSQL_CONN to run'

/** MSSQL_CONN, when the tests may use a real server (the login must be allowed to create databases). */
export const liveConnection = process.env['MSSQL_CONN'] || undefined

const braced = (value: string) => `{${value.replaceAll('}', '}}')}}`

/** `options` as an MSSQL_CONN string naming `database` instead. */
export function connectionStringFor(options: MssqlConnectionOptions, database: string): string {
  const instance = options.instanceName === undefined ? '' : `\\${options.instanceName}`
  const port = options.port === undefined ? '' : `,${options.port}`
  const encrypt = options.encrypt === false ? 'disable' : String(options.encrypt)
  return [
    `server=${braced(`${options.server}${instance}${port}`)}`,
    `user id=${braced(options.user)}`,
    `password=${braced(options.password)}`,
    `database=${braced(database)}`,
    `encrypt=${encrypt}`,
    `trustservercertificate=${options.trustServerCertificate}`,
  ].join(';')
}

const dropDatabase = `IF DB_ID(@name) IS NOT NULL
BEGIN
  DECLARE @drop NVARCHAR(400) = N'ALTER DATABASE ' + QUOTENAME(@name) + N' SET SINGLE_USER WITH ROLLBACK IMMEDIATE; DROP DATABASE ' + QUOTENAME(@name);
  EXEC (@drop);
END`

/** A database name of its own for this test, as an MSSQL_CONN string; the database is dropped after the test. */
export function freshDatabase(t: TestContext, raw: string): { connectionString: string; name: string } {
  const options = parseConnectionString(raw)
  const name = `ep_test_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`
  t.after(() => execWithName(tediousFactory(options), 'master', dropDatabase, name))
  return { connectionString: connectionStringFor(options, name), name }
}

/** Runs `text` on `database` and returns its rows. */
export async function query(raw: string, database: string, text: string): Promise<Record<string, unknown>[]> {
  const connection = new Connection(tediousConfig(parseConnectionString(raw), database))
  try {
    await new Promise<void>((resolve, reject) => connection.connect(error => (error ? reject(error) : resolve())))
    return await new Promise((resolve, reject) => {
      const rows: Record<string, unknown>[] = []
      const request = new Request(text, error => (error ? reject(error) : resolve(rows)))
      // tedious types a row as any; without useColumnNames it is an array of { metadata, value }.
      request.on('row', (columns: { metadata: { colName: string }; value: unknown }[]) => {
        rows.push(Object.fromEntries(columns.map(c => [c.metadata.colName, c.value])))
      })
      connection.execSql(request)
    })
  } finally {
    connection.close()
  }
}
