// Resources of their own for tests and bench runs, created and removed on the services of dev/services.ts:
// Kafka topics and groups, PostgreSQL databases, SQLite files in a temporary folder, Redis keys.
// Whoever creates one registers its removal (a test's `after`, the bench's clean-up list).
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Admin } from '@platformatic/kafka'
import { Cluster } from 'ioredis'
import pg from 'pg'
import type { RedisClient } from '../src/dlq/index.ts'
import { keepTheLog } from '../src/kafka/index.ts'
import { mastersOf, redisClient, services } from './services.ts'

/** Runs `work` with an admin client of the services' broker, closed afterwards whatever happens. */
async function withAdmin<T>(work: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = new Admin({ clientId: 'dev-admin', bootstrapBrokers: [...services.kafkaBrokers] })
  try {
    return await work(admin)
  } finally {
    await admin.close()
  }
}

/** A topic made as the pipeline makes its own: keeping every record (a consumer warns about one that does not). */
export async function createTopic(topic: string, partitions: number): Promise<void> {
  await withAdmin(admin => admin.createTopics({ topics: [topic], partitions, replicas: 1, configs: keepTheLog }))
}

export async function deleteTopics(topics: readonly string[]): Promise<void> {
  if (topics.length === 0) return
  await withAdmin(admin => admin.deleteTopics({ topics: [...topics] }))
}

export async function deleteGroups(groups: readonly string[]): Promise<void> {
  if (groups.length === 0) return
  // A group that never committed, or is still being left, is not worth failing a clean-up for.
  await withAdmin(admin => admin.deleteGroups({ groups: [...groups] }).catch(() => {}))
}

/** Runs `work` on a fresh connection to `url`, closed afterwards whatever happens. */
export async function withPostgres<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    return await work(client)
  } finally {
    await client.end()
  }
}

/** The URL of database `name` on the server of `adminUrl`. */
export function postgresUrlOf(name: string, adminUrl = services.postgresAdminUrl): string {
  const url = new URL(adminUrl)
  url.pathname = `/${name}`
  return url.toString()
}

/** Creates the empty database `name` (a name of dev/names.ts: no quoting needed) and returns its URL. */
export async function createPostgresDatabase(name: string, adminUrl = services.postgresAdminUrl): Promise<string> {
  await withPostgres(adminUrl, c => c.query(`CREATE DATABASE ${name}`))
  return postgresUrlOf(name, adminUrl)
}

/** Drops the databases, closing their connections. */
export async function dropPostgresDatabases(
  names: readonly string[],
  adminUrl = services.postgresAdminUrl,
): Promise<void> {
  if (names.length === 0) return
  await withPostgres(adminUrl, async c => {
    for (const name of names) await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
  })
}

/** A path for a SQLite file in a fresh temporary folder, and the removal of that folder. */
export function temporarySqliteFile(prefix: string, file = 'pipeline.sqlite'): { path: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `${prefix}-`))
  return { path: join(dir, file), remove: () => rmSync(dir, { recursive: true, force: true }) }
}

/**
 * Deletes every Redis key that starts with `prefix` (and the companions of such keys, which start with
 * `{prefix`: the DLQ's hash-tagged keys), and the `keys` given, with `client` when given. On a cluster the SCAN
 * runs on every master, and each key is deleted on its own (keys of several slots cannot go in one DEL).
 */
export async function deleteRedisKeys(
  which: { prefix?: string; keys?: readonly string[] },
  client?: RedisClient,
): Promise<void> {
  const redis = client ?? redisClient()
  const del = async (keys: readonly string[]) => {
    if (keys.length === 0) return
    if (redis instanceof Cluster) await Promise.all(keys.map(key => redis.del(key)))
    else await redis.del(...keys)
  }
  try {
    await del(which.keys ?? [])
    if (which.prefix === undefined) return
    for (const node of await mastersOf(redis)) {
      for (const pattern of [`${which.prefix}*`, `{${which.prefix}*`]) {
        let cursor = '0'
        do {
          const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 500)
          await del(keys)
          cursor = next
        } while (cursor !== '0')
      }
    }
  } finally {
    if (client === undefined) redis.disconnect()
  }
}
