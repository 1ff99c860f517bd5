// Generations of the projection: a shadow set of the projection's tables, filled beside the live ones by the same
// Store code (a rebuild from the log), compared with them, then swapped in atomically, rolled back, or dropped.
// Each engine keeps its generations its own way (docs/architecture.md, "Projection generations"): PostgreSQL in a
// schema per generation, SQLite in a file beside the live one, SQL Server in a database beside the live one. This
// file holds what they share: the interface, the name rules and the errors.
import type { Database } from '../config/index.ts'
import type { CompareTuning } from './generation-compare.ts'
import type { Store, StoreOptions } from './types.ts'

export interface GenerationInfo {
  readonly name: string
  readonly role: 'live' | 'shadow' | 'old'
  readonly createdAt?: string
}

/** A key whose canonical rows differ between the live tables and a generation, or exist on one side only. */
export interface RowDiff {
  readonly key: string
  readonly live: Record<string, unknown> | null
  readonly shadow: Record<string, unknown> | null
}

export interface TableCheck {
  readonly table: string
  readonly liveRows: number
  readonly shadowRows: number
  /** SHA-256 over the table's canonical rows in key order (generation-compare.ts). */
  readonly liveChecksum: string
  readonly shadowChecksum: string
  /** The first `limit` keys, in key order, whose canonical rows differ or exist on one side only. */
  readonly differing: readonly RowDiff[]
}

export interface Generations {
  /** Creates generation `name` beside the live tables: empty, with the live schema (all migrations). */
  create(name: string): Promise<void>
  /** A Store (the same class and rules as the live one) whose reads and writes go to generation `name`. */
  open(name: string): Promise<Store>
  /** Compares generation `name` with the live tables, table by table, one bounded page of rows at a time. */
  compare(name: string, options: { limit: number }): Promise<TableCheck[]>
  /** Atomically makes `name` the live projection; the former live tables become generation `<name>_old`. */
  swap(name: string): Promise<void>
  /** Atomically switches back: `<name>_old` becomes live again, and the swapped-in tables shadow `name` again. */
  rollback(name: string): Promise<void>
  /** Drops the old generation kept by the last swap of `name`. */
  dropOld(name: string): Promise<void>
  /** Drops a shadow generation (abort). */
  drop(name: string): Promise<void>
  list(): Promise<GenerationInfo[]>
  close(): Promise<void>
}

/**
 * Why an operation on a generation was refused: a name that breaks the rules, a generation that exists already or
 * does not, one that cannot be swapped as it is, or an engine or database that cannot hold generations. These are
 * the operator's to fix, never worth retrying as they are; a database that fails underneath is a PipelineError
 * (DB_UNAVAILABLE and the rest of the taxonomy) instead.
 */
export class GenerationError extends Error {
  readonly reason: 'invalid-name' | 'invalid-argument' | 'exists' | 'not-found' | 'not-ready' | 'unsupported'

  constructor(reason: GenerationError['reason'], message: string) {
    super(message)
    this.name = 'GenerationError'
    this.reason = reason
  }
}

/** The most differing keys compare reports per table: its answer stays small whatever the caller asks. */
export const maxCompareLimit = 1000

/** The `limit` of compare, checked: a whole number from 0 to maxCompareLimit. */
export function checkCompareLimit(limit: unknown): number {
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 0 || limit > maxCompareLimit) {
    throw new GenerationError(
      'invalid-argument',
      `compare limit ${String(limit)} is not a whole number from 0 to ${maxCompareLimit}`,
    )
  }
  return limit
}

/** The suffix of the old generation a swap keeps: `<name>_old`. */
export const oldSuffix = '_old'

const namePattern = /^[a-z][a-z0-9_]*$/
export const maxNameLength = 40
// Names a generation may not take: the live projection's own label, and PostgreSQL's schemas.
const reserved = new Set(['live', 'public', 'information_schema'])

/**
 * A generation's name becomes a PostgreSQL or SQL Server schema or database name, part of a SQLite file name and
 * of table names, so it is held to what is safe unquoted everywhere: a lower-case letter, then lower-case letters,
 * digits and underscores, at most 40 characters (room for `_old` and a table name within PostgreSQL's 63). A name
 * ending in `_old` would be mistaken for the generation a swap keeps, and `pg_` is PostgreSQL's.
 */
export function checkGenerationName(name: unknown): string {
  const shown = JSON.stringify(typeof name === 'string' ? name.slice(0, 60) : name) ?? String(name)
  if (typeof name !== 'string' || !namePattern.test(name)) {
    throw new GenerationError(
      'invalid-name',
      `generation name ${shown} is not valid: use a lower-case letter, then lower-case letters, digits or _`,
    )
  }
  if (name.length > maxNameLength) {
    throw new GenerationError('invalid-name', `generation name ${shown} is longer than ${maxNameLength} characters`)
  }
  if (name.endsWith(oldSuffix)) {
    throw new GenerationError('invalid-name', `generation name ${shown} ends in ${oldSuffix}, kept for old generations`)
  }
  if (reserved.has(name) || name.startsWith('pg_')) {
    throw new GenerationError('invalid-name', `generation name ${shown} is reserved`)
  }
  return name
}

/** The old generation a swap of `name` keeps. */
export function oldGeneration(name: string): string {
  return `${name}${oldSuffix}`
}

/**
 * Every table a generation holds, parents before children: the order rows are copied in, and (reversed) deleted in,
 * so a foreign key never points at a missing row; also the order PostgreSQL's swap locks them in.
 */
export const generationTables = [
  'users',
  'event_log',
  'pending_events',
  'orders',
  'payments',
  'inventory_ledger',
  'inventory',
  'applied_offsets',
] as const

export type GenerationTable = (typeof generationTables)[number]

/** The engine's generations of the projection `database` holds; like createStore, it connects lazily. */
export async function createGenerations(
  database: Database,
  options: StoreOptions = {},
  tuning: CompareTuning = {},
): Promise<Generations> {
  switch (database.engine) {
    case 'sqlite': {
      const { SqliteGenerations } = await import('./sqlite/generations.ts')
      return new SqliteGenerations(database.path, options, tuning)
    }
    case 'postgres': {
      const { PostgresGenerations } = await import('./postgres/generations.ts')
      return new PostgresGenerations(database.url, options, tuning)
    }
    case 'mssql': {
      const { MssqlGenerations } = await import('./mssql/generations.ts')
      return new MssqlGenerations(database, options, tuning)
    }
  }
}
