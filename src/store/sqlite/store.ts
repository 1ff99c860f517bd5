// The SQLite store: one node:sqlite connection per store, WAL so readers never wait for the writer.
import { resolve } from 'node:path'
import { Kysely, type Transaction } from 'kysely'
import { SqlStore } from '../sql-store.ts'
import type { Tables } from '../tables.ts'
import type { Store } from '../types.ts'
import { isMemory, NodeSqliteDialect, type SqliteOptions } from './driver.ts'
import { toPipelineError } from './errors.ts'
import { migrate } from './migrations.ts'
import { statements } from './statements.ts'

export const defaultBusyTimeoutMs = 5000

// node:sqlite is synchronous: a connection waiting for the write lock blocks the whole thread until
// busy_timeout. If the holder is another store in this same process, it can never finish meanwhile (its next
// statement waits for the blocked event loop), so writers to one file queue here first; busy_timeout is left
// for other processes only. Generations (generations.ts) queue their swaps here too.
const writeQueues = new Map<string, Promise<unknown>>()

export function serialised<T>(file: string, work: () => Promise<T>): Promise<T> {
  const previous = writeQueues.get(file) ?? Promise.resolve()
  const result = previous.then(work, work)
  const settled = result.then(
    () => {},
    () => {},
  )
  writeQueues.set(file, settled)
  void settled.then(() => {
    if (writeQueues.get(file) === settled) writeQueues.delete(file)
  })
  return result
}

export interface SqliteStoreOptions {
  readonly path: string
  readonly busyTimeoutMs?: number
}

export function createSqliteStore({ path, busyTimeoutMs = defaultBusyTimeoutMs }: SqliteStoreOptions): Store {
  const options: SqliteOptions = { path, busyTimeoutMs }
  const db = new Kysely<Tables>({ dialect: new NodeSqliteDialect(options) })
  const file = isMemory(path) ? undefined : resolve(path)
  const transaction = <T>(work: (trx: Transaction<Tables>) => Promise<T>) => db.transaction().execute(work)
  return new SqlStore({
    engine: 'sqlite',
    db,
    statements,
    batchedLookups: true,
    migrate,
    toPipelineError,
    write: work => (file === undefined ? transaction(work) : serialised(file, () => transaction(work))),
  })
}
