// What the consumer service takes from the configuration, in one place for `pipeline consumer` and the benchmark.
import type { Config } from '../config/index.ts'
import { connectionOf } from '../kafka/options.ts'
import type { ConsumerServiceOptions } from './service.ts'

export type ConsumerSettings = Pick<
  ConsumerServiceOptions,
  | 'connection'
  | 'topic'
  | 'groupId'
  | 'partitions'
  | 'batchMax'
  | 'batchWaitMs'
  | 'bufferMaxBytes'
  | 'batchMaxBytes'
  | 'recordMaxBytes'
  | 'maxEventSkewMs'
  | 'pendingMaxAgeMs'
  | 'eventLogRetentionMs'
  | 'groupProtocol'
  | 'seriesIntervalMs'
>

export function consumerSettingsOf(config: Config): ConsumerSettings {
  return {
    connection: connectionOf(config, 'consumer'),
    topic: config.kafkaTopic,
    groupId: config.kafkaGroupId,
    partitions: config.kafkaPartitions,
    batchMax: config.consumerBatchMax,
    batchWaitMs: config.consumerBatchWaitMs,
    bufferMaxBytes: config.consumerBufferMaxBytes,
    batchMaxBytes: config.consumerBatchMaxBytes,
    recordMaxBytes: config.consumerRecordMaxBytes,
    maxEventSkewMs: config.maxEventSkewMs,
    pendingMaxAgeMs: config.pendingMaxAgeMs,
    eventLogRetentionMs: config.eventLogRetentionMs,
    groupProtocol: config.kafkaGroupProtocol,
    seriesIntervalMs: config.consoleChartInterval,
  }
}
