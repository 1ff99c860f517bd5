// Where the tests, the benchmark and `npm test` find their services: the variables the pipeline reads, with
// loopback defaults, and probes for PostgreSQL and Redis (Kafka: kafkaAnswers of src/kafka/admin.ts).
import { Redis } from 'ioredis'
import pg from 'pg'

export const services = {
  kafkaBrokers: (process.env['KAFKA_BROKERS'] ?? '127.0.0.1:9092').split(',').map(s => s.trim()),
  /** A PostgreSQL URL with rights to CREATE DATABASE: each test or bench run gets databases of its own. */
  postgresAdminUrl: process.env['TEST_POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres',
  redisAddr: process.env['REDIS_ADDR'] ?? '127.0.0.1:6379',
  redisPassword: process.env['REDIS_PASSWORD'] ?? '',
} as const

export function redisHostPort(): { host: string; port: number } {
  const i = services.redisAddr.lastIndexOf(':')
  return { host: services.redisAddr.slice(0, i), port: Number(services.redisAddr.slice(i + 1)) }
}

/** A Redis client of `services`; `probe` makes it fail at once instead of reconnecting. */
export function redisClient(probe = false): Redis {
  return new Redis({
    ...redisHostPort(),
    password: services.redisPassword || undefined,
    ...(probe ? { lazyConnect: true, connectTimeout: 2000, maxRetriesPerRequest: 0, retryStrategy: () => null } : {}),
  })
}

export async function postgresAnswers(url = services.postgresAdminUrl): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 })
  try {
    await client.connect()
    await client.query('SELECT 1')
    return true
  } catch {
    return false
  } finally {
    await client.end().catch(() => {})
  }
}

export async function redisAnswers(): Promise<boolean> {
  const redis = redisClient(true)
  redis.on('error', () => {})
  try {
    await redis.connect()
    return (await redis.ping()) === 'PONG'
  } catch {
    return false
  } finally {
    redis.disconnect()
  }
}
