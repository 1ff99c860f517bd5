// node:sqlite (built into Node 24, no native addon to compile) under Kysely's SqliteDialect. Kysely expects the
// better-sqlite3 API; the adapter below bridges the two differences: StatementSync has no `reader` flag and
// takes its parameters spread rather than as an array.
import { closeSync, fchmodSync, mkdirSync, openSync } from 'node:fs'
import { dirname } from 'node:path'
import { DatabaseSync, type SQLInputValue, type StatementSync } from 'node:sqlite'
import {
  CompiledQuery,
  type DatabaseConnection,
  type Driver,
  type SqliteDatabase,
  SqliteDialect,
  type SqliteDialectConfig,
  SqliteDriver,
  type SqliteStatement,
} from 'kysely'

export interface SqliteOptions {
  readonly path: string
  /** How long a writer waits for another process's write lock before SQLITE_BUSY. */
  readonly busyTimeoutMs: number
}

export function isMemory(path: string): boolean {
  return path === '' || path === ':memory:'
}

// The write statements of a batch repeat the same text (fixed chunk sizes), so preparing each text once saves
// most of the per-statement cost. Bounded so that ad-hoc text cannot grow it forever.
const statementCacheSize = 64

function adapt(db: DatabaseSync): SqliteDatabase {
  const cache = new Map<string, StatementSync>()
  const prepared = (text: string): StatementSync => {
    let stmt = cache.get(text)
    if (stmt === undefined) {
      stmt = db.prepare(text)
      if (cache.size >= statementCacheSize) cache.delete(cache.keys().next().value!)
      cache.set(text, stmt)
    }
    return stmt
  }
  // Kysely's parameters are `unknown`; the statements of this store only bind strings, numbers, bigints and null.
  const args = (params: ReadonlyArray<unknown>) => params as SQLInputValue[]
  return {
    close: () => {
      cache.clear()
      db.close()
    },
    prepare: (text: string): SqliteStatement => {
      const stmt = prepared(text)
      return {
        // A statement that yields columns (SELECT, or a write with RETURNING) is read with all().
        reader: stmt.columns().length > 0,
        all: params => stmt.all(...args(params)),
        run: params => stmt.run(...args(params)),
        iterate: params => stmt.iterate(...args(params)),
      }
    },
  }
}

/** Owner read and write only: the store holds names and e-mail addresses. */
export const fileMode = 0o600

/**
 * Creates the database file empty (an empty file is a valid empty SQLite database) with mode 0600, unless it
 * exists: an existing file keeps the mode its owner gave it. fchmod makes the mode independent of the umask.
 * SQLite's unix VFS creates the -wal, -shm and -journal files with the mode of the database file, so they are
 * 0600 too.
 */
function createPrivateFile(path: string): void {
  let fd: number
  try {
    fd = openSync(path, 'wx', fileMode)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return
    throw error
  }
  try {
    fchmodSync(fd, fileMode)
  } finally {
    closeSync(fd)
  }
}

export function openDatabase({ path, busyTimeoutMs }: SqliteOptions): SqliteDatabase {
  if (!isMemory(path)) {
    mkdirSync(dirname(path), { recursive: true })
    createPrivateFile(path)
  }
  const db = new DatabaseSync(path)
  // busy_timeout first: switching to WAL needs a lock another process may hold for a moment.
  // synchronous=FULL because Kafka offsets are committed once the transaction is: a commit that a power
  // loss could undo would lose events for good.
  db.exec(
    `PRAGMA busy_timeout = ${Math.max(0, Math.floor(busyTimeoutMs))};
     PRAGMA journal_mode = WAL;
     PRAGMA synchronous = FULL;
     PRAGMA foreign_keys = ON;`,
  )
  return adapt(db)
}

// The store only opens transactions to write. A deferred BEGIN takes the write lock at its first write and
// fails at once with SQLITE_BUSY when another connection got there first; BEGIN IMMEDIATE takes it up front,
// where busy_timeout applies.
class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'))
  }
}

export class NodeSqliteDialect extends SqliteDialect {
  readonly #config: SqliteDialectConfig

  constructor(options: SqliteOptions) {
    const config: SqliteDialectConfig = { database: async () => openDatabase(options) }
    super(config)
    this.#config = config
  }

  override createDriver(): Driver {
    return new ImmediateSqliteDriver(this.#config)
  }
}
