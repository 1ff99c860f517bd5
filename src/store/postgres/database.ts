// The database named in DATABASE_URL is created when it does not exist, as the SQL Server store does: a first
// `npm start` against a fresh PostgreSQL needs no manual `createdb`. The login must be allowed to create
// databases; otherwise the error says so and what to run instead.
import pg from 'pg'
import { PipelineError } from '../../errors.ts'

/** PostgreSQL's SQLSTATEs: the database does not exist; the login may not do that; created by someone else. */
const missingDatabase = '3D000'
const notAllowed = '42501'
const alreadyExists = '42P04'

const codeOf = (error: unknown) => (error as { code?: unknown })?.code

/** Runs before the migration: connects to the database and, when it does not exist, creates it. */
export async function ensureDatabase(url: string, timeoutMs: number): Promise<void> {
  const target = new URL(url)
  const name = decodeURIComponent(target.pathname.replace(/^\//, ''))
  const probe = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs })
  probe.on('error', () => {})
  try {
    await probe.connect()
    return
  } catch (error) {
    if (codeOf(error) !== missingDatabase) return // any other failure is the migration's to report
  } finally {
    await probe.end().catch(() => {})
  }
  // The maintenance database every PostgreSQL server has, with the same login.
  const maintenance = new URL(target)
  maintenance.pathname = '/postgres'
  const admin = new pg.Client({ connectionString: maintenance.toString(), connectionTimeoutMillis: timeoutMs })
  admin.on('error', () => {})
  try {
    await admin.connect()
    await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`)
  } catch (error) {
    if (codeOf(error) === alreadyExists) return
    const why =
      codeOf(error) === notAllowed
        ? 'this login may not create databases'
        : `creating it failed: ${(error as Error).message}`
    throw new PipelineError(
      'DB_NOT_FOUND',
      `database "${name}" does not exist and ${why}; create it (createdb ${name}) or grant CREATEDB to the login`,
      { cause: error, retryable: false },
    )
  } finally {
    await admin.end().catch(() => {})
  }
}
