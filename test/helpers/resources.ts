// Factories that give one test its own Kafka topic, PostgreSQL database, SQLite file and Redis key prefix,
// and register their own cleanup, so tests never depend on each other's leftovers.
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Admin } from '@platformatic/kafka'
import { Redis } from 'ioredis'
import pg from 'pg'
import { redisHostPort, testServices } from './services.ts'

/** Anything with node:test's `after` (a TestContext, or the module-level hook wrapped as { after }). */
export interface Cleanup {
  after(fn: () => unknown): void
}

export function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`
}

export async function kafkaTopic(t: Cleanup, partitions = 3): Promise<string> {
  const topic = uniqueName('test').replaceAll('_', '-')
  const admin = new Admin({ clientId: 'test-admin', bootstrapBrokers: [...testServices.kafkaBrokers] })
  await admin.createTopics({ topics: [topic], partitions, replicas: 1 })
  await admin.close()
  t.after(async () => {
    const cleaner = new Admin({ clientId: 'test-admin', bootstrapBrokers: [...testServices.kafkaBrokers] })
    await cleaner.deleteTopics({ topics: [topic] }).catch(() => {})
    await cleaner.close()
  })
  return topic
}

/** A fresh, empty PostgreSQL database; returns its URL. Dropped (with its connections) after the test. */
export async function postgresDatabase(t: Cleanup): Promise<string> {
  const name = uniqueName('ep_test')
  const admin = new pg.Client({ connectionString: testServices.postgresAdminUrl })
  await admin.connect()
  await admin.query(`CREATE DATABASE ${name}`)
  await admin.end()
  t.after(async () => {
    const dropper = new pg.Client({ connectionString: testServices.postgresAdminUrl })
    await dropper.connect()
    await dropper.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
    await dropper.end()
  })
  const url = new URL(testServices.postgresAdminUrl)
  url.pathname = `/${name}`
  return url.toString()
}

/** A path for a SQLite file in a fresh temporary directory, removed after the test. */
export function sqliteFile(t: Cleanup): string {
  const dir = mkdtempSync(join(tmpdir(), 'ep-sqlite-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  return join(dir, 'pipeline.sqlite')
}

/** A Redis client plus a key prefix of its own; every key under the prefix is deleted after the test. */
export function redisPrefix(t: Cleanup): { redis: Redis; prefix: string } {
  const prefix = `${uniqueName('test')}:`
  const redis = new Redis({ ...redisHostPort(), password: testServices.redisPassword || undefined, lazyConnect: false })
  t.after(async () => {
    let cursor = '0'
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500)
      if (keys.length > 0) await redis.del(...keys)
      cursor = next
    } while (cursor !== '0')
    redis.disconnect()
  })
  return { redis, prefix }
}
