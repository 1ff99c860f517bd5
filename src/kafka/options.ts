// Connection options shared by the producer, the consumer and the admin client.
import type { Config } from '../config/index.ts'

export interface KafkaConnection {
  readonly clientId: string
  readonly bootstrapBrokers: string[]
}

export function connectionOf(config: Pick<Config, 'kafkaBrokers' | 'kafkaClientId'>, suffix: string): KafkaConnection {
  return { clientId: `${config.kafkaClientId}-${suffix}`, bootstrapBrokers: [...config.kafkaBrokers] }
}
