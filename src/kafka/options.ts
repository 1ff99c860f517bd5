// Connection options shared by the producer, the consumer and the admin client: brokers, client id, and the
// SASL and TLS settings of the configuration.
import { readFileSync } from 'node:fs'
import type { ConnectionOptions as TlsOptions } from 'node:tls'
import type { Config } from '../config/index.ts'

export interface KafkaConnection {
  readonly clientId: string
  readonly bootstrapBrokers: string[]
  readonly sasl?: { mechanism: 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512'; username: string; password: string }
  readonly tls?: TlsOptions
}

type KafkaSettings = Pick<
  Config,
  | 'kafkaBrokers'
  | 'kafkaClientId'
  | 'kafkaSaslMechanism'
  | 'kafkaSaslUsername'
  | 'kafkaSaslPassword'
  | 'kafkaTls'
  | 'kafkaTlsCaFile'
  | 'kafkaTlsCertFile'
  | 'kafkaTlsKeyFile'
  | 'kafkaTlsRejectUnauthorized'
>

export function connectionOf(config: KafkaSettings, suffix: string): KafkaConnection {
  const connection: { -readonly [K in keyof KafkaConnection]: KafkaConnection[K] } = {
    clientId: `${config.kafkaClientId}-${suffix}`,
    bootstrapBrokers: [...config.kafkaBrokers],
  }
  if (config.kafkaSaslMechanism !== undefined) {
    connection.sasl = {
      mechanism: config.kafkaSaslMechanism,
      username: config.kafkaSaslUsername ?? '',
      password: config.kafkaSaslPassword ?? '',
    }
  }
  if (config.kafkaTls) {
    connection.tls = {
      rejectUnauthorized: config.kafkaTlsRejectUnauthorized,
      ...(config.kafkaTlsCaFile ? { ca: readFileSync(config.kafkaTlsCaFile) } : {}),
      ...(config.kafkaTlsCertFile ? { cert: readFileSync(config.kafkaTlsCertFile) } : {}),
      ...(config.kafkaTlsKeyFile ? { key: readFileSync(config.kafkaTlsKeyFile) } : {}),
    }
  }
  return connection
}
