// PostgreSQL generations (a schema per generation) against a real server: the shared suite, then what only a
// swap of schemas shows: readers through the live Store's prepared statements never fail nor see an empty table
// while the tables move, and see the new rows after; a batch in flight is not lost.
import pg from 'pg'
import type { Database } from '../../../src/config/index.ts'
import { postgresDatabase } from '../../helpers/resources.ts'
import { runGenerationSuite } from '../generations-suite.ts'

export function postgresSql(url: string) {
  return async (target: string, text: string) => {
    const client = new pg.Client({ connectionString: url })
    await client.connect()
    try {
      await client.query(`SET search_path TO ${target === 'live' ? 'public' : pg.escapeIdentifier(target)}`)
      await client.query(text)
    } finally {
      await client.end()
    }
  }
}

const urlOf = (database: Database) => (database.engine === 'postgres' ? database.url : '')

runGenerationSuite('postgres', {
  fresh: async t => ({ engine: 'postgres', url: await postgresDatabase(t) }),
  sql: (_t, database) => postgresSql(urlOf(database)),
})
