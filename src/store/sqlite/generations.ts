// SQLite generations: a shadow generation is a database file beside the live one (`<path>.<name>`), filled by a
// SQLite Store on that file. A swap is one write transaction on the live file, with the shadow attached: it keeps
// the live rows as the old generation (tables `<name>_old__<table>` in the live file: data only, so their index
// names never collide with the live tables', which are global per file), then replaces the live tables' rows with
// the shadow's. Readers of the live file (WAL) see the old rows until the commit and the new ones after it, never
// an empty table. The live tables themselves are never dropped or renamed, so their indexes, constraints and
// every prepared statement stay as they are.
import { closeSync, existsSync, fchmodSync, openSync, readdirSync, rmSync } from 'node:fs'
import { basename, dirname, resolve } from 'node:path'
import { DatabaseSync, type SQLInputValue } from 'node:sqlite'
import { type CompareTuning, compareAll, type PageDialect } from '../generation-compare.ts'
import {
  checkCompareLimit,
  checkGenerationName,
  GenerationError,
  type GenerationInfo,
  type Generations,
  generationTables,
  oldGeneration,
  type TableCheck,
} from '../generations.ts'
import type { Store, StoreOptions } from '../types.ts'
import { fileMode, isMemory } from './driver.ts'
import { toPipelineError } from './errors.ts'
import { createSqliteStore, defaultBusyTimeoutMs, serialised } from './store.ts'
import { type Guard, runTransaction } from './transaction-worker.ts'

const q = (identifier: string) => `"${identifier.replaceAll('"', '""')}"`

/** The table of the live file that holds old generation `name`'s rows of `table`. */
export const oldTable = (name: string, table: string) => `${oldGeneration(name)}__${table}`

/** The row of the live file that says old generation `name` exists, when it was made, and from what. */
const oldMarker = (name: string) => oldTable(name, 'generation')

/** The files SQLite keeps for a database: its own, and its WAL, shared-memory and rollback journal. */
const databaseFiles = (path: string) => [path, `${path}-wal`, `${path}-shm`, `${path}-journal`]

/**
 * The statements of a swap inside its transaction, on the live file (`main`) with the shadow attached as `gen`:
 * the live rows are kept as `<name>_old__<table>`, then the live tables are emptied children first and filled from
 * the shadow parents first, so every foreign key holds at each statement. `columns` lists each table's columns (the
 * live file's order; both files have the same, from the same migrations).
 */
export function swapStatements(name: string, columns: ReadonlyMap<string, readonly string[]>, now: string): string[] {
  const list = (table: string) => columns.get(table)!.map(q).join(', ')
  return [
    `CREATE TABLE main.${q(oldMarker(name))} AS SELECT ${sqlText(now)} AS swapped_at, min(applied_at) AS created_at FROM gen.schema_migrations`,
    ...generationTables.map(t => `CREATE TABLE main.${q(oldTable(name, t))} AS SELECT ${list(t)} FROM main.${q(t)}`),
    ...[...generationTables].reverse().map(t => `DELETE FROM main.${q(t)}`),
    ...generationTables.map(t => `INSERT INTO main.${q(t)} (${list(t)}) SELECT ${list(t)} FROM gen.${q(t)}`),
  ]
}

/**
 * The statements of a rollback, on the live file with the re-created (empty) shadow attached as `gen`: the live
 * rows go to the shadow, the old generation's rows back to the live tables, and the old tables are dropped.
 */
export function rollbackStatements(name: string, columns: ReadonlyMap<string, readonly string[]>): string[] {
  const list = (table: string) => columns.get(table)!.map(q).join(', ')
  return [
    ...generationTables.map(t => `INSERT INTO gen.${q(t)} (${list(t)}) SELECT ${list(t)} FROM main.${q(t)}`),
    ...[...generationTables].reverse().map(t => `DELETE FROM main.${q(t)}`),
    ...generationTables.map(
      t => `INSERT INTO main.${q(t)} (${list(t)}) SELECT ${list(t)} FROM main.${q(oldTable(name, t))}`,
    ),
    ...dropOldStatements(name),
  ]
}

export function dropOldStatements(name: string): string[] {
  return [...generationTables, 'generation'].map(t => `DROP TABLE IF EXISTS main.${q(oldTable(name, t))}`)
}

/** Inside the transaction: old generation `name` exists (`present`) or does not. */
function oldGuard(name: string, present: boolean): Guard {
  return {
    sql: `SELECT ${present ? '' : 'NOT '}EXISTS (SELECT 1 FROM main.sqlite_master WHERE type = 'table' AND name = ?) AS ok`,
    params: [oldMarker(name)],
    reason: present ? 'not-found' : 'exists',
    message: present
      ? `old generation "${oldGeneration(name)}" does not exist`
      : `old generation "${oldGeneration(name)}" still exists: drop it before swapping "${name}" again`,
  }
}

/** Inside the transaction: the live file and the attached one are at the same schema version. */
function versionGuard(other: string): Guard {
  const version = (schema: string) => `(SELECT max(version) FROM ${schema}.schema_migrations)`
  return {
    sql: `SELECT ${version('main')} IS NOT NULL AND ${version('main')} = ${version('gen')} AS ok`,
    params: [],
    reason: 'not-ready',
    message: `the live database and ${other} are at different schema versions: migrate both first`,
  }
}

const sqlText = (value: string) => `'${value.replaceAll("'", "''")}'`

export class SqliteGenerations implements Generations {
  readonly #path: string
  readonly #busyTimeoutMs: number
  readonly #tuning: CompareTuning

  constructor(path: string, options: StoreOptions = {}, tuning: CompareTuning = {}) {
    this.#tuning = tuning
    if (isMemory(path)) {
      throw new GenerationError(
        'unsupported',
        'a SQLite database in memory cannot hold generations: a rebuild needs the projection in a file (SQLITE_PATH)',
      )
    }
    this.#path = resolve(path)
    this.#busyTimeoutMs = options.timeoutMs ?? defaultBusyTimeoutMs
  }

  /** The file of generation `name`, beside the live one. */
  fileOf(name: string): string {
    return `${this.#path}.${name}`
  }

  async #run<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work()
    } catch (error) {
      if (error instanceof GenerationError) throw error
      throw toPipelineError(error)
    }
  }

  #connect(path = this.#path): DatabaseSync {
    if (!existsSync(path)) throw new GenerationError('not-ready', `the live SQLite database ${path} does not exist`)
    const db = new DatabaseSync(path)
    db.exec(`PRAGMA busy_timeout = ${Math.max(0, Math.floor(this.#busyTimeoutMs))}; PRAGMA foreign_keys = ON;`)
    return db
  }

  /**
   * One write transaction on the live file, in a worker thread (transaction-worker.ts) and queued behind this
   * process's own writers to the file, with `shadow` attached as `gen` when given. `guards` are checked inside it.
   */
  #write(shadow: string | undefined, guards: readonly Guard[], statements: readonly string[]): Promise<void> {
    return serialised(this.#path, () =>
      runTransaction({ path: this.#path, attach: shadow, busyTimeoutMs: this.#busyTimeoutMs, guards, statements }),
    )
  }

  /** The live file's columns of every generation table, read before the transaction its guards then check. */
  #liveColumns(): Map<string, string[]> {
    const db = this.#connect()
    try {
      return this.#columns(db)
    } finally {
      db.close()
    }
  }

  #hasOld(db: DatabaseSync, name: string): boolean {
    return (
      db.prepare("SELECT 1 FROM main.sqlite_master WHERE type = 'table' AND name = ?").get(oldMarker(name)) !==
      undefined
    )
  }

  #columns(db: DatabaseSync): Map<string, string[]> {
    const columns = new Map<string, string[]>()
    for (const table of generationTables) {
      const rows = db.prepare(`PRAGMA main.table_info(${q(table)})`).all() as { name: string }[]
      if (rows.length === 0)
        throw new GenerationError('not-ready', `the live database has no table ${table}: migrate it first`)
      columns.set(
        table,
        rows.map(r => r.name),
      )
    }
    return columns
  }

  #store(name: string): Store {
    return createSqliteStore({ path: this.fileOf(name), busyTimeoutMs: this.#busyTimeoutMs })
  }

  /**
   * Creates the file of `name` with every migration applied; removes it again if that fails. The file is claimed
   * first by an exclusive create, so of two creates of one name at once, one finds it there and is refused.
   */
  async #createFile(name: string): Promise<void> {
    let fd: number
    try {
      fd = openSync(this.fileOf(name), 'wx', fileMode)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
        throw new GenerationError('exists', `generation "${name}" exists already (${this.fileOf(name)})`)
      }
      throw error
    }
    try {
      fchmodSync(fd, fileMode)
    } finally {
      closeSync(fd)
    }
    const store = this.#store(name)
    try {
      await store.migrate()
    } catch (error) {
      await store.close()
      this.#removeFile(name)
      throw error
    }
    await store.close()
  }

  #removeFile(name: string): void {
    for (const file of databaseFiles(this.fileOf(name))) rmSync(file, { force: true })
  }

  #shadowExists(name: string): void {
    if (!existsSync(this.fileOf(name))) throw new GenerationError('not-found', `generation "${name}" does not exist`)
  }

  async create(name: string): Promise<void> {
    checkGenerationName(name)
    return this.#run(async () => {
      if (existsSync(this.fileOf(name))) {
        throw new GenerationError('exists', `generation "${name}" exists already (${this.fileOf(name)})`)
      }
      if (existsSync(this.#path)) {
        const db = this.#connect()
        try {
          if (this.#hasOld(db, name)) {
            throw new GenerationError('exists', `old generation "${oldGeneration(name)}" still exists: drop it first`)
          }
        } finally {
          db.close()
        }
      }
      await this.#createFile(name)
    })
  }

  async open(name: string): Promise<Store> {
    checkGenerationName(name)
    return this.#run(async () => {
      this.#shadowExists(name)
      return this.#store(name)
    })
  }

  async compare(name: string, { limit }: { limit: number }): Promise<TableCheck[]> {
    checkGenerationName(name)
    checkCompareLimit(limit)
    return this.#run(async () => {
      this.#shadowExists(name)
      const db = this.#connect()
      try {
        db.prepare('ATTACH DATABASE ? AS gen').run(this.fileOf(name))
        const dialect: PageDialect = {
          quote: q,
          param: i => `?${i}`,
          table: (side, table) => `${side === 'live' ? 'main' : 'gen'}.${q(table)}`,
          rowCap: 'limit',
          rowValues: true,
        }
        // One read transaction: both files are read as of one moment while the live one changes.
        db.exec('BEGIN')
        try {
          return await compareAll(
            dialect,
            async (text, params) => {
              // Each page is read synchronously; between pages the event loop serves whatever else waits.
              await new Promise(resolve => setImmediate(resolve))
              return db.prepare(text).all(...(params as SQLInputValue[]))
            },
            limit,
            this.#tuning,
          )
        } finally {
          db.exec('COMMIT')
        }
      } finally {
        db.close()
      }
    })
  }

  async swap(name: string): Promise<void> {
    checkGenerationName(name)
    return this.#run(async () => {
      this.#shadowExists(name)
      const statements = swapStatements(name, this.#liveColumns(), new Date().toISOString())
      await this.#write(this.fileOf(name), [oldGuard(name, false), versionGuard(`generation "${name}"`)], statements)
      // Its rows are live now; rollback makes the file again from them.
      this.#removeFile(name)
    })
  }

  async rollback(name: string): Promise<void> {
    checkGenerationName(name)
    return this.#run(async () => {
      const db = this.#connect()
      try {
        if (!this.#hasOld(db, name)) {
          throw new GenerationError(
            'not-found',
            `old generation "${oldGeneration(name)}" does not exist: nothing to roll back to`,
          )
        }
      } finally {
        db.close()
      }
      if (existsSync(this.fileOf(name))) {
        throw new GenerationError('exists', `generation "${name}" exists as a shadow: "${name}" is not the live one`)
      }
      await this.#createFile(name)
      try {
        // Two files in one transaction: each commits atomically, the pair does not (WAL); see the architecture notes.
        const statements = rollbackStatements(name, this.#liveColumns())
        await this.#write(this.fileOf(name), [oldGuard(name, true), versionGuard(`generation "${name}"`)], statements)
      } catch (error) {
        this.#removeFile(name)
        throw error
      }
    })
  }

  async dropOld(name: string): Promise<void> {
    checkGenerationName(name)
    return this.#run(() => this.#write(undefined, [oldGuard(name, true)], dropOldStatements(name)))
  }

  async drop(name: string): Promise<void> {
    checkGenerationName(name)
    return this.#run(async () => {
      this.#shadowExists(name)
      this.#removeFile(name)
    })
  }

  list(): Promise<GenerationInfo[]> {
    return this.#run(async () => {
      const found: GenerationInfo[] = []
      const prefix = `${basename(this.#path)}.`
      const folder = dirname(this.#path)
      for (const entry of existsSync(folder) ? readdirSync(folder).sort() : []) {
        if (!entry.startsWith(prefix)) continue
        const name = entry.slice(prefix.length)
        try {
          checkGenerationName(name)
        } catch {
          continue // -wal, -shm, or a file that is not a generation
        }
        found.push({ name, role: 'shadow', createdAt: this.#createdAt(this.fileOf(name)) })
      }
      let live: { name: string; swappedAt: string } | undefined
      if (existsSync(this.#path)) {
        const db = this.#connect()
        try {
          const markers = db
            .prepare(
              "SELECT name FROM main.sqlite_master WHERE type = 'table' AND name LIKE '%\\_old\\_\\_generation' ESCAPE '\\' ORDER BY name",
            )
            .all() as { name: string }[]
          for (const { name: table } of markers) {
            const row = db.prepare(`SELECT swapped_at, created_at FROM main.${q(table)}`).get() as
              | { swapped_at: string | null; created_at: string | null }
              | undefined
            const old = table.slice(0, -'__generation'.length)
            found.push({ name: old, role: 'old', createdAt: row?.created_at ?? undefined })
            const swappedAt = row?.swapped_at ?? ''
            if (live === undefined || swappedAt > live.swappedAt)
              live = { name: old.slice(0, -'_old'.length), swappedAt }
          }
        } finally {
          db.close()
        }
      }
      return [{ name: live?.name ?? 'live', role: 'live' as const }, ...found]
    })
  }

  /** When a generation's file was migrated first (its schema_migrations), if it can be read. */
  #createdAt(file: string): string | undefined {
    try {
      const db = new DatabaseSync(file, { readOnly: true })
      try {
        const row = db.prepare('SELECT min(applied_at) AS t FROM schema_migrations').get() as { t: string | null }
        return row.t ?? undefined
      } finally {
        db.close()
      }
    } catch {
      return undefined
    }
  }

  async close(): Promise<void> {}
}
