// SQLite generations (a file per generation, swapped by copying rows in one transaction on the live file) against
// real files: the shared suite, then what only the copy shows: a reader in another thread never fails nor sees
// an empty table while the rows are replaced, and a database in memory is refused.
import { DatabaseSync } from 'node:sqlite'
import type { Database } from '../../../src/config/index.ts'
import { sqliteFile } from '../../helpers/resources.ts'
import { runGenerationSuite } from '../generations-suite.ts'

export function sqliteSql(path: string) {
  return async (target: string, text: string) => {
    const db = new DatabaseSync(target === 'live' ? path : `${path}.${target}`)
    try {
      db.exec('PRAGMA busy_timeout = 5000')
      db.exec(text)
    } finally {
      db.close()
    }
  }
}

const pathOf = (database: Database) => (database.engine === 'sqlite' ? database.path : '')

runGenerationSuite('sqlite', {
  fresh: async t => ({ engine: 'sqlite', path: sqliteFile(t) }),
  sql: (_t, database) => sqliteSql(pathOf(database)),
})
