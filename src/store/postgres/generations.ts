// PostgreSQL generations: each in a schema of its own, named after it, in the live database. A generation's Store is
// the live Store with search_path set to that schema, so the same unqualified SQL and migrations land there. A
// swap moves tables between schemas (ALTER TABLE … SET SCHEMA: a change to the catalogue, no row is copied) in
// one transaction: readers wait on its locks for a moment and then see the other generation, never a missing or
// half-filled table, and cached plans of prepared statements are re-planned against the tables the names now
// resolve to (PostgreSQL re-analyses a cached statement whose tables changed).
import pg from 'pg'
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
import type { Store, StoreOptions } from '../types.ts'
import { createPool, defaultTimeoutMs } from './driver.ts'
import { toPipelineError } from './errors.ts'
import { createPostgresStore } from './store.ts'

/** What marks a schema as a generation of this pipeline: its comment starts so, then holds a JSON Marker. */
const markerPrefix = 'event-pipeline generation '

interface Marker {
  readonly role: 'shadow' | 'old'
  readonly createdAt: string
  /** When the swap that made this old generation ran. */
  readonly swappedAt?: string
}

/** Every table a swap moves: the projection, its bookkeeping and the migrations ledger (one per schema). */
export const swappedTables = [...generationTables, 'schema_migrations'] as const

/** How long a swap waits for one lock before it gives up and tries again (a reader queues behind a waiting swap). */
export const swapLockTimeoutMs = 2000
export const swapAttempts = 5

const lockNotAvailable = '55P03'
const deadlock = '40P01'
const duplicateSchema = '42P06'
// Two CREATE SCHEMA of one name at once: the second fails on the catalogue's unique index instead.
const uniqueViolation = '23505'

const q = pg.escapeIdentifier

export function markerComment(marker: Marker): string {
  return `${markerPrefix}${JSON.stringify(marker)}`
}

export function parseMarker(comment: string | null | undefined): Marker | undefined {
  if (comment === null || comment === undefined || !comment.startsWith(markerPrefix)) return undefined
  try {
    const value = JSON.parse(comment.slice(markerPrefix.length)) as Partial<Marker>
    if (value.role !== 'shadow' && value.role !== 'old') return undefined
    return { role: value.role, createdAt: String(value.createdAt ?? ''), swappedAt: value.swappedAt }
  } catch {
    return undefined
  }
}

/**
 * The statements that move every swapped table from schema `from` to schema `to`, and those of `into` into `from`,
 * after one LOCK of all of them in a fixed order (the live tables in the order a batch first touches them), so
 * that two swaps, or a swap and a batch that touches the tables in that order, do not lock each other out.
 */
export function moveStatements(live: string, out: string, into: string): string[] {
  const all = [...swappedTables.map(t => `${q(live)}.${q(t)}`), ...swappedTables.map(t => `${q(into)}.${q(t)}`)]
  return [
    `LOCK TABLE ${all.join(', ')} IN ACCESS EXCLUSIVE MODE`,
    ...swappedTables.map(t => `ALTER TABLE ${q(live)}.${q(t)} SET SCHEMA ${q(out)}`),
    ...swappedTables.map(t => `ALTER TABLE ${q(into)}.${q(t)} SET SCHEMA ${q(live)}`),
  ]
}

const stateOf = (error: unknown) => (error instanceof pg.DatabaseError ? error.code : undefined)

export class PostgresGenerations implements Generations {
  readonly #url: string
  readonly #options: StoreOptions
  readonly #pool: pg.Pool
  readonly #terminate: () => void
  readonly #tuning: CompareTuning
  #liveSchema: string | undefined

  constructor(url: string, options: StoreOptions = {}, tuning: CompareTuning = {}) {
    this.#tuning = tuning
    this.#url = url
    this.#options = options
    const { pool, terminate } = createPool({ url, poolSize: 2, timeoutMs: options.timeoutMs ?? defaultTimeoutMs })
    this.#pool = pool
    this.#terminate = terminate
  }

  async #run<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work()
    } catch (error) {
      if (error instanceof GenerationError) throw error
      throw toPipelineError(error)
    }
  }

  async #transaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.#pool.connect()
    try {
      await client.query('BEGIN')
      const result = await work(client)
      await client.query('COMMIT')
      return result
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {})
      throw error
    } finally {
      client.release()
    }
  }

  /** The schema the live Store resolves its tables in: the first existing schema of the login's search_path. */
  async #live(): Promise<string> {
    if (this.#liveSchema !== undefined) return this.#liveSchema
    const { rows } = await this.#pool.query<{ schema: string | null }>('SELECT current_schema() AS schema')
    const schema = rows[0]?.schema
    if (schema === null || schema === undefined) {
      throw new GenerationError('not-ready', 'no schema of the search_path exists: migrate the live store first')
    }
    this.#liveSchema = schema
    return schema
  }

  async #markers(client: pg.ClientBase | pg.Pool = this.#pool): Promise<Map<string, Marker>> {
    const { rows } = await client.query<{ name: string; comment: string }>(
      `SELECT n.nspname AS name, d.description AS comment FROM pg_namespace n
         JOIN pg_description d ON d.objoid = n.oid AND d.classoid = 'pg_namespace'::regclass AND d.objsubid = 0
        WHERE d.description LIKE $1`,
      [`${markerPrefix}%`],
    )
    const found = new Map<string, Marker>()
    for (const row of rows) {
      const marker = parseMarker(row.comment)
      if (marker !== undefined) found.set(row.name, marker)
    }
    return found
  }

  async #marker(client: pg.ClientBase | pg.Pool, schema: string, role: Marker['role']): Promise<Marker> {
    const marker = (await this.#markers(client)).get(schema)
    if (marker === undefined || marker.role !== role) {
      const what = role === 'shadow' ? `generation "${schema}"` : `old generation "${schema}"`
      throw new GenerationError('not-found', `${what} does not exist`)
    }
    return marker
  }

  async create(name: string): Promise<void> {
    checkGenerationName(name)
    return this.#run(async () => {
      await this.#transaction(async client => {
        if ((await this.#markers(client)).has(oldGeneration(name))) {
          throw new GenerationError('exists', `old generation "${oldGeneration(name)}" still exists: drop it first`)
        }
        try {
          await client.query(`CREATE SCHEMA ${q(name)}`)
        } catch (error) {
          if (stateOf(error) === duplicateSchema || stateOf(error) === uniqueViolation) {
            throw new GenerationError('exists', `generation "${name}" exists already (a schema of that name)`)
          }
          throw error
        }
        const marker = markerComment({ role: 'shadow', createdAt: new Date().toISOString() })
        await client.query(`COMMENT ON SCHEMA ${q(name)} IS ${pg.escapeLiteral(marker)}`)
      })
      // The live migrations, run by a Store whose search_path is the new schema: the generation's tables are
      // exactly what the live ones became, step by step.
      const store = this.#store(name, 1)
      try {
        await store.migrate()
      } catch (error) {
        await this.#pool.query(`DROP SCHEMA IF EXISTS ${q(name)} CASCADE`).catch(() => {})
        throw error
      } finally {
        await store.close()
      }
    })
  }

  #store(name: string, poolSize = this.#options.poolSize): Store {
    return createPostgresStore({ url: this.#url, poolSize, timeoutMs: this.#options.timeoutMs, searchPath: name })
  }

  async open(name: string): Promise<Store> {
    checkGenerationName(name)
    return this.#run(async () => {
      await this.#marker(this.#pool, name, 'shadow')
      return this.#store(name)
    })
  }

  async compare(name: string, { limit }: { limit: number }): Promise<TableCheck[]> {
    checkGenerationName(name)
    checkCompareLimit(limit)
    return this.#run(async () => {
      const live = await this.#live()
      await this.#marker(this.#pool, name, 'shadow')
      const dialect: PageDialect = {
        quote: q,
        param: i => `$${i}`,
        table: (side, table) => `${q(side === 'live' ? live : name)}.${q(table)}`,
        rowCap: 'limit',
        rowValues: true,
      }
      const client = await this.#pool.connect()
      try {
        // One snapshot for every page of every table: the live side is read as of one moment while it changes.
        await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY')
        const checks = await compareAll(
          dialect,
          async (text, params) => (await client.query(text, [...params])).rows,
          limit,
          this.#tuning,
        )
        await client.query('COMMIT')
        return checks
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {})
        throw error
      } finally {
        client.release()
      }
    })
  }

  /** Runs a swap-like transaction, again after a lock timeout or a deadlock (a batch held a table), a few times. */
  async #switch(work: (client: pg.PoolClient) => Promise<void>): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.#transaction(async client => {
          await client.query(`SET LOCAL lock_timeout = ${swapLockTimeoutMs}`)
          await work(client)
        })
        return
      } catch (error) {
        const state = stateOf(error)
        if ((state !== lockNotAvailable && state !== deadlock) || attempt >= swapAttempts) throw error
        await new Promise(resolve => setTimeout(resolve, 100 * attempt))
      }
    }
  }

  /** Refuses a swap between generations of different schema versions: one side must be migrated first. */
  async #sameVersion(client: pg.PoolClient, live: string, other: string): Promise<void> {
    const version = async (schema: string) => {
      const regclass = await client.query<{ t: string | null }>('SELECT to_regclass($1)::text AS t', [
        `${q(schema)}.${q('schema_migrations')}`,
      ])
      if (regclass.rows[0]?.t === null) return undefined
      const { rows } = await client.query<{ v: number | null }>(
        `SELECT max(version) AS v FROM ${q(schema)}.schema_migrations`,
      )
      return rows[0]?.v ?? undefined
    }
    const [a, b] = [await version(live), await version(other)]
    if (a === undefined || a !== b) {
      throw new GenerationError(
        'not-ready',
        `the live tables (schema "${live}", version ${a ?? 'none'}) and "${other}" (version ${b ?? 'none'}) are at different schema versions: migrate both first`,
      )
    }
  }

  async swap(name: string): Promise<void> {
    checkGenerationName(name)
    return this.#run(async () => {
      const live = await this.#live()
      const old = oldGeneration(name)
      await this.#switch(async client => {
        const markers = await this.#markers(client)
        const shadow = markers.get(name)
        if (shadow?.role !== 'shadow') throw new GenerationError('not-found', `generation "${name}" does not exist`)
        if (markers.has(old)) {
          throw new GenerationError(
            'exists',
            `old generation "${old}" still exists: drop it before swapping "${name}" again`,
          )
        }
        await this.#sameVersion(client, live, name)
        await client.query(`CREATE SCHEMA ${q(old)}`)
        const marker = markerComment({ role: 'old', createdAt: shadow.createdAt, swappedAt: new Date().toISOString() })
        await client.query(`COMMENT ON SCHEMA ${q(old)} IS ${pg.escapeLiteral(marker)}`)
        for (const statement of moveStatements(live, old, name)) await client.query(statement)
        // RESTRICT: anything else someone put in the generation's schema stops the swap rather than vanishing.
        await client.query(`DROP SCHEMA ${q(name)} RESTRICT`)
      })
    })
  }

  async rollback(name: string): Promise<void> {
    checkGenerationName(name)
    return this.#run(async () => {
      const live = await this.#live()
      const old = oldGeneration(name)
      await this.#switch(async client => {
        const markers = await this.#markers(client)
        const kept = markers.get(old)
        if (kept?.role !== 'old') {
          throw new GenerationError('not-found', `old generation "${old}" does not exist: nothing to roll back to`)
        }
        if (markers.has(name)) {
          throw new GenerationError('exists', `generation "${name}" exists as a shadow: "${name}" is not the live one`)
        }
        await this.#sameVersion(client, live, old)
        await client.query(`CREATE SCHEMA ${q(name)}`)
        const marker = markerComment({ role: 'shadow', createdAt: kept.createdAt })
        await client.query(`COMMENT ON SCHEMA ${q(name)} IS ${pg.escapeLiteral(marker)}`)
        for (const statement of moveStatements(live, name, old)) await client.query(statement)
        await client.query(`DROP SCHEMA ${q(old)} RESTRICT`)
      })
    })
  }

  async dropOld(name: string): Promise<void> {
    checkGenerationName(name)
    return this.#run(() => this.#dropSchema(oldGeneration(name), 'old'))
  }

  async drop(name: string): Promise<void> {
    checkGenerationName(name)
    return this.#run(() => this.#dropSchema(name, 'shadow'))
  }

  /** Drops a schema only when its marker says it is a generation in that role: never the live one, nor another's. */
  #dropSchema(schema: string, role: Marker['role']): Promise<void> {
    return this.#switch(async client => {
      await this.#marker(client, schema, role)
      await client.query(`DROP SCHEMA ${q(schema)} CASCADE`)
    })
  }

  list(): Promise<GenerationInfo[]> {
    return this.#run(async () => {
      const markers = [...(await this.#markers()).entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      // The live tables are named after the generation last swapped in while its old one is kept.
      let live: { name: string; swappedAt: string } | undefined
      const found: GenerationInfo[] = []
      for (const [schema, marker] of markers) {
        found.push({ name: schema, role: marker.role, createdAt: marker.createdAt || undefined })
        if (marker.role === 'old' && schema.endsWith(oldSuffix)) {
          const swappedAt = marker.swappedAt ?? ''
          if (live === undefined || swappedAt > live.swappedAt)
            live = { name: schema.slice(0, -oldSuffix.length), swappedAt }
        }
      }
      return [{ name: live?.name ?? 'live', role: 'live' as const }, ...found]
    })
  }

  async close(): Promise<void> {
    const ending = this.#pool.end().catch(() => {})
    this.#terminate()
    await ending
  }
}
