// Where the tests, the benchmark and `npm test` find their services: the variables the pipeline reads, with
// loopback defaults, and probes for PostgreSQL and Redis (Kafka: kafkaAnswers of src/kafka/cluster-admin.ts).
// REDIS_ADDR may name several nodes, or REDIS_CLUSTER=true one, as for the pipeline: Redis is then a cluster.
import { Cluster, Redis } from 'ioredis'
import pg from 'pg'
import { hostAndPort, isClusterAddr, nodesOf, type RedisClient } from '../src/dlq/index.ts'
import { defaultPostgresUrl } from './service-plan.ts'

export { defaultPostgresUrl }

const redisAddr = process.env['REDIS_ADDR'] ?? '127.0.0.1:6379'

export const services = {
  kafkaBrokers: (process.env['KAFKA_BROKERS'] ?? '127.0.0.1:9092').split(',').map(s => s.trim()),
  /**
   * A PostgreSQL URL of a login with CREATEDB and CREATEROLE: each test or bench run gets databases of its own, and
   * some tests a login of their own.
   */
  postgresAdminUrl: process.env['TEST_POSTGRES_URL'] || defaultPostgresUrl,
  redisAddr,
  redisPassword: process.env['REDIS_PASSWORD'] ?? '',
  /** Whether Redis is a cluster: REDIS_CLUSTER set, or several nodes in REDIS_ADDR (what the pipeline reads). */
  redisCluster: isClusterAddr({
    addr: redisAddr,
    cluster: ['1', 'true', 'yes', 'on'].includes((process.env['REDIS_CLUSTER'] ?? '').toLowerCase()),
  }),
} as const

/** The (first) Redis node's host and port. */
export function redisHostPort(): { host: string; port: number } {
  return hostAndPort(nodesOf(services.redisAddr)[0] ?? '')
}

/** A Redis client of `services`, a Cluster client on a cluster; `probe` makes it fail at once instead of reconnecting. */
export function redisClient(probe = false): RedisClient {
  const password = services.redisPassword || undefined
  if (services.redisCluster) {
    return new Cluster(nodesOf(services.redisAddr).map(hostAndPort), {
      redisOptions: { password, ...(probe ? { connectTimeout: 2000, maxRetriesPerRequest: 0 } : {}) },
      ...(probe ? { lazyConnect: true, clusterRetryStrategy: () => null } : {}),
    })
  }
  return new Redis({
    ...redisHostPort(),
    password,
    ...(probe ? { lazyConnect: true, connectTimeout: 2000, maxRetriesPerRequest: 0, retryStrategy: () => null } : {}),
  })
}

/** The masters of `redis`: every node of a cluster that holds keys (once it knows the slots), or `redis` itself. */
export async function mastersOf(redis: RedisClient): Promise<Redis[]> {
  if (redis instanceof Redis) return [redis]
  if (redis.status !== 'ready') {
    await new Promise<void>((resolve, reject) => {
      redis.once('ready', resolve)
      redis.once('end', () => reject(new Error(`Redis Cluster ${services.redisAddr} closed before it was ready`)))
    })
  }
  return redis.nodes('master')
}

/** Why `url` cannot be used (its server's or the connection's error, one line), or undefined when it answers. */
export async function postgresProblem(url = services.postgresAdminUrl): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 })
  try {
    await client.connect()
    await client.query('SELECT 1')
    return undefined
  } catch (error) {
    const e = error as Error & { code?: string }
    return (e.message || e.code || String(error)).split('\n')[0]
  } finally {
    await client.end().catch(() => {})
  }
}

export async function postgresAnswers(url = services.postgresAdminUrl): Promise<boolean> {
  return (await postgresProblem(url)) === undefined
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
