// SQL Server generations. A SQL Server session has no search_path (unqualified names resolve in the login's default
// schema, fixed per user), so a generation cannot be a schema the unqualified Store writes to: it is a database of
// its own on the same server, `<live database>__<name>`, and its Store is the live Store pointed at that database.
// A swap is one transaction on the live database, as on SQLite: the live rows are kept as the old generation
// (schema `<name>_old` of the live database, data only: SELECT … INTO makes no constraint, so no name collides),
// then the live tables are emptied children first and filled from the shadow database parents first. Readers
// under READ COMMITTED wait on the transaction's locks and then see the new rows; the tables never go away.
// The shadow database is dropped after the commit (DROP DATABASE cannot run in a transaction); rollback makes it
// again from the live rows. A failed statement has SQL Server roll the transaction back itself, so these
// transactions report the statement's error, not the failed rollback after it (store.ts, once). The statements are
// checked offline (test/store/mssql/generations.test.ts) and run
// against a server there when MSSQL_CONN names one.
import { CompiledQuery, Kysely, type Transaction } from 'kysely'
import type { Database } from '../../config/index.ts'
import { type CompareTuning, compareAll, type PageDialect } from '../generation-compare.ts'
import {
  checkCompareLimit,
  checkGenerationName,
  GenerationError,
  type GenerationInfo,
  type Generations,
  generationTables,
  oldGeneration,
  oldSuffix,
  type TableCheck,
} from '../generations.ts'
import type { Tables } from '../tables.ts'
import type { Store, StoreOptions } from '../types.ts'
import { createDialect, execWithName, isoDates, tediousFactory } from './driver.ts'
import { toPipelineError } from './errors.ts'
import { bigint, int, type Typed, varchar } from './params.ts'
import { createMssqlStore, once, storeConnection } from './store.ts'

export const quote = (identifier: string) => `[${identifier.replaceAll(']', ']]')}]`

/** Separates the live database's name from a generation's in the shadow database's name. */
export const databaseSeparator = '__'

export function shadowDatabase(live: string, name: string): string {
  return `${live}${databaseSeparator}${name}`
}

/** The table of the old generation's schema that says when it was swapped out, and when its rows were created. */
export const markerTable = 'generation'

/** How a key column travels as a parameter: its own type and length, so the comparison can use the key's index. */
export function keyParam(column: string, value: unknown): Typed {
  switch (column) {
    case 'source_partition':
      return int(Number(value), column)
    case 'source_offset':
      return bigint(BigInt(value as bigint | number | string), column)
    case 'source_topic':
      return varchar(String(value), 255, column)
    default:
      return varchar(String(value), 100, column)
  }
}

/**
 * The statements of a swap, in one transaction on the live database (`live` is the schema the Store's tables are
 * in): keep the live rows in schema `<name>_old`, then replace them with the shadow database's.
 */
export function swapStatements(
  live: string,
  shadowDb: string,
  name: string,
  columns: ReadonlyMap<string, readonly string[]>,
  now: string,
): string[] {
  const old = quote(oldGeneration(name))
  const list = (table: string) => columns.get(table)!.map(quote).join(', ')
  const shadow = (table: string) => `${quote(shadowDb)}.${quote(live)}.${quote(table)}`
  return [
    `EXEC (N'CREATE SCHEMA ${old.replaceAll("'", "''")}')`,
    `SELECT CAST('${now}' AS VARCHAR(30)) AS swapped_at, (SELECT CONVERT(VARCHAR(30), MIN(applied_at), 127) FROM ${shadow('schema_migrations')}) AS created_at INTO ${old}.${quote(markerTable)}`,
    ...generationTables.map(t => `SELECT ${list(t)} INTO ${old}.${quote(t)} FROM ${quote(live)}.${quote(t)}`),
    ...[...generationTables].reverse().map(t => `DELETE FROM ${quote(live)}.${quote(t)}`),
    ...generationTables.map(
      t => `INSERT INTO ${quote(live)}.${quote(t)} (${list(t)}) SELECT ${list(t)} FROM ${shadow(t)}`,
    ),
  ]
}

/** The statements of a rollback: the live rows to the re-created shadow database, the old ones back, old dropped. */
export function rollbackStatements(
  live: string,
  shadowDb: string,
  name: string,
  columns: ReadonlyMap<string, readonly string[]>,
): string[] {
  const old = quote(oldGeneration(name))
  const list = (table: string) => columns.get(table)!.map(quote).join(', ')
  const shadow = (table: string) => `${quote(shadowDb)}.${quote(live)}.${quote(table)}`
  return [
    ...generationTables.map(
      t => `INSERT INTO ${shadow(t)} (${list(t)}) SELECT ${list(t)} FROM ${quote(live)}.${quote(t)}`,
    ),
    ...[...generationTables].reverse().map(t => `DELETE FROM ${quote(live)}.${quote(t)}`),
    ...generationTables.map(
      t => `INSERT INTO ${quote(live)}.${quote(t)} (${list(t)}) SELECT ${list(t)} FROM ${old}.${quote(t)}`,
    ),
    ...dropOldStatements(name),
  ]
}

export function dropOldStatements(name: string): string[] {
  const old = quote(oldGeneration(name))
  return [
    ...[...generationTables, markerTable].map(t => `DROP TABLE IF EXISTS ${old}.${quote(t)}`),
    `EXEC (N'DROP SCHEMA ${old.replaceAll("'", "''")}')`,
  ]
}

/** Drops database @name, ending the sessions still in it (a closed shadow Store's pool may keep some a moment). */
export const dropDatabaseText = `IF DB_ID(@name) IS NOT NULL
BEGIN
  DECLARE @drop NVARCHAR(400) = N'ALTER DATABASE ' + QUOTENAME(@name) + N' SET SINGLE_USER WITH ROLLBACK IMMEDIATE; DROP DATABASE ' + QUOTENAME(@name);
  EXEC (@drop);
END`

type Db = Kysely<Tables> | Transaction<Tables>

async function rows<R>(db: Db, text: string, params: readonly unknown[] = []): Promise<R[]> {
  return (await db.executeQuery(CompiledQuery.raw(text, [...params]))).rows as R[]
}

export class MssqlGenerations implements Generations {
  readonly #database: Database
  readonly #options: StoreOptions
  readonly #tuning: CompareTuning
  readonly #liveDb: string
  readonly #factory: ReturnType<typeof tediousFactory>
  readonly #db: Kysely<Tables>

  constructor(database: Database, options: StoreOptions = {}, tuning: CompareTuning = {}) {
    if (database.engine !== 'mssql') throw new GenerationError('unsupported', 'not a SQL Server database')
    this.#database = database
    this.#options = options
    this.#tuning = tuning
    const connection = storeConnection({ ...database, timeoutMs: options.timeoutMs })
    this.#liveDb = connection.database
    this.#factory = tediousFactory(connection)
    const dialect = createDialect({ database: this.#liveDb, poolSize: 2, factory: this.#factory })
    this.#db = new Kysely<Tables>({ dialect, plugins: [isoDates] })
  }

  async #run<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work()
    } catch (error) {
      if (error instanceof GenerationError) throw error
      throw toPipelineError(error)
    }
  }

  #shadowDb(name: string): string {
    const database = shadowDatabase(this.#liveDb, name)
    if (database.length > 128) {
      throw new GenerationError('invalid-name', `database name ${database} is longer than SQL Server's 128 characters`)
    }
    return database
  }

  #store(name: string, poolSize = this.#options.poolSize): Store {
    return createMssqlStore({
      ...(this.#database.engine === 'mssql' ? this.#database : {}),
      database: this.#shadowDb(name),
      poolSize,
      timeoutMs: this.#options.timeoutMs,
    })
  }

  async #liveSchema(db: Db = this.#db): Promise<string> {
    const [row] = await rows<{ s: string | null }>(db, 'SELECT SCHEMA_NAME() AS s')
    if (row?.s === null || row?.s === undefined)
      throw new GenerationError('not-ready', 'the login has no default schema')
    return row.s
  }

  async #shadowExists(name: string, db: Db = this.#db): Promise<boolean> {
    const found = await rows<{ id: number | null }>(db, 'SELECT DB_ID(@1) AS id', [
      varchar(this.#shadowDb(name), 128, 'database'),
    ])
    return found[0]?.id !== null && found[0]?.id !== undefined
  }

  async #hasOld(name: string, db: Db = this.#db): Promise<boolean> {
    const found = await rows<{ id: number | null }>(db, "SELECT OBJECT_ID(@1, N'U') AS id", [
      varchar(`${quote(oldGeneration(name))}.${quote(markerTable)}`, 200, 'object'),
    ])
    return found[0]?.id !== null && found[0]?.id !== undefined
  }

  async #columns(db: Db, live: string): Promise<Map<string, string[]>> {
    const columns = new Map<string, string[]>()
    for (const table of generationTables) {
      const found = await rows<{ name: string }>(
        db,
        'SELECT name FROM sys.columns WHERE object_id = OBJECT_ID(@1) ORDER BY column_id',
        [varchar(`${quote(live)}.${quote(table)}`, 300, 'object')],
      )
      if (found.length === 0)
        throw new GenerationError('not-ready', `the live database has no table ${table}: migrate it first`)
      columns.set(
        table,
        found.map(r => r.name),
      )
    }
    return columns
  }

  async #sameVersion(db: Db, live: string, shadowDb: string): Promise<void> {
    const version = async (table: string) =>
      (await rows<{ v: number | null }>(db, `SELECT MAX(version) AS v FROM ${table}`))[0]?.v ?? null
    const a = await version(`${quote(live)}.schema_migrations`)
    const b = await version(`${quote(shadowDb)}.${quote(live)}.schema_migrations`)
    if (a === null || a !== b) {
      throw new GenerationError(
        'not-ready',
        `the live database (version ${a ?? 'none'}) and ${shadowDb} (version ${b ?? 'none'}) are at different schema versions: migrate both first`,
      )
    }
  }

  async #createDatabase(name: string): Promise<void> {
    const store = this.#store(name, 1)
    try {
      await store.migrate()
    } catch (error) {
      await store.close()
      await execWithName(this.#factory, 'master', dropDatabaseText, this.#shadowDb(name)).catch(() => {})
      throw error
    }
    await store.close()
  }

  async create(name: string): Promise<void> {
    checkGenerationName(name)
    return this.#run(async () => {
      if (await this.#shadowExists(name)) {
        throw new GenerationError('exists', `generation "${name}" exists already (database ${this.#shadowDb(name)})`)
      }
      if (await this.#hasOld(name)) {
        throw new GenerationError('exists', `old generation "${oldGeneration(name)}" still exists: drop it first`)
      }
      await this.#createDatabase(name)
    })
  }

  async open(name: string): Promise<Store> {
    checkGenerationName(name)
    return this.#run(async () => {
      if (!(await this.#shadowExists(name)))
        throw new GenerationError('not-found', `generation "${name}" does not exist`)
      return this.#store(name)
    })
  }

  async compare(name: string, { limit }: { limit: number }): Promise<TableCheck[]> {
    checkGenerationName(name)
    checkCompareLimit(limit)
    return this.#run(async () => {
      if (!(await this.#shadowExists(name)))
        throw new GenerationError('not-found', `generation "${name}" does not exist`)
      const live = await this.#liveSchema()
      const shadowDb = this.#shadowDb(name)
      const dialect: PageDialect = {
        quote,
        param: i => `@${i}`,
        table: (side, table) =>
          side === 'live' ? `${quote(live)}.${quote(table)}` : `${quote(shadowDb)}.${quote(live)}.${quote(table)}`,
        rowCap: 'top',
        rowValues: false,
      }
      // Page by page under READ COMMITTED: SQL Server gives one snapshot only where SNAPSHOT isolation is enabled.
      return compareAll(
        dialect,
        (text, params, spec) =>
          rows<Record<string, unknown>>(
            this.#db,
            text,
            params.map((value, i) => keyParam(spec.keys[i]!, value)),
          ),
        limit,
        this.#tuning,
      )
    })
  }

  async swap(name: string): Promise<void> {
    checkGenerationName(name)
    return this.#run(async () => {
      if (!(await this.#shadowExists(name)))
        throw new GenerationError('not-found', `generation "${name}" does not exist`)
      const shadowDb = this.#shadowDb(name)
      await once(this.#db, async trx => {
        if (await this.#hasOld(name, trx)) {
          throw new GenerationError(
            'exists',
            `old generation "${oldGeneration(name)}" still exists: drop it before swapping "${name}" again`,
          )
        }
        const live = await this.#liveSchema(trx)
        await this.#sameVersion(trx, live, shadowDb)
        const statements = swapStatements(
          live,
          shadowDb,
          name,
          await this.#columns(trx, live),
          new Date().toISOString(),
        )
        for (const statement of statements) await rows(trx, statement)
      })
      await execWithName(this.#factory, 'master', dropDatabaseText, shadowDb)
    })
  }

  async rollback(name: string): Promise<void> {
    checkGenerationName(name)
    return this.#run(async () => {
      if (!(await this.#hasOld(name))) {
        throw new GenerationError(
          'not-found',
          `old generation "${oldGeneration(name)}" does not exist: nothing to roll back to`,
        )
      }
      if (await this.#shadowExists(name)) {
        throw new GenerationError('exists', `generation "${name}" exists as a shadow: "${name}" is not the live one`)
      }
      await this.#createDatabase(name)
      const shadowDb = this.#shadowDb(name)
      try {
        await once(this.#db, async trx => {
          const live = await this.#liveSchema(trx)
          await this.#sameVersion(trx, live, shadowDb)
          for (const statement of rollbackStatements(live, shadowDb, name, await this.#columns(trx, live))) {
            await rows(trx, statement)
          }
        })
      } catch (error) {
        await execWithName(this.#factory, 'master', dropDatabaseText, shadowDb).catch(() => {})
        throw error
      }
    })
  }

  async dropOld(name: string): Promise<void> {
    checkGenerationName(name)
    return this.#run(async () => {
      await once(this.#db, async trx => {
        if (!(await this.#hasOld(name, trx))) {
          throw new GenerationError('not-found', `old generation "${oldGeneration(name)}" does not exist`)
        }
        for (const statement of dropOldStatements(name)) await rows(trx, statement)
      })
    })
  }

  async drop(name: string): Promise<void> {
    checkGenerationName(name)
    return this.#run(async () => {
      if (!(await this.#shadowExists(name)))
        throw new GenerationError('not-found', `generation "${name}" does not exist`)
      await execWithName(this.#factory, 'master', dropDatabaseText, this.#shadowDb(name))
    })
  }

  list(): Promise<GenerationInfo[]> {
    return this.#run(async () => {
      const prefix = shadowDatabase(this.#liveDb, '')
      const databases = await rows<{ name: string; created: string | null }>(
        this.#db,
        'SELECT name, CONVERT(VARCHAR(30), create_date, 127) AS created FROM sys.databases WHERE LEFT(name, LEN(@1)) = @1 ORDER BY name',
        [varchar(prefix, 128, 'database')],
      )
      const found: GenerationInfo[] = []
      for (const { name: database, created } of databases) {
        const name = database.slice(prefix.length)
        try {
          checkGenerationName(name)
        } catch {
          continue
        }
        found.push({
          name,
          role: 'shadow',
          createdAt: created === null ? undefined : new Date(`${created}Z`).toISOString(),
        })
      }
      const olds = await rows<{ name: string }>(
        this.#db,
        `SELECT s.name FROM sys.schemas s JOIN sys.tables t ON t.schema_id = s.schema_id AND t.name = N'${markerTable}' ORDER BY s.name`,
      )
      let live: { name: string; swappedAt: string } | undefined
      for (const { name: schema } of olds) {
        if (!schema.endsWith(oldSuffix)) continue
        const [marker] = await rows<{ swapped_at: string | null; created_at: string | null }>(
          this.#db,
          `SELECT swapped_at, created_at FROM ${quote(schema)}.${quote(markerTable)}`,
        )
        found.push({ name: schema, role: 'old', createdAt: marker?.created_at ?? undefined })
        const swappedAt = marker?.swapped_at ?? ''
        if (live === undefined || swappedAt > live.swappedAt)
          live = { name: schema.slice(0, -oldSuffix.length), swappedAt }
      }
      return [{ name: live?.name ?? 'live', role: 'live' as const }, ...found]
    })
  }

  async close(): Promise<void> {
    await this.#db.destroy()
  }
}
