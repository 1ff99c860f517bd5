// Where the tests find their services. The same variables the pipeline reads, with loopback defaults;
// `npm test` (scripts/test.ts) makes sure each one answers before any test runs.
export const testServices = {
  kafkaBrokers: (process.env['KAFKA_BROKERS'] ?? '127.0.0.1:9092').split(',').map(s => s.trim()),
  /** A PostgreSQL URL with rights to CREATE DATABASE; each test gets a database of its own. */
  postgresAdminUrl: process.env['TEST_POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres',
  redisAddr: process.env['REDIS_ADDR'] ?? '127.0.0.1:6379',
  redisPassword: process.env['REDIS_PASSWORD'] ?? '',
} as const

export function redisHostPort(): { host: string; port: number } {
  const i = testServices.redisAddr.lastIndexOf(':')
  return { host: testServices.redisAddr.slice(0, i), port: Number(testServices.redisAddr.slice(i + 1)) }
}
