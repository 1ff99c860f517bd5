// Factories that give one test its own Kafka topic, PostgreSQL database, SQLite file and Redis key prefix,
// and register their own cleanup, so tests never depend on each other's leftovers.
import { Redis } from 'ioredis'
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
import { mastersOf, redisClient } from '../../dev/services.ts'
import type { RedisClient } from '../../src/dlq/index.ts'
import { pauseKeys } from '../../src/redis/keys.ts'
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
 * A PostgreSQL login that may not create databases, with its password (a server that asks for passwords gets it
 * right; one that trusts loopback ignores it), and a database name that does not exist yet; after the test the role
 * is dropped, and the database too should anyone have created it.
 */
export async function postgresLoginWithoutCreatedb(
  t: Cleanup,
  password = uniqueName('pw'),
): Promise<{ role: string; password: string; absentDatabase: string }> {
  if (!/^[\w-]+$/.test(password)) throw new Error('a password of letters, digits, _ and - only (it is not quoted)')
  const role = uniqueName('ep_nocreate')
  const absentDatabase = uniqueName('ep_absent')
  const admin = new pg.Client({ connectionString: testServices.postgresAdminUrl })
  await admin.connect()
  await admin.query(`CREATE ROLE ${role} LOGIN PASSWORD '${password}'`)
  t.after(async () => {
    await admin.query(`DROP DATABASE IF EXISTS ${absentDatabase} WITH (FORCE)`)
    await admin.query(`DROP ROLE IF EXISTS ${role}`)
    await admin.end()
  })
  return { role, password, absentDatabase }
}

/** A path for a SQLite file in a fresh temporary directory, removed after the test. */
export function sqliteFile(t: Cleanup): string {
  const file = temporarySqliteFile('ep-sqlite')
  t.after(file.remove)
  return file.path
}

/**
 * A Redis client (a Cluster client on a cluster) plus a key prefix of its own; every key under the prefix is
 * deleted after the test.
 */
export function redisPrefix(t: Cleanup): { redis: RedisClient; prefix: string } {
  const prefix = `${uniqueName('test')}:`
  const redis = redisClient()
  t.after(async () => {
    await deleteRedisKeys({ prefix }, redis)
    redis.disconnect()
  })
  return { redis, prefix }
}

/** Deletes the group's pause keys after the test (they live outside the test's Redis prefix). */
export function dropPauseKeys(t: Cleanup, groupId: string, topic: string): void {
  t.after(async () => {
    const redis = redisClient()
    const keys = pauseKeys(groupId, topic)
    await redis.del(keys.record, keys.members)
    redis.disconnect()
  })
}

/**
 * Skips the test with `reason` when the services' Redis is a cluster, for what needs one server by nature (a
 * proxy in front of one node, key names of several slots); returns whether it skipped.
 */
export function standaloneOnly(t: { skip(message: string): void }, reason: string): boolean {
  if (!testServices.redisCluster) return false
  t.skip(`not on a Redis Cluster: ${reason}`)
  return true
}

/** The server that holds `key`: `redis` itself, or on a cluster the master of the key's slot. */
export async function nodeOf(redis: RedisClient, key: string): Promise<Redis> {
  if (redis instanceof Redis) return redis
  const masters = await mastersOf(redis)
  const slot = await redis.cluster('KEYSLOT', key)
  const owner = redis.slots[slot]?.[0]
  const node = masters.find(n => `${n.options.host}:${n.options.port}` === owner)
  if (node === undefined) throw new Error(`no master holds slot ${slot} of ${key}`)
  return node
}

/** A MONITOR connection to the server that holds `key` (every command on the key goes there), closed after the test. */
export async function monitorOf(t: Cleanup, redis: RedisClient, key: string): Promise<Redis> {
  // A connection of its own, not one of a cluster client's node connections (whose options it would copy).
  const { host, port, password } = (await nodeOf(redis, key)).options
  const monitor = await new Redis({ host, port, password, lazyConnect: true }).monitor()
  t.after(() => monitor.disconnect())
  return monitor
}

/** KEYS `pattern` on every master. */
export async function keysMatching(redis: RedisClient, pattern: string): Promise<string[]> {
  const found: string[] = []
  for (const node of await mastersOf(redis)) found.push(...(await node.keys(pattern)))
  return found
}
