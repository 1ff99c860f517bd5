// Factories that give one test its own Kafka topic, PostgreSQL database, SQLite file and Redis key prefix,
// and register their own cleanup, so tests never depend on each other's leftovers.
import type { Redis } from 'ioredis'
import pg from 'pg'
import { uniqueName } from '../../dev/names.ts'
import {
  createPostgresDatabase,
  createTopic,
  deleteRedisKeys,
  deleteTopics,
  dropPostgresDatabases,
  temporarySqliteFile,
} from '../../dev/resources.ts'
import { redisClient } from '../../dev/services.ts'
import { testServices } from './services.ts'

export { uniqueName }

/** Anything with node:test's `after` (a TestContext, or the module-level hook wrapped as { after }). */
export interface Cleanup {
  after(fn: () => unknown): void
}

export async function kafkaTopic(t: Cleanup, partitions = 3): Promise<string> {
  const topic = uniqueName('test').replaceAll('_', '-')
  await createTopic(topic, partitions)
  t.after(() => deleteTopics([topic]).catch(() => {}))
  return topic
}

/** A fresh, empty PostgreSQL database; returns its URL. Dropped (with its connections) after the test. */
export async function postgresDatabase(t: Cleanup): Promise<string> {
  const name = uniqueName('ep_test')
  const url = await createPostgresDatabase(name)
  t.after(() => dropPostgresDatabases([name]))
  return url
}

/**
 * A PostgreSQL login that may not create databases, and a database name that does not exist yet; after the
 * test the role is dropped, and the database too should anyone have created it.
 */
export async function postgresLoginWithoutCreatedb(t: Cleanup): Promise<{ role: string; absentDatabase: string }> {
  const role = uniqueName('ep_nocreate')
  const absentDatabase = uniqueName('ep_absent')
  const admin = new pg.Client({ connectionString: testServices.postgresAdminUrl })
  await admin.connect()
  await admin.query(`CREATE ROLE ${role} LOGIN`)
  t.after(async () => {
    await admin.query(`DROP DATABASE IF EXISTS ${absentDatabase} WITH (FORCE)`)
    await admin.query(`DROP ROLE IF EXISTS ${role}`)
    await admin.end()
  })
  return { role, absentDatabase }
}

/** A path for a SQLite file in a fresh temporary directory, removed after the test. */
export function sqliteFile(t: Cleanup): string {
  const file = temporarySqliteFile('ep-sqlite')
  t.after(file.remove)
  return file.path
}

/** A Redis client plus a key prefix of its own; every key under the prefix is deleted after the test. */
export function redisPrefix(t: Cleanup): { redis: Redis; prefix: string } {
  const prefix = `${uniqueName('test')}:`
  const redis = redisClient()
  t.after(async () => {
    await deleteRedisKeys({ prefix }, redis)
    redis.disconnect()
  })
  return { redis, prefix }
}
