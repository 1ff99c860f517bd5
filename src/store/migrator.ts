// Versioned schema steps, applied in order inside the caller's transaction. The caller holds the engine's
// migration lock (PostgreSQL: an advisory lock; SQLite: BEGIN IMMEDIATE) before this reads schema_migrations,
// so two processes starting together apply each step exactly once.
import { CompiledQuery, type Transaction } from 'kysely'
import type { Tables } from './tables.ts'

export interface Migration {
  readonly version: number
  readonly description: string
  readonly statements: readonly string[]
}

/** Applies the steps not yet recorded in schema_migrations; returns the versions it applied. */
export async function applyMigrations(
  trx: Transaction<Tables>,
  createLedger: string,
  migrations: readonly Migration[],
): Promise<number[]> {
  await trx.executeQuery(CompiledQuery.raw(createLedger))
  const done = new Set(
    (await trx.selectFrom('schema_migrations').select('version').execute()).map(row => Number(row.version)),
  )
  const applied: number[] = []
  for (const step of [...migrations].sort((a, b) => a.version - b.version)) {
    if (done.has(step.version)) continue
    for (const statement of step.statements) await trx.executeQuery(CompiledQuery.raw(statement))
    await trx.insertInto('schema_migrations').values({ version: step.version }).execute()
    applied.push(step.version)
  }
  return applied
}
