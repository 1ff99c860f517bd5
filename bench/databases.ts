// Fresh databases for each run (PostgreSQL databases, SQLite files), dropped at the end, and a check of what
// a drain left in them against what the workload says must be there.
import { DatabaseSync } from 'node:sqlite'
import { uniqueName } from '../dev/names.ts'
import {
  createPostgresDatabase as createDatabase,
  dropPostgresDatabases as dropDatabases,
  temporarySqliteFile,
  withPostgres,
} from '../dev/resources.ts'
import { services } from '../dev/services.ts'
import type { Expected } from './workload.ts'

export { uniqueName }

/** The server the bench creates its databases on: BENCH_POSTGRES_URL, else the tests' one. */
export const postgresAdminUrl = process.env['BENCH_POSTGRES_URL'] ?? services.postgresAdminUrl

export async function createPostgresDatabase(prefix = 'ep_bench'): Promise<{ name: string; url: string }> {
  const name = uniqueName(prefix)
  return { name, url: await createDatabase(name, postgresAdminUrl) }
}

export function dropPostgresDatabases(names: readonly string[]): Promise<void> {
  return dropDatabases(names, postgresAdminUrl)
}

/**
 * VACUUM ANALYZE a freshly loaded database: what autovacuum does to a production database within a minute or so,
 * so the read benchmark measures the steady state rather than plans made without statistics.
 */
export async function vacuumAnalyze(url: string): Promise<void> {
  await withPostgres(url, c => c.query('VACUUM ANALYZE'))
}

export async function postgresVersion(): Promise<string> {
  return withPostgres(
    postgresAdminUrl,
    async c => (await c.query<{ server_version: string }>('SHOW server_version')).rows[0]!.server_version,
  )
}

export function sqliteFile(): { path: string; remove: () => void } {
  return temporarySqliteFile('ep-bench', 'bench.sqlite')
}

export interface Found extends Expected {
  /** md5 of every state row's business columns in key order: equal fingerprints mean equal projections. */
  readonly fingerprint?: string
}

const countsSql = `SELECT
  (SELECT count(*) FROM users) AS users,
  (SELECT count(*) FROM orders) AS orders,
  (SELECT count(*) FROM payments) AS payments,
  (SELECT count(*) FROM inventory) AS skus,
  (SELECT count(*) FROM inventory_ledger) AS ledger,
  (SELECT coalesce(sum(quantity), 0) FROM inventory) AS quantity`

const fingerprintSql = `SELECT md5(
  (SELECT string_agg(user_id || '|' || name || '|' || email || '|' || event_id, ',' ORDER BY user_id) FROM users) ||
  (SELECT string_agg(order_id || '|' || user_id || '|' || total || '|' || status, ',' ORDER BY order_id) FROM orders) ||
  (SELECT coalesce(string_agg(order_id || '|' || status || '|' || amount, ',' ORDER BY order_id), '') FROM payments) ||
  (SELECT string_agg(sku || '|' || quantity, ',' ORDER BY sku) FROM inventory)) AS fingerprint`

/** The counts row of countsSql (PostgreSQL answers bigint and numeric as text, SQLite as numbers). */
function foundFrom(row: Record<string, string | number>): Found {
  return {
    users: Number(row['users']),
    orders: Number(row['orders']),
    payments: Number(row['payments']),
    skus: Number(row['skus']),
    ledger: Number(row['ledger']),
    quantity: Number(row['quantity']),
  }
}

export function inspectPostgres(url: string, fingerprint: boolean): Promise<Found> {
  return withPostgres(url, async client => {
    const found = foundFrom((await client.query(countsSql)).rows[0] as Record<string, string>)
    if (!fingerprint) return found
    const print = (await client.query<{ fingerprint: string }>(fingerprintSql)).rows[0]!.fingerprint
    return { ...found, fingerprint: print }
  })
}

/**
 * The URL of a connection to `url` whose unqualified tables are those of PostgreSQL generation `name` (a schema of
 * the same database, src/store/postgres/generations.ts): search_path set by the startup options, so inspectPostgres
 * reads a shadow with the same SQL as the live tables. Only a generation's name rules' characters are accepted.
 */
export function generationUrl(url: string, name: string): string {
  if (!/^[a-z][a-z0-9_]*$/.test(name)) throw new Error(`not a generation name: ${JSON.stringify(name)}`)
  const parsed = new URL(url)
  parsed.searchParams.set('options', `-c search_path=${name}`)
  return parsed.toString()
}

export function inspectSqlite(path: string): Found {
  const db = new DatabaseSync(path, { readOnly: true })
  try {
    return foundFrom(db.prepare(countsSql).get() as Record<string, number>)
  } finally {
    db.close()
  }
}

/** The differences between what a drain left and what the workload requires; empty when they agree. */
export function mismatches(expected: Expected, found: Found): string[] {
  const out: string[] = []
  for (const key of Object.keys(expected) as (keyof Expected)[]) {
    if (expected[key] !== found[key]) out.push(`${key}: expected ${expected[key]}, found ${found[key]}`)
  }
  return out
}
