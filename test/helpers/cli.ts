// The environment a `pipeline` command gets in tests: the test services, and no Kafka started on its behalf.
import { testServices } from './services.ts'

export function cliEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: process.env['PATH'] ?? '',
    KAFKA_BROKERS: testServices.kafkaBrokers.join(','),
    REDIS_ADDR: testServices.redisAddr,
    REDIS_PASSWORD: testServices.redisPassword,
    KAFKA_AUTOSTART: 'false',
    ...extra,
  }
}
