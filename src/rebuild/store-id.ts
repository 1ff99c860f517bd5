// The identity of a store, for the name of its rebuild's keys: two processes that project into the same database
// must find the same rebuild, and two pipelines with different databases sharing one Redis must not.
import { createHash } from 'node:crypto'
import { resolve } from 'node:path'
import type { Database } from '../config/index.ts'

/** What names the database, without credentials: they may change (a rotated password) while the data stays. */
export function storeLocation(database: Database): string {
  switch (database.engine) {
    case 'sqlite':
      return `sqlite:${database.path === ':memory:' ? database.path : resolve(database.path)}`
    case 'postgres':
    case 'mssql': {
      if (database.url !== undefined) {
        try {
          const url = new URL(database.url)
          return `${database.engine}://${url.hostname.toLowerCase()}:${url.port}${url.pathname}`
        } catch {
          return `${database.engine}:${database.url}`
        }
      }
      // An SQL Server connection string: the server and the database name, whatever the order of the keys.
      const pairs = new Map(
        ('connectionString' in database ? (database.connectionString ?? '') : '').split(';').flatMap((part: string) => {
          const at = part.indexOf('=')
          return at < 0 ? [] : [[part.slice(0, at).trim().toLowerCase(), part.slice(at + 1).trim()] as const]
        }),
      )
      const server = pairs.get('server') ?? pairs.get('data source') ?? ''
      const name = pairs.get('database') ?? pairs.get('initial catalog') ?? ''
      return `mssql:${server.toLowerCase()}/${name}`
    }
  }
}

/** 16 hex digits of the location's SHA-256: short in key names, and never the location itself. */
export const storeIdOf = (database: Database): string =>
  createHash('sha256').update(storeLocation(database)).digest('hex').slice(0, 16)
